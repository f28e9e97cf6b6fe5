// catalog.test.mjs: Model.itemPrice (wasm/shim_catalog.c) on both runtimes, against the bundle's
// ITPR section read byte by byte here (docs/format.md: f32 per catalogue item, NaN when unknown).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RUNTIMES, buildFixture, parseBundle, ulmPackage } from './fixture.mjs';

let fx;
let api;
let reference;  // catalogue index -> price from the raw ITPR bytes (null for NaN)

before(async () => {
  api = await ulmPackage();
  fx = buildFixture();
  const itpr = parseBundle(fx.bytes).sections.find((s) => s.tag === 'ITPR');
  assert.ok(itpr, 'the trained bundle has an ITPR section');
  const dv = new DataView(itpr.data.buffer, itpr.data.byteOffset, itpr.data.byteLength);
  reference = Array.from({ length: itpr.rows }, (_, i) => {
    const p = dv.getFloat32(4 * i, true);
    return Number.isNaN(p) ? null : p;
  });
});

after(() => fx?.cleanup());

for (const runtime of RUNTIMES) {
  describe(`${runtime} runtime`, () => {
    let model;
    before(async () => { model = await api.loadModel(fx.bytes, { runtime }); });
    after(() => model?.close());

    test('itemPrice equals the ITPR section for every catalogue item', () => {
      assert.equal(reference.length, model.itemCount);
      let priced = 0;
      for (let i = 0; i < model.itemCount; i++) {
        const got = model.itemPrice(model.itemId(i));
        assert.equal(got, reference[i], `item ${model.itemId(i)}`);
        if (got !== null) { priced++; assert.ok(got > 0, `price of ${model.itemId(i)} is positive`); }
      }
      assert.ok(priced > model.itemCount / 2, `${priced} of ${model.itemCount} items have a price`);
    });

    test('itemPrice of an unknown id is null; numbers are ids; a closed model throws', async () => {
      assert.equal(model.itemPrice('no-such-item'), null);
      const numeric = Array.from({ length: model.itemCount }, (_, i) => model.itemId(i)).find((id) => /^\d+$/.test(id));
      if (numeric) assert.equal(model.itemPrice(Number(numeric)), model.itemPrice(numeric));
      assert.throws(() => model.itemPrice({}), TypeError);
      const m2 = await api.loadModel(fx.bytes, { runtime });
      m2.close();
      assert.throws(() => m2.itemPrice(model.itemId(0)), (e) => e.code === 'ERR_MISUSE');
    });
  });
}
