// edge.test.mjs: the edge worker (wasm/edge/edge.mjs, a WinterCG fetch handler) served through Node
// on 127.0.0.1 and sent real HTTP requests: answers equal the native command's, errors are JSON
// with the right HTTP status, and a broken bundle gives 503 instead of a crash.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildFixture, JS_DIR, jsonLines, ulm } from './fixture.mjs';

let fx, srv, url, edge, serve;
before(async () => {
  fx = buildFixture();
  edge = await import(pathToFileURL(join(JS_DIR, 'edge.mjs')).href);
  ({ serve } = await import(pathToFileURL(join(JS_DIR, 'serve-node.mjs')).href));
  ({ server: srv, url } = await serve(edge.createHandler({ bundle: fx.bytes, runtime: 'wasi' })));
});
after(() => { srv?.close(); fx?.cleanup(); });

const post = (body, path = '/v1/recommend') =>
  fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

test('POST /v1/recommend equals the native command for many visitors', async () => {
  const native = jsonLines(ulm('recommend', fx.bundlePath, '--users', 'all', '--k', '8')).slice(0, 120);
  for (const ref of native) {
    const res = await post({ history: ref.history, k: 8 });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /application\/json/);
    const body = await res.json();
    assert.deepEqual(body.items.map((i) => i.item), ref.items.map((i) => i.item), `user ${ref.user}`);
    body.items.forEach((it, j) => assert.equal(it.score, Math.fround(ref.items[j].score)));
    assert.equal(body.unknown_items, 0);
  }
});

test('unknown ids are counted; health; errors are JSON with the right status', async () => {
  const r = await (await post({ history: ['NOPE', '85123A'], k: 2 })).json();
  assert.equal(r.unknown_items, 1);
  assert.equal(r.items.length, 2);
  const h = await (await fetch(url + '/v1/health')).json();
  assert.equal(h.ok, true);
  assert.ok(h.items > 1000);
  assert.equal(h.runtime, 'wasi');
  const cases = [
    [post('not json'), 400, 'ERR_PARSE'], [post('[1]'), 400, 'ERR_PARSE'], [post({ history: [1] }), 400, 'ERR_MISUSE'],
    [post({ history: [], k: -1 }), 400, 'ERR_MISUSE'], [post({}, '/v1/nothing'), 404, 'ERR_NOT_FOUND'],
    [fetch(url + '/v1/recommend'), 405, 'ERR_MISUSE'], [post('x'.repeat(70000)), 413, 'ERR_RANGE'],
  ];
  for (const [p, status, code] of cases) {
    const res = await p;
    assert.equal(res.status, status);
    assert.equal((await res.json()).error.code, code);
  }
});

test('a damaged bundle answers 503 with the status name, and the worker keeps serving', async () => {
  const bad = fx.bytes.slice(0, fx.bytes.length - 10);
  const { server, url: u } = await serve(edge.createHandler({ bundle: bad, runtime: 'emscripten' }));
  try {
    for (let i = 0; i < 2; i++) {
      const res = await fetch(u + '/v1/health');
      assert.equal(res.status, 503);
      assert.equal((await res.json()).error.code, 'ERR_TRUNCATED');
    }
  } finally { server.close(); }
});
