// ulm.mjs: the JavaScript API of the ulm scorer, over either wasm build.
//
//   import { loadModel, UlmError } from './ulm.mjs';
//   const model = await loadModel(bytes);                 // { runtime: 'emscripten' | 'wasi' }
//   model.recommend({ history: ['85123A', '71053'], k: 10 });  // [{ item, score, name? }, ...]
//   model.recommend({ user: '17850', k: 10 });
//   model.close();
//
// Layers: the raw exports of wasm/shim.c (plain integers and pointers, list in
// wasm/exports.txt) stay private to this file; callers get Model objects and UlmError
// exceptions. Works in browsers, workers and Node 18+ without any npm package.

const DEFAULT_RUNTIME = 'emscripten';
const WASM_FILES = { emscripten: 'ulm-em.wasm', wasi: 'ulm-wasi.wasm' };
const NOSIMD_FILES = { emscripten: 'ulm-em-nosimd.wasm', wasi: 'ulm-wasi-nosimd.wasm' };

// The smallest module using a SIMD instruction (i8x16.splat of i32.const 0, then i8x16.popcnt):
// engines without fixed-width SIMD refuse to validate it.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);
let simdSupported;
/** True when this engine runs WebAssembly SIMD (checked once). */
export function hasSimd() {
  simdSupported ??= WebAssembly.validate(SIMD_PROBE);
  return simdSupported;
}

// Layout of ulm_wasm_diag (wasm/shim.c), checked against ulm_wasm_diag_size() at start-up.
const DIAG_SIZE = 220;
const DIAG_STATUS = 0;
const DIAG_OFFSET_LO = 4;
const DIAG_OFFSET_HI = 8;
const DIAG_SECTION = 12;
const DIAG_MESSAGE = 20;
const DIAG_MESSAGE_CAP = 200;

// Status numbers this file itself needs; their names always come from ulm_status_name().
const ST_OK = 0;
const ST_NOMEM = 1;
const ST_MISUSE = 5;
const ST_NOT_FOUND = 8;

const RAW_EXPORTS = [
  'malloc', 'free', 'ulm_status_name', 'ulm_status_str', 'ulm_wasm_diag_size', 'ulm_wasm_bytes_alloc',
  'ulm_wasm_load', 'ulm_wasm_free', 'ulm_wasm_item_count', 'ulm_wasm_item_id', 'ulm_wasm_item_name',
  'ulm_wasm_item_find', 'ulm_wasm_items_find', 'ulm_wasm_user_count', 'ulm_wasm_user_id', 'ulm_wasm_user_find',
  'ulm_wasm_user_history', 'ulm_wasm_meta', 'ulm_wasm_topk', 'ulm_wasm_recommend', 'ulm_wasm_recs_algo',
  'ulm_wasm_recommend_rules', 'ulm_wasm_items_find_all', 'ulm_wasm_category_find',  // business rules
  // profiles (wasm/shim_profile.c)
  'ulm_profile_feature_name', 'ulm_rfm_segment_name', 'ulm_stage_name', 'ulm_wasm_profile_feature_count',
  'ulm_wasm_profile_available', 'ulm_wasm_profile_segments', 'ulm_wasm_profile_as_of', 'ulm_wasm_profile_word',
  'ulm_wasm_profile_segment_description', 'ulm_wasm_profile',
];
// Churn (wasm/shim_churn.c, wasm/exports_churn.txt).
RAW_EXPORTS.push('ulm_wasm_churn_info', 'ulm_wasm_churn_feature', 'ulm_wasm_churn_features', 'ulm_wasm_churn_score');
RAW_EXPORTS.push('ulm_wasm_item_price');  // wasm/shim_catalog.c
RAW_EXPORTS.push('ulm_wasm_score_bin', 'ulm_wasm_offer_id');  // wasm/shim_score.c
RAW_EXPORTS.push('ulm_wasm_churn_predict');  // wasm/shim_churn.c: batch churn scoring

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

/** An error reported by the ulm core: a status number, its name and the core's message. */
export class UlmError extends Error {
  constructor(status, code, message, detail = {}) {
    super(`${code}: ${message}`);
    this.name = 'UlmError';
    this.status = status;        // number, e.g. 2
    this.code = code;            // name from ulm_status_name(), e.g. 'ERR_FORMAT'
    this.detail = message;       // the core's sentence without the code
    this.section = detail.section ?? '';  // section tag at fault ('' when none)
    this.offset = detail.offset ?? 0;     // byte offset in the bundle at fault
  }
}

const isNode = typeof process === 'object' && process !== null && typeof process.versions?.node === 'string';

// Reads a file next to this module (Node) or fetches it (browsers, workers).
async function fetchBytes(source) {
  if (isNode && (source instanceof URL ? source.protocol === 'file:' : !/^[a-z]+:/i.test(String(source)))) {
    const { readFile } = await import('node:fs/promises');
    return new Uint8Array(await readFile(source));
  }
  const res = await fetch(source);
  if (!res.ok) throw new Error(`ulm: cannot fetch ${source}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

// The wasm bytes for a runtime: options.wasm (bytes or URL) or the file beside this module.
async function wasmBytes(kind, wasm, simd) {
  if (wasm instanceof Uint8Array) return wasm;
  if (wasm instanceof ArrayBuffer) return new Uint8Array(wasm);
  return fetchBytes(wasm ?? new URL((simd ? WASM_FILES : NOSIMD_FILES)[kind], import.meta.url));
}

// Starts the Emscripten build and returns its raw functions and a memory getter. The wasm bytes
// are always handed over (wasmBinary): the glue cannot locate its file in Node (TOOLCHAIN.md E3)
// nor in module workers, where importScripts does not exist.
async function startEmscripten(wasm, simd) {
  const { default: createUlmEm } = await (simd ? import('./ulm-em.mjs') : import('./ulm-em-nosimd.mjs'));
  const M = await createUlmEm({ wasmBinary: await wasmBytes('emscripten', wasm, simd) });
  const fns = {};
  for (const name of RAW_EXPORTS) fns[name] = M[`_${name}`];
  // HEAPU8 is replaced by the glue whenever memory grows, so read it on every access.
  return { fns, memory: () => M.HEAPU8.buffer };
}

// Import object for the WASI reactor: it does no I/O, so any wasi_snapshot_preview1 function it
// still imports answers ENOSYS (52); proc_exit throws. Anything else is a build error.
function wasiImports(module) {
  const wasi = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== 'wasi_snapshot_preview1' || imp.kind !== 'function')
      throw new Error(`ulm: unexpected import ${imp.module}.${imp.name} in ulm-wasi.wasm`);
    wasi[imp.name] = imp.name === 'proc_exit'
      ? (code) => { throw new Error(`ulm: wasm called proc_exit(${code})`); }
      : () => 52;
  }
  return { wasi_snapshot_preview1: wasi };
}

// Starts the WASI reactor (WebAssembly.instantiate + _initialize) and returns its raw functions.
async function startWasi(wasm, simd) {
  const module = await WebAssembly.compile(await wasmBytes('wasi', wasm, simd));
  const instance = await WebAssembly.instantiate(module, wasiImports(module));
  const ex = instance.exports;
  if (typeof ex._initialize === 'function') ex._initialize();
  const fns = {};
  for (const name of RAW_EXPORTS) fns[name] = ex[name];
  return { fns, memory: () => ex.memory.buffer };
}

// One started wasm instance: raw calls, memory helpers and status names.
class Runtime {
  constructor(kind, { fns, memory }, simd) {
    for (const name of RAW_EXPORTS)
      if (typeof fns[name] !== 'function') throw new Error(`ulm: ${kind} build lacks export ${name}`);
    this.kind = kind;
    this.simd = simd;
    this.fn = fns;
    this.memory = memory;
    this.names = new Map();  // status -> name, filled from ulm_status_name on first use
    if (fns.ulm_wasm_diag_size() !== DIAG_SIZE)
      throw new Error('ulm: ulm.mjs and the wasm build disagree on ulm_wasm_diag');
    this.outs = this.alloc(16);  // out-pointers for the raw calls; used only within one call
  }

  // Views are made afresh on each use: any call may have grown (and so replaced) the memory.
  u8() { return new Uint8Array(this.memory()); }
  u32(ptr) { return new DataView(this.memory()).getUint32(ptr, true); }

  alloc(n) {
    const p = this.fn.malloc(Math.max(1, n));
    if (!p) throw this.error(ST_NOMEM, `cannot allocate ${n} bytes in wasm memory`);
    return p;
  }

  cstr(ptr, cap = Infinity) {
    if (!ptr) return null;
    const u8 = this.u8();
    let end = ptr;
    while (end < u8.length && end - ptr < cap && u8[end] !== 0) end++;
    return utf8Decoder.decode(u8.subarray(ptr, end));
  }

  str(ptr, len) { return ptr ? utf8Decoder.decode(this.u8().subarray(ptr, ptr + len)) : null; }

  // Calls a raw (pointer, *len) string getter, with the length coming back through outs.
  strCall(fn, h, idx) {
    const p = fn(h, idx, this.outs);
    return p ? this.str(p, this.u32(this.outs)) : null;
  }

  code(status) {
    let name = this.names.get(status);
    if (name === undefined) {
      name = this.cstr(this.fn.ulm_status_name(status)) ?? 'UNKNOWN';
      this.names.set(status, name);
    }
    return name;
  }

  error(status, message, detail) {
    return new UlmError(status, this.code(status), message ?? this.cstr(this.fn.ulm_status_str(status)), detail);
  }

  // Runs fn(ptr) with bytes copied into a temporary malloc'd buffer.
  withBytes(bytes, fn) {
    const p = this.alloc(bytes.length + 1);
    try {
      const u8 = this.u8();
      u8.set(bytes, p);
      u8[p + bytes.length] = 0;
      return fn(p, bytes.length);
    } finally {
      this.fn.free(p);
    }
  }

  // Loads a bundle; returns the handle or throws UlmError with the core's diagnostic.
  load(bytes) {
    const diag = this.alloc(DIAG_SIZE);
    try {
      const buf = this.fn.ulm_wasm_bytes_alloc(bytes.length);
      if (!buf) throw this.error(ST_NOMEM, `cannot allocate ${bytes.length} bytes for the bundle in wasm memory`);
      this.u8().set(bytes, buf);
      const h = this.fn.ulm_wasm_load(buf, bytes.length, diag);  // takes over buf, even on failure
      const dv = new DataView(this.memory());
      const status = dv.getInt32(diag + DIAG_STATUS, true);
      if (h && status === ST_OK) return h;
      const offset = dv.getUint32(diag + DIAG_OFFSET_LO, true) + dv.getUint32(diag + DIAG_OFFSET_HI, true) * 2 ** 32;
      const section = this.cstr(diag + DIAG_SECTION, 8);
      const message = this.cstr(diag + DIAG_MESSAGE, DIAG_MESSAGE_CAP);
      throw this.error(status || ST_MISUSE, message || undefined, { section, offset });
    } finally {
      this.fn.free(diag);
    }
  }
}

const runtimes = new Map();

// Starts (once) the named runtime with the default wasm file, or a fresh one for options.wasm.
// simd: true, false, or undefined for what the engine supports.
function runtime(kind, wasm, simd) {
  if (!(kind in WASM_FILES)) throw new TypeError(`ulm: unknown runtime '${kind}' (use 'emscripten' or 'wasi')`);
  const useSimd = simd ?? hasSimd();
  const start = () => (kind === 'wasi' ? startWasi(wasm, useSimd) : startEmscripten(wasm, useSimd))
    .then((r) => new Runtime(kind, r, useSimd));
  if (wasm !== undefined) return start();
  const key = `${kind}:${useSimd}`;
  if (!runtimes.has(key)) {
    const p = start();
    p.catch(() => runtimes.delete(key));  // a failed start may be retried
    runtimes.set(key, p);
  }
  return runtimes.get(key);
}

// Frees the wasm side of models that were garbage-collected without close().
const finalizer = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ rt, h, scratch }) => { if (scratch) rt.fn.free(scratch); rt.fn.ulm_wasm_free(h); }) : null;

function toBytes(bytes) {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  throw new TypeError('ulm: loadModel(bytes) needs a Uint8Array or an ArrayBuffer');
}

// Writes str as UTF-8 at u8[at..] (room for 3 bytes per UTF-16 unit); returns the byte count.
function writeUtf8(str, u8, at) {
  const n = str.length;
  for (let i = 0; i < n; i++) {
    const c = str.charCodeAt(i);
    if (c >= 0x80) return utf8Encoder.encodeInto(str, u8.subarray(at, at + 3 * n)).written;
    u8[at + i] = c;
  }
  return n;
}

function idString(id, what) {
  if (typeof id === 'string') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  throw new TypeError(`ulm: ${what} must be a string, got ${typeof id}`);
}

const ST_UNSUPPORTED = 6;
const EVENT_TYPES = ['view', 'cart', 'purchase', 'return', 'search'];  // ulm_event_type (frozen on disk)

// Feature, RFM segment and stage names from the core, read once per runtime.
function profileNames(rt) {
  if (!rt.profileNames) {
    const count = rt.fn.ulm_wasm_profile_feature_count();
    const features = [];
    for (let f = 0; f < count; f++) features.push(rt.cstr(rt.fn.ulm_profile_feature_name(f)));
    const rfm = [];
    for (let s = 0; ; s++) { const p = rt.fn.ulm_rfm_segment_name(s); if (!p) break; rfm.push(rt.cstr(p)); }
    const stages = [];
    for (let s = 0; ; s++) { const p = rt.fn.ulm_stage_name(s); if (!p) break; stages.push(rt.cstr(p)); }
    rt.profileNames = { count, features, rfm, stages, typeIndex: new Map(EVENT_TYPES.map((t, i) => [t, i])) };
  }
  return rt.profileNames;
}

// Unix seconds from a number (seconds), a Date or a date string.
const INT64_MAX = 0x7fffffffffffffffn;

function toSeconds(v, what) {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v instanceof Date && Number.isFinite(v.getTime())) return v.getTime() / 1000;
  if (typeof v === 'string') { const t = Date.parse(v); if (Number.isFinite(t)) return t / 1000; }
  throw new TypeError(`ulm: ${what} must be Unix seconds, a Date or a date string, got ${v}`);
}

/** A loaded model bundle. Not thread-safe across workers (each worker loads its own). */
class Model {
  #rt;
  #h;

  constructor(rt, h) {
    this.#rt = rt;
    this.#h = h;
    this.#held = { rt, h, scratch: 0 };  // scratch: churnProbabilities' block, freed with the model
    finalizer?.register(this, this.#held, this);
  }

  #handle() {
    if (!this.#h) throw this.#rtError(ST_MISUSE, 'the model is closed');
    return this.#h;
  }

  #rtError(status, message) { return this.#rt.error(status, message); }

  /** 'emscripten' or 'wasi'. */
  get runtime() { return this.#rt.kind; }
  /** Whether this model runs on the SIMD build of its runtime. */
  get simd() { return this.#rt.simd; }
  get itemCount() { return this.#rt.fn.ulm_wasm_item_count(this.#handle()); }
  get userCount() { return this.#rt.fn.ulm_wasm_user_count(this.#handle()); }

  /** Metadata value by key ('model.recs', 'train.as_of', ...) or null. */
  meta(key) {
    const h = this.#handle();
    const rt = this.#rt;
    return rt.withBytes(utf8Encoder.encode(String(key)), (p) => rt.cstr(rt.fn.ulm_wasm_meta(h, p)));
  }

  /** Item id of catalogue index i (0..itemCount-1), or null. */
  itemId(i) {
    const h = this.#handle();
    return Number.isInteger(i) && i >= 0 && i < this.itemCount ? this.#cached(this.#nameTables().id, 'ulm_wasm_item_id', i) : null;
  }

  /** True when the catalogue has an item with this id. */
  hasItem(id) { return this.#find('ulm_wasm_item_find', idString(id, 'item id')) >= 0; }

  /** Display name of an item, or null when the item is unknown or the bundle has no names. */
  itemName(id) {
    const idx = this.#find('ulm_wasm_item_find', idString(id, 'item id'));
    return idx < 0 ? null : this.#rt.strCall(this.#rt.fn.ulm_wasm_item_name, this.#h, idx);
  }

  // Index of an item or user id via the named raw finder; -1 when not found.
  #find(fn, id) {
    const h = this.#handle();
    const rt = this.#rt;
    const status = rt.withBytes(utf8Encoder.encode(id), (p, n) => rt.fn[fn](h, p, n, rt.outs));
    if (status === ST_NOT_FOUND) return -1;
    if (status !== ST_OK) throw rt.error(status);
    return rt.u32(rt.outs);
  }

  // The user's history as (pointer, count) in wasm memory, owned by the model; null if unknown.
  #userHistory(user) {
    const idx = this.#find('ulm_wasm_user_find', idString(user, 'user id'));
    if (idx < 0) return null;
    const rt = this.#rt;
    const p = rt.fn.ulm_wasm_user_history(this.#h, idx, rt.outs);
    return { ptr: p, n: rt.u32(rt.outs) };
  }

  /** The known user's purchased item ids (catalogue order), or null for an unknown user. */
  userHistory(user) {
    const hist = this.#userHistory(user);
    if (!hist) return null;
    const rt = this.#rt;
    const dv = new DataView(rt.memory());
    const idx = [];
    for (let i = 0; i < hist.n; i++) idx.push(dv.getUint32(hist.ptr + 4 * i, true));
    return idx.map((j) => rt.strCall(rt.fn.ulm_wasm_item_id, this.#h, j));
  }

  /**
   * Top-k items for a history of item ids (unknown ids ignored) or for a known user
   * (the bundle's user table), from the bundle's recommender (popularity when it has none).
   * Items in the history are never recommended. With explain > 0 (default 3), each item may
   * carry `because`: the history's items that contributed most to it.
   * Business rules (docs/recs.md): a history entry 'ID@YYYY-MM-DD' carries its purchase date, and a
   * consumable whose learned repurchase cycle has passed by `now` (Date, ISO string or Unix seconds;
   * default the current time) may be recommended again; `allow` (item ids) limits the items to
   * those; `categories` / `notCategories` (category names, the profiler's) keep only items in / not
   * in them. Denied items are never recommended.
   */
  recommend({ history, user, k = 10, explain = 3, now, allow, categories, notCategories } = {}) {
    const h = this.#handle();
    const rt = this.#rt;
    if (!Number.isInteger(k) || k < 0) throw this.#rtError(ST_MISUSE, `k must be a non-negative integer, got ${k}`);
    if (!Number.isInteger(explain) || explain < 0 || explain > 16)
      throw this.#rtError(ST_MISUSE, `explain must be an integer 0..16, got ${explain}`);
    if ((history === undefined) === (user === undefined))
      throw this.#rtError(ST_MISUSE, 'recommend needs exactly one of { history } or { user }');
    if (categories !== undefined && notCategories !== undefined)
      throw this.#rtError(ST_MISUSE, 'recommend takes categories or notCategories, not both');
    const kk = Math.min(k, this.itemCount);
    const catNames = categories ?? notCategories;
    const cats = [];
    if (catNames !== undefined) {
      if (catNames === null || typeof catNames === 'string' || typeof catNames[Symbol.iterator] !== 'function')
        throw new TypeError('ulm: categories must be an array of category names');
      for (const c of catNames) {
        const idx = this.#find('ulm_wasm_category_find', idString(c, 'category'));
        if (idx < 0) throw this.#rtError(ST_NOT_FOUND, `no category '${c}' in the bundle`);
        cats.push(idx);
      }
    }
    if (allow !== undefined && (allow === null || typeof allow === 'string' || typeof allow[Symbol.iterator] !== 'function'))
      throw new TypeError('ulm: allow must be an array of item ids');
    const nowS = now === undefined ? currentUnixSeconds() : BigInt(toUnixSeconds(now, 'now'));
    let times = null;

    let histPtr = 0;
    let histLen = 0;
    let owned = 0;
    if (user !== undefined) {
      const hist = this.#userHistory(user);
      if (!hist)
        throw this.#rtError(ST_NOT_FOUND, this.userCount ? `unknown user '${user}'` : 'the bundle has no user table');
      histPtr = hist.ptr;
      histLen = hist.n;
    } else {
      if (history === null || typeof history === 'string' || typeof history[Symbol.iterator] !== 'function')
        throw new TypeError('ulm: history must be an array of item ids');
      const ids = [];
      for (const id of history) {
        let str = idString(id, 'item id');
        const at = str.indexOf('@');
        let when = INT64_MAX;
        if (at >= 0) {
          // 'ID@date', as the native --history: a bad date drops the entry (native counts it unknown).
          const ms = Date.parse(str.slice(at + 1));
          if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$/.test(str.slice(at + 1)) || !Number.isFinite(ms)) continue;
          when = BigInt(Math.floor(ms / 1000));
          times ??= [];
          str = str.slice(0, at);
        }
        if (times) times[ids.length] = when;
        ids.push(str);
      }
      if (times) for (let i = 0; i < ids.length; i++) times[i] ??= INT64_MAX;
      if (ids.length) {
        // Indices from the model's id -> index map, each id looked up in wasm once (the map grows
        // only with ids the bundle has); unknown ids stay 0xFFFFFFFF (ignored by the core), so
        // times stay aligned.
        const index = this.#nameTables().index;
        const n = ids.length;
        owned = rt.alloc(4 * n);
        for (let i = 0; i < n; i++) {
          let idx = index.get(ids[i]);
          if (idx === undefined) {
            idx = this.#find('ulm_wasm_item_find', ids[i]);
            if (idx >= 0) index.set(ids[i], idx);
          }
          ids[i] = idx;
        }
        const dv = new DataView(rt.memory());
        for (let i = 0; i < n; i++) dv.setUint32(owned + 4 * i, ids[i] >>> 0, true);
        histPtr = owned;
        histLen = n;
      }
    }

    let out = 0;
    let rules = 0;
    try {
      if (kk === 0) return [];
      out = rt.alloc(8 * kk + 4 * kk * explain);  // kk u32 indices, kk f32 scores, kk * explain reasons
      const why = out + 8 * kk;
      // Rules block: now (i64), times[histLen] (i64), category indices (u32), allow flags (u8).
      const nItems = this.itemCount;
      rules = rt.alloc(8 + (times ? 8 * histLen : 0) + 4 * cats.length + (allow !== undefined ? nItems : 0));
      const rv = new DataView(rt.memory());
      rv.setBigInt64(rules, nowS, true);
      const timesPtr = times ? rules + 8 : 0;
      if (times) times.forEach((t, i) => rv.setBigInt64(timesPtr + 8 * i, t, true));
      const catsPtr = rules + 8 + (times ? 8 * histLen : 0);
      cats.forEach((c, i) => rv.setUint32(catsPtr + 4 * i, c, true));
      let allowPtr = 0;
      if (allow !== undefined) {
        allowPtr = catsPtr + 4 * cats.length;
        rt.u8().fill(0, allowPtr, allowPtr + nItems);
        for (const id of allow) {
          const idx = this.#find('ulm_wasm_item_find', idString(id, 'item id'));
          if (idx >= 0) rt.u8()[allowPtr + idx] = 1;
        }
      }
      const status = rt.fn.ulm_wasm_recommend_rules(h, histPtr, histLen, timesPtr, rules, allowPtr,
        catNames !== undefined ? catsPtr : 0, cats.length, notCategories !== undefined ? 1 : 0, kk, explain, out,
        out + 4 * kk, why, rt.outs);
      if (status !== ST_OK) throw rt.error(status);
      const n = rt.u32(rt.outs);
      const dv = new DataView(rt.memory());
      const c = this.#nameTables();
      const res = [];
      for (let i = 0; i < n; i++) {
        const idx = dv.getUint32(out + 4 * i, true);
        const rec = {
          item: this.#cached(c.id, 'ulm_wasm_item_id', idx),
          score: dv.getFloat32(out + 4 * kk + 4 * i, true),
        };
        const name = this.#cached(c.name, 'ulm_wasm_item_name', idx);
        if (name) rec.name = name;  // as the native command: only items that have a name
        let because = null;  // no array per item unless it has reasons
        for (let r = 0; r < explain; r++) {
          const j = dv.getUint32(why + 4 * (i * explain + r), true);
          if (j === 0xffffffff) break;
          (because ??= []).push(this.#cached(c.id, 'ulm_wasm_item_id', j));
        }
        if (because) rec.because = because;  // as the native command: only when there are reasons
        res.push(rec);
      }
      return res;
    } finally {
      if (out) rt.fn.free(out);
      if (owned) rt.fn.free(owned);
      if (rules) rt.fn.free(rules);
    }
  }

  /**
   * Churn risk with reasons, computed here by the bundle's churn model (docs/churn.md):
   *   model.churn({ history: [{ time, type, qty, price, order }, ...], asOf })   // customer-v1 models
   *   model.churn({ features: [...] })                                         // the model's feature row
   * time and asOf: Date, ISO-8601 string or Unix seconds; type: 'purchase' (default), 'view', 'cart',
   * 'return'; qty default 1; price (unit price) default unknown; order: any id. reasons: how many (default 3).
   * Returns { probability, reasons: [{ feature, name, effect, text }], features }.
   */
  churn({ history, asOf, features, reasons = 3 } = {}) {
    const h = this.#handle();
    const rt = this.#rt;
    if (!Number.isInteger(reasons) || reasons < 0 || reasons > 16)
      throw this.#rtError(ST_MISUSE, `reasons must be an integer 0..16, got ${reasons}`);
    if ((history === undefined) === (features === undefined))
      throw this.#rtError(ST_MISUSE, 'churn needs exactly one of { history, asOf } or { features }');
    const info = rt.alloc(20);
    let nf, set, scratchN;
    try {
      const st = rt.fn.ulm_wasm_churn_info(h, info);
      if (st !== ST_OK) throw rt.error(st);
      const dv = new DataView(rt.memory());
      if (!dv.getUint32(info, true)) throw this.#rtError(ST_NOT_FOUND, 'the bundle has no churn model');
      nf = dv.getUint32(info + 4, true);
      set = dv.getUint32(info + 8, true);
      scratchN = dv.getUint32(info + 12, true);
    } finally {
      rt.fn.free(info);
    }
    // one buffer: x[nf] f32, p f32, n_why u32, why[reasons] (120 bytes each), scratch, then the history
    const xOff = 0, pOff = 4 * nf, nOff = pOff + 4, whyOff = nOff + 4, scOff = whyOff + 120 * reasons;
    const evOff = (scOff + 4 * scratchN + 7) & ~7;
    let events = [];
    if (history !== undefined) {
      if (set !== 1) throw this.#rtError(ST_MISUSE, 'this churn model reads table columns: pass { features }');
      if (history === null || typeof history === 'string' || typeof history[Symbol.iterator] !== 'function')
        throw new TypeError('ulm: history must be an array of events');
      events = Array.from(history, (e, i) => churnEvent(e, i)).sort((a, b) => a.time - b.time);
    } else if (!features || typeof features.length !== 'number' || features.length !== nf) {
      throw this.#rtError(ST_MISUSE, `features must be an array of ${nf} numbers`);
    }
    const buf = rt.alloc(evOff + 24 * events.length + 8);
    try {
      let dv = new DataView(rt.memory());
      if (history !== undefined) {
        const orders = new Map();
        events.forEach((e, i) => {
          const at = buf + evOff + 24 * i;
          let order = 0xffffffff;
          if (e.order !== undefined && e.order !== null) {
            const key = String(e.order);
            if (!orders.has(key)) orders.set(key, orders.size);
            order = orders.get(key);
          }
          dv.setBigInt64(at, BigInt(e.time), true);
          dv.setUint32(at + 8, order, true);
          dv.setUint32(at + 12, e.type, true);
          dv.setFloat32(at + 16, e.qty, true);
          dv.setFloat32(at + 20, e.price, true);
        });
        const st = rt.fn.ulm_wasm_churn_features(buf + evOff, events.length, toUnixSeconds(asOf, 'asOf'), buf + xOff);
        if (st !== ST_OK) throw rt.error(st);
      } else {
        for (let f = 0; f < nf; f++) {
          const v = features[f];
          dv.setFloat32(buf + xOff + 4 * f, v === null || v === undefined ? NaN : Number(v), true);
        }
      }
      const st = rt.fn.ulm_wasm_churn_score(h, buf + xOff, buf + pOff, buf + whyOff, reasons, buf + nOff, buf + scOff);
      if (st !== ST_OK) throw rt.error(st);
      dv = new DataView(rt.memory());
      const out = { probability: dv.getFloat32(buf + pOff, true), reasons: [], features: [] };
      for (let f = 0; f < nf; f++) out.features.push(dv.getFloat32(buf + xOff + 4 * f, true));
      const n = dv.getUint32(buf + nOff, true);
      for (let i = 0; i < n; i++) {
        const at = buf + whyOff + 120 * i;
        const feature = dv.getUint32(at, true);
        out.reasons.push({
          feature,
          name: rt.strCall(rt.fn.ulm_wasm_churn_feature, h, feature),
          effect: dv.getFloat32(at + 4, true),
          text: rt.cstr(at + 8, 112),
        });
      }
      return out;
    } finally {
      rt.fn.free(buf);
    }
  }

  /** Unit price of an item (the bundle's ITPR section, float32), or null when unknown or not priced. */
  itemPrice(id) {
    const idx = this.#find('ulm_wasm_item_find', idString(id, 'item id'));
    if (idx < 0) return null;
    const p = this.#rt.fn.ulm_wasm_item_price(this.#h, idx);
    return Number.isFinite(p) ? p : null;
  }

  /**
   * Profile, segments, lifecycle stage and lifetime value of one customer from a history held on the
   * device: history = [{ item, type, time, price, qty, order, query }] (type 'purchase' | 'return' |
   * 'view' | 'cart' | 'search' or its number; time and asOf in Unix seconds, a Date or an ISO string;
   * price, qty, order, query optional). Only events before asOf count (default: one second after the
   * latest event). Throws UlmError ERR_UNSUPPORTED when the bundle has no profiler (docs/profile.md).
   */
  profile({ history, asOf } = {}) {
    const h = this.#handle();
    const rt = this.#rt;
    if (!rt.fn.ulm_wasm_profile_available(h))
      throw this.#rtError(ST_UNSUPPORTED, 'the bundle has no profiler (train it with ulm train)');
    if (history === null || typeof history !== 'object' || typeof history[Symbol.iterator] !== 'function')
      throw new TypeError('ulm: profile needs { history: [...] }');
    const events = [...history];
    const names = profileNames(rt);
    const orders = new Map();
    const strings = [];
    let blobLen = 0;
    let latest = -Infinity;
    const recs = events.map((e, i) => {
      if (e === null || typeof e !== 'object') throw new TypeError(`ulm: history[${i}] must be an object`);
      const type = typeof e.type === 'number' ? e.type : names.typeIndex.get(String(e.type));
      if (!Number.isInteger(type) || type < 0 || type >= names.typeIndex.size)
        throw new TypeError(`ulm: history[${i}].type '${e.type}' is not one of ${[...names.typeIndex.keys()].join(', ')}`);
      const time = Math.floor(toSeconds(e.time, `history[${i}].time`));
      latest = Math.max(latest, time);
      let order = 0xffffffff;
      if (e.order !== undefined && e.order !== null) {
        const key = String(e.order);
        if (!orders.has(key)) orders.set(key, orders.size);
        order = orders.get(key);
      }
      const item = e.item === undefined || e.item === null ? null : utf8Encoder.encode(idString(e.item, 'item id'));
      const query = e.query === undefined || e.query === null ? null : utf8Encoder.encode(String(e.query));
      const rec = { time, type, order, price: e.price ?? NaN, qty: e.qty ?? 1, item: null, query: null };
      if (item) { rec.item = [blobLen, item.length]; strings.push(item); blobLen += item.length; }
      if (query) { rec.query = [blobLen, query.length]; strings.push(query); blobLen += query.length; }
      if (typeof rec.price !== 'number' || typeof rec.qty !== 'number')
        throw new TypeError(`ulm: history[${i}].price and .qty must be numbers`);
      return rec;
    });
    const asOfSec = asOf === undefined ? (recs.length ? latest + 1 : rt.fn.ulm_wasm_profile_as_of(h))
      : toSeconds(asOf, 'asOf');
    const REC = 48;
    const nf = names.count;
    const mem = rt.alloc(REC * recs.length + blobLen + 8 * (nf + 5) + 4 * 9 + 4 + 8);
    try {
      const base = mem + ((8 - (mem % 8)) % 8);
      const outF = base;
      const outI = outF + 8 * (nf + 5);
      const recPtr = outI + 4 * 9 + 4;  // 8-aligned: 8 * (nf + 5) and 4 * 9 + 4 are multiples of 8
      const blob = recPtr + REC * recs.length;
      const dv = new DataView(rt.memory());
      const u8 = rt.u8();
      let at = blob;
      for (const s of strings) { u8.set(s, at); at += s.length; }
      recs.forEach((r, i) => {
        const p = recPtr + REC * i;
        dv.setFloat64(p, r.time, true);
        dv.setFloat64(p + 8, r.price, true);
        dv.setFloat32(p + 16, r.qty, true);
        dv.setUint32(p + 20, r.type, true);
        dv.setUint32(p + 24, r.order, true);
        dv.setUint32(p + 28, r.item ? r.item[0] : 0, true);
        dv.setUint32(p + 32, r.item ? r.item[1] : 0xffffffff, true);
        dv.setUint32(p + 36, r.query ? r.query[0] : 0, true);
        dv.setUint32(p + 40, r.query ? r.query[1] : 0, true);
        dv.setUint32(p + 44, 0, true);
      });
      const status = rt.fn.ulm_wasm_profile(h, recPtr, recs.length, blob, blobLen, asOfSec, outF, outI);
      if (status !== ST_OK) throw rt.error(status);
      const out = new DataView(rt.memory());
      const features = {};
      for (let f = 0; f < nf; f++) {
        const v = out.getFloat64(outF + 8 * f, true);
        features[names.features[f]] = Number.isFinite(v) ? v : null;
      }
      const ints = [];
      for (let j = 0; j < 9; j++) ints.push(out.getInt32(outI + 4 * j, true));
      const keywords = [];
      for (let k = 0; k < ints[3]; k++) {
        keywords.push({
          word: rt.strCall(rt.fn.ulm_wasm_profile_word, h, ints[4 + k]),
          weight: out.getFloat64(outF + 8 * (nf + k), true),
        });
      }
      return {
        features,
        keywords,
        rfmSegment: ints[0] >= 0 ? names.rfm[ints[0]] : null,
        segment: ints[1] >= 0 ? ints[1] : null,
        segmentDescription: ints[1] >= 0 ? rt.strCall(rt.fn.ulm_wasm_profile_segment_description, h, ints[1]) : null,
        stage: ints[2] >= 0 ? names.stages[ints[2]] : null,
        pAlive: features.p_alive,
        expectedPurchases: features.expected_purchases,
        expectedSpend: features.expected_spend,
        clv: features.clv,
      };
    } finally {
      rt.fn.free(mem);
    }
  }

  /**
   * Everything the bundle can say about one visitor from a history held on the device, in one call
   * (docs/api-js.md, score): { items: [{ item, score, name?, because? }], unknownItems, churn?, clv?,
   * segment?, stage?, offer? }, each optional part present when the bundle has its model.
   * history = [{ item, type, time, price, qty, order, query }] as for profile(); user: the customer's id
   * (for the offers' control group; without it the visitor is never held out); now (default the current
   * time): the as-of of churn, profile and repurchase cycles; queries: search terms; allow, categories,
   * notCategories: as for recommend(). k <= 0 gives no items; a huge k is clamped.
   */
  score({ history = [], user, k = 10, explain = 3, reasons = 3, now, asOf, allow, categories, notCategories, queries } = {}) {
    // The request goes to ulm_wasm_score_bin (wasm/shim_score.c) as one binary block written here: a
    // header, ulm_profile_event records with the items already looked up (ulm_wasm_items_find_all),
    // then the lookup tables and the UTF-8 bytes; the answer comes back as flat fields read with a
    // DataView. Item ids and other strings are decoded once per model (#names).
    const h = this.#handle();
    now ??= asOf;  // profile() and churn() call it asOf
    const rt = this.#rt;
    if (!Number.isInteger(k)) throw this.#rtError(ST_MISUSE, `k must be an integer, got ${k}`);
    for (const [name, v] of [['explain', explain], ['reasons', reasons]])
      if (!Number.isInteger(v) || v < 0 || v > 16) throw this.#rtError(ST_MISUSE, `${name} must be an integer 0..16, got ${v}`);
    if (history === null || typeof history !== 'object' || typeof history[Symbol.iterator] !== 'function')
      throw new TypeError('ulm: score needs { history: [...] }');
    const strings = (v, what) => {
      if (v === undefined) return undefined;
      if (v === null || typeof v === 'string' || typeof v[Symbol.iterator] !== 'function')
        throw new TypeError(`ulm: ${what} must be an array of strings`);
      return Array.from(v, (x) => idString(x, what));
    };
    const badEvent = (i) => this.#rtError(ST_MISUSE, `history[${i}] needs type view, cart, purchase, return or ` +
      'search, time in Unix seconds, numbers as price and qty');
    // Events: [type, time, price, qty, order, item id | null, query | null]; ids and queries also in strs.
    const evs = [];
    const orders = new Map();
    const ids = [];   // item ids to look up: the history's, then allow's
    let strBytes = 0; // room for all UTF-8 (3 bytes per UTF-16 unit)
    let i = 0;
    for (const e of history) {
      if (e === null || typeof e !== 'object') throw new TypeError(`ulm: history[${i}] must be an object`);
      const t = e.type ?? 'purchase';
      const type = typeof t === 'number' ? t : EVENT_TYPES.indexOf(t);
      if (!Number.isInteger(type) || type < 0 || type >= EVENT_TYPES.length) throw badEvent(i);
      const time = Math.floor(toSeconds(e.time, `history[${i}].time`));
      if (!(Math.abs(time) < 9e15)) throw badEvent(i);
      let price = e.price ?? NaN;
      let qty = e.qty ?? 1;
      if (typeof price !== 'number' || typeof qty !== 'number') throw badEvent(i);
      if (!Number.isFinite(qty)) qty = 1;  // as JSON, where a non-finite number is null
      if (!Number.isFinite(price)) price = NaN;
      let order = 0xffffffff;
      if (e.order !== undefined && e.order !== null) {
        const key = String(e.order);
        order = orders.get(key);
        if (order === undefined) orders.set(key, order = orders.size);
      }
      let item = null;
      if (e.item !== undefined && e.item !== null) {
        item = idString(e.item, 'item id');
        ids.push(item);
        strBytes += 3 * item.length;
      }
      const query = e.query === undefined || e.query === null ? null : String(e.query);
      if (query) strBytes += 3 * query.length;
      evs.push([type, time, price, qty, order, item, query]);
      i++;
    }
    for (const q of strings(queries, 'queries') ?? []) {
      evs.push([4, null, NaN, 1, 0xffffffff, null, q]);
      strBytes += 3 * q.length;
    }
    const nHist = ids.length;
    const allowIds = strings(allow, 'allow');
    if (allowIds) for (const id of allowIds) { ids.push(id); strBytes += 3 * id.length; }
    const cats = strings(categories, 'categories');
    const notCats = strings(notCategories, 'notCategories');
    if (cats && notCats) throw this.#rtError(ST_MISUSE, 'give "categories" or "notCategories", not both');
    const catIdx = (cats ?? notCats ?? []).map((c) => {
      const idx = this.#find('ulm_wasm_category_find', c);
      if (idx < 0) throw this.#rtError(ST_NOT_FOUND, `no category '${c.slice(0, 80)}' in the bundle`);
      return idx;
    });
    const nowS = now === undefined ? Math.floor(Date.now() / 1000) : toUnixSeconds(now, 'now');
    if (Number.isFinite(nowS) && !(Math.abs(nowS) < 9e15)) throw this.#rtError(ST_MISUSE, '"now" must be Unix seconds');
    const userId = user === undefined || user === null ? null : idString(user, 'user id');
    if (userId !== null) strBytes += 3 * userId.length;

    // Layout: header (64), events (40 each), lens[ids], idx[ids], categories, then the UTF-8 bytes.
    const n = evs.length;
    const evAt = 64, lensAt = evAt + 40 * n, idxAt = lensAt + 4 * ids.length, catAt = idxAt + 4 * ids.length;
    const strAt = catAt + 4 * catIdx.length;
    const buf = rt.alloc(strAt + strBytes + 8);
    let ans = 0;
    try {
      let u8 = rt.u8();
      let dv = new DataView(u8.buffer);
      let at = buf + strAt;
      ids.forEach((id, j) => {
        const len = writeUtf8(id, u8, at);
        dv.setUint32(buf + lensAt + 4 * j, len, true);
        at += len;
      });
      const idsPtr = buf + strAt;
      let userPtr = 0, userLen = 0;
      if (userId !== null) { userPtr = at; userLen = writeUtf8(userId, u8, at); at += userLen; }
      if (ids.length) rt.fn.ulm_wasm_items_find_all(h, idsPtr, buf + lensAt, ids.length, buf + idxAt);
      catIdx.forEach((c, j) => dv.setUint32(buf + catAt + 4 * j, c, true));
      let idAt = 0;
      evs.forEach(([type, time, price, qty, order, item, query], j) => {
        const p = buf + evAt + 40 * j;
        // time as two 32-bit halves (no BigInt per event); INT64_MIN marks a query's time (now - 1)
        const hi = time === null ? -0x80000000 : Math.floor(time / 4294967296);
        dv.setUint32(p, time === null ? 0 : time - hi * 4294967296, true);
        dv.setInt32(p + 4, hi, true);
        dv.setFloat64(p + 8, price, true);
        dv.setFloat32(p + 16, qty, true);
        let idx = 0xffffffff;
        if (item !== null) {
          idx = dv.getUint32(buf + idxAt + 4 * idAt++, true);
          if (idx === 0xffffffff) idx = 0xfffffffe;  // ULM_SCORE_UNKNOWN_ITEM: counted in unknownItems
        }
        dv.setUint32(p + 20, idx, true);
        dv.setUint32(p + 24, order, true);
        dv.setUint32(p + 28, type, true);
        let qp = 0, ql = 0;
        if (query) { qp = at; ql = writeUtf8(query, u8, at); at += ql; }
        dv.setUint32(p + 32, qp, true);
        dv.setUint32(p + 36, ql, true);
      });
      const flags = (Number.isFinite(nowS) ? 1 : 0) | (notCats ? 2 : 0) | (allowIds ? 4 : 0) | (cats || notCats ? 8 : 0);
      dv.setBigInt64(buf, BigInt(Number.isFinite(nowS) ? nowS : 0), true);
      dv.setInt32(buf + 8, Math.max(-1, Math.min(k, 1e9)), true);
      dv.setUint32(buf + 12, explain, true);
      dv.setUint32(buf + 16, reasons, true);
      dv.setUint32(buf + 20, n, true);
      dv.setUint32(buf + 24, flags, true);
      dv.setUint32(buf + 28, userId !== null ? (userPtr || buf + strAt) : 0, true);
      dv.setUint32(buf + 32, userLen, true);
      dv.setUint32(buf + 36, buf + idxAt + 4 * nHist, true);
      dv.setUint32(buf + 40, ids.length - nHist, true);
      dv.setUint32(buf + 44, buf + catAt, true);
      dv.setUint32(buf + 48, catIdx.length, true);
      for (let q = 52; q < 64; q += 4) dv.setUint32(buf + q, 0, true);
      const status = rt.fn.ulm_wasm_score_bin(h, buf, rt.outs);
      if (status !== ST_OK) throw rt.error(status);
      ans = rt.u32(rt.outs);
      return this.#scoreAnswer(ans);
    } finally {
      if (ans) rt.fn.free(ans);
      rt.fn.free(buf);
    }
  }

  // Strings decoded once per model: item ids and names, churn feature names, offer ids, segment descriptions.
  #names = null;

  #cached(table, fn, idx) {
    let v = table[idx];
    if (v === undefined) table[idx] = v = this.#rt.strCall(this.#rt.fn[fn], this.#h, idx);
    return v;
  }

  // model.score()'s object from the answer block at p (the SR_* layout of wasm/shim_score.c), with the
  // keys, order and values of the JSON answer (docs/api-js.md).
  // The item tables are filled up front with undefined: filled at scattered indices, an empty array
  // falls back to slow dictionary elements (and a Map lookup costs about as much). index: item id ->
  // index (recommend's history), only for ids the bundle has.
  #nameTables() {
    if (!this.#names) {
      const n = this.itemCount;
      this.#names = {
        id: new Array(n).fill(undefined), name: new Array(n).fill(undefined), feat: [], offer: [], seg: [],
        index: new Map(),
      };
    }
    return this.#names;
  }

  #scoreAnswer(p) {
    const rt = this.#rt;
    const c = this.#nameTables();
    const dv = new DataView(rt.memory());
    const u32 = (o) => dv.getUint32(p + o, true), i32 = (o) => dv.getInt32(p + o, true);
    const f64 = (o) => { const v = dv.getFloat64(p + o, true); return Number.isFinite(v) ? v : null; };
    const parts = u32(0), nItems = u32(8), e = u32(12), itp = u32(16), scp = u32(20), bcp = u32(24);
    const items = [];
    for (let q = 0; q < nItems; q++) {
      const idx = dv.getUint32(itp + 4 * q, true);
      const rec = { item: this.#cached(c.id, 'ulm_wasm_item_id', idx), score: dv.getFloat32(scp + 4 * q, true) };
      const name = this.#cached(c.name, 'ulm_wasm_item_name', idx);
      if (name) rec.name = name;
      let because = null;
      for (let r = 0; r < e; r++) {
        const j = dv.getUint32(bcp + 4 * (q * e + r), true);
        if (j === 0xffffffff) break;
        (because ??= []).push(this.#cached(c.id, 'ulm_wasm_item_id', j));
      }
      if (because) rec.because = because;
      items.push(rec);
    }
    const out = { items, unknownItems: u32(4) };
    const pChurn = dv.getFloat32(p + 28, true);
    if (parts & 2) {
      const reasons = [];
      for (let q = 0, rp = u32(36); q < u32(32); q++) {
        const at = rp + 120 * q;
        const feature = dv.getUint32(at, true);
        const w = { feature };
        const name = this.#cached(c.feat, 'ulm_wasm_churn_feature', feature);
        if (name !== null) w.name = name;
        w.effect = dv.getFloat32(at + 4, true);
        w.text = rt.cstr(at + 8, 112);
        reasons.push(w);
      }
      out.churn = { probability: Number.isFinite(pChurn) ? pChurn : null, reasons };
    }
    if (parts & 8) out.clv = { pAlive: f64(64), expectedPurchases: f64(72), clv: f64(80) };
    if (parts & 4) {
      const names = profileNames(rt);
      const rfm = i32(40), seg = i32(44), stage = i32(48);
      out.segment = {
        rfm: rfm >= 0 ? names.rfm[rfm] : null,
        kmeans: seg >= 0 ? seg : null,
        description: seg >= 0 ? this.#cached(c.seg, 'ulm_wasm_profile_segment_description', seg) : null,
      };
      out.stage = stage >= 0 ? names.stages[stage] : null;
    }
    if (parts & 16) {
      const o = i32(52);
      const id = o >= 0 ? this.#cached(c.offer, 'ulm_wasm_offer_id', o) : null;
      out.offer = { offer: id, control: i32(56) !== 0 };
      if (id !== null) out.offer.net = f64(88);
      Object.assign(out.offer, { value: f64(96), valueBasis: i32(60) ? 'clv' : 'annual_spend_rate',
        pChurn: Number.isFinite(pChurn) ? pChurn : null });
    }
    return out;
  }

  /** The bundle's recommender: 'pop', 'itemknn', 'als', 'bpr', 'ease', 'content' or 'hybrid'. */
  get recsAlgo() { return this.#rt.cstr(this.#rt.fn.ulm_wasm_recs_algo(this.#handle())); }

  #churnNf = -1; // churn features of the bundle (0: no churn model), read once by churnProbabilities

  /**
   * P(churn) of n table rows at once, without reasons: rows holds the rows' features back to back (a
   * Float32Array or numbers; NaN = missing, categorical features as codes). Returns a Float32Array of n
   * probabilities, each equal to churn({ features: row }).probability. Throws UlmError ERR_NOT_FOUND when
   * the bundle has no churn model.
   */
  churnProbabilities(rows) {
    const h = this.#handle();
    const rt = this.#rt;
    const nf = this.#churnFeatures(h);
    if (!rows || typeof rows.length !== 'number' || rows.length % nf !== 0)
      throw this.#rtError(ST_MISUSE, `rows must hold a whole number of rows of ${nf} features`);
    const n = rows.length / nf;
    const buf = this.#churnScratch(4 * (rows.length + n));
    const mem = rt.memory();
    new Float32Array(mem, buf, rows.length).set(rows);
    const st = rt.fn.ulm_wasm_churn_predict(h, buf, n, buf + 4 * rows.length);
    if (st !== ST_OK) throw rt.error(st);
    return new Float32Array(rt.memory(), buf + 4 * rows.length, n).slice();
  }

  // The bundle's churn feature count, read once (throws ERR_NOT_FOUND without a churn model).
  #churnFeatures(h) {
    const rt = this.#rt;
    if (this.#churnNf < 0) {
      const info = rt.alloc(20);
      try {
        const st = rt.fn.ulm_wasm_churn_info(h, info);
        if (st !== ST_OK) throw rt.error(st);
        const dv = new DataView(rt.memory());
        this.#churnNf = dv.getUint32(info, true) ? dv.getUint32(info + 4, true) : 0;
      } finally {
        rt.fn.free(info);
      }
    }
    if (!this.#churnNf) throw this.#rtError(ST_NOT_FOUND, 'the bundle has no churn model');
    return this.#churnNf;
  }

  // One scratch block per model of at least `need` bytes, kept between calls (a malloc/free pair per row was
  // most of a one-row call's cost); freed by close().
  #churnScratch(need) {
    const held = this.#held;
    if (need > this.#scratchCap) {
      const rt = this.#rt;
      if (held.scratch) rt.fn.free(held.scratch);
      held.scratch = 0;
      this.#scratchCap = 0;
      this.#churnView = null;
      held.scratch = rt.alloc(need);
      this.#scratchCap = need;
    }
    return held.scratch;
  }

  #churnView = null; // Float32Array over the scratch block: the row, then its probability (churnProbability)

  /**
   * P(churn) of one table row (a Float32Array or numbers, the model's features; NaN = missing), without
   * reasons: the same number as churnProbabilities(row)[0] and churn({ features: row }).probability, from
   * the lightest call (the row is written into a block kept in wasm memory, no arrays are made per call).
   * Throws UlmError ERR_MISUSE when the row's length is not the feature count, ERR_NOT_FOUND when the bundle
   * has no churn model.
   */
  churnProbability(row) {
    const h = this.#handle();
    const rt = this.#rt;
    const nf = this.#churnFeatures(h);
    if (!row || row.length !== nf) throw this.#rtError(ST_MISUSE, `the row must hold the model's ${nf} features`);
    const buf = this.#churnScratch(4 * (nf + 1));
    // a grown memory detaches the old buffer (the view's length drops to 0): then a view of the new one
    let v = this.#churnView;
    if (!v || v.length === 0 || v.byteOffset !== buf) v = this.#churnView = new Float32Array(rt.memory(), buf, nf + 1);
    if (row instanceof Float32Array) v.set(row); // one copy of the bytes
    else for (let f = 0; f < nf; f++) v[f] = row[f];
    const st = rt.fn.ulm_wasm_churn_predict(h, buf, 1, buf + 4 * nf);
    if (st !== ST_OK) throw rt.error(st);
    return v.length ? v[nf] : new Float32Array(rt.memory(), buf + 4 * nf, 1)[0];
  }

  #held;
  #scratchCap = 0;

  /** Frees the model's wasm memory. Later calls throw UlmError ERR_MISUSE; close() again is a no-op. */
  close() {
    if (!this.#h) return;
    finalizer?.unregister(this);
    if (this.#held.scratch) this.#rt.fn.free(this.#held.scratch);
    this.#held.scratch = 0;
    this.#rt.fn.ulm_wasm_free(this.#h);
    this.#h = 0;
  }
}

const CHURN_TYPES = { view: 0, cart: 1, purchase: 2, return: 3 };

// The current time in Unix seconds as a BigInt, made anew only when the second changes.
let nowSeconds = NaN, nowBig = 0n;
function currentUnixSeconds() {
  const t = Math.floor(Date.now() / 1000);
  if (t !== nowSeconds) nowBig = BigInt((nowSeconds = t));
  return nowBig;
}

// Unix seconds (a whole number) of a Date, an ISO-8601 string or a number of seconds.
function toUnixSeconds(t, what) {
  let ms;
  if (t instanceof Date) ms = t.getTime();
  else if (typeof t === 'string') ms = Date.parse(t);
  else if (typeof t === 'number') return Number.isFinite(t) ? Math.floor(t) : NaN;
  else throw new TypeError(`ulm: ${what} must be a Date, an ISO-8601 string or Unix seconds`);
  if (!Number.isFinite(ms)) throw new TypeError(`ulm: ${what} is not a valid time: ${t}`);
  return Math.floor(ms / 1000);
}

// One history entry for Model#churn, checked and normalised.
function churnEvent(e, i) {
  if (e === null || typeof e !== 'object') throw new TypeError(`ulm: history[${i}] must be an object`);
  const type = e.type === undefined ? 2 : typeof e.type === 'number' ? e.type : CHURN_TYPES[e.type];
  if (!Number.isInteger(type) || type < 0 || type > 3)
    throw new TypeError(`ulm: history[${i}].type must be purchase, view, cart or return`);
  const time = toUnixSeconds(e.time, `history[${i}].time`);
  if (!Number.isFinite(time)) throw new TypeError(`ulm: history[${i}].time is not a valid time`);
  const qty = e.qty === undefined ? 1 : Number(e.qty);
  const price = e.price === undefined || e.price === null ? NaN : Number(e.price);
  return { time, type, qty, price, order: e.order };
}

/**
 * Loads a model bundle (.ulm bytes) into the chosen wasm runtime.
 * options.runtime: 'emscripten' (default) or 'wasi'. options.wasm: the .wasm bytes or URL
 * to use instead of the file beside this module. options.simd: true or false forces the SIMD or
 * the plain build; by default the engine's support decides. Throws UlmError for a bad bundle.
 */
export async function loadModel(bytes, options = {}) {
  const data = toBytes(bytes);
  const rt = await runtime(options.runtime ?? DEFAULT_RUNTIME, options.wasm, options.simd);
  return new Model(rt, rt.load(data));
}
