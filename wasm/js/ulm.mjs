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
];

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
async function wasmBytes(kind, wasm) {
  if (wasm instanceof Uint8Array) return wasm;
  if (wasm instanceof ArrayBuffer) return new Uint8Array(wasm);
  return fetchBytes(wasm ?? new URL(WASM_FILES[kind], import.meta.url));
}

// Starts the Emscripten build and returns its raw functions and a memory getter. The wasm bytes
// are always handed over (wasmBinary): the glue cannot locate its file in Node (TOOLCHAIN.md E3)
// nor in module workers, where importScripts does not exist.
async function startEmscripten(wasm) {
  const { default: createUlmEm } = await import('./ulm-em.mjs');
  const M = await createUlmEm({ wasmBinary: await wasmBytes('emscripten', wasm) });
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
async function startWasi(wasm) {
  const module = await WebAssembly.compile(await wasmBytes('wasi', wasm));
  const instance = await WebAssembly.instantiate(module, wasiImports(module));
  const ex = instance.exports;
  if (typeof ex._initialize === 'function') ex._initialize();
  const fns = {};
  for (const name of RAW_EXPORTS) fns[name] = ex[name];
  return { fns, memory: () => ex.memory.buffer };
}

// One started wasm instance: raw calls, memory helpers and status names.
class Runtime {
  constructor(kind, { fns, memory }) {
    for (const name of RAW_EXPORTS)
      if (typeof fns[name] !== 'function') throw new Error(`ulm: ${kind} build lacks export ${name}`);
    this.kind = kind;
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
function runtime(kind, wasm) {
  if (!(kind in WASM_FILES)) throw new TypeError(`ulm: unknown runtime '${kind}' (use 'emscripten' or 'wasi')`);
  const start = () => (kind === 'wasi' ? startWasi(wasm) : startEmscripten(wasm)).then((r) => new Runtime(kind, r));
  if (wasm !== undefined) return start();
  if (!runtimes.has(kind)) {
    const p = start();
    p.catch(() => runtimes.delete(kind));  // a failed start may be retried
    runtimes.set(kind, p);
  }
  return runtimes.get(kind);
}

// Frees the wasm side of models that were garbage-collected without close().
const finalizer = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry(({ rt, h }) => rt.fn.ulm_wasm_free(h)) : null;

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

/** A loaded model bundle. Not thread-safe across workers (each worker loads its own). */
class Model {
  #rt;
  #h;

  constructor(rt, h) {
    this.#rt = rt;
    this.#h = h;
    finalizer?.register(this, { rt, h }, this);
  }

  #handle() {
    if (!this.#h) throw this.#rtError(ST_MISUSE, 'the model is closed');
    return this.#h;
  }

  #rtError(status, message) { return this.#rt.error(status, message); }

  /** 'emscripten' or 'wasi'. */
  get runtime() { return this.#rt.kind; }
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
    return Number.isInteger(i) && i >= 0 && i < 2 ** 32 ? this.#rt.strCall(this.#rt.fn.ulm_wasm_item_id, h, i) : null;
  }

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
   */
  recommend({ history, user, k = 10, explain = 3 } = {}) {
    const h = this.#handle();
    const rt = this.#rt;
    if (!Number.isInteger(k) || k < 0) throw this.#rtError(ST_MISUSE, `k must be a non-negative integer, got ${k}`);
    if (!Number.isInteger(explain) || explain < 0 || explain > 16)
      throw this.#rtError(ST_MISUSE, `explain must be an integer 0..16, got ${explain}`);
    if ((history === undefined) === (user === undefined))
      throw this.#rtError(ST_MISUSE, 'recommend needs exactly one of { history } or { user }');
    const kk = Math.min(k, this.itemCount);

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
      // One buffer: lens[n] (u32), then the found indices[n] (u32), then the UTF-8 ids back to
      // back, written straight into wasm memory (TextEncoder.encode per id costs more than the lookup).
      const ids = [];
      let cap = 0;
      for (const id of history) {
        const str = idString(id, 'item id');
        ids.push(str);
        cap += 3 * str.length;
      }
      if (ids.length) {
        const n = ids.length;
        owned = rt.alloc(8 * n + cap);
        const dv = new DataView(rt.memory());
        const u8 = rt.u8();
        let at = owned + 8 * n;
        ids.forEach((str, i) => {
          const len = writeUtf8(str, u8, at);
          dv.setUint32(owned + 4 * i, len, true);
          at += len;
        });
        histPtr = owned + 4 * n;
        histLen = rt.fn.ulm_wasm_items_find(h, owned + 8 * n, owned, n, histPtr);
      }
    }

    let out = 0;
    try {
      if (kk === 0) return [];
      out = rt.alloc(8 * kk + 4 * kk * explain);  // kk u32 indices, kk f32 scores, kk * explain reasons
      const why = out + 8 * kk;
      const status = rt.fn.ulm_wasm_recommend(h, histPtr, histLen, kk, explain, out, out + 4 * kk, why, rt.outs);
      if (status !== ST_OK) throw rt.error(status);
      const n = rt.u32(rt.outs);
      const dv = new DataView(rt.memory());
      const res = [];
      for (let i = 0; i < n; i++) {
        const idx = dv.getUint32(out + 4 * i, true);
        const rec = {
          item: rt.strCall(rt.fn.ulm_wasm_item_id, h, idx),
          score: dv.getFloat32(out + 4 * kk + 4 * i, true),
        };
        const name = rt.strCall(rt.fn.ulm_wasm_item_name, h, idx);
        if (name) rec.name = name;  // as the native command: only items that have a name
        const because = [];
        for (let r = 0; r < explain; r++) {
          const j = dv.getUint32(why + 4 * (i * explain + r), true);
          if (j === 0xffffffff) break;
          because.push(rt.strCall(rt.fn.ulm_wasm_item_id, h, j));
        }
        if (because.length) rec.because = because;  // as the native command: only when there are reasons
        res.push(rec);
      }
      return res;
    } finally {
      if (out) rt.fn.free(out);
      if (owned) rt.fn.free(owned);
    }
  }

  /** The bundle's recommender: 'pop', 'itemknn', 'als', 'bpr', 'ease', 'content' or 'hybrid'. */
  get recsAlgo() { return this.#rt.cstr(this.#rt.fn.ulm_wasm_recs_algo(this.#handle())); }

  /** Frees the model's wasm memory. Later calls throw UlmError ERR_MISUSE; close() again is a no-op. */
  close() {
    if (!this.#h) return;
    finalizer?.unregister(this);
    this.#rt.fn.ulm_wasm_free(this.#h);
    this.#h = 0;
  }
}

/**
 * Loads a model bundle (.ulm bytes) into the chosen wasm runtime.
 * options.runtime: 'emscripten' (default) or 'wasi'. options.wasm: the .wasm bytes or URL
 * to use instead of the file beside this module. Throws UlmError for a bad bundle.
 */
export async function loadModel(bytes, options = {}) {
  const data = toBytes(bytes);
  const rt = await runtime(options.runtime ?? DEFAULT_RUNTIME, options.wasm);
  return new Model(rt, rt.load(data));
}
