// parity.test.mjs: both wasm builds give exactly the native command's top-K, item for item and
// float32 for float32, for every user the native command reports (or a spread of them).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RUNTIMES, buildFixture, f32, jsonLines, spread, ulm, ulmPackage } from './fixture.mjs';

const K = 10;
const MIN_USERS = 200;

let fx;
let api;
let native;       // the native command's answers for every known user at k = K
let nativeDeep;   // a few users at a larger k, asked one by one with --user

before(async () => {
  api = await ulmPackage();
  fx = buildFixture();
  native = jsonLines(ulm('recommend', fx.bundlePath, '--users', 'all', '--k', String(K), '--json'));
  nativeDeep = spread(native, 12).map((r) =>
    JSON.parse(ulm('recommend', fx.bundlePath, '--user', r.user, '--k', '60', '--json')));
});

after(() => fx?.cleanup());

// Compares a JS result list with the native "items" list: same ids, same float32 scores.
function assertSameList(got, want, what) {
  assert.equal(got.length, want.length, `${what}: ${got.length} items, native has ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    assert.equal(got[i].item, want[i].item, `${what}: rank ${i} is ${got[i].item}, native says ${want[i].item}`);
    assert.equal(got[i].score, f32(want[i].score),
      `${what}: score of ${want[i].item} is ${got[i].score}, native printed ${want[i].score}`);
    assert.equal(got[i].name, want[i].name, `${what}: name of ${want[i].item}`);
  }
}

test('the native reference covers enough users to be a real check', () => {
  assert.ok(native.length >= MIN_USERS, `native recommend --users all gave only ${native.length} users`);
  const nonEmpty = native.filter((r) => r.history.length > 0 && r.items.length === K);
  assert.ok(nonEmpty.length >= MIN_USERS, `only ${nonEmpty.length} users with a history and ${K} recommendations`);
  // Histories must actually change the answer, or the history path would not be tested.
  const firsts = new Set(native.map((r) => r.items[0].item));
  assert.ok(firsts.size > 1, 'every user got the same first item: histories never matter in this fixture');
});

for (const runtime of RUNTIMES) {
  describe(`${runtime} runtime`, () => {
    let model;
    before(async () => { model = await api.loadModel(fx.bytes, { runtime }); });
    after(() => model?.close());

    test('knows the same users as the native command', () => {
      assert.equal(model.runtime, runtime);
      assert.equal(model.userCount, native.length);
      assert.ok(model.itemCount > K);
    });

    test(`recommend({ history }) equals native top-${K} for every user`, () => {
      for (const r of native) assertSameList(model.recommend({ history: r.history, k: K }), r.items, `user ${r.user}`);
    });

    test(`recommend({ user }) equals native top-${K} for every user`, () => {
      for (const r of native) assertSameList(model.recommend({ user: r.user, k: K }), r.items, `user ${r.user}`);
    });

    test('userHistory(user) is the native history (as a set)', () => {
      for (const r of spread(native, 300)) {
        const got = model.userHistory(r.user);
        assert.deepEqual([...got].sort(), [...r.history].sort(), `history of ${r.user}`);
      }
    });

    test('deeper lists (k = 60) from --user agree too, in any history order', () => {
      for (const r of nativeDeep) {
        assertSameList(model.recommend({ user: r.user, k: 60 }), r.items, `user ${r.user} via table`);
        const shuffled = [...r.history].reverse();
        assertSameList(model.recommend({ history: shuffled, k: 60 }), r.items, `user ${r.user} via history`);
      }
    });
  });
}

test('histories no user has (two users merged, unknown ids mixed in) agree with native --history', async () => {
  const models = await Promise.all(RUNTIMES.map((runtime) => api.loadModel(fx.bytes, { runtime })));
  try {
    const pairs = spread(native.filter((r) => r.history.every((id) => !id.includes(','))), 30);
    for (let i = 0; i + 1 < pairs.length; i += 1) {
      const history = ['no-such-item', ...pairs[i].history, ...pairs[i + 1].history, 'zz-unknown'];
      const want = JSON.parse(ulm('recommend', fx.bundlePath, '--history', history.join(','), '--k', '25', '--json'));
      for (const m of models) assertSameList(m.recommend({ history, k: 25 }), want.items, `${m.runtime}, merged ${i}`);
    }
  } finally {
    models.forEach((m) => m.close());
  }
});
