// score_bench.mjs: model.score() in Node, per call, on the sample store's bundle (ALS with f32 factors,
// logistic churn model, profiler with CLV, four offers): empty history, 20 and 60 events (the last events
// of real customers), k = 0 and 10, explain 0 and 3. Measured in the same run against two peers:
//  - the previous JSON path of ulm itself: the request as JSON text into the Emscripten export
//    ulm_wasm_score (still exported for hosts without ulm.mjs), its JSON answer parsed back, exactly as
//    model.score() did before the binary request;
//  - onnxruntime-web (npm, one thread) scoring the same item factors as MatMul + TopK (bench/scorer_onnx.mjs),
//    the items part alone with a given user vector (no fold-in, no churn, no profile).
// Every figure is the median over 31 batches of the mean of REPS calls, in microseconds.
// usage: node bench/score_bench.mjs --ulm build/bin/ulm --js build/js --work DIR
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { matmulTopK } from './scorer_onnx.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const ULM = resolve(arg('ulm', join(ROOT, 'build/bin/ulm')));
const JS = resolve(arg('js', join(ROOT, 'build/js')));
const WORK = resolve(arg('work', join(ROOT, 'build/bench-score')));
const DATA = join(ROOT, 'data/sample/online_retail_sample.csv.gz');
const BATCHES = 31, REPS = 50;
const AS_OF = '2011-10-01', NOW = Date.parse(AS_OF) / 1000;
mkdirSync(WORK, { recursive: true });
const run = (...a) => execFileSync(ULM, a, { encoding: 'utf8', maxBuffer: 1 << 28 });

function median(fn) {
  for (let i = 0; i < REPS; i++) fn(i);
  const t = [];
  for (let b = 0; b < BATCHES; b++) {
    const t0 = performance.now();
    for (let i = 0; i < REPS; i++) fn(i);
    t.push(((performance.now() - t0) * 1000) / REPS);
  }
  t.sort((a, b) => a - b);
  return t[BATCHES >> 1];
}

async function medianAsync(fn) {
  for (let i = 0; i < REPS; i++) await fn(i);
  const t = [];
  for (let b = 0; b < BATCHES; b++) {
    const t0 = performance.now();
    for (let i = 0; i < REPS; i++) await fn(i);
    t.push(((performance.now() - t0) * 1000) / REPS);
  }
  t.sort((a, b) => a - b);
  return t[BATCHES >> 1];
}

// The bundle and the real customers' histories (as the parity test builds them).
const store = join(WORK, 'sample.store'), bundle = join(WORK, 'als.ulm'), hist = join(WORK, 'hist.jsonl');
const offers = join(WORK, 'offers.json');
if (!existsSync(bundle)) {
  writeFileSync(offers, JSON.stringify({ offers: [{ id: 'vip_call', cost: 150, uplift: 0.5 },
    { id: 'coupon10', cost: 10, uplift: 0.1 }, { id: 'reminder', cost: 0.05, uplift: 0.02 }, { id: 'none', cost: 0, uplift: 0 }],
  control_share: 0.2, seed: 7 }));
  run('ingest', DATA, '--out', store);
  run('train', store, '--out', bundle, '--churn', 'logreg', '--cutoff', '2011-09-01', '--horizon', '90', '--recs', 'als',
    '--offers', offers, '--quantize', 'none');
  run('segment', store, '--model', bundle, '--as-of', AS_OF, '--out', join(WORK, 'seg.jsonl'), '--histories', hist);
}
const customers = readFileSync(hist, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const bytes = new Uint8Array(readFileSync(bundle));
const api = await import(pathToFileURL(join(JS, 'ulm.mjs')).href);
const model = await api.loadModel(bytes);
assert.equal(model.simd, true);

// The previous path: the Emscripten module's JSON export, driven as ulm.mjs did before.
const { default: createUlmEm } = await import(pathToFileURL(join(JS, 'ulm-em.mjs')).href);
const M = await createUlmEm({ wasmBinary: readFileSync(join(JS, 'ulm-em.wasm')) });
const buf = M._ulm_wasm_bytes_alloc(bytes.length);
M.HEAPU8.set(bytes, buf);
const diag = M._malloc(256), outs = M._malloc(16);
const h = M._ulm_wasm_load(buf, bytes.length, diag);
assert.ok(h, 'the JSON path loads the bundle');
const enc = new TextEncoder(), dec = new TextDecoder();
function scoreJson(req) {
  const b = enc.encode(JSON.stringify(req));
  const p = M._malloc(b.length + 1);
  M.HEAPU8.set(b, p);
  const st = M._ulm_wasm_score(h, p, b.length, outs, outs + 4);
  const out = M.HEAPU32[outs >> 2], len = M.HEAPU32[(outs + 4) >> 2];
  const text = dec.decode(M.HEAPU8.subarray(out, out + len));
  M._free(out);
  M._free(p);
  assert.equal(st, 0);
  return JSON.parse(text);
}

// Histories: the last n events of each customer with at least n (and the ids as the shop has them).
const pick = (n) => customers.filter((c) => c.history.length >= n).map((c) => ({ user: c.customer, history: c.history.slice(-n) }));
const sets = { empty: [{ user: 'visitor-1', history: [] }], 20: pick(20), 60: pick(60) };
const rows = [];
console.log(`model.score() per call, Node ${process.version}, ${model.itemCount} items x 64 factors (ALS, f32), ` +
  `churn + profile/CLV + offers; ${sets[20].length} and ${sets[60].length} customers with >= 20 / 60 events`);
console.log('history  k  explain   score() µs   previous JSON path µs   JSON/score()');
for (const [name, list] of Object.entries(sets)) {
  for (const [k, explain] of [[0, 0], [10, 0], [10, 3]]) {
    const reqs = list.map((r) => ({ ...r, k, explain, now: NOW }));
    for (const r of reqs) assert.deepEqual(model.score(r), scoreJson(r));  // same answer both ways
    const t = median((i) => model.score(reqs[i % reqs.length]));
    const tj = median((i) => scoreJson(reqs[i % reqs.length]));
    rows.push({ history: name, k, explain, score_us: t, json_us: tj });
    console.log(`${name.padStart(7)} ${String(k).padStart(2)} ${String(explain).padStart(8)} ${t.toFixed(1).padStart(12)} ` +
      `${tj.toFixed(1).padStart(23)} ${(tj / t).toFixed(1).padStart(13)}x`);
  }
}

// The peer: onnxruntime-web, MatMul + Add + TopK over the same f32 item factors (ALS has no biases: zeros).
const s = JSON.parse(run('inspect', bundle, '--json')).sections.find((x) => x.tag === 'RCIF');
const raw = readFileSync(bundle).subarray(s.offset, s.offset + s.bytes);
const y = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
const n = model.itemCount, F = y.length / n;
const ort = await import(pathToFileURL(join(ROOT, 'node_modules/onnxruntime-web/dist/ort.node.min.mjs')).href);
ort.env.wasm.wasmPaths = pathToFileURL(join(ROOT, 'node_modules/onnxruntime-web/dist') + '/').href;
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(matmulTopK(y, n, F, 10, new Float32Array(n)), { executionProviders: ['wasm'] });
const x = new ort.Tensor('float32', y.slice(0, F), [1, F]);
const tOrt = await medianAsync(() => session.run({ x }));
await session.release();
const main = rows.find((r) => r.history === '20' && r.k === 10 && r.explain === 3);
const main60 = rows.find((r) => r.history === '60' && r.k === 10 && r.explain === 3);
console.log(`onnxruntime-web MatMul + TopK, top-10 of ${n} x ${F} (items part only, user vector given): ${tOrt.toFixed(1)} µs`);
console.log(`ratio onnxruntime-web (items only) / ulm score() (fold-in + items + reasons + churn + profile + offer): ` +
  `20 events ${(tOrt / main.score_us).toFixed(2)}x, 60 events ${(tOrt / main60.score_us).toFixed(2)}x`);
writeFileSync(join(WORK, 'score_bench.json'), JSON.stringify({ rows, ort_us: tOrt, items: n, factors: F }, null, 1));
model.close();
