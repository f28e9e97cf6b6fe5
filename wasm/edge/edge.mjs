// edge.mjs: ulm as an edge worker. A standard fetch(request) handler, the WinterCG shape that
// Cloudflare Workers, Deno Deploy, Fastly and Vercel Edge all call, scoring the visitor's own
// features carried in the request. Nothing about the visitor is stored or logged: the answer is
// computed from the request body and the bundle alone.
//
//   import { createHandler } from './edge.mjs';
//   export default createHandler({ bundle: () => env.ULM_BUNDLE });   // bytes, or a URL to fetch once
//
// Routes:
//   POST /v1/recommend  {"history":["85123A","71053"],"k":10}  -> {"items":[{"item","score","name"}],"unknown_items":0}
//   POST /v1/score      {"history":[{"item","type","time",...}],"user","k",...} -> model.score()'s answer
//   GET  /v1/health                                              -> {"ok":true,"items":N,"recs":"pop","runtime":"wasi"}
// Errors are JSON too: {"error":{"code":"ERR_MISUSE","message":"..."}} with 400 (bad request),
// 404 (no such route), 405 (wrong method), 413 (body over 64 KiB), 503 (bundle failed to load).
import { loadModel, UlmError } from './ulm.mjs';

const MAX_BODY = 64 * 1024;
const MAX_HISTORY = 10000;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

const reply = (status, body) => new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
const fail = (status, code, message) => reply(status, { error: { code, message } });

// Loads the bundle once per isolate; concurrent first requests share the same promise.
function modelLoader(opts) {
  let pending = null;
  return () => {
    pending ??= (async () => {
      let src = typeof opts.bundle === 'function' ? await opts.bundle() : opts.bundle;
      if (typeof src === 'string' || src instanceof URL) {
        const res = await fetch(src);
        if (!res.ok) throw new Error(`bundle fetch failed: HTTP ${res.status}`);
        src = new Uint8Array(await res.arrayBuffer());
      }
      return loadModel(src, { runtime: opts.runtime ?? 'wasi', wasm: opts.wasm });
    })();
    pending.catch(() => { pending = null; }); // a failed load is retried by the next request
    return pending;
  };
}

// Reads and validates the JSON body of a recommend request.
async function readRecommend(request) {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY) return { error: fail(413, 'ERR_RANGE', `body over ${MAX_BODY} bytes`) };
  const text = await request.text();
  if (text.length > MAX_BODY) return { error: fail(413, 'ERR_RANGE', `body over ${MAX_BODY} bytes`) };
  let body;
  try { body = JSON.parse(text); } catch { return { error: fail(400, 'ERR_PARSE', 'the body is not JSON') }; }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { error: fail(400, 'ERR_PARSE', 'the body must be a JSON object') };
  const { history = [], k = 10 } = body;
  if (!Array.isArray(history) || history.length > MAX_HISTORY || !history.every((h) => typeof h === 'string'))
    return { error: fail(400, 'ERR_MISUSE', `"history" must be an array of at most ${MAX_HISTORY} item id strings`) };
  if (!Number.isInteger(k) || k < 0 || k > 1000)
    return { error: fail(400, 'ERR_MISUSE', '"k" must be a whole number from 0 to 1000') };
  return { history, k };
}

// POST /v1/score: the body is model.score()'s request (history, user, k, now, ...), the answer its result.
async function score(m, request) {
  const declared = Number(request.headers.get('content-length') ?? 0);
  const text = declared > MAX_BODY ? '' : await request.text();
  if (declared > MAX_BODY || text.length > MAX_BODY) return fail(413, 'ERR_RANGE', `body over ${MAX_BODY} bytes`);
  let body;
  try { body = JSON.parse(text); } catch { return fail(400, 'ERR_PARSE', 'the body is not JSON'); }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return fail(400, 'ERR_PARSE', 'the body must be a JSON object');
  const { history = [], user, k = 10, explain, reasons, now, allow, categories, notCategories, queries } = body;
  if (!Array.isArray(history) || history.length > MAX_HISTORY)
    return fail(400, 'ERR_MISUSE', `"history" must be an array of at most ${MAX_HISTORY} events`);
  try {
    return reply(200, m.score({ history, user, k, explain, reasons, now, allow, categories, notCategories, queries }));
  } catch (e) {
    if (e instanceof UlmError || e instanceof TypeError) return fail(400, e.code ?? 'ERR_MISUSE', e.message);
    throw e;
  }
}

/** Returns a WinterCG worker object { fetch(request) } serving one bundle. */
export function createHandler(opts) {
  if (!opts || opts.bundle == null) throw new TypeError('createHandler needs { bundle }');
  const model = modelLoader(opts);
  return {
    async fetch(request) {
      const { pathname } = new URL(request.url);
      const routes = { '/v1/recommend': 'POST', '/v1/score': 'POST', '/v1/health': 'GET' };
      if (!(pathname in routes)) return fail(404, 'ERR_NOT_FOUND', `no route ${pathname}`);
      if (request.method !== routes[pathname]) return fail(405, 'ERR_MISUSE', `${pathname} takes ${routes[pathname]}`);
      let m;
      try { m = await model(); } catch (e) {
        return fail(503, e instanceof UlmError ? e.code : 'ERR_IO', `model unavailable: ${e.message}`);
      }
      if (pathname === '/v1/health')
        return reply(200, { ok: true, items: m.itemCount, recs: m.meta('model.recs'), runtime: m.runtime });
      if (pathname === '/v1/score') return score(m, request);
      const req = await readRecommend(request);
      if (req.error) return req.error;
      const unknown = req.history.filter((id) => !m.hasItem(id)).length;
      const items = m.recommend({ history: req.history, k: req.k });
      return reply(200, { items, unknown_items: unknown });
    },
  };
}
