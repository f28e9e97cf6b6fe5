// score_parity.test.mjs: model.score() (ulm_score through wasm/shim_score.c) gives the same answer in the
// native `ulm score`, the Emscripten module, the WASI module (through ulm.mjs and through the raw
// {"op":"score"} JSON entry point) and the edge worker's /v1/score, for the real customers of the sample
// store and for seeded random histories (unknown ids, every event type, queries, odd k, allow lists,
// category filters, empty histories), on two bundles with every model: ALS and item-kNN recommenders, a churn model (logistic
// regression in one, gradient-boosted trees in the other), the profiler (segments, stages, CLV) and offers.
// The non-SIMD builds are checked on every fifth history. The device's offers must also be what `ulm campaign plan`
// picks for the same customers when the budget does not bind.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { JS_DIR, assertSameAnswer, buildFixture, jsonLines, prng, ulm, ulmPackage } from './fixture.mjs';

const AS_OF = '2011-10-01';
const NOW = Date.parse(AS_OF) / 1000;
const RANDOM = 360;
const CATEGORIES = ['bag', 'holder', 'mug', 'sign', 'christmas'];  // the profiler's, as in recs_rules.test.mjs  // per bundle, next to the ~300 real customers: > 1,300 histories in all
const OFFERS = {
  offers: [{ id: 'vip_call', cost: 150, uplift: 0.5 }, { id: 'coupon10', cost: 10, uplift: 0.1 },
    { id: 'reminder', cost: 0.05, uplift: 0.02 }, { id: 'none', cost: 0, uplift: 0 }],
  control_share: 0.2, seed: 7,
};

let fx, api;
const inexact = [];  // numbers that differed at all (reported, within the tolerance)
const bundles = {};  // recs name -> { path, bytes, requests, native }

// Seeded random requests over the bundle's catalogue.
function randomRequests(model, customers, seed) {
  const rnd = prng(seed);
  const rc = prng(seed + 100);  // category filters: their own stream, so the histories stay as they were
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const types = ['purchase', 'purchase', 'purchase', 'view', 'cart', 'return', 'search'];
  const words = ['mug', 'bag', 'heart', 'retrospot', 'christmas', 'candle', 'zzq'];
  const out = [];
  for (let r = 0; r < RANDOM; r++) {
    const n = r % 17 === 0 ? 0 : Math.floor(rnd() ** 2 * 60) + 1;
    const history = [];
    const t0 = NOW - Math.floor(rnd() * 400) * 86400;
    for (let i = 0; i < n; i++) {
      const type = pick(types);
      const e = { type, time: t0 + Math.floor(rnd() * (NOW - t0 + 30 * 86400)) };
      if (type === 'search') e.query = `${pick(words)} ${pick(words)}`;
      else e.item = rnd() < 0.05 ? `unknown-${Math.floor(rnd() * 1000)}` : model.itemId(Math.floor(rnd() * model.itemCount));
      if (rnd() < 0.8) e.price = Math.round(rnd() * 2000) / 100;
      if (rnd() < 0.8) e.qty = 1 + Math.floor(rnd() * 24);
      if (rnd() < 0.7) e.order = `o${Math.floor(rnd() * (n / 3 + 1))}`;
      history.push(e);
    }
    const req = { history, k: pick([10, 10, 10, 1, 0, -3, 50]), now: NOW + Math.floor(rnd() * 60) * 86400 };
    if (r % 40 === 1) Object.assign(req, { k: 1e6, explain: 0 });  // the whole catalogue: rare, it is slow to print
    if (rnd() < 0.6) req.user = rnd() < 0.5 ? pick(customers) : `visitor-${Math.floor(rnd() * 1e6)}`;
    if (rnd() < 0.1) req.allow = Array.from({ length: 200 }, () => model.itemId(Math.floor(rnd() * model.itemCount)));
    if (rnd() < 0.2) req.queries = [pick(words)];
    if (rnd() < 0.1) req.explain ??= 0;
    if (rnd() < 0.1) req.reasons = 5;
    if (rc() < 0.15) req[rc() < 0.5 ? 'categories' : 'notCategories'] = CATEGORIES.filter(() => rc() < 0.5);
    out.push(req);
  }
  return out;
}

before(async () => {
  api = await ulmPackage();
  fx = buildFixture();
  const offers = join(fx.dir, 'offers.json');
  writeFileSync(offers, JSON.stringify(OFFERS));
  for (const [recs, churn] of [['als', 'logreg'], ['itemknn', 'gbdt']]) {
    const path = join(fx.dir, `${recs}.ulm`);
    ulm('train', fx.store, '--out', path, '--churn', churn, '--cutoff', '2011-09-01', '--horizon', '90', '--recs', recs,
      '--offers', offers);
    bundles[recs] = { path, bytes: new Uint8Array(readFileSync(path)) };
  }
  const hist = join(fx.dir, 'hist.jsonl');
  ulm('segment', fx.store, '--model', bundles.als.path, '--as-of', AS_OF, '--out', join(fx.dir, 'seg.jsonl'), '--histories', hist);
  const customers = jsonLines(readFileSync(hist, 'utf8'));
  for (const [recs, b] of Object.entries(bundles)) {
    const model = await api.loadModel(b.bytes);
    const real = customers.map((c) => ({ user: c.customer, history: c.history, now: NOW, k: 10 }));
    b.requests = [...real, ...randomRequests(model, customers.map((c) => c.customer), recs === 'als' ? 1 : 2)];
    model.close();
    const input = join(fx.dir, `${recs}.jsonl`);
    writeFileSync(input, b.requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
    b.native = jsonLines(ulm('score', b.path, '--input', input));
    assert.equal(b.native.length, b.requests.length);
  }
  fx.plan = join(fx.dir, 'plan.csv');
  ulm('campaign', 'plan', fx.store, '--model', bundles.als.path, '--offers', offers, '--as-of', AS_OF, '--out', fx.plan);
});

after(() => {
  if (inexact.length) {
    const kinds = [...new Set(inexact.map((d) => d.where.replace(/^.*#\d+/, '').replace(/\[\d+\]/g, '[]')))];
    const worst = Math.max(...inexact.map((d) => d.rel));
    console.log(`# ${inexact.length} numbers not bit-identical (largest relative difference ${worst.toExponential(2)}): ${kinds.join(' ')}`);
  }
  fx?.cleanup();
});

// Same answer (fixture.mjs), recording the numbers that differed at all.
const assertSame = (got, want, where) => assertSameAnswer(got, want, where, (d) => inexact.push(d));

// Raw WASI module, no ulm.mjs: {"op":"score"} through ulm_wasm_request.
async function rawWasi(bytes) {
  const stubs = { wasi_snapshot_preview1: { fd_close: () => 52, fd_seek: () => 52, fd_write: () => 52 } };
  const { instance } = await WebAssembly.instantiate(readFileSync(join(JS_DIR, 'ulm-wasi.wasm')), stubs);
  const ex = instance.exports;
  ex._initialize();
  const buf = ex.ulm_wasm_bytes_alloc(bytes.length);
  new Uint8Array(ex.memory.buffer, buf, bytes.length).set(bytes);
  const diag = ex.malloc(ex.ulm_wasm_diag_size());
  const h = ex.ulm_wasm_load(buf, bytes.length, diag);
  ex.free(diag);
  assert.notEqual(h, 0);
  const enc = new TextEncoder(), dec = new TextDecoder();
  return (obj) => {
    const b = enc.encode(JSON.stringify({ op: 'score', ...obj }));
    const req = ex.malloc(b.length + 1), out = ex.malloc(8);
    new Uint8Array(ex.memory.buffer, req, b.length).set(b);
    assert.equal(ex.ulm_wasm_request(h, req, b.length, out, out + 4), 0);
    const dv = new DataView(ex.memory.buffer);
    const ptr = dv.getUint32(out, true), len = dv.getUint32(out + 4, true);
    const text = dec.decode(new Uint8Array(ex.memory.buffer, ptr, len));
    ex.free(ptr); ex.free(req); ex.free(out);
    const r = JSON.parse(text);
    assert.equal(r.ok, true, text);
    delete r.ok;
    return r;
  };
}

test('the reference covers every part and enough variety to be a real check', () => {
  for (const b of Object.values(bundles)) {
    assert.ok(b.requests.length >= 500);
    const n = b.native;
    assert.ok(n.every((r) => 'churn' in r && 'clv' in r && 'segment' in r && 'stage' in r && 'offer' in r), 'every part present');
    assert.ok(n.filter((r) => r.items.length === 10).length >= 300, 'top-10 lists');
    assert.ok(n.some((r) => r.items.length === 0) && n.some((r) => r.items.length > 1000), 'k <= 0 and huge k');
    assert.ok(n.some((r) => r.unknownItems > 0), 'unknown ids');
    const filtered = b.requests.filter((r) => r.categories || r.notCategories).length;
    assert.ok(filtered >= 30, `category filters: ${filtered}`);
    assert.ok(new Set(n.map((r) => r.offer.offer)).size >= 3, 'two offers and none');
    assert.ok(n.some((r) => r.offer.control) && n.some((r) => !r.offer.control), 'control and treated');
    assert.ok(new Set(n.map((r) => r.stage)).size >= 4, 'stages');
    assert.ok(n.filter((r) => r.items.some((i) => i.because)).length >= 200, 'explained items');
  }
  assert.ok(Object.values(bundles).reduce((s, b) => s + b.requests.length, 0) >= 1000);
  const offers = new Set(Object.values(bundles).flatMap((b) => b.native.map((r) => r.offer.offer)));
  assert.ok(offers.size >= 4, `three offers and none: ${[...offers]}`);
});

for (const runtime of ['emscripten', 'wasi']) {
  test(`${runtime}: model.score equals the native ulm score on every history, both bundles`, async () => {
    for (const [recs, b] of Object.entries(bundles)) {
      const model = await api.loadModel(b.bytes, { runtime });
      b.requests.forEach((req, i) => assertSame(model.score(req), b.native[i], `${runtime} ${recs} #${i}`));
      model.close();
    }
  });
}

test('the non-SIMD builds give the same answers (every fifth history)', async () => {
  for (const runtime of ['emscripten', 'wasi'])
    for (const [recs, b] of Object.entries(bundles)) {
      const model = await api.loadModel(b.bytes, { runtime, simd: false });
      b.requests.forEach((req, i) => { if (i % 5 === 0) assertSame(model.score(req), b.native[i], `${runtime} nosimd ${recs} #${i}`); });
      model.close();
    }
});

test('WASI {"op":"score"} without ulm.mjs equals the native ulm score (every third history)', async () => {
  for (const [recs, b] of Object.entries(bundles)) {
    const score = await rawWasi(b.bytes);
    b.requests.forEach((req, i) => { if (i % 3 === 0) assertSame(score(req), b.native[i], `request ${recs} #${i}`); });
  }
});

test('the device picks what ulm campaign plan picks when the budget does not bind', () => {
  const lines = readFileSync(fx.plan, 'utf8').trim().split('\n').slice(1);
  const plan = new Map(lines.map((l) => { const f = l.split(','); return [f[0], f]; }));
  const b = bundles.als;
  let compared = 0, held = 0;
  b.requests.forEach((req, i) => {
    if (req.history.length === 0 || !req.user || req.now !== NOW || req.k !== 10 || i >= b.requests.length - RANDOM) return;
    const r = b.native[i].offer, p = plan.get(req.user);
    if (!p) { assert.equal(r.offer, null, `${req.user}: not planned natively`); return; }
    compared++;
    assert.ok(Math.abs(Number(p[3]) - r.pChurn) < 5e-7, `${req.user}: p_churn ${p[3]} vs ${r.pChurn}`);
    assert.ok(Math.abs(Number(p[4]) - r.value) < 5e-3, `${req.user}: value ${p[4]} vs ${r.value}`);
    assert.equal(p[5], r.valueBasis);
    if (p[2] === '1') { held++; assert.deepEqual([r.offer, r.control], [null, true], `${req.user}: held out`); return; }
    assert.equal(r.offer, p[1], `${req.user}: offer`);
    assert.ok(Math.abs(Number(p[8]) - r.net) < 5e-5, `${req.user}: net ${p[8]} vs ${r.net}`);
  });
  assert.ok(compared >= 200 && held >= 10, `compared ${compared}, held out ${held}`);
});

test('the edge worker answers POST /v1/score with the same result', async () => {
  const { createHandler } = await import(join(JS_DIR, 'edge.mjs'));
  const b = bundles.itemknn;
  const handler = createHandler({ bundle: b.bytes });
  for (const i of [0, 1, 2, b.requests.length - 1, b.requests.length - 2]) {
    const res = await handler.fetch(new Request('http://127.0.0.1/v1/score', { method: 'POST', body: JSON.stringify(b.requests[i]) }));
    assert.equal(res.status, 200);
    assertSame(await res.json(), b.native[i], `edge #${i}`);
  }
  const bad = await handler.fetch(new Request('http://127.0.0.1/v1/score', { method: 'POST', body: '{"history":3}' }));
  assert.equal(bad.status, 400);
});

test('bad requests: UlmError or an error answer, never a crash', async () => {
  const model = await api.loadModel(bundles.als.bytes);
  assert.throws(() => model.score({ history: [{ item: 'x', type: 'bogus', time: NOW }] }), { code: 'ERR_MISUSE' });
  assert.throws(() => model.score({ k: 1.5 }), { code: 'ERR_MISUSE' });
  assert.throws(() => model.score({ categories: ['no such category'] }), { code: 'ERR_NOT_FOUND' });
  const cold = model.score({ history: [], now: NOW, k: 3 });
  const { history, user } = bundles.als.requests[0];
  assertSame(model.score({ history, user, asOf: AS_OF }), bundles.als.native[0], 'asOf is now');
  assert.equal(cold.items.length, 3);
  assert.equal(cold.offer.offer, null);
  model.close();
});
