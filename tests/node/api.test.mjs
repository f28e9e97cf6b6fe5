// api.test.mjs: the behaviour of the JS API itself, on both runtimes: unknown ids, k edge
// cases, metadata, argument errors, close(), many models at once and memory growth.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { join } from 'node:path';
import { readFileSync } from 'node:fs';

import { RUNTIMES, buildFixture, jsonLines, parseBundle, spread, ulm, ulmPackage, writeBundle } from './fixture.mjs';

let fx;
let api;
let native;
let noUsers;  // the same events trained with --no-user-table

before(async () => {
  api = await ulmPackage();
  fx = buildFixture();
  const path = join(fx.dir, 'no-users.ulm');
  ulm('train', fx.store, '--out', path, '--no-user-table');
  noUsers = new Uint8Array(readFileSync(path));
  native = spread(jsonLines(ulm('recommend', fx.bundlePath, '--users', 'all', '--k', '5', '--json'))
    .filter((r) => r.history.length >= 2), 40);
});

after(() => fx?.cleanup());

const isUlmError = (code) => (e) => {
  assert.ok(e instanceof api.UlmError, `expected UlmError ${code}, got ${e?.name}: ${e?.message}`);
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'UlmError');
  assert.equal(e.code, code, e.message);
  assert.ok(e.message.startsWith(`${code}: `), e.message);
  return true;
};

for (const runtime of RUNTIMES) {
  describe(`${runtime} runtime`, () => {
    let model;
    before(async () => { model = await api.loadModel(fx.bytes, { runtime }); });
    after(() => model?.close());

    test('loads from a Uint8Array, an ArrayBuffer and a view into a larger buffer alike', async () => {
      const padded = new Uint8Array(fx.bytes.length + 100);
      padded.set(fx.bytes, 37);
      const sources = [fx.bytes.slice().buffer, new DataView(padded.buffer, 37, fx.bytes.length)];
      const want = model.recommend({ history: native[0].history, k: 8 });
      for (const src of sources) {
        const m = await api.loadModel(src, { runtime });
        assert.deepEqual(m.recommend({ history: native[0].history, k: 8 }), want);
        m.close();
      }
      await assert.rejects(api.loadModel('not bytes', { runtime }), TypeError);
    });

    test('metadata: present keys are strings, absent keys are null', () => {
      assert.equal(typeof model.meta('model.recs'), 'string');
      assert.ok(model.meta('model.recs').length > 0);
      assert.equal(model.meta('no.such.key'), null);
      assert.equal(model.meta(''), null);
    });

    test('item ids by index and names by id', () => {
      const first = model.itemId(0);
      assert.equal(typeof first, 'string');
      assert.equal(model.itemId(model.itemCount), null);
      assert.equal(model.itemId(-1), null);
      assert.equal(model.itemId(1.5), null);
      const name = model.itemName(first);
      assert.ok(name === null || typeof name === 'string');
      assert.equal(model.itemName('no-such-item-id'), null);
    });

    test('unknown ids in a history are ignored', () => {
      for (const r of native) {
        const want = model.recommend({ history: r.history, k: 10 });
        const noisy = ['no-such-item', ...r.history, '', 'ünïcödé', 'x'.repeat(1000), r.history[0]];
        assert.deepEqual(model.recommend({ history: noisy, k: 10 }), want, `user ${r.user}`);
      }
      assert.deepEqual(model.recommend({ history: ['nope', 'nada'], k: 7 }), model.recommend({ history: [], k: 7 }));
    });

    test('history items are never recommended; results are sorted best first', () => {
      for (const r of native) {
        const got = model.recommend({ history: r.history, k: 50 });
        const seen = new Set(r.history);
        assert.ok(got.every((x) => !seen.has(x.item)), `user ${r.user}: a history item came back`);
        for (let i = 1; i < got.length; i++) assert.ok(got[i - 1].score >= got[i].score, `user ${r.user}: not sorted`);
        assert.equal(new Set(got.map((x) => x.item)).size, got.length, 'duplicate items');
      }
    });

    test('k = 0 gives []; the default k is 10', () => {
      assert.deepEqual(model.recommend({ history: native[0].history, k: 0 }), []);
      assert.deepEqual(model.recommend({ user: native[0].user, k: 0 }), []);
      assert.equal(model.recommend({ history: [] }).length, Math.min(10, model.itemCount));
    });

    test('a huge k gives the whole catalogue minus the history', () => {
      for (const r of native.slice(0, 5)) {
        const all = model.recommend({ history: r.history, k: 1e9 });
        assert.equal(all.length, model.itemCount - new Set(r.history).size, `user ${r.user}`);
        const ids = new Set(all.map((x) => x.item));
        for (let i = 0; i < model.itemCount; i++) {
          const id = model.itemId(i);
          assert.equal(ids.has(id), !r.history.includes(id), `item ${id}`);
        }
        assert.deepEqual(model.recommend({ user: r.user, k: Number.MAX_SAFE_INTEGER }), all);
      }
      assert.equal(model.recommend({ history: [], k: 2 ** 40 }).length, model.itemCount);
    });

    test('a prefix of a longer list is the shorter list', () => {
      const r = native[1];
      const long = model.recommend({ history: r.history, k: 100 });
      for (const k of [1, 2, 9, 33]) assert.deepEqual(model.recommend({ history: r.history, k }), long.slice(0, k));
    });

    test('users: history, unknown users, numeric ids', () => {
      const r = native[0];
      assert.deepEqual([...model.userHistory(r.user)].sort(), [...r.history].sort());
      assert.equal(model.userHistory('no-such-user'), null);
      assert.throws(() => model.recommend({ user: 'no-such-user' }), isUlmError('ERR_NOT_FOUND'));
      if (/^[1-9][0-9]*$/.test(r.user))
        assert.deepEqual(model.recommend({ user: Number(r.user), k: 5 }), model.recommend({ user: r.user, k: 5 }));
    });

    test('a bundle trained with --no-user-table: no users, same history answers', async () => {
      const m = await api.loadModel(noUsers, { runtime });
      try {
        assert.equal(m.userCount, 0);
        assert.equal(m.itemCount, model.itemCount);
        assert.equal(m.userHistory(native[0].user), null);
        assert.throws(() => m.recommend({ user: native[0].user, k: 5 }), isUlmError('ERR_NOT_FOUND'));
        for (const r of native)
          assert.deepEqual(m.recommend({ history: r.history, k: 10 }), model.recommend({ user: r.user, k: 10 }));
      } finally {
        m.close();
      }
    });

    test('bad arguments throw', () => {
      for (const k of [-1, 1.5, NaN, Infinity, '10', null])
        assert.throws(() => model.recommend({ history: [], k }), isUlmError('ERR_MISUSE'), `k = ${k}`);
      assert.throws(() => model.recommend({}), isUlmError('ERR_MISUSE'));
      assert.throws(() => model.recommend(), isUlmError('ERR_MISUSE'));
      assert.throws(() => model.recommend({ history: [], user: native[0].user }), isUlmError('ERR_MISUSE'));
      assert.throws(() => model.recommend({ history: 42 }), TypeError);
      assert.throws(() => model.recommend({ history: [{}] }), TypeError);
    });

    test('close() frees the model; any later use throws ERR_MISUSE; close() again is a no-op', async () => {
      const m = await api.loadModel(fx.bytes, { runtime });
      assert.ok(m.itemCount > 0);
      m.close();
      m.close();
      const uses = [
        () => m.itemCount, () => m.userCount, () => m.meta('model.recs'), () => m.itemId(0),
        () => m.itemName('x'), () => m.userHistory(native[0].user),
        () => m.recommend({ history: [], k: 3 }), () => m.recommend({ user: native[0].user }),
      ];
      for (const use of uses) assert.throws(use, isUlmError('ERR_MISUSE'));
      // Other models of the same runtime are unaffected.
      assert.equal(model.recommend({ history: [], k: 3 }).length, 3);
    });

    test('many models at once, loaded and closed repeatedly, stay independent', async () => {
      const want = model.recommend({ user: native[2].user, k: 10 });
      for (let round = 0; round < 3; round++) {
        const ms = await Promise.all(Array.from({ length: 8 }, () => api.loadModel(fx.bytes, { runtime })));
        for (const m of ms) assert.deepEqual(m.recommend({ user: native[2].user, k: 10 }), want);
        ms.forEach((m) => m.close());
      }
      // 30 load/close cycles: the bundle memory is released each time (or this would keep growing).
      for (let i = 0; i < 30; i++) (await api.loadModel(fx.bytes, { runtime })).close();
      assert.deepEqual(model.recommend({ user: native[2].user, k: 10 }), want);
    });

    test('memory growth: models loaded before a 48 MB bundle keep working, and so does the big one', async () => {
      const layout = parseBundle(fx.bytes);
      const pad = new Uint8Array(48 << 20);
      for (let i = 0; i < pad.length; i += 4096) pad[i] = (i >> 12) & 0xff;
      layout.sections.push({ tag: 'PADX', dtype: 0, rows: 0, cols: 0, version: 1, flags: 0, data: pad });
      const big = writeBundle(layout);
      const want = model.recommend({ history: native[3].history, k: 12 });
      const early = await Promise.all(Array.from({ length: 4 }, () => api.loadModel(fx.bytes, { runtime })));
      const huge = await api.loadModel(big, { runtime });  // grows wasm memory: every view must be re-read
      for (const m of [model, ...early, huge])
        assert.deepEqual(m.recommend({ history: native[3].history, k: 12 }), want);
      assert.equal(huge.meta('model.recs'), model.meta('model.recs'));
      const more = [];
      for (let i = 0; i < 60; i++) more.push(await api.loadModel(fx.bytes, { runtime }));
      const byUser = (m) => m.recommend({ user: native[3].user, k: 12 });
      assert.deepEqual(byUser(more[59]), byUser(model));
      [...early, huge, ...more].forEach((m) => m.close());
    });
  });
}

test('unknown runtime names are a TypeError', async () => {
  await assert.rejects(api.loadModel(fx.bytes, { runtime: 'jvm' }), TypeError);
});

test('options.wasm overrides the module file (bytes or URL)', async () => {
  const { readFile } = await import('node:fs/promises');
  const { JS_DIR } = await import('./fixture.mjs');
  const { pathToFileURL } = await import('node:url');
  const url = pathToFileURL(`${JS_DIR}/ulm-wasi.wasm`);
  const a = await api.loadModel(fx.bytes, { runtime: 'wasi', wasm: await readFile(url) });
  const b = await api.loadModel(fx.bytes, { runtime: 'wasi', wasm: url });
  const emWasm = await readFile(pathToFileURL(`${JS_DIR}/ulm-em.wasm`));
  const c = await api.loadModel(fx.bytes, { runtime: 'emscripten', wasm: emWasm });
  assert.deepEqual(a.recommend({ history: [], k: 4 }), b.recommend({ history: [], k: 4 }));
  assert.deepEqual(a.recommend({ history: [], k: 4 }), c.recommend({ history: [], k: 4 }));
  [a, b, c].forEach((m) => m.close());
  await assert.rejects(api.loadModel(fx.bytes, { runtime: 'wasi', wasm: new Uint8Array([0, 97, 115, 109]) }));
});
