// request.test.mjs: the WASI reactor used the way an edge host in any language would use it: raw
// WebAssembly.instantiate, no ulm.mjs, no WASI implementation beyond three never-called stubs; one
// JSON request in, one JSON response out (wasm/shim_request.c). Answers must equal the native command's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFixture, JS_DIR, jsonLines, ulm } from './fixture.mjs';

let fx, ex, model;
const enc = new TextEncoder(), dec = new TextDecoder();
// The module imports fd_close/fd_seek/fd_write from wasi-libc's stdio, which the scorer never
// calls; a host may answer them with ENOSYS (52).
const stubs = { wasi_snapshot_preview1: { fd_close: () => 52, fd_seek: () => 52, fd_write: () => 52 } };

function request(obj) {
  const bytes = enc.encode(typeof obj === 'string' ? obj : JSON.stringify(obj));
  const req = ex.malloc(bytes.length + 1), out = ex.malloc(8);
  new Uint8Array(ex.memory.buffer, req, bytes.length).set(bytes);
  const st = ex.ulm_wasm_request(model, req, bytes.length, out, out + 4);
  assert.equal(st, 0, 'a response is always written');
  const view = new DataView(ex.memory.buffer);
  const ptr = view.getUint32(out, true), len = view.getUint32(out + 4, true);
  const text = dec.decode(new Uint8Array(ex.memory.buffer, ptr, len));
  ex.free(ptr); ex.free(req); ex.free(out);
  return JSON.parse(text);
}

before(async () => {
  fx = buildFixture();
  const { instance } = await WebAssembly.instantiate(readFileSync(join(JS_DIR, 'ulm-wasi.wasm')), stubs);
  ex = instance.exports;
  ex._initialize();
  const bytes = fx.bytes;
  const buf = ex.ulm_wasm_bytes_alloc(bytes.length);
  new Uint8Array(ex.memory.buffer, buf, bytes.length).set(bytes);
  const diag = ex.malloc(ex.ulm_wasm_diag_size());
  model = ex.ulm_wasm_load(buf, bytes.length, diag);
  assert.notEqual(model, 0, 'the bundle loads');
  ex.free(diag);
});
after(() => { if (model) ex.ulm_wasm_free(model); fx?.cleanup(); });

test('the module needs nothing from its host but three unused stdio imports', async () => {
  const mod = await WebAssembly.compile(readFileSync(join(JS_DIR, 'ulm-wasi.wasm')));
  const names = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`).sort();
  assert.deepEqual(names, ['wasi_snapshot_preview1.fd_close', 'wasi_snapshot_preview1.fd_seek', 'wasi_snapshot_preview1.fd_write']);
});

test('recommend by history and by user equals the native command, score for score', () => {
  const native = jsonLines(ulm('recommend', fx.bundlePath, '--users', 'all', '--k', '10'));
  assert.ok(native.length > 100);
  for (const ref of native.slice(0, 150)) {
    for (const r of [request({ op: 'recommend', history: ref.history, k: 10 }), request({ op: 'recommend', user: ref.user, k: 10 })]) {
      assert.equal(r.ok, true);
      assert.deepEqual(r.items.map((i) => i.item), ref.items.map((i) => i.item), `user ${ref.user}`);
      r.items.forEach((it, j) => assert.equal(Math.fround(it.score), Math.fround(ref.items[j].score)));
      assert.deepEqual(r.items.map((i) => i.name), ref.items.map((i) => i.name));
    }
  }
});

test('unknown ids are counted, not fatal; k bounds; info', () => {
  const r = request({ op: 'recommend', history: ['NO-SUCH-ITEM', '85123A'], k: 3 });
  assert.equal(r.ok, true);
  assert.equal(r.unknown_items, 1);
  assert.equal(r.items.length, 3);
  assert.ok(!r.items.some((i) => i.item === '85123A'));
  assert.deepEqual(request({ op: 'recommend', history: [], k: 0 }).items, []);
  const info = request({ op: 'info' });
  assert.equal(info.ok, true);
  assert.ok(info.items > 1000);
  assert.equal(info.meta['model.recs'], 'pop');
  assert.equal(request({ op: 'recommend', history: [], k: 1e9 }).status, 'ERR_MISUSE');
});

test('bad requests get a status name and a sentence, never a trap', () => {
  const cases = [
    ['not json', 'ERR_PARSE'], ['[1,2]', 'ERR_PARSE'], [{}, 'ERR_MISUSE'], [{ op: 'dance' }, 'ERR_UNSUPPORTED'],
    [{ op: 'recommend', history: [1, 2] }, 'ERR_MISUSE'], [{ op: 'recommend', history: [], user: 'x' }, 'ERR_MISUSE'],
    [{ op: 'recommend', user: 'no-such-user' }, 'ERR_NOT_FOUND'], [{ op: 'recommend', history: 'x' }, 'ERR_MISUSE'],
    [{ op: 'recommend', history: [], k: -1 }, 'ERR_MISUSE'], [{ op: 'recommend', history: [], k: 2.5 }, 'ERR_MISUSE'],
  ];
  for (const [req, status] of cases) {
    const r = request(req);
    assert.equal(r.ok, false, JSON.stringify(req));
    assert.equal(r.status, status, JSON.stringify(req));
    assert.ok(r.message.length > 5);
  }
});
