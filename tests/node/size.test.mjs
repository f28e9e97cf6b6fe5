// size.test.mjs: the browser build stays small. The Emscripten module a page loads (ulm-em.wasm plus
// its ulm-em.mjs glue, or the non-SIMD pair where SIMD is missing) must be at most 64 KB gzipped
// (gzip -9), the runtime budget; a build property, measured on the files ./run build made.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';

import { JS_DIR } from './fixture.mjs';

const LIMIT = 64 * 1024;
const gz = (f) => gzipSync(readFileSync(join(JS_DIR, f)), { level: 9 }).length;

for (const base of ['ulm-em', 'ulm-em-nosimd']) {
  test(`${base}.wasm + ${base}.mjs <= 64 KB gzipped`, () => {
    const wasm = gz(`${base}.wasm`), glue = gz(`${base}.mjs`);
    assert.ok(wasm + glue <= LIMIT, `${base}: ${wasm} + ${glue} = ${wasm + glue} bytes gzipped, over ${LIMIT}`);
  });
}
