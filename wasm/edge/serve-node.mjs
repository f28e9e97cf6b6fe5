// serve-node.mjs: runs a WinterCG worker ({ fetch(request) }) on Node's http server, for local
// development and the tests. Binds to 127.0.0.1 only.
//
//   node wasm/edge/serve-node.mjs build/demo/shop.ulm [--port 8787] [--runtime wasi|emscripten]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

/** Serves worker on 127.0.0.1:port (0 = any free port); resolves to { server, url }. */
export function serve(worker, port = 0) {
  const server = createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = ['GET', 'HEAD'].includes(req.method) ? undefined : Buffer.concat(chunks);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url}`, { method: req.method, headers, body });
      const response = await worker.fetch(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'ERR_IO', message: String(e?.message ?? e) } }));
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => {
    resolve({ server, url: `http://127.0.0.1:${server.address().port}` });
  }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
  const bundlePath = args.find((a, i) => !a.startsWith('--') && !['--port', '--runtime'].includes(args[i - 1]));
  if (!bundlePath) { console.error('usage: node serve-node.mjs MODEL.ulm [--port 8787] [--runtime wasi|emscripten]'); process.exit(2); }
  const { createHandler } = await import(new URL('./edge.mjs', import.meta.url).href);
  const bytes = new Uint8Array(await readFile(bundlePath));
  const { url } = await serve(createHandler({ bundle: bytes, runtime: opt('--runtime', 'wasi') }), Number(opt('--port', 8787)));
  console.log(`ulm edge worker on ${url} (POST /v1/recommend, GET /v1/health)`);
}
