#!/usr/bin/env node
// serve.mjs: a small static server for local use, bound to 127.0.0.1.
//   node web/serve.mjs [--bundle build/demo/shop.ulm] [--js build/js] [--port 8080]
// Serves the storefront (web/storefront/) at /, the JS package (build/js) at /js/ and the chosen
// model bundle at /bundle.ulm. Only GET and HEAD; Content-Type from the resolved file's extension
// (.mjs text/javascript, .wasm application/wasm); COOP/COEP/CORP headers (cross-origin isolated)
// and a Content-Security-Policy that lets the page talk to this origin only. Compressible files
// go out gzipped when the client accepts it. No request is logged to disk; nothing is stored.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ulm': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.mjs', '.js', '.css', '.json', '.wasm', '.ulm', '.svg', '.txt']);

const HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
    "style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'",
  'Cache-Control': 'no-cache',
};

/**
 * Starts the server. Returns { server, url, log, close() }; log holds one entry per request
 * ({ method, path, status, bytes }) for tests, and log.bytes the body bytes sent in all.
 */
export async function startServer({ bundle, js = join(ROOT, 'build', 'js'), site = join(HERE, 'storefront'), port = 0 } = {}) {
  const mounts = [['/js/', resolve(js)], ['/', resolve(site)]];
  const cache = new Map();  // path -> { mtimeMs, raw, gz }
  const log = [];
  log.bytes = 0;

  async function load(file) {
    const st = await stat(file);
    if (!st.isFile()) return null;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit;
    const raw = await readFile(file);
    const entry = { mtimeMs: st.mtimeMs, size: st.size, raw, gz: null };
    if (COMPRESSIBLE.has(extname(file)) && raw.length > 512) {
      const gz = gzipSync(raw, { level: 9 });
      if (gz.length < raw.length) entry.gz = gz;
    }
    cache.set(file, entry);
    return entry;
  }

  function resolvePath(urlPath) {
    if (urlPath === '/bundle.ulm') return bundle ? resolve(bundle) : null;
    for (const [prefix, dir] of mounts) {
      if (!urlPath.startsWith(prefix)) continue;
      let rel = urlPath.slice(prefix.length);
      if (rel === '' || rel.endsWith('/')) rel += 'index.html';
      const file = resolve(dir, rel);
      if (file !== dir && !file.startsWith(dir + sep)) return null;  // no escaping the mount
      return file;
    }
    return null;
  }

  const server = createServer(async (req, res) => {
    const entry = { method: req.method, path: req.url, status: 0, bytes: 0 };
    log.push(entry);
    const send = (status, headers, body) => {
      entry.status = status;
      res.writeHead(status, { ...HEADERS, ...headers });
      if (body && req.method !== 'HEAD') { entry.bytes = body.length; log.bytes += body.length; res.end(body); } else res.end();
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      return send(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }, Buffer.from('method not allowed\n'));
    }
    let urlPath;
    try { urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname); } catch { urlPath = null; }
    const file = urlPath && !urlPath.includes('\0') ? resolvePath(urlPath) : null;
    let data = null;
    try { data = file ? await load(file) : null; } catch { data = null; }
    if (!data) return send(404, { 'Content-Type': 'text/plain; charset=utf-8' }, Buffer.from(`not found: ${urlPath}\n`));
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const gzip = data.gz && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    send(200, { 'Content-Type': type, ...(gzip ? { 'Content-Encoding': 'gzip' } : {}), Vary: 'Accept-Encoding' },
      gzip ? data.gz : data.raw);
  });
  await new Promise((ok, fail) => { server.once('error', fail); server.listen(port, '127.0.0.1', ok); });
  const url = `http://127.0.0.1:${server.address().port}/`;
  return { server, url, log, close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(ok); }) };
}

function parseArgs(argv) {
  const opt = { bundle: join(ROOT, 'build', 'demo', 'shop.ulm'), port: 8080 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => { if (i + 1 >= argv.length) throw new Error(`${a} needs a value`); return argv[++i]; };
    if (a === '--bundle') opt.bundle = val();
    else if (a === '--js') opt.js = val();
    else if (a === '--port') opt.port = Number(val());
    else if (a === '--help' || a === '-h') opt.help = true;
    else throw new Error(`unknown option ${a} (try --help)`);
  }
  if (!Number.isInteger(opt.port) || opt.port < 0 || opt.port > 65535) throw new Error('--port must be 0..65535');
  return opt;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opt;
  try { opt = parseArgs(process.argv.slice(2)); } catch (e) { console.error(`serve.mjs: ${e.message}`); process.exit(2); }
  if (opt.help) {
    console.log('usage: node web/serve.mjs [--bundle FILE.ulm] [--js DIR] [--port N]\n' +
      'Serves the storefront on http://127.0.0.1:N/ (default 8080) with the bundle at /bundle.ulm.');
    process.exit(0);
  }
  try { await stat(opt.bundle); } catch { console.error(`serve.mjs: warning: no bundle at ${opt.bundle} (the page will say so); run ./run demo`); }
  let url;
  try {
    ({ url } = await startServer(opt));
  } catch (e) {
    console.error(`serve.mjs: cannot listen on 127.0.0.1:${opt.port} (${e.code ?? e.message}); try --port N`);
    process.exit(1);
  }
  console.log(`storefront: ${url}  (bundle ${opt.bundle}; Ctrl-C stops)`);
}
