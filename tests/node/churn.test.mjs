// churn.test.mjs: Model#churn in both wasm builds agrees with `ulm predict churn`: the same probability
// (float32 for float32) and the same reasons (feature, effect, sentence), from feature rows and from raw
// customer histories (features computed in wasm from events the native side ingested as a CSV log).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { RUNTIMES, buildFixture, f32, jsonLines, prng, ulm, ulmPackage } from './fixture.mjs';

const K = 5;
const AS_OF = '2011-12-01';

let fx, api, bundle, rows, nativeRows, histories, nativeHist;

// Parses the simple CSV written by --churn-table (customer ids are plain, no quoted fields).
function readCsv(text) {
  const [head, ...lines] = text.trim().split('\n');
  const cols = head.split(',');
  return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
}

before(async () => {
  api = await ulmPackage();
  fx = buildFixture();
  bundle = join(fx.dir, 'churn.ulm');
  const table = join(fx.dir, 'rows.csv');
  ulm('train', fx.store, '--out', bundle, '--churn', 'auto', '--cutoff', '2011-06-01,2011-09-01', '--churn-table', table);
  const { readFileSync } = await import('node:fs');
  rows = readCsv(readFileSync(table, 'utf8')).filter((r) => r.cutoff === '2011-09-01');
  nativeRows = new Map(jsonLines(ulm('predict', 'churn', bundle, '--input', fx.store, '--as-of', '2011-09-01',
    '--reasons', String(K), '--json')).map((r) => [r.customer, r]));
  // Synthetic customers: a few months of views, carts, purchases (multi-line orders) and returns.
  const rnd = prng(2024);
  const t0 = Date.parse('2011-03-01T00:00:00Z') / 1000;
  const lines = ['user,item,time,type,quantity,price,order'];
  histories = new Map();
  let n = 0;
  for (let c = 0; c < 60; c++) {
    const user = `s${c}`;
    const hist = [];
    const visits = 1 + Math.floor(rnd() * 12);
    for (let v = 0; v < visits; v++) {
      const t = t0 + Math.floor(rnd() * 290 * 86400);
      const r = rnd();
      const type = r < 0.55 ? 'purchase' : r < 0.75 ? 'view' : r < 0.9 ? 'cart' : 'return';
      const nl = type === 'purchase' ? 1 + Math.floor(rnd() * 3) : 1;
      const order = type === 'purchase' || type === 'return' ? `o${c}-${v}` : undefined;
      for (let l = 0; l < nl; l++) {
        const e = { time: t + l, type, qty: 1 + Math.floor(rnd() * 6), price: Math.round(rnd() * 2000) / 100, order };
        if (type === 'view' || type === 'cart') delete e.price;
        hist.push(e);
        const iso = new Date((t + l) * 1000).toISOString().replace('.000Z', 'Z');
        lines.push(`${user},item${n++},${iso},${type},${e.qty},${e.price ?? ''},${order ?? ''}`);
      }
    }
    histories.set(user, hist);
  }
  const log = join(fx.dir, 'synth.csv');
  writeFileSync(log, lines.join('\n') + '\n');
  const store = join(fx.dir, 'synth.store');
  ulm('ingest', log, '--out', store);
  nativeHist = new Map(jsonLines(ulm('predict', 'churn', bundle, '--input', store, '--as-of', AS_OF,
    '--reasons', String(K), '--json')).map((r) => [r.customer, r]));
});

after(() => fx?.cleanup());

function assertSame(got, want, what) {
  assert.equal(got.probability, f32(want.p_churn), `${what}: probability ${got.probability} vs native ${want.p_churn}`);
  assert.equal(got.reasons.length, want.reasons.length, `${what}: reason count`);
  want.reasons.forEach((w, i) => {
    const g = got.reasons[i];
    assert.equal(g.text, w.text, `${what}: reason ${i}`);
    assert.equal(g.feature, w.feature, `${what}: reason ${i} feature`);
    assert.equal(g.effect, f32(w.effect), `${what}: reason ${i} effect`);
  });
}

test('the native references are real', () => {
  assert.ok(rows.length > 100 && nativeRows.size === rows.length, `${rows.length} rows, ${nativeRows.size} native`);
  assert.ok(nativeHist.size >= 50, `only ${nativeHist.size} synthetic customers bought before ${AS_OF}`);
  const ps = [...nativeHist.values()].map((r) => r.p_churn);
  assert.ok(Math.max(...ps) - Math.min(...ps) > 0.2, 'synthetic customers all get the same risk');
});

for (const runtime of RUNTIMES) {
  describe(`${runtime} runtime`, () => {
    let model;
    before(async () => { model = await api.loadModel(new Uint8Array((await import('node:fs')).readFileSync(bundle)), { runtime }); });
    after(() => model?.close());

    test('churn({ features }) equals ulm predict churn for every customer row', () => {
      const names = Object.keys(rows[0]).slice(2, -1);
      assert.equal(names.length, 18);
      for (const r of rows) {
        const x = names.map((k) => (r[k] === '' ? NaN : Number(r[k])));
        assertSame(model.churn({ features: x, reasons: K }), nativeRows.get(r.customer), `customer ${r.customer}`);
      }
    });

    test('churn({ history, asOf }) computes the same features and answer as the native store path', () => {
      for (const [user, want] of nativeHist) {
        const got = model.churn({ history: histories.get(user), asOf: AS_OF, reasons: K });
        assertSame(got, want, `synthetic customer ${user}`);
        assert.ok(got.reasons.every((r) => typeof r.name === 'string' && r.name.length > 0));
      }
    });

    test('a customer with no purchase before asOf and bad requests', () => {
      const r = model.churn({ history: [{ time: '2011-12-05T10:00:00Z' }], asOf: AS_OF });
      assert.ok(Number.isNaN(r.features[0]));
      assert.throws(() => model.churn({ features: [1, 2] }), (e) => e.code === 'ERR_MISUSE');
      assert.throws(() => model.churn({}), (e) => e.code === 'ERR_MISUSE');
      assert.throws(() => model.churn({ history: [{ time: 'yesterday' }], asOf: AS_OF }), TypeError);
      assert.throws(() => model.churn({ history: [{ time: 0, type: 'refund' }], asOf: AS_OF }), TypeError);
    });
  });
}

test('a bundle without a churn model says so', async () => {
  const model = await api.loadModel(fx.bytes);
  try {
    assert.throws(() => model.churn({ features: [] }), (e) => e.code === 'ERR_NOT_FOUND');
  } finally {
    model.close();
  }
});
