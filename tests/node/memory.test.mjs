// memory.test.mjs: a bundle's bytes cost about their own size in wasm linear memory. The memory target
// (at most 1.5x the bundle) rests on the allocation the bundle is copied into: ulm_wasm_bytes_alloc must
// grow the Emscripten heap by the block and the growth step, not twice the block (emmalloc's aligned
// allocator did that whenever the heap's top was not 64-aligned, which a few bytes of static data decide).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';

import { JS_DIR } from './fixture.mjs';

for (const base of ['ulm-em', 'ulm-em-nosimd']) {
  test(`${base}: the bytes of an 8 MB bundle grow linear memory by about 8 MB, 64-byte aligned`, async () => {
    const { default: create } = await import(pathToFileURL(join(JS_DIR, `${base}.mjs`)).href);
    const M = await create({ wasmBinary: readFileSync(join(JS_DIR, `${base}.wasm`)) });
    const before = M.HEAPU8.buffer.byteLength, len = 8 * 1024 * 1024 + 12345;
    const buf = M._ulm_wasm_bytes_alloc(len);
    assert.ok(buf > 0 && buf % 64 === 0, `address ${buf}`);
    const grown = M.HEAPU8.buffer.byteLength - before;
    assert.ok(M.HEAPU8.buffer.byteLength >= buf + len, 'the block lies outside linear memory');
    assert.ok(grown <= len * 1.1 + 65536, `grew by ${grown} bytes for ${len}`);
    // Not a bundle: the loader refuses it and frees the block (the same block is then reused, no growth).
    M.HEAPU8.fill(0, buf, buf + 64);
    const diag = M._malloc(M._ulm_wasm_diag_size());
    assert.equal(M._ulm_wasm_load(buf, len, diag), 0);
    const size = M.HEAPU8.buffer.byteLength;
    const again = M._ulm_wasm_bytes_alloc(len);
    assert.ok(again > 0 && again % 64 === 0);
    assert.equal(M.HEAPU8.buffer.byteLength, size, 'the freed block was not reused');
  });
}
