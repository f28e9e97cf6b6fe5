// edge_bundle.test.mjs: an edge bundle (`ulm train --edge`: the catalogue of bought items, no names,
// prices or profiler item tables, front-coded ids, F16 popularity, the ALS Gram triangle, sparse
// repurchase cycles) answers model.score() in the Emscripten and WASI builds (SIMD and not) as the
// native `ulm score` does, for the sample's real customers and seeded random histories; an older
// reader's view: its required ITIC/RCGT sections are what make such a reader refuse it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { RUNTIMES, assertSameAnswer, buildFixture, jsonLines, parseBundle, prng, ulm, ulmPackage } from './fixture.mjs';

const AS_OF = '2011-10-01';
const NOW = Date.parse(AS_OF) / 1000;
let fx, api, bytes, requests, native;

before(async () => {
  api = await ulmPackage();
  fx = buildFixture();
  const path = join(fx.dir, 'edge.ulm');
  ulm('train', fx.store, '--out', path, '--recs', 'als', '--churn', 'gbdt', '--cutoff', '2011-09-01', '--horizon', '90',
    '--edge');
  bytes = new Uint8Array(readFileSync(path));
  const hist = join(fx.dir, 'hist.jsonl'), full = join(fx.dir, 'full.ulm');  // segment needs the store's catalogue
  ulm('train', fx.store, '--out', full);
  ulm('segment', fx.store, '--model', full, '--as-of', AS_OF, '--out', join(fx.dir, 'seg.jsonl'), '--histories', hist);
  const customers = jsonLines(readFileSync(hist, 'utf8'));
  requests = customers.map((c) => ({ user: c.customer, history: c.history, now: NOW, k: 10 }));
  // Random histories over the default catalogue: ids the edge bundle dropped are unknown to it.
  const m = await api.loadModel(fx.bytes);
  const ids = [];
  for (let i = 0; i < m.itemCount; i++) ids.push(m.itemId(i));
  m.close();
  const rnd = prng(5);
  const types = ['purchase', 'purchase', 'view', 'cart', 'return'];
  for (let r = 0; r < 300; r++) {
    const n = r % 23 === 0 ? 0 : Math.floor(rnd() ** 2 * 40) + 1;
    const history = [];
    for (let i = 0; i < n; i++)
      history.push({ item: ids[Math.floor(rnd() * ids.length)], type: types[Math.floor(rnd() * types.length)],
        time: NOW - Math.floor(rnd() * 300 * 86400), price: 1 + Math.floor(rnd() * 900) / 100, qty: 1 + Math.floor(rnd() * 12) });
    requests.push({ history, now: NOW, k: r % 7 === 0 ? 3 : 10 });
  }
  const input = join(fx.dir, 'edge.jsonl');
  writeFileSync(input, requests.map((q) => JSON.stringify(q)).join('\n') + '\n');
  native = jsonLines(ulm('score', path, '--input', input));
  assert.equal(native.length, requests.length);
});

after(() => fx?.cleanup());

test('the edge bundle has the compact sections and every part of the answer', () => {
  const tags = parseBundle(bytes).sections.map((s) => s.tag);
  for (const t of ['ITIC', 'POPR', 'RCIF', 'RCGT', 'RCRS', 'CHRN', 'CLVP', 'KMNS']) assert.ok(tags.includes(t), t);
  for (const t of ['ITID', 'ITNM', 'ITPR', 'PFCT', 'RCGR', 'RCRP', 'USID']) assert.ok(!tags.includes(t), t);
  assert.ok(native.every((r) => 'churn' in r && 'clv' in r && 'segment' in r && 'stage' in r));
  assert.ok(native.filter((r) => r.items.some((i) => i.because)).length >= 200, 'explained items');
  assert.ok(native.some((r) => r.unknownItems > 0), 'unknown ids');
  assert.ok(new Set(native.map((r) => r.stage)).size >= 4, 'stages');
});

for (const runtime of RUNTIMES)
  for (const simd of [true, false])
    test(`${runtime}${simd ? '' : ' (no SIMD)'}: model.score equals the native ulm score`, async () => {
      const model = await api.loadModel(bytes, { runtime, simd });
      try {
        assert.equal(model.itemCount, Number(model.meta('schema.items')));
        requests.forEach((q, i) => { if (simd || i % 5 === 0) assertSameAnswer(model.score(q), native[i], `${runtime} #${i}`); });
      } finally {
        model.close();
      }
    });
