// nosimd.test.mjs: the plain (no SIMD) builds that ulm.mjs falls back to on engines without
// WebAssembly SIMD. Node 20 always has SIMD, so the fallback is forced with { simd: false }; the
// builds are checked to contain no SIMD instruction at all, and to answer like the native command.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { buildFixture, JS_DIR, jsonLines, RUNTIMES, ulm, ulmPackage } from './fixture.mjs';

let fx, api;
before(async () => { fx = buildFixture(); api = await ulmPackage(); });
after(() => fx?.cleanup());

// Counts SIMD instructions in a module's disassembly (wabt's wasm-objdump).
function simdOps(file) {
  const text = execFileSync('wasm-objdump', ['-d', join(JS_DIR, file)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return (text.match(/\b(v128|[if](8x16|16x8|32x4|64x2))\./g) ?? []).length;
}

test('the plain builds have no SIMD instruction; the default builds do', () => {
  for (const f of ['ulm-em-nosimd.wasm', 'ulm-wasi-nosimd.wasm']) assert.equal(simdOps(f), 0, f);
  for (const f of ['ulm-em.wasm', 'ulm-wasi.wasm']) assert.ok(simdOps(f) > 0, f);
});

test('SIMD is detected in Node, and the default load uses it', async () => {
  assert.equal(api.hasSimd(), true);
  const m = await api.loadModel(fx.bytes);
  assert.equal(m.simd, true);
  m.close();
});

test('forced plain builds answer exactly like the native command', async () => {
  const native = jsonLines(ulm('recommend', fx.bundlePath, '--users', 'all', '--k', '10')).slice(0, 200);
  for (const runtime of RUNTIMES) {
    const m = await api.loadModel(fx.bytes, { runtime, simd: false });
    assert.equal(m.simd, false);
    assert.equal(m.runtime, runtime);
    for (const ref of native) {
      const got = m.recommend({ history: ref.history, k: 10 });
      assert.deepEqual(got.map((r) => r.item), ref.items.map((r) => r.item), `${runtime} user ${ref.user}`);
      got.forEach((r, j) => assert.equal(r.score, Math.fround(ref.items[j].score)));
    }
    m.close();
  }
});
