// Churn scoring in wasm as a page or an edge worker calls it, both runtimes, median of 7 passes over the
// rows: Model#churnProbability(row) one row per call (single_us_per_row: the lightest call, a number back),
// Model#churnProbabilities(row) one row per call (which makes a Float32Array per call), all rows in one
// churnProbabilities call, and Model#churn({ features, reasons: 0 }) per row (which also builds the result
// object and the features array). JS -> wasm calls and row copies are included. Usage: node bench/churn_wasm_score.mjs MODEL.ulm ROWS.f32 N_FEATURES [JS_DIR]
// Prints one JSON line per runtime.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [bundle, rowsFile, nfArg, jsDirArg] = process.argv.slice(2);
const jsDir = resolve(jsDirArg ?? join(process.cwd(), 'build', 'js'));
const api = await import(pathToFileURL(join(jsDir, 'ulm.mjs')).href);
const nf = Number(nfArg);
const flat = new Float32Array(readFileSync(rowsFile).buffer.slice(0));
const rows = [];
for (let r = 0; r + nf <= flat.length; r += nf) rows.push(Array.from(flat.subarray(r, r + nf)));
const bytes = new Uint8Array(readFileSync(bundle));
// Median of 7 passes of fn() over the rows, in microseconds per row.
function perRow(fn, n) {
  const reps = Math.max(1, Math.ceil(20000 / n)), t = [];
  // warm up: at least half a second of calls, so the engine's optimising tier has compiled the wasm
  for (const w0 = process.hrtime.bigint(); process.hrtime.bigint() - w0 < 500_000_000n;) fn();
  for (let k = 0; k < 7; k++) {
    const t0 = process.hrtime.bigint();
    for (let rep = 0; rep < reps; rep++) fn();
    t.push(Number(process.hrtime.bigint() - t0) / 1e3 / (reps * n));
  }
  t.sort((a, b) => a - b);
  return [t[3], t[0]];
}

for (const runtime of ['emscripten', 'wasi']) {
  const model = await api.loadModel(bytes, { runtime });
  let sink = 0;
  const n = rows.length;
  const [churnUs] = perRow(() => { for (const f of rows) sink += model.churn({ features: f, reasons: 0 }).probability; }, n);
  const rowViews = rows.map((_, i) => flat.subarray(i * nf, (i + 1) * nf));
  const [singleUs, singleBest] = perRow(() => { for (const f of rowViews) sink += model.churnProbability(f); }, n);
  const [arrayUs] = perRow(() => { for (const f of rowViews) sink += model.churnProbabilities(f)[0]; }, n);
  const [batchUs, batchBest] = perRow(() => { sink += model.churnProbabilities(flat.subarray(0, n * nf))[0]; }, n);
  console.log(JSON.stringify({ runtime, rows: n, churn_us_per_row: churnUs, single_us_per_row: singleUs,
    single_best_us_per_row: singleBest, single_array_us_per_row: arrayUs, batch_rows_per_s: 1e6 / batchUs, batch_best_rows_per_s: 1e6 / batchBest,
    sink: sink > 0 }));
  model.close();
}
