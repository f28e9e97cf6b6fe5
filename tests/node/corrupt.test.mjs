// corrupt.test.mjs: damaged bundles throw UlmError (with a status name from the core) in both
// runtimes and never trap or kill the process; the runtime keeps working afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { RUNTIMES, buildFixture, parseBundle, prng, ulmPackage, writeBundle } from './fixture.mjs';

let fx;
let api;
let layout;
let statusNames;  // code -> status, learned from the errors themselves

before(async () => {
  api = await ulmPackage();
  fx = buildFixture();
  layout = parseBundle(fx.bytes);
  statusNames = new Map();
});

after(() => fx?.cleanup());

// Loads bytes expecting failure; returns the UlmError. Anything else (a RuntimeError from a
// trap, a TypeError, success) fails the test with the case named.
async function expectError(bytes, runtime, what) {
  let model;
  try {
    model = await api.loadModel(bytes, { runtime });
  } catch (e) {
    assert.ok(e instanceof api.UlmError, `${what}: threw ${e?.name}: ${e?.message}, not a UlmError`);
    assert.ok(Number.isInteger(e.status) && e.status > 0, `${what}: status ${e.status}`);
    assert.match(e.code, /^ERR_[A-Z_]+$/, `${what}: code ${e.code}`);
    assert.ok(e.detail.length > 0, `${what}: empty message`);
    const known = statusNames.get(e.code);
    assert.ok(known === undefined || known === e.status, `${what}: ${e.code} is ${e.status} here, ${known} before`);
    statusNames.set(e.code, e.status);
    return e;
  }
  model.close();
  assert.fail(`${what}: the damaged bundle loaded`);
}

// Offsets to cut at: the whole header and table region, both sides of every section boundary,
// and a seeded random spread through the payload.
function truncationOffsets(len) {
  const set = new Set();
  const tableEnd = 64 + layout.sections.length * 40;
  for (let i = 0; i <= Math.min(tableEnd + 8, len - 1); i++) set.add(i);
  for (const s of layout.sections)
    for (const o of [s.offset - 1, s.offset, s.offset + 1, s.offset + s.data.length - 1, s.offset + s.data.length])
      if (o >= 0 && o < len) set.add(o);
  const rnd = prng(12345);
  for (let i = 0; i < 150; i++) set.add(Math.floor(rnd() * len));
  set.add(len - 1);
  return [...set].sort((a, b) => a - b);
}

// Byte positions to flip a bit in: every header and table byte, the first and last bytes of
// every section and of the padding after it, and a seeded random spread.
function flipPositions(len) {
  const set = new Set();
  const tableEnd = 64 + layout.sections.length * 40;
  for (let i = 0; i < tableEnd; i++) set.add(i);
  for (const s of layout.sections) {
    const end = s.offset + s.data.length;
    for (const o of [s.offset, s.offset + 1, end - 2, end - 1, end, end + 1]) if (o >= 0 && o < len) set.add(o);
    for (const o of [s.offset - 1, s.offset - 2]) if (o >= tableEnd) set.add(o);  // padding before a section
  }
  const rnd = prng(777);
  for (let i = 0; i < 200; i++) set.add(Math.floor(rnd() * len));
  return [...set].sort((a, b) => a - b);
}

for (const runtime of RUNTIMES) {
  describe(`${runtime} runtime`, () => {
    test('the intact bundle loads (control)', async () => {
      const m = await api.loadModel(fx.bytes, { runtime });
      assert.ok(m.itemCount > 0);
      m.close();
    });

    test('every truncation throws UlmError (ERR_TRUNCATED once the header is whole)', async () => {
      const offsets = truncationOffsets(fx.bytes.length);
      assert.ok(offsets.length > 300, `only ${offsets.length} truncation offsets`);
      for (const n of offsets) {
        const e = await expectError(fx.bytes.slice(0, n), runtime, `truncated to ${n} bytes`);
        if (n >= 64) assert.equal(e.code, 'ERR_TRUNCATED', `truncated to ${n} bytes: ${e.message}`);
      }
    });

    test('a single flipped bit anywhere is rejected', async () => {
      const positions = flipPositions(fx.bytes.length);
      assert.ok(positions.length > 300, `only ${positions.length} flip positions`);
      for (const [i, pos] of positions.entries()) {
        const bad = fx.bytes.slice();
        bad[pos] ^= 1 << (i % 8);
        await expectError(bad, runtime, `bit ${i % 8} of byte ${pos} flipped`);
      }
    });

    test('trailing garbage, a store instead of a model, and non-bundles are rejected', async () => {
      const longer = new Uint8Array(fx.bytes.length + 64);
      longer.set(fx.bytes);
      await expectError(longer, runtime, 'bundle with 64 extra zero bytes');
      const store = fx.bytes.slice();
      store[3] = 'S'.charCodeAt(0);
      assert.equal((await expectError(store, runtime, 'kind byte S')).code, 'ERR_FORMAT');
      await expectError(new Uint8Array(0), runtime, 'empty input');
      await expectError(new TextEncoder().encode('InvoiceNo,StockCode\n536365,85123A\n'), runtime, 'a CSV file');
      const rnd = prng(99);
      await expectError(Uint8Array.from({ length: 4096 }, () => Math.floor(rnd() * 256)), runtime, 'random bytes');
    });

    test('the runtime still works after all the failures', async () => {
      const m = await api.loadModel(fx.bytes, { runtime });
      assert.equal(m.recommend({ history: [], k: 5 }).length, 5);
      m.close();
    });
  });
}

// Re-encoded bundles with valid checksums: only the semantic (deep) checks can catch these.
describe('tampered bundles with recomputed checksums', () => {
  const edit = (fn) => {
    const sections = layout.sections.map((s) => ({ ...s, data: s.data.slice() }));
    const copy = { ...layout, header: layout.header.slice(), sections };
    fn(copy);
    return writeBundle(copy);
  };
  const section = (b, tag) => {
    const s = b.sections.find((x) => x.tag === tag);
    assert.ok(s, `the fixture bundle has no ${tag} section`);
    return s;
  };

  test('the re-encoder reproduces the native bundle byte for byte', () => {
    assert.deepEqual(writeBundle(layout), fx.bytes);
  });

  const cases = [
    ['a NaN popularity score', 'ERR_FORMAT',
      (b) => new DataView(section(b, 'POPR').data.buffer).setFloat32(4, NaN, true)],
    ['an infinite popularity score', 'ERR_FORMAT',
      (b) => new DataView(section(b, 'POPR').data.buffer).setFloat32(0, Infinity, true)],
    ['a history naming an item past the catalogue', 'ERR_FORMAT', (b) => {
      const n = section(b, 'ITID').rows;
      new DataView(section(b, 'USIT').data.buffer).setUint32(0, n, true);
    }],
    ['a history index of 0xFFFFFFFF', 'ERR_FORMAT',
      (b) => new DataView(section(b, 'USIT').data.buffer).setUint32(4, 0xffffffff, true)],
    ['user offsets past the history table', 'ERR_FORMAT', (b) => {
      const s = section(b, 'USOF');
      new DataView(s.data.buffer).setUint32(4, 0x7fffffff, true);
    }],
    ['a duplicated item id', 'ERR_FORMAT', (b) => {
      const s = section(b, 'ITID');
      const dv = new DataView(s.data.buffer);
      // STRTAB: u32 count, u32 offsets[count+1], bytes. Make id 1 a copy of id 0 when lengths match.
      const n = dv.getUint32(0, true);
      const base = 4 + 4 * (n + 1);
      const off = (i) => dv.getUint32(4 + 4 * i, true);
      for (let i = 1; i < n; i++) {
        if (off(i + 1) - off(i) === off(1) - off(0)) {
          s.data.copyWithin(base + off(i), base + off(0), base + off(1));
          return;
        }
      }
      assert.fail('no two item ids of equal length');
    }],
    ['an item id that is not UTF-8', 'ERR_FORMAT', (b) => {
      const s = section(b, 'ITID');
      const n = new DataView(s.data.buffer).getUint32(0, true);
      s.data[4 + 4 * (n + 1)] = 0xff;
    }],
    ['a missing POPR section', 'ERR_FORMAT', (b) => { b.sections = b.sections.filter((s) => s.tag !== 'POPR'); }],
    ['a POPR section with the wrong row count', 'ERR_FORMAT', (b) => {
      const s = section(b, 'POPR');
      s.rows -= 1;
      s.data = s.data.slice(0, s.data.length - 4);
    }],
    ['an unknown REQUIRED section', 'ERR_VERSION', (b) => {
      b.sections.push({ tag: 'ZZZZ', dtype: 0, rows: 0, cols: 0, version: 1, flags: 1, data: new Uint8Array(8) });
    }],
    ['a newer major format version', 'ERR_VERSION', (b) => { new DataView(b.header.buffer).setUint16(8, 2, true); }],
    ['metadata keys out of order', 'ERR_FORMAT', (b) => {
      // META: u32 count, then (u32 klen, u32 vlen, key, value)...; swap the first two entries' keys' first bytes
      const s = section(b, 'META');
      const dv = new DataView(s.data.buffer);
      assert.ok(dv.getUint32(0, true) >= 2, 'META has fewer than two keys');
      const k0 = 12;
      const next = 4 + 8 + dv.getUint32(4, true) + dv.getUint32(8, true) + 8;
      const tmp = s.data[k0];
      s.data[k0] = s.data[next];
      s.data[next] = tmp;
      if (s.data[k0] === s.data[next]) s.data[k0] = 'z'.charCodeAt(0);
    }],
  ];

  for (const runtime of RUNTIMES) {
    for (const [what, code, fn] of cases) {
      test(`${runtime}: ${what} → ${code}`, async () => {
        const e = await expectError(edit(fn), runtime, what);
        assert.equal(e.code, code, `${what}: ${e.message}`);
      });
    }

    test(`${runtime}: an unknown optional section is skipped and changes nothing`, async () => {
      const extra = { tag: 'ZZZZ', dtype: 0, rows: 0, cols: 0, version: 7, flags: 0, data: new Uint8Array(100).fill(7) };
      const bytes = edit((b) => b.sections.push(extra));
      const plain = await api.loadModel(fx.bytes, { runtime });
      const extended = await api.loadModel(bytes, { runtime });
      const someone = plain.userCount ? { user: firstUser(plain) } : { history: [] };
      assert.deepEqual(extended.recommend({ ...someone, k: 20 }), plain.recommend({ ...someone, k: 20 }));
      plain.close();
      extended.close();
    });

    test(`${runtime}: a bundle without the user table loads; users are then unknown`, async () => {
      const bytes = edit((b) => { b.sections = b.sections.filter((s) => !['USID', 'USOF', 'USIT'].includes(s.tag)); });
      const full = await api.loadModel(fx.bytes, { runtime });
      const user = firstUser(full);
      const history = full.userHistory(user);
      const m = await api.loadModel(bytes, { runtime });
      assert.equal(m.userCount, 0);
      assert.equal(m.userHistory(user), null);
      assert.throws(() => m.recommend({ user, k: 5 }), (e) => e instanceof api.UlmError && e.code === 'ERR_NOT_FOUND');
      assert.deepEqual(m.recommend({ history, k: 10 }), full.recommend({ user, k: 10 }));
      m.close();
      full.close();
    });
  }
});

// The first user of the fixture with a non-empty history, found through the public API.
function firstUser(model) {
  for (const r of fxUsers()) if (model.userHistory(r)?.length) return r;
  assert.fail('no user with a history');
}

// Some user ids of the fixture, read straight from its USID string table.
function fxUsers() {
  const s = layout.sections.find((x) => x.tag === 'USID');
  if (!s) return [];
  const dv = new DataView(s.data.buffer);
  const n = dv.getUint32(0, true);
  const base = 4 + 4 * (n + 1);
  const dec = new TextDecoder();
  const out = [];
  for (let i = 0; i < Math.min(n, 50); i++)
    out.push(dec.decode(s.data.subarray(base + dv.getUint32(4 + 4 * i, true), base + dv.getUint32(8 + 4 * i, true))));
  return out;
}
