// scorer_run.mjs: the scorer benchmark's measurements, the same code in Node and in Chromium.
// Each figure is the median over BATCHES batches of the mean time of REPS calls (browser clocks are
// coarse), in microseconds.
const BATCHES = 31, REPS = 100;
const now = () => performance.now();

// Warm-up: at least WARM_MS of calls (and REPS calls) before timing, for ulm and onnxruntime-web alike,
// so both are measured after the engine has compiled their wasm with its optimising tier (V8 starts
// with a baseline compiler and tiers up hot functions in the background).
const WARM_MS = 500;

async function median(fn, reps = REPS) {
  const w0 = now();
  for (let i = 0; i < reps || now() - w0 < WARM_MS; i++) await fn(i);
  const t = [];
  for (let b = 0; b < BATCHES; b++) {
    const t0 = now();
    for (let i = 0; i < reps; i++) await fn(i);
    t.push(((now() - t0) * 1000) / reps);
  }
  t.sort((a, b) => a - b);
  return t[BATCHES >> 1];
}

// api: the ulm.mjs module; ort: onnxruntime-web; d: { int8, fp32, als8, ids, visitors, onnx, x }.
export async function runScorerBench(api, ort, d) {
  const out = {};
  const sync = (fn) => (i) => { fn(i); };
  for (const [name, bytes] of [['ulm_int8', d.int8], ['ulm_fp32', d.fp32]]) {
    const m = await api.loadModel(bytes);
    // One user: the history is one item, so the user vector is that item's factors (BPR's mean).
    const h = [d.ids[d.user]];
    const top = m.recommend({ history: h, k: 10, explain: 0 });
    out[`${name}_top`] = top.map((r) => r.item);
    out[name] = await median(sync(() => m.recommend({ history: h, k: 10, explain: 0 })));
    out[`${name}_simd`] = m.simd;
    m.close();
  }
  const als = await api.loadModel(d.als8);
  // ALS with the one-item history: the fold-in of one event, then the unpruned int8 scan.
  const h1 = [d.ids[d.user]];
  out.als_one = await median(sync(() => als.recommend({ history: h1, k: 10, explain: 0 })));
  out.foldin20 = await median(sync((i) => als.recommend({ history: d.visitors[i % d.visitors.length], k: 10, explain: 0 })));
  als.close();
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(d.onnx, { executionProviders: ['wasm'] });
  const x = new ort.Tensor('float32', d.x, [1, d.x.length]);
  const r = await session.run({ x });
  out.ort_top = Array.from(r.indices.data, (v) => d.ids[Number(v)]);
  out.ort = await median(() => session.run({ x }));
  await session.release();
  out.ratio_int8 = out.ort / out.ulm_int8;
  out.ratio_fp32 = out.ort / out.ulm_fp32;
  return out;
}
