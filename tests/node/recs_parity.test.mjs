// recs_parity.test.mjs: bundles carrying each trained recommender (ulm train --recs) give the
// same top-K, scores (within 1e-6) and explanations natively and in both wasm builds, for 1,000
// random histories each (unknown ids, repeats, empty and one-item histories included).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { RUNTIMES, buildFixture, jsonLines, prng, ulm, ulmPackage } from './fixture.mjs';

const ALGOS = ['itemknn', 'als', 'bpr', 'ease', 'content', 'hybrid'];
// Every algorithm in the default number format (int8 factors, u16/f16 neighbour lists), plus the
// f32 (--quantize none) and f16 forms of the sections that change with it, and the edge bundle
// (--edge: front-coded ids, F16 popularity, the Gram triangle, sparse cycles, a smaller catalogue).
const VARIANTS = [...ALGOS.map((a) => [a, 'int8']), ['als', 'none'], ['als', 'fp16'], ['bpr', 'none'],
  ['ease', 'none'], ['als', 'int8', '--edge']];
const HISTORIES = 1000;
const K = 10;
const EXPLAIN = 3;

let fx;
let api;
let ids;  // catalogue item ids

before(async () => {
  api = await ulmPackage();
  fx = buildFixture();
  const m = await api.loadModel(fx.bytes);
  ids = [];
  for (let i = 0; i < m.itemCount; i++) ids.push(m.itemId(i));
  m.close();
});

after(() => fx?.cleanup());

// Deterministic random histories: lengths 0..40 (skewed short), and every 97th 70..149 (the ALS fold-in adds
// 64 history rows per batch), catalogue ids plus repeats and unknown ids.
function histories(seed) {
  const rnd = prng(seed);
  const usable = ids.filter((id) => !id.includes(','));
  const out = [];
  for (let h = 0; h < HISTORIES; h++) {
    const len = h < 10 ? h % 3 : h % 97 === 0 ? 70 + (h % 80) : Math.floor(rnd() ** 2 * 40);
    const hist = [];
    for (let i = 0; i < len; i++) {
      const r = rnd();
      if (r < 0.03) hist.push(`no-such-item-${h}`);
      else if (r < 0.08 && hist.length) hist.push(hist[Math.floor(rnd() * hist.length)]);
      else hist.push(usable[Math.floor(rnd() * usable.length)]);
    }
    out.push(hist);
  }
  return out;
}

function assertClose(got, want, what) {
  assert.equal(got.length, want.length, `${what}: ${got.length} items, native has ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    assert.equal(got[i].item, want[i].item, `${what}: rank ${i} is ${got[i].item}, native says ${want[i].item}`);
    const tol = 1e-6 * Math.max(1, Math.abs(want[i].score));
    assert.ok(Math.abs(got[i].score - want[i].score) <= tol,
      `${what}: score of ${want[i].item} is ${got[i].score}, native ${want[i].score}`);
    assert.deepEqual(got[i].because, want[i].because, `${what}: reasons for ${want[i].item}`);
    assert.equal(got[i].name, want[i].name, `${what}: name of ${want[i].item}`);
  }
}

VARIANTS.forEach(([algo, quant, extra], a) => {
  describe(`--recs ${algo} --quantize ${quant}${extra ? ` ${extra}` : ''}`, () => {
    let bytes;
    let native;
    let hs;
    before(() => {
      const path = join(fx.dir, `${algo}-${quant}${extra ?? ''}.ulm`);
      ulm('train', fx.store, '--out', path, '--recs', algo, '--quantize', quant, ...(extra ? [extra] : []));
      bytes = new Uint8Array(readFileSync(path));
      hs = histories(1000 + a);
      const file = join(fx.dir, `${algo}-${quant}${extra ?? ''}.histories`);
      writeFileSync(file, hs.map((h) => h.join(',')).join('\n') + '\n');
      native = jsonLines(ulm('recommend', path, '--histories', file, '--k', String(K), '--explain', String(EXPLAIN)));
    });

    test('the native answers are a real check (one per history, reasons present, not all popularity)', () => {
      assert.equal(native.length, HISTORIES);
      const withReasons = native.filter((r) => r.items.some((it) => it.because?.length));
      assert.ok(withReasons.length > HISTORIES / 2, `only ${withReasons.length} answers carry reasons`);
      const lists = new Set(native.map((r) => r.items.map((it) => it.item).join()));
      // BPR folds a history in as the mean of its item factors, so its item biases dominate on the
      // small sample: few distinct lists, though every score still differs.
      const want = algo === 'bpr' ? 10 : HISTORIES / 2;
      assert.ok(lists.size > want, `only ${lists.size} distinct top-${K} lists`);
      const scores = new Set(native.map((r) => r.items[0]?.score));
      assert.ok(scores.size > HISTORIES / 4, `only ${scores.size} distinct first scores`);
      for (const r of native) {
        const hist = new Set(r.history);
        for (const it of r.items) {
          assert.ok(!hist.has(it.item), `recommended ${it.item}, which is in the history`);
          for (const b of it.because ?? []) assert.ok(hist.has(b), `reason ${b} is not in the history`);
        }
      }
    });

    for (const runtime of RUNTIMES) {
      test(`${runtime}: same top-${K}, scores and reasons as native for ${HISTORIES} histories`, async () => {
        const model = await api.loadModel(bytes, { runtime });
        try {
          assert.equal(model.recsAlgo, algo);
          assert.equal(model.meta('model.recs'), algo);
          hs.forEach((h, i) => assertClose(model.recommend({ history: h, k: K, explain: EXPLAIN }), native[i].items,
            `${algo}/${runtime} history ${i}`));
          // Order and repeats do not matter.
          const h = hs.find((x) => x.length > 5);
          const i = hs.indexOf(h);
          assertClose(model.recommend({ history: [...h, ...h].reverse(), k: K, explain: EXPLAIN }), native[i].items,
            `${algo}/${runtime} reversed, doubled`);
        } finally {
          model.close();
        }
      });
    }
  });
});
