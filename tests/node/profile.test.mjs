// profile.test.mjs: Model.profile() in both wasm builds gives exactly the native `ulm segment --model`
// answers (every profile feature, keywords and weights, RFM and k-means segments, stage, P(alive),
// expected purchases, CLV) for every customer, from the histories the native command dumps.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { RUNTIMES, buildFixture, jsonLines, ulm, ulmPackage } from './fixture.mjs';

const MIN_CUSTOMERS = 200;

let fx;
let api;
let native;     // rows of `ulm segment --model --json`, by customer
let histories;  // the same customers' events
let asOf;       // the profiler's as-of (Unix seconds)

before(async () => {
  api = await ulmPackage();
  fx = buildFixture();
  const rows = join(fx.dir, 'rows.jsonl');
  const hist = join(fx.dir, 'hist.jsonl');
  const summary = JSON.parse(ulm('segment', fx.store, '--model', fx.bundlePath, '--out', rows, '--histories', hist, '--json'));
  asOf = Date.parse(summary.as_of) / 1000;
  native = new Map(jsonLines(readFileSync(rows, 'utf8')).map((r) => [r.customer, r]));
  histories = jsonLines(readFileSync(hist, 'utf8'));
});

after(() => fx?.cleanup());

// The lifetime-value outputs go through libm's log1p/exp/pow inside 2F1, where glibc (native) and the
// musl-derived libm of both wasm builds may differ in the last bit; they must agree to 1e-10 relative.
// Everything else must be bit-identical.
const LIBM = new Set(['p_alive', 'expected_purchases', 'expected_spend', 'clv']);

// Compares one JS profile with the native row, value for value.
function assertSameProfile(got, want, who) {
  for (const [name, v] of Object.entries(got.features)) {
    if (LIBM.has(name) && v !== null && want[name] !== null)
      assert.ok(Math.abs(v - want[name]) <= 1e-10 * Math.max(1, Math.abs(want[name])),
        `${who}: ${name} is ${v}, native says ${want[name]}`);
    else assert.equal(v, want[name], `${who}: ${name} is ${v}, native says ${want[name]}`);
  }
  assert.deepEqual(got.keywords, want.keywords, `${who}: keywords`);
  assert.equal(got.rfmSegment, want.rfm_segment, `${who}: RFM segment`);
  assert.equal(got.segment, want.segment, `${who}: k-means segment`);
  assert.equal(got.segmentDescription, want.segment_description, `${who}: segment description`);
  assert.equal(got.stage, want.stage, `${who}: stage`);
  assert.equal(got.clv, got.features.clv, `${who}: clv`);
}

test('the native reference covers enough customers, segments and stages to be a real check', () => {
  assert.ok(histories.length >= MIN_CUSTOMERS, `only ${histories.length} customers`);
  const rows = [...native.values()];
  assert.ok(new Set(rows.map((r) => r.rfm_segment)).size >= 6, 'fewer than 6 RFM segments in use');
  assert.ok(new Set(rows.map((r) => r.stage)).size >= 4, 'fewer than 4 stages in use');
  assert.ok(new Set(rows.map((r) => r.segment)).size >= 2, 'one k-means segment only');
  assert.ok(rows.filter((r) => r.clv !== null && r.clv > 0).length >= MIN_CUSTOMERS / 2, 'too few CLV values');
});

for (const runtime of RUNTIMES) {
  describe(`${runtime} runtime`, () => {
    let model;
    before(async () => { model = await api.loadModel(fx.bytes, { runtime }); });
    after(() => model?.close());

    test('profile({ history, asOf }) equals the native row for every customer', () => {
      for (const { customer, history } of histories)
        assertSameProfile(model.profile({ history, asOf }), native.get(customer), `customer ${customer}`);
    });

    test('events at or after asOf change nothing', () => {
      for (const { customer, history } of histories.slice(0, 50)) {
        const later = history.map((e) => ({ ...e, time: asOf + 86400 * 30, qty: 99, price: 1234.5 }));
        const extra = [{ type: 'search', time: asOf, query: 'zzz unseen' }];
        assertSameProfile(model.profile({ history: [...history, ...later, ...extra], asOf }), native.get(customer),
          `customer ${customer} with later events`);
      }
    });

    test('Dates and ISO strings are accepted for times', () => {
      const { customer, history } = histories[0];
      const dated = history.map((e) => ({ ...e, time: new Date(e.time * 1000) }));
      assertSameProfile(model.profile({ history: dated, asOf: new Date(asOf * 1000).toISOString() }),
        native.get(customer), `customer ${customer} with Date times`);
    });

    test('an empty history has no purchase values and no segment', () => {
      const p = model.profile({ history: [], asOf });
      assert.equal(p.features.recency_days, null);
      assert.equal(p.rfmSegment, null);
      assert.equal(p.segment, null);
      assert.equal(p.stage, null);
      assert.equal(p.features.events, 0);
    });

    test('bad events are rejected with a TypeError', () => {
      assert.throws(() => model.profile({ history: [{ type: 'teleport', time: 0 }] }), TypeError);
      assert.throws(() => model.profile({ history: [{ type: 'purchase', time: 'not a time' }] }), TypeError);
      assert.throws(() => model.profile({}), TypeError);
    });
  });
}

test('a bundle trained with --no-profiles says so', async () => {
  const bare = join(fx.dir, 'bare.ulm');
  ulm('train', fx.store, '--out', bare, '--no-profiles');
  const model = await api.loadModel(new Uint8Array(readFileSync(bare)));
  try {
    assert.throws(() => model.profile({ history: [] }), (e) => e.code === 'ERR_UNSUPPORTED');
  } finally {
    model.close();
  }
});
