// score.mjs: the demo's last step. Scores one customer with the native command and with both wasm
// builds (Emscripten ES module and WASI reactor) loaded from Node through build/js/ulm.mjs, prints
// the top-K side by side, and fails (exit 1) unless all three agree item for item and score for score.
//
//   node wasm/examples/score.mjs MODEL.ulm --native build/bin/ulm [--user ID] [--k 10] [--js build/js]
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

function parseArgs(argv) {
  const o = { k: 10, js: 'build/js' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--native' || a === '--user' || a === '--k' || a === '--js') o[a.slice(2)] = argv[++i];
    else if (a === '--help' || a === '-h') o.help = true;
    else if (!o.model) o.model = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  o.k = Number(o.k);
  return o;
}

const opts = parseArgs(process.argv.slice(2));
if (opts.help || !opts.model || !opts.native) {
  console.log('usage: node wasm/examples/score.mjs MODEL.ulm --native ULM [--user ID] [--k 10] [--js DIR]');
  process.exit(opts.help ? 0 : 2);
}
const { loadModel } = await import(pathToFileURL(resolve(opts.js, 'ulm.mjs')).href);
const native = (args) => execFileSync(opts.native, ['recommend', opts.model, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });

// Without --user, the sample customer is the one with the longest purchase history.
let user = opts.user;
if (!user) {
  let best = null;
  for (const line of native(['--users', 'all', '--k', '0']).split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line);
    if (!best || o.history.length > best.history.length) best = o;
  }
  user = best.user;
}
const ref = JSON.parse(native(['--user', user, '--k', String(opts.k), '--json']));
const bytes = await readFile(opts.model);
const results = { native: ref.items };
for (const runtime of ['emscripten', 'wasi']) {
  const t0 = process.hrtime.bigint();
  const model = await loadModel(bytes, { runtime });
  const t1 = process.hrtime.bigint();
  results[runtime] = model.recommend({ history: ref.history, k: opts.k });
  const t2 = process.hrtime.bigint();
  results[runtime + '_us'] = [Number(t1 - t0) / 1e3, Number(t2 - t1) / 1e3];
  model.close();
}

console.log(`customer ${user}: ${ref.history.length} items bought; top ${ref.items.length} not yet bought`);
console.log(` #  ${'item'.padEnd(8)} ${'native'.padStart(10)} ${'emscripten'.padStart(10)} ${'wasi'.padStart(10)}  name`);
let agree = results.emscripten.length === ref.items.length && results.wasi.length === ref.items.length;
ref.items.forEach((r, i) => {
  const e = results.emscripten[i] || {}, w = results.wasi[i] || {};
    // Native prints float32 scores with %.9g: rounding the parsed double back to float32 recovers them exactly.
  const s = Math.fround(r.score);
  const same = e.item === r.item && w.item === r.item && e.score === s && w.score === s;
  agree &&= same;
  console.log(`${String(i + 1).padStart(2)}  ${r.item.padEnd(8)} ${r.score.toFixed(3).padStart(10)} ${(e.score ?? NaN).toFixed(3).padStart(10)} ${(w.score ?? NaN).toFixed(3).padStart(10)}  ${r.name ?? ''}${same ? '' : '   <- differs'}`);
});
const f = (x) => x.toFixed(0);
console.log(`wasm load / recommend: emscripten ${f(results.emscripten_us[0])} / ${f(results.emscripten_us[1])} µs, wasi ${f(results.wasi_us[0])} / ${f(results.wasi_us[1])} µs (${bytes.length} byte bundle)`);
console.log(agree ? 'native, Emscripten and WASI agree on every item and score' : 'MISMATCH between builds');
process.exit(agree ? 0 : 1);
