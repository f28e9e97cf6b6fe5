// recs_rules.test.mjs: the recommender's business rules give the same answers natively and in both
// wasm builds: dated histories ('ID@YYYY-MM-DD') with learned repurchase cycles judged at a fixed
// now, an allow list, and category / not-category filters (the profiler's categories), each for
// 300 random histories on the sample store, with item-kNN and ALS bundles.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { RUNTIMES, buildFixture, jsonLines, prng, ulm, ulmPackage } from './fixture.mjs';

const HISTORIES = 300;
const K = 10;
const NOW = '2011-12-10';
const CATEGORIES = ['bag', 'holder', 'mug', 'sign'];

let fx;
let api;
let ids;
let popular;

before(async () => {
  api = await ulmPackage();
  fx = buildFixture();
  const m = await api.loadModel(fx.bytes);
  ids = [];
  for (let i = 0; i < m.itemCount; i++) ids.push(m.itemId(i));
  popular = m.recommend({ history: [], k: 300 }).map((r) => r.item).filter((id) => !id.includes(','));
  m.close();
});

after(() => fx?.cleanup());

function day(rnd) {
  const t = Date.UTC(2011, 0, 1) + Math.floor(rnd() * 343) * 86400000;
  return new Date(t).toISOString().slice(0, 10);
}

// Histories of popular (often repurchased) and random items, each dated in 2011 (a few undated).
function histories(seed) {
  const rnd = prng(seed);
  const usable = ids.filter((id) => !id.includes(',') && !id.includes('@'));
  const out = [];
  for (let h = 0; h < HISTORIES; h++) {
    const len = 1 + Math.floor(rnd() ** 2 * 20);
    const hist = [];
    for (let i = 0; i < len; i++) {
      const id = rnd() < 0.6 ? popular[Math.floor(rnd() * popular.length)] : usable[Math.floor(rnd() * usable.length)];
      hist.push(rnd() < 0.9 ? `${id}@${day(rnd)}` : id);
    }
    out.push(hist);
  }
  return out;
}

function same(got, want, what) {
  assert.equal(got.length, want.length, `${what}: ${got.length} items, native has ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    assert.equal(got[i].item, want[i].item, `${what}: rank ${i} is ${got[i].item}, native says ${want[i].item}`);
    assert.ok(Math.abs(got[i].score - want[i].score) <= 1e-6 * Math.max(1, Math.abs(want[i].score)),
      `${what}: score of ${want[i].item} is ${got[i].score}, native ${want[i].score}`);
    assert.deepEqual(got[i].because, want[i].because, `${what}: reasons for ${want[i].item}`);
  }
}

['itemknn', 'als'].forEach((algo, a) => {
  describe(`business rules, --recs ${algo}`, () => {
    let bytes;
    let hs;
    let allow;
    const native = {};
    const bare = (h) => h.map((e) => e.split('@')[0]);
    before(() => {
      const path = join(fx.dir, `rules-${algo}.ulm`);
      ulm('train', fx.store, '--out', path, '--recs', algo);
      bytes = new Uint8Array(readFileSync(path));
      hs = histories(77 + a);
      const file = join(fx.dir, `rules-${algo}.histories`);
      writeFileSync(file, hs.map((h) => h.join(',')).join('\n') + '\n');
      const rnd = prng(5 + a);
      allow = ids.filter(() => rnd() < 0.3);
      const allowFile = join(fx.dir, `rules-${algo}.allow`);
      writeFileSync(allowFile, allow.join('\n') + '\n');
      const run = (...extra) => jsonLines(ulm('recommend', path, '--histories', file, '--k', String(K), ...extra));
      native.dated = run('--now', NOW);
      native.allow = run('--now', NOW, '--allow', allowFile);
      native.cats = run('--category', CATEGORIES.join(','));
      native.notCats = run('--not-category', CATEGORIES.join(','));
    });

    test('the native answers are a real check', async () => {
      for (const v of Object.values(native)) assert.equal(v.length, HISTORIES);
      // Some consumables come back when due, and only items with a date can.
      let back = 0;
      native.dated.forEach((r, i) => {
        const dated = new Set(hs[i].filter((e) => e.includes('@')).map((e) => e.split('@')[0]));
        const undated = new Set(hs[i].filter((e) => !e.includes('@')));
        for (const it of r.items) {
          assert.ok(!undated.has(it.item) || dated.has(it.item), `undated ${it.item} recommended again`);
          if (dated.has(it.item)) back++;
        }
      });
      assert.ok(back > 0, 'no due item recommended again in any top list');
      const allowed = new Set(allow);
      for (const r of native.allow) for (const it of r.items) assert.ok(allowed.has(it.item), `${it.item} not allowed`);
      // Category filters against the model with no rules: JS (checked equal to native below) gives
      // the unfiltered top list; the filtered lists hold items whose category is / is not listed.
      const model = await api.loadModel(bytes);
      try {
        const full = model.recommend({ history: bare(hs[0]), k: model.itemCount, explain: 0 }).map((r) => r.item);
        const inCat = new Set(model.recommend({ history: bare(hs[0]), k: model.itemCount, explain: 0,
          categories: CATEGORIES }).map((r) => r.item));
        const outCat = model.recommend({ history: bare(hs[0]), k: model.itemCount, explain: 0,
          notCategories: CATEGORIES }).map((r) => r.item);
        assert.ok(inCat.size > 20, `only ${inCat.size} items in ${CATEGORIES}`);
        // The two filters partition the unfiltered list, each keeping its order.
        assert.deepEqual(outCat, full.filter((id) => !inCat.has(id)));
        assert.deepEqual(native.cats[0].items.map((r) => r.item), full.filter((id) => inCat.has(id)).slice(0, K));
        // Over whole rankings: many dated items are due by NOW; none is before every purchase date.
        let due = 0;
        for (const h of hs.slice(0, 50)) {
          const dated = new Set(h.filter((e) => e.includes('@')).map((e) => e.split('@')[0]));
          const all = (now) => model.recommend({ history: h, k: model.itemCount, explain: 0, now });
          due += all(NOW).filter((r) => dated.has(r.item)).length;
          assert.equal(all('2010-12-31').filter((r) => dated.has(r.item)).length, 0, 'an item came back before its cycle');
        }
        assert.ok(due > 20, `only ${due} due items came back in 50 whole rankings`);
      } finally {
        model.close();
      }
    });

    for (const runtime of RUNTIMES) {
      test(`${runtime}: same answers as native with dates, allow list and category filters`, async () => {
        const model = await api.loadModel(bytes, { runtime });
        try {
          hs.forEach((h, i) => {
            same(model.recommend({ history: h, k: K, now: NOW }), native.dated[i].items, `${runtime} dated ${i}`);
            same(model.recommend({ history: h, k: K, now: new Date(NOW), allow }), native.allow[i].items,
              `${runtime} allow ${i}`);
            same(model.recommend({ history: h, k: K, categories: CATEGORIES }), native.cats[i].items,
              `${runtime} categories ${i}`);
            same(model.recommend({ history: h, k: K, notCategories: CATEGORIES }), native.notCats[i].items,
              `${runtime} not-categories ${i}`);
          });
          assert.throws(() => model.recommend({ history: [], categories: ['no-such-category'] }), /no-such-category/);
        } finally {
          model.close();
        }
      });
    }
  });
});
