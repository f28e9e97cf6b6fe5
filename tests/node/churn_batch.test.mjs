// Model#churnProbabilities (the batch scorer, wasm/shim_churn.c ulm_wasm_churn_predict) on a boosted-tree
// churn model, in both wasm builds: every probability equals churn({ features }).probability and the native
// `ulm predict churn` (float32) bit for bit, in one batch and one row at a time. The bundle carries the trees
// packed (CHRN layout 1, docs/churn.md): the TreeSHAP reasons decoded from it match native ones too, and the
// plain (no SIMD) builds give the same bits as the SIMD ones.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { RUNTIMES, buildFixture, f32, jsonLines, ulm, ulmPackage } from './fixture.mjs';

let api, bundle, x, nf, ids, native, nativeWhy;

before(async () => {
  api = await ulmPackage();
  const fx = buildFixture();
  bundle = join(fx.dir, 'churn_gbdt.ulm');
  const table = join(fx.dir, 'rows_gbdt.csv');
  ulm('train', fx.store, '--out', bundle, '--churn', 'gbdt', '--cutoff', '2011-06-01,2011-09-01', '--churn-table', table);
  const [head, ...lines] = readFileSync(table, 'utf8').trim().split('\n');
  const cols = head.split(',');
  const rows = lines.map((l) => l.split(',')).filter((r) => r[cols.indexOf('cutoff')] === '2011-09-01');
  const feat = cols.slice(2, -1);
  nf = feat.length;
  ids = rows.map((r) => r[0]);
  x = new Float32Array(rows.length * nf);
  rows.forEach((r, i) => feat.forEach((_, f) => { x[i * nf + f] = r[2 + f] === '' ? NaN : Number(r[2 + f]); }));
  native = new Map(jsonLines(ulm('predict', 'churn', bundle, '--input', fx.store, '--as-of', '2011-09-01', '--json'))
    .map((r) => [r.customer, r.p_churn]));
  nativeWhy = new Map(jsonLines(ulm('predict', 'churn', bundle, '--input', fx.store, '--as-of', '2011-09-01',
    '--reasons', '3', '--json')).map((r) => [r.customer, r.reasons]));
});

for (const runtime of RUNTIMES) {
  describe(`${runtime} runtime`, () => {
    let model;
    before(async () => { model = await api.loadModel(new Uint8Array(readFileSync(bundle)), { runtime }); });
    after(() => model?.close());

    test('churnProbabilities equals churn({ features }) and the native scorer, batched and row by row', () => {
      const n = ids.length;
      assert.ok(n > 50);
      const all = model.churnProbabilities(x);
      assert.equal(all.length, n);
      for (let i = 0; i < n; i++) {
        const row = x.subarray(i * nf, (i + 1) * nf);
        const one = model.churnProbabilities(row)[0];
        const viaChurn = model.churn({ features: Array.from(row), reasons: 0 }).probability;
        assert.ok(Object.is(all[i], one) && Object.is(one, viaChurn), `row ${i}: ${all[i]} ${one} ${viaChurn}`);
        // the one-row call, from a typed array and from plain numbers, gives the same number
        assert.ok(Object.is(model.churnProbability(row), one) && Object.is(model.churnProbability(Array.from(row)), one));
        assert.equal(all[i], f32(native.get(ids[i])), `customer ${ids[i]}`);
      }
      assert.equal(model.churnProbabilities(new Float32Array(0)).length, 0);
      assert.throws(() => model.churnProbabilities([1, 2, 3]), (e) => e.code === 'ERR_MISUSE');
      assert.throws(() => model.churnProbability(x.subarray(0, nf - 1)), (e) => e.code === 'ERR_MISUSE');
      // after a batch grew the scratch block (and a memory growth replaced the buffer), one row still reads right
      const big = new Float32Array(x.length * 40);
      for (let k = 0; k < 40; k++) big.set(x, k * x.length);
      model.churnProbabilities(big);
      assert.ok(Object.is(model.churnProbability(x.subarray(0, nf)), all[0]));
    });

    test('the plain (no SIMD) build gives the same bits, batched and row by row', async () => {
      const plain = await api.loadModel(new Uint8Array(readFileSync(bundle)), { runtime, simd: false });
      try {
        assert.equal(plain.simd, false);
        const want = model.churnProbabilities(x), got = plain.churnProbabilities(x);
        for (let i = 0; i < ids.length; i++) {
          assert.ok(Object.is(got[i], want[i]), `row ${i}: ${got[i]} vs ${want[i]}`);
          assert.ok(Object.is(plain.churnProbabilities(x.subarray(i * nf, (i + 1) * nf))[0], want[i]), `row ${i} alone`);
          assert.ok(Object.is(plain.churnProbability(x.subarray(i * nf, (i + 1) * nf)), want[i]), `row ${i}, one-row call`);
        }
      } finally {
        plain.close();
      }
    });

    test('TreeSHAP reasons from the packed trees equal the native ones', () => {
      for (let i = 0; i < ids.length; i++) {
        const got = model.churn({ features: Array.from(x.subarray(i * nf, (i + 1) * nf)), reasons: 3 }).reasons;
        const want = nativeWhy.get(ids[i]);
        assert.equal(got.length, want.length, `customer ${ids[i]}: reason count`);
        want.forEach((w, k) => {
          assert.equal(got[k].text, w.text, `customer ${ids[i]}: reason ${k}`);
          assert.equal(got[k].feature, w.feature);
          assert.equal(got[k].effect, f32(w.effect), `customer ${ids[i]}: reason ${k} effect`);
        });
      }
    });
  });
}
