// score_bench.mjs: model.score() in Node, per call, on the sample store's bundle (ALS with f32 factors,
// logistic churn model, profiler with CLV, four offers): empty history, 20 and 60 events (the last events
// of real customers), k = 0 and 10, explain 0 and 3. Measured in the same run against two peers:
//  - the previous JSON path of ulm itself: the request as JSON text into the WASI module's JSON entry
//    ({"op":"score"}, the cJSON code model.score() used before the binary request), its answer parsed
//    back, against model.score() on the same WASI build;
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

// Wall-clock median (µs per call) and, over all batches, CPU time per call (user + system: less
// inflated than wall time when other processes share the cores).
function median(fn) {
  for (let i = 0; i < REPS; i++) fn(i);
  const t = [];
  const c0 = process.cpuUsage();
  for (let b = 0; b < BATCHES; b++) {
    const t0 = performance.now();
    for (let i = 0; i < REPS; i++) fn(i);
    t.push(((performance.now() - t0) * 1000) / REPS);
  }
  const c = process.cpuUsage(c0);
  t.sort((a, b) => a - b);
  return { wall: t[BATCHES >> 1], cpu: (c.user + c.system) / (BATCHES * REPS) };
}
const fmt = (m) => `${m.wall.toFixed(1)} (${m.cpu.toFixed(1)})`;

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
const store = join(WORK, 'sample.store'), bundle = join(WORK, 'als-int8.ulm'), bundle32 = join(WORK, 'als-f32.ulm');
const hist = join(WORK, 'hist.jsonl');
const offers = join(WORK, 'offers.json');
if (!existsSync(bundle)) {
  writeFileSync(offers, JSON.stringify({ offers: [{ id: 'vip_call', cost: 150, uplift: 0.5 },
    { id: 'coupon10', cost: 10, uplift: 0.1 }, { id: 'reminder', cost: 0.05, uplift: 0.02 }, { id: 'none', cost: 0, uplift: 0 }],
  control_share: 0.2, seed: 7 }));
  run('ingest', DATA, '--out', store);
  const opts = ['--churn', 'logreg', '--cutoff', '2011-09-01', '--horizon', '90', '--recs', 'als', '--offers', offers];
  run('train', store, '--out', bundle, ...opts);  // int8 factors, the default
  run('train', store, '--out', bundle32, ...opts, '--quantize', 'none');
  run('segment', store, '--model', bundle, '--as-of', AS_OF, '--out', join(WORK, 'seg.jsonl'), '--histories', hist);
}
const customers = readFileSync(hist, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const bytes = new Uint8Array(readFileSync(bundle));
const api = await import(pathToFileURL(join(JS, 'ulm.mjs')).href);
const model = await api.loadModel(bytes);
assert.equal(model.simd, true);

// The previous path: JSON text both ways, as model.score() did before the binary request. The browser
// build no longer links any JSON code, so this is the WASI module's JSON entry point ({"op":"score"} of
// ulm_wasm_request, the same cJSON request and answer code), driven the way ulm.mjs drove ulm_wasm_score.
const wasiModel = await api.loadModel(bytes, { runtime: 'wasi' });
const stubs = { wasi_snapshot_preview1: { fd_close: () => 52, fd_seek: () => 52, fd_write: () => 52 } };
const { instance } = await WebAssembly.instantiate(readFileSync(join(JS, 'ulm-wasi.wasm')), stubs);
const ex = instance.exports;
ex._initialize();
const buf = ex.ulm_wasm_bytes_alloc(bytes.length);
new Uint8Array(ex.memory.buffer, buf, bytes.length).set(bytes);
const diag = ex.malloc(ex.ulm_wasm_diag_size()), outs = ex.malloc(8);
const h = ex.ulm_wasm_load(buf, bytes.length, diag);
assert.ok(h, 'the JSON path loads the bundle');
const enc = new TextEncoder(), dec = new TextDecoder();
function scoreJson(req) {
  const b = enc.encode(JSON.stringify({ op: 'score', ...req }));
  const p = ex.malloc(b.length + 1);
  new Uint8Array(ex.memory.buffer, p, b.length).set(b);
  const st = ex.ulm_wasm_request(h, p, b.length, outs, outs + 4);
  const dv = new DataView(ex.memory.buffer);
  const out = dv.getUint32(outs, true), len = dv.getUint32(outs + 4, true);
  const r = JSON.parse(dec.decode(new Uint8Array(ex.memory.buffer, out, len)));
  ex.free(out);
  ex.free(p);
  assert.equal(st, 0);
  delete r.ok;
  return r;
}

// Histories: the last n events of each customer with at least n (and the ids as the shop has them).
const pick = (n) => customers.filter((c) => c.history.length >= n).map((c) => ({ user: c.customer, history: c.history.slice(-n) }));
const sets = { empty: [{ user: 'visitor-1', history: [] }], 20: pick(20), 60: pick(60) };
const rows = [];
// Same answer: equal keys and strings; numbers equal within 1e-12 relative (cJSON prints 15 digits
// when they read back within DBL_EPSILON, so the JSON path rounds a few; the binary path is exact).
function same(got, want, where) {
  if (typeof want === 'number' && typeof got === 'number')
    return assert.ok(Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)), `${where}: ${got} vs ${want}`);
  if (want === null || typeof want !== 'object') return assert.equal(got, want, where);
  assert.deepEqual(Object.keys(got), Object.keys(want), `${where}: keys`);
  for (const key of Object.keys(want)) same(got[key], want[key], `${where}.${key}`);
}
console.log(`model.score() per call, Node ${process.version}, ${model.itemCount} items x 64 factors (ALS, int8), ` +
  `churn + profile/CLV + offers; ${sets[20].length} and ${sets[60].length} customers with >= 20 / 60 events`);
console.log('µs per call: wall-clock median of 31 batches (CPU time per call in parentheses)');
console.log('history  k explain | score() Emscripten | recommend() Emscripten | score() WASI | JSON path WASI | JSON/score() WASI (CPU)');
// Warm-up of every path on every case first: V8 compiles wasm with its baseline tier and optimises
// hot functions later, which would otherwise land in whichever case runs first.
for (let round = 0; round < 300; round++)
  for (const list of Object.values(sets))
    for (const [k, explain] of [[0, 0], [10, 3]]) {
      const r = { ...list[round % list.length], k, explain, now: NOW };
      model.score(r), wasiModel.score(r), scoreJson(r), model.recommend({ history: r.history.map((e) => e.item), k: 10 });
    }
for (const [name, list] of Object.entries(sets)) {
  for (const [k, explain] of [[0, 0], [10, 0], [10, 3]]) {
    const reqs = list.map((r) => ({ ...r, k, explain, now: NOW }));
    for (const r of reqs) same(wasiModel.score(r), scoreJson(r), `${name} k ${k}`);  // same answer both ways
    const ids = reqs.map((r) => r.history.map((e) => e.item));
    const t = median((i) => model.score(reqs[i % reqs.length]));
    const tr = k ? median((i) => model.recommend({ history: ids[i % ids.length], k, explain, now: NOW })) : null;
    const tw = median((i) => wasiModel.score(reqs[i % reqs.length]));
    const tj = median((i) => scoreJson(reqs[i % reqs.length]));
    rows.push({ history: name, k, explain, score: t, recommend: tr, score_wasi: tw, json_wasi: tj });
    console.log(`${name.padStart(7)} ${String(k).padStart(2)} ${String(explain).padStart(7)} | ${fmt(t).padStart(18)} | ` +
      `${(tr ? fmt(tr) : '-').padStart(22)} | ${fmt(tw).padStart(12)} | ${fmt(tj).padStart(14)} | ` +
      `${(tj.wall / tw.wall).toFixed(1)}x (${(tj.cpu / tw.cpu).toFixed(1)}x)`);
  }
}

// The peer: onnxruntime-web, MatMul + Add + TopK over the same f32 item factors (ALS has no biases: zeros).
const s = JSON.parse(run('inspect', bundle32, '--json')).sections.find((x) => x.tag === 'RCIF');
const raw = readFileSync(bundle32).subarray(s.offset, s.offset + s.bytes);
const y = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
const n = model.itemCount, F = y.length / n;
const ort = await import(pathToFileURL(join(ROOT, 'node_modules/onnxruntime-web/dist/ort.node.min.mjs')).href);
ort.env.wasm.wasmPaths = pathToFileURL(join(ROOT, 'node_modules/onnxruntime-web/dist') + '/').href;
ort.env.wasm.numThreads = 1;
const session = await ort.InferenceSession.create(matmulTopK(y, n, F, 10, new Float32Array(n)), { executionProviders: ['wasm'] });
const x = new ort.Tensor('float32', y.slice(0, F), [1, F]);
const c0 = process.cpuUsage();
const tOrt = await medianAsync(() => session.run({ x }));
const cOrt = process.cpuUsage(c0);
const ortCpu = (cOrt.user + cOrt.system) / ((BATCHES + 1) * REPS);
await session.release();
const main = rows.find((r) => r.history === '20' && r.k === 10 && r.explain === 3);
const main60 = rows.find((r) => r.history === '60' && r.k === 10 && r.explain === 3);
console.log(`onnxruntime-web MatMul + TopK, top-10 of ${n} x ${F} f32 (items part only, user vector given): ` +
  `${tOrt.toFixed(1)} µs (${ortCpu.toFixed(1)} CPU, warm-up included)`);
console.log(`ratio onnxruntime-web (items only) / ulm score() (fold-in + items + reasons + churn + profile + offer), ` +
  `k 10, explain 3: 20 events ${(tOrt / main.score.wall).toFixed(2)}x, 60 events ${(tOrt / main60.score.wall).toFixed(2)}x`);
writeFileSync(join(WORK, 'score_bench.json'), JSON.stringify({ rows, ort_us: tOrt, ort_cpu_us: ortCpu, items: n, factors: F }, null, 1));
model.close();
wasiModel.close();
