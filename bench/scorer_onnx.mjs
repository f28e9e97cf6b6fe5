// scorer_onnx.mjs: a minimal ONNX (protobuf) writer for the scorer benchmark's peer graph:
// scores = MatMul(x[1 x f], Yt[f x n]) + b[1 x n]; (values, indices) = TopK(scores, k). Only the fields the graph
// needs (onnx.proto3: ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, TypeProto).

const enc = new TextEncoder();

function varint(n) {
  const out = [];
  let v = BigInt(n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
}

function cat(parts) {
  const len = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

// Field helpers: varint (wire type 0) and length-delimited (wire type 2).
const fInt = (field, v) => Uint8Array.from([...varint(field << 3), ...varint(v)]);
function fBytes(field, bytes) {
  const b = typeof bytes === 'string' ? enc.encode(bytes) : bytes;
  return cat([Uint8Array.from([...varint((field << 3) | 2), ...varint(b.length)]), b]);
}

const FLOAT = 1, INT64 = 7;

// TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian).
function tensor(name, type, dims, raw) {
  return cat([...dims.map((d) => fInt(1, d)), fInt(2, type), fBytes(8, name),
    fBytes(9, new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength))]);
}

// ValueInfoProto: name (1), type (2) = TypeProto { tensor_type (1) { elem_type (1), shape (2) { dim (1) { dim_value (1) } } } }.
function valueInfo(name, type, dims) {
  const shape = cat(dims.map((d) => fBytes(1, fInt(1, d))));
  return cat([fBytes(1, name), fBytes(2, fBytes(1, cat([fInt(1, type), fBytes(2, shape)])))]);
}

// NodeProto: input (1), output (2), name (3), op_type (4).
function node(op, inputs, outputs) {
  return cat([...inputs.map((i) => fBytes(1, i)), ...outputs.map((o) => fBytes(2, o)), fBytes(3, op), fBytes(4, op)]);
}

// The model bytes for item factors y (Float32Array, n rows of f), biases b ([n]) and k.
export function matmulTopK(y, n, f, k, b) {
  const yt = new Float32Array(f * n);
  for (let i = 0; i < n; i++) for (let t = 0; t < f; t++) yt[t * n + i] = y[i * f + t];
  const graph = cat([
    fBytes(1, node('MatMul', ['x', 'Yt'], ['dots'])),
    fBytes(1, node('Add', ['dots', 'b'], ['scores'])),
    fBytes(1, node('TopK', ['scores', 'k'], ['values', 'indices'])),
    fBytes(2, 'ulm_peer'),
    fBytes(5, tensor('Yt', FLOAT, [f, n], yt)),
    fBytes(5, tensor('b', FLOAT, [1, n], b)),
    fBytes(5, tensor('k', INT64, [1], BigInt64Array.from([BigInt(k)]))),
    fBytes(11, valueInfo('x', FLOAT, [1, f])),
    fBytes(12, valueInfo('values', FLOAT, [1, k])),
    fBytes(12, valueInfo('indices', INT64, [1, k])),
  ]);
  // ModelProto: ir_version (1) = 8, graph (7), opset_import (8) { domain (1) "", version (2) 17 }.
  return cat([fInt(1, 8), fBytes(7, graph), fBytes(8, cat([fBytes(1, ''), fInt(2, 17)]))]);
}
