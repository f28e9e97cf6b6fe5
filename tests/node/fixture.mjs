// fixture.mjs: shared set-up for the node suites (not a test file itself).
//
// Environment: ULM_JS_DIR (the assembled JS package: ulm.mjs + both wasm builds), ULM (the
// native `ulm` command), ULM_ROOT (repo root). Optional: ULM_TEST_DATA (an event log to train
// on instead of the sample). buildFixture() trains a bundle with the native command in a temp
// dir and returns its bytes and the native reference answers.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(process.env.ULM_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
export const JS_DIR = resolve(process.env.ULM_JS_DIR ?? join(ROOT, 'build', 'js'));
export const ULM = process.env.ULM ?? join(ROOT, 'build', 'bin', 'ulm');
export const RUNTIMES = ['emscripten', 'wasi'];

// The JS package under test, imported from ULM_JS_DIR.
export async function ulmPackage() {
  const entry = join(JS_DIR, 'ulm.mjs');
  if (!existsSync(entry)) throw new Error(`no ${entry}: build both wasm targets first, or set ULM_JS_DIR`);
  return import(pathToFileURL(entry).href);
}

// The event log to train on: ULM_TEST_DATA, the repo's sample, or the full shared data set.
export function dataFile() {
  const candidates = [
    process.env.ULM_TEST_DATA,
    join(ROOT, 'data', 'sample', 'online_retail_sample.csv.gz'),
    join(ROOT, '..', 'shared', 'data', 'online-retail', 'online_retail.csv.gz'),
    '/work/shared/data/online-retail/online_retail.csv.gz',
  ].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no event log found (tried ${candidates.join(', ')}); set ULM_TEST_DATA`);
  return found;
}

// Runs the native command; returns stdout. Large outputs (--users all) need a big buffer.
export function ulm(...args) {
  if (!existsSync(ULM)) throw new Error(`native ulm command not found at ${ULM}; set ULM`);
  return execFileSync(ULM, args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function jsonLines(text) {
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

// Trains a bundle from the data file with the native command in a fresh temp dir.
// Returns { dir, store, bundlePath, bytes, cleanup }.
export function buildFixture() {
  const dir = mkdtempSync(join(tmpdir(), 'ulm-node-'));
  const store = join(dir, 'events.store');
  const bundlePath = join(dir, 'model.ulm');
  try {
    ulm('ingest', dataFile(), '--out', store);
    ulm('train', store, '--out', bundlePath);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`building the test bundle with ${ULM} failed: ${e.stderr ?? e.message}`);
  }
  return {
    dir,
    store,
    bundlePath,
    bytes: new Uint8Array(readFileSync(bundlePath)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// A float32 score printed by the native command with "%.9g" names exactly one float32.
export const f32 = Math.fround;

// Every n-th element plus the first and last: a deterministic spread of a long list.
export function spread(list, want) {
  if (list.length <= want) return list.slice();
  const step = list.length / want;
  const out = [];
  for (let i = 0; i < want; i++) out.push(list[Math.floor(i * step)]);
  out.push(list[list.length - 1]);
  return out;
}

// Small deterministic PRNG (mulberry32) so corruption cases are the same on every run.
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- the container layout (docs/format.md), enough to re-encode a bundle with valid checksums

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

// CRC-32C (Castagnoli), as the container uses.
export function crc32c(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const H = { FILE_SIZE: 24, TABLE_OFFSET: 32, SECTION_COUNT: 40, ALIGNMENT: 44, TABLE_CRC: 56, CRC: 60 };
const ENTRY = 40;

// Splits a bundle into its header bytes and sections (copies), following the section table.
export function parseBundle(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const table = Number(dv.getBigUint64(H.TABLE_OFFSET, true));
  const count = dv.getUint32(H.SECTION_COUNT, true);
  const sections = [];
  for (let i = 0; i < count; i++) {
    const e = table + i * ENTRY;
    const offset = Number(dv.getBigUint64(e, true));
    const size = Number(dv.getBigUint64(e + 8, true));
    sections.push({
      entryOffset: e,
      offset,
      tag: String.fromCharCode(...bytes.subarray(e + 16, e + 20)),
      dtype: dv.getUint32(e + 20, true),
      rows: dv.getUint32(e + 24, true),
      cols: dv.getUint32(e + 28, true),
      version: dv.getUint16(e + 32, true),
      flags: dv.getUint16(e + 34, true),
      data: bytes.slice(offset, offset + size),
    });
  }
  return { header: bytes.slice(0, 64), alignment: dv.getUint32(H.ALIGNMENT, true), sections };
}

// Writes a bundle the way the C writer lays it out (header, table, aligned sections) with
// every checksum recomputed, so only semantic checks can reject what was changed.
export function writeBundle({ header, alignment, sections }) {
  const align = (x) => Math.ceil(x / alignment) * alignment;
  const table = 64;
  let at = align(table + sections.length * ENTRY);
  const offsets = sections.map((s) => {
    const o = at;
    at = align(at + s.data.length);
    return o;
  });
  const out = new Uint8Array(at);
  const dv = new DataView(out.buffer);
  out.set(header.subarray(0, 64), 0);
  sections.forEach((s, i) => {
    const e = table + i * ENTRY;
    out.set(s.data, offsets[i]);
    dv.setBigUint64(e, BigInt(offsets[i]), true);
    dv.setBigUint64(e + 8, BigInt(s.data.length), true);
    for (let c = 0; c < 4; c++) out[e + 16 + c] = s.tag.charCodeAt(c);
    dv.setUint32(e + 20, s.dtype, true);
    dv.setUint32(e + 24, s.rows, true);
    dv.setUint32(e + 28, s.cols, true);
    dv.setUint16(e + 32, s.version, true);
    dv.setUint16(e + 34, s.flags, true);
    dv.setUint32(e + 36, crc32c(s.data), true);
  });
  dv.setBigUint64(H.FILE_SIZE, BigInt(at), true);
  dv.setBigUint64(H.TABLE_OFFSET, BigInt(table), true);
  dv.setUint32(H.SECTION_COUNT, sections.length, true);
  dv.setUint32(H.TABLE_CRC, crc32c(out.subarray(table, table + sections.length * ENTRY)), true);
  dv.setUint32(H.CRC, crc32c(out.subarray(0, H.CRC)), true);
  return out;
}

// Same answer: identical ids, strings and lists; numbers within 1e-6, or 1e-10 relative for large ones
// (the CLV outputs go through libm's log/exp: glibc natively, musl-derived libm in wasm).
export function assertSameAnswer(got, want, where, onInexact = () => {}) {
  if (typeof want === 'number' && typeof got === 'number') {
    assert.ok(Math.abs(got - want) <= Math.max(1e-6, 1e-10 * Math.abs(want)), `${where}: ${got} vs native ${want}`);
    if (got !== want) onInexact({ where, rel: Math.abs(got - want) / Math.max(1e-300, Math.abs(want)) });
    return;
  }
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got) && got.length === want.length, `${where}: length ${got?.length} vs native ${want.length}`);
    want.forEach((w, i) => assertSameAnswer(got[i], w, `${where}[${i}]`, onInexact));
    return;
  }
  if (want !== null && typeof want === 'object') {
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${where}: keys`);
    for (const k of Object.keys(want)) assertSameAnswer(got[k], want[k], `${where}.${k}`, onInexact);
    return;
  }
  assert.equal(got, want, where);
}
