// scorer_bench.mjs: top-10 for one user over 10,000 items x 64 factors, ulm (int8 and f32 bundles)
// against onnxruntime-web (MatMul + Add + TopK over the same f32 factors and biases, one thread),
// in Node and in headless Chromium, measured in the same run; fold-in + top-10 for visitors with 20
// events; wasm linear memory for a 100,000-item bundle. Run through bench/scorer_bench.sh.
// usage: node bench/scorer_bench.mjs --ulm build/bin/ulm --js build/js --work DIR [--no-browser]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { matmulTopK } from './scorer_onnx.mjs';
import { runScorerBench } from './scorer_run.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : def; };
const ULM = resolve(arg('ulm', join(ROOT, 'build/bin/ulm')));
const JS = resolve(arg('js', join(ROOT, 'build/js')));
const WORK = resolve(arg('work', join(ROOT, 'build/bench-scorer')));
const ORT_DIST = join(ROOT, 'node_modules/onnxruntime-web/dist');
const F = 64;
mkdirSync(WORK, { recursive: true });
const run = (...a) => execFileSync(ULM, a, { encoding: 'utf8', maxBuffer: 1 << 28 });

function prng(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 4294967296; };
}

// A purchase log over n items: users x 20 events, item popularity ~ Zipf(0.8); one store per n.
function store(n, users) {
  const path = join(WORK, `s${n}.store`);
  if (existsSync(path)) return path;
  const rnd = prng(n);
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) cdf[i] = acc += 1 / (i + 1) ** 0.8;
  const pick = () => { const r = rnd() * acc; let lo = 0, hi = n - 1; while (lo < hi) { const m = (lo + hi) >> 1; if (cdf[m] < r) lo = m + 1; else hi = m; } return lo; };
  const rows = ['user,item,time'];
  for (let u = 0; u < users; u++) for (let e = 0; e < 20; e++) rows.push(`u${u},p${pick()},${1300000000 + u * 100 + e}`);
  // Every item bought at least once, so the catalogue has exactly n items.
  for (let i = 0; i < n; i++) rows.push(`x${i % users},p${i},1300000000`);
  writeFileSync(join(WORK, `s${n}.csv`), rows.join('\n') + '\n');
  run('ingest', join(WORK, `s${n}.csv`), '--out', path);
  return path;
}

function train(st, out, ...a) {
  const path = join(WORK, out);
  if (!existsSync(path)) run('train', st, '--out', path, '--factors', String(F), '--no-profiles', '--no-user-table', '--threads', '2', ...a);
  return path;
}

// A section's bytes, located through `ulm inspect --json`.
function section(bundle, tag) {
  const s = JSON.parse(run('inspect', bundle, '--json')).sections.find((x) => x.tag === tag);
  const b = readFileSync(bundle);
  return b.subarray(s.offset, s.offset + s.bytes);
}

const st = store(10000, 5000);
const bpr8 = train(st, 'bpr-int8.ulm', '--recs', 'bpr', '--iters', '3', '--quantize', 'int8');
const bpr32 = train(st, 'bpr-f32.ulm', '--recs', 'bpr', '--iters', '3', '--quantize', 'none');
const als8 = train(st, 'als-int8.ulm', '--recs', 'als', '--iters', '3', '--quantize', 'int8');
const yb = section(bpr32, 'RCIF'), bb = section(bpr32, 'RCIB');
const y = new Float32Array(yb.buffer.slice(yb.byteOffset, yb.byteOffset + yb.length));
const bias = new Float32Array(bb.buffer.slice(bb.byteOffset, bb.byteOffset + bb.length));
const n = bias.length;
const api = await import(pathToFileURL(join(JS, 'ulm.mjs')).href);
const probe = await api.loadModel(readFileSync(bpr32));
const ids = [];
for (let i = 0; i < probe.itemCount; i++) ids.push(probe.itemId(i));
probe.close();
const user = 1234;  // the one-item history: item index 1234; its factors are the user vector (BPR's mean)
const rnd = prng(7);
const visitors = Array.from({ length: 64 }, () => Array.from({ length: 20 }, () => ids[Math.floor(rnd() * n)]));
const data = {
  int8: new Uint8Array(readFileSync(bpr8)), fp32: new Uint8Array(readFileSync(bpr32)), als8: new Uint8Array(readFileSync(als8)),
  ids, user, visitors, onnx: matmulTopK(y, n, F, 11, bias), x: y.slice(user * F, user * F + F),
};
writeFileSync(join(WORK, 'peer.onnx'), data.onnx);

// What the two answers should share: ORT's top-11 without the history item is ulm's f32 top-10.
function check(r, where) {
  const ortTop = r.ort_top.filter((id) => id !== ids[user]).slice(0, 10);
  const same = ortTop.every((id, i) => id === r.ulm_fp32_top[i]);
  const overlap = r.ulm_int8_top.filter((id) => ortTop.includes(id)).length;
  return `${where}: f32 top-10 ${same ? 'equals' : 'DIFFERS FROM'} ORT's; int8 shares ${overlap}/10`;
}

function report(where, r) {
  console.log(`\n== ${where} (median of ${31} batches of 100 calls, µs per call)`);
  console.log(`  top-10 of ${n} x ${F}, one user:  ulm int8 ${r.ulm_int8.toFixed(1)}   ulm f32 ${r.ulm_fp32.toFixed(1)}   ` +
    `onnxruntime-web ${r.ort.toFixed(1)}   ratio ORT/ulm: int8 ${r.ratio_int8.toFixed(1)}x, f32 ${r.ratio_fp32.toFixed(1)}x` +
    `   (SIMD ${r.ulm_int8_simd})`);
  console.log(`  ALS fold-in + top-10, 20-event visitor (int8): ${r.foldin20.toFixed(1)}   one-item history: ${r.als_one.toFixed(1)}`);
  console.log(`  ${check(r, where)}`);
}

const ort = await import(pathToFileURL(join(ROOT, 'node_modules/onnxruntime-web/dist/ort.node.min.mjs')).href);
ort.env.wasm.wasmPaths = pathToFileURL(ORT_DIST + '/').href;
const results = { node: await runScorerBench(api, ort, data) };
report('Node ' + process.version, results.node);

// Memory: the Emscripten module's linear memory after loading a 100,000-item int8 bundle and one
// recommendation, against the bundle's size.
{
  const big = train(store(100000, 20000), 'als-100k-int8.ulm', '--recs', 'als', '--iters', '1', '--quantize', 'int8');
  const bytes = readFileSync(big);
  const { default: createUlmEm } = await import(pathToFileURL(join(JS, 'ulm-em.mjs')).href);
  const M = await createUlmEm({ wasmBinary: readFileSync(join(JS, 'ulm-em.wasm')) });
  const base = M.HEAPU8.buffer.byteLength;
  const buf = M._ulm_wasm_bytes_alloc(bytes.length);
  M.HEAPU8.set(bytes, buf);
  const diag = M._malloc(M._ulm_wasm_diag_size());
  const h = M._ulm_wasm_load(buf, bytes.length, diag);
  if (!h) throw new Error('the 100k bundle did not load');
  const io = M._malloc(4 * (20 + 10 + 10 + 1));
  for (let i = 0; i < 20; i++) M.HEAPU32[(io >> 2) + i] = (i * 4999) % 100000;
  const st2 = M._ulm_wasm_recommend(h, io, 20, 10, 0, io + 80, io + 120, 0, io + 160);
  const mem = M.HEAPU8.buffer.byteLength;
  results.memory = { items: 100000, bundle: bytes.length, linear: mem, initial: base, status: st2, ratio: mem / bytes.length };
  console.log(`\n== memory: 100,000-item int8 ALS bundle ${bytes.length} bytes; Emscripten linear memory ${mem} bytes ` +
    `after load + one recommendation (${(mem / bytes.length).toFixed(2)}x the bundle; ${base} bytes before loading)`);
}

// Chromium: the same measurements in a page (playwright-core + Debian's chromium).
if (!process.argv.includes('--no-browser')) {
  const { chromium } = await import(pathToFileURL(join(ROOT, 'node_modules/playwright-core/index.mjs')).href);
  const roots = { '/js/': JS, '/ort/': ORT_DIST, '/bench/': HERE, '/data/': WORK };
  const types = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
  const srv = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
    if (url.pathname === '/') {
      res.writeHead(200, { ...headers, 'content-type': 'text/html' });
      return res.end('<!doctype html><title>scorer bench</title>');
    }
    const pre = Object.keys(roots).find((p) => url.pathname.startsWith(p));
    const file = pre && join(roots[pre], url.pathname.slice(pre.length));
    if (!file || !existsSync(file)) { res.writeHead(404); return res.end(); }
    res.writeHead(200, { ...headers, 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((ok) => srv.listen(0, '127.0.0.1', ok));
  const base = `http://127.0.0.1:${srv.address().port}`;
  writeFileSync(join(WORK, 'int8.ulm'), data.int8);
  writeFileSync(join(WORK, 'fp32.ulm'), data.fp32);
  writeFileSync(join(WORK, 'als8.ulm'), data.als8);
  writeFileSync(join(WORK, 'page.json'), JSON.stringify({ ids, user, visitors, x: Array.from(data.x) }));
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'udd-')), {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  try {
    const page = await ctx.newPage();
    await page.goto(base + '/');
    results.chromium = await page.evaluate(async () => {
      const api = await import('/js/ulm.mjs');
      const ort = await import('/ort/ort.wasm.min.mjs');
      ort.env.wasm.wasmPaths = '/ort/';
      const { runScorerBench } = await import('/bench/scorer_run.mjs');
      const get = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
      const meta = await (await fetch('/data/page.json')).json();
      const d = { ...meta, x: Float32Array.from(meta.x), int8: await get('/data/int8.ulm'), fp32: await get('/data/fp32.ulm'),
        als8: await get('/data/als8.ulm'), onnx: await get('/data/peer.onnx') };
      return runScorerBench(api, ort, d);
    });
    results.chromium.version = ctx.browser()?.version() ?? 'chromium';
    report('Chromium (headless)', results.chromium);
  } finally {
    await ctx.close();
    srv.close();
  }
}
writeFileSync(join(WORK, 'results.json'), JSON.stringify(results, null, 1));
