// storefront.test.mjs: the storefront (web/storefront) in Debian's Chromium, driven by playwright-core,
// served by web/serve.mjs with a bundle trained here by the native command from the sample log.
// Checks: no console errors; recommendations equal the native `ulm recommend` for the visitor's
// history and change as the visitor views and buys; bought items are never recommended; after the
// first load no request carries event data (every request is recorded: only GETs of static files);
// a reload keeps the history; export gives the stored events; "forget me" erases them; a corrupt or
// missing bundle and a browser without IndexedDB show a clear message. Screenshots at 1280x800 and
// 360x740 go to build/screenshots/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

import { ROOT, JS_DIR, buildFixture, ulm, ulmPackage } from '../node/fixture.mjs';
import { startServer } from '../../web/serve.mjs';
import { visitorHistory } from '../../web/storefront/visitor.mjs';

const CHROMIUM = process.env.ULM_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'build', 'screenshots');
const K = 8;  // the storefront's row length
const DENY = 'POST,DOT,M,C2,D,PADS,AMAZONFEE,BANK CHARGES';
const STATIC = /^\/(|index\.html|app\.mjs|store\.mjs|worker\.mjs|visitor\.mjs|style\.css|bundle\.ulm|js\/[\w.-]+\.(mjs|wasm))$/;

let fx;
let browserDir;
const contexts = [];

async function launch(viewport = { width: 1280, height: 800 }, init) {
  const dir = mkdtempSync(join(browserDir, 'profile-'));
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, viewport, acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  contexts.push(ctx);
  if (init) await ctx.addInitScript(init);
  const page = ctx.pages()[0] ?? await ctx.newPage();
  const problems = [];
  const requests = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    if (/favicon\.ico/.test(m.location()?.url ?? '') || /dev-shm/.test(m.text())) return;  // TOOLCHAIN B2
    problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  ctx.on('request', (r) => requests.push({ method: r.method(), url: r.url(), post: r.postData() }));
  return { ctx, page, problems, requests };
}

// The storefront's "for you" row once the worker has answered the latest request.
async function forYou(page) {
  await page.waitForFunction(() => {
    const s = document.querySelector('#for-you');
    return s && s.dataset.seq && s.dataset.seq === document.body.dataset.recsSeq;
  });
  // Let any request already posted finish: the row is stable when two reads 50 ms apart agree.
  let prev = null;
  for (;;) {
    const cur = await page.$eval('#for-you', (s) => `${s.dataset.seq}|${s.dataset.items}`);
    if (cur === prev) return cur.split('|')[1].split(' ').filter(Boolean);
    prev = cur;
    await page.waitForTimeout(50);
  }
}
async function storedEvents(page) {
  await page.waitForFunction(() => (document.body.dataset.writes ?? '0') === '0');
  return page.evaluate(() => new Promise((ok, fail) => {
    const r = indexedDB.open('ulm-shop', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('events', { autoIncrement: true });
    r.onerror = () => fail(r.error);
    r.onsuccess = () => {
      const g = r.result.transaction('events').objectStore('events').getAll();
      g.onsuccess = () => { r.result.close(); ok(g.result); };
      g.onerror = () => fail(g.error);
    };
  }));
}
// The scorer's history, as app.mjs builds it: purchases, cart adds, views; most recent first; once each.
function historyOf(events) {
  const seen = new Set();
  const out = [];
  for (const type of ['purchase', 'cart', 'view'])
    for (const e of [...events].reverse()) if (e.type === type && e.item && !seen.has(e.item)) { seen.add(e.item); out.push(e.item); }
  return out;
}
function nativeRecs(history) {
  const args = ['recommend', fx.bundlePath, '--k', String(K), '--json'];
  const out = JSON.parse(ulm(...args, '--history', history.length ? history.join(',') : 'no-such-item'));
  return out.items.map((r) => r.item);
}

before(() => {
  browserDir = mkdtempSync(join(tmpdir(), 'ulm-browser-'));
  // Trained as ./run demo trains: postage, fees and adjustments are never recommended.
  fx = buildFixture();
  // The demo's bundle: item-kNN recommender, profiler and a churn model, so every row and panel has values.
  ulm('train', fx.store, '--out', fx.bundlePath, '--deny', DENY, '--recs', 'itemknn', '--churn', 'logreg',
    '--cutoff', '2011-09-01', '--horizon', '90', '--no-user-table', '--offers', join(ROOT, 'examples', 'offers.json'));
  fx.bytes = new Uint8Array(readFileSync(fx.bundlePath));
  mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  fx?.cleanup();
  if (browserDir) rmSync(browserDir, { recursive: true, force: true });
});

describe('storefront with a good bundle', () => {
  let srv;
  let b;
  let firstLoadRequests;
  before(async () => {
    srv = await startServer({ bundle: fx.bundlePath, js: JS_DIR });
    b = await launch();
  });
  after(() => srv?.close());

  test('first load: no console errors, cold-start row is the popularity ranking, page weight', async () => {
    const { page, problems, requests } = b;
    await page.goto(srv.url);
    await page.waitForSelector('body[data-state="ready"]');
    const cold = await forYou(page);
    assert.deepEqual(cold, nativeRecs([]), 'cold start = the bundle popularity top-K (native command)');
    assert.equal(await page.$eval('#for-you h2', (e) => e.textContent), 'Popular right now');
    assert.ok((await page.$$('#best .card')).length >= 12, 'best sellers grid is filled');
    const prices = await page.$$eval('#best .price', (es) => es.map((e) => e.textContent));
    assert.ok(prices.every((p) => /^£\d/.test(p)), `prices shown: ${prices.slice(0, 3)}`);
    assert.deepEqual(problems, []);
    firstLoadRequests = requests.length;
    const bytes = srv.log.bytes;
    console.log(`# page weight, first load: ${bytes} bytes in ${srv.log.length} responses (gzip where accepted): ` +
      srv.log.map((r) => `${r.path} ${r.bytes}`).join(', '));
    assert.ok(srv.log.every((r) => r.status === 200), JSON.stringify(srv.log));
    await page.screenshot({ path: join(SHOTS, 'storefront-desktop-home-new-visitor.png') });
  });

  test('viewing, carting and buying change the recommendations; bought items are not recommended', async () => {
    const { page, problems } = b;
    const before = await forYou(page);
    // View the most popular product (first card of "for you"): it leaves the row.
    await page.click(`#for-you .card >> nth=0`);
    await page.waitForSelector('body[data-page="p"] #add-to-cart');
    const viewed = decodeURIComponent(page.url().split('#/p/')[1]);
    let rec = await forYou(page);
    assert.notDeepEqual(rec, before);
    assert.ok(!rec.includes(viewed), 'a viewed item is not recommended');
    let events = await storedEvents(page);
    assert.deepEqual(rec, nativeRecs(historyOf(events)));
    await page.screenshot({ path: join(SHOTS, 'storefront-desktop-product.png') });

    // Add it twice to the cart, buy, then buy a second product found by searching.
    await page.fill('#qty', '2');
    await page.click('#add-to-cart');
    await page.waitForFunction(() => document.querySelector('#cart-count').textContent === '2');
    await page.goto(`${srv.url}#/cart`);
    await page.click('#to-checkout');
    await page.click('#place-order');
    await page.waitForSelector('body[data-page="thanks"]');
    rec = await forYou(page);
    events = await storedEvents(page);
    const bought = events.filter((e) => e.type === 'purchase').map((e) => e.item);
    assert.deepEqual(bought, [viewed]);
    assert.ok(!rec.some((i) => bought.includes(i)), 'bought items are not recommended');
    assert.deepEqual(rec, nativeRecs(historyOf(events)));

    const second = rec[2];
    await page.click(`#for-you .card[data-item="${second}"]`);
    await page.click('#add-to-cart');
    await page.waitForFunction(() => document.querySelector('#cart-count').textContent === '1');
    await page.goto(`${srv.url}#/checkout`);
    await page.click('#place-order');
    await page.waitForSelector('body[data-page="thanks"]');
    rec = await forYou(page);
    events = await storedEvents(page);
    assert.ok(!rec.includes(viewed) && !rec.includes(second));
    assert.deepEqual(rec, nativeRecs(historyOf(events)));
    assert.deepEqual(events.map((e) => e.type), ['view', 'cart', 'purchase', 'view', 'cart', 'purchase']);
    assert.deepEqual(problems, []);
  });

  test('"what the shop would know": segment, stage, churn risk and CLV equal model.profile()/churn() in Node', async () => {
    const { page, problems } = b;
    await page.goto(`${srv.url}#/`);
    await forYou(page);
    await page.waitForFunction(() => {
      const k = document.querySelector('#know');
      return k && k.dataset.seq === document.body.dataset.recsSeq && k.dataset.asOf;
    });
    const shown = await page.$$eval('#know dd', (es) => Object.fromEntries(es.map((e) => [e.dataset.key, { text: e.textContent, value: e.dataset.value }])));
    const asOf = Number(await page.$eval('#know', (e) => e.dataset.asOf));
    const events = await storedEvents(page);
    const { profile, churn } = visitorHistory(events);
    assert.ok(profile.length === events.length && churn.length === events.length, 'every event counts');
    const { loadModel } = await ulmPackage();
    const m = await loadModel(fx.bytes);
    const p = m.profile({ history: profile, asOf });
    const c = m.churn({ history: churn, asOf, reasons: 1 });
    assert.ok(p.stage && p.segment >= 0 && p.clv > 0, `the visitor bought, so has a stage, segment and CLV: ${JSON.stringify(p)}`);
    assert.deepEqual(JSON.parse(shown.segment.value), { rfmSegment: p.rfmSegment, segment: p.segment });
    assert.ok(shown.segment.text.includes(p.segmentDescription) && shown.segment.text.includes(p.rfmSegment));
    assert.equal(JSON.parse(shown.stage.value), p.stage);
    assert.equal(shown.stage.text, p.stage);
    assert.deepEqual(JSON.parse(shown.churn.value), { probability: c.probability, reason: c.reasons[0].text });
    assert.ok(shown.churn.text.startsWith(`${(100 * c.probability).toFixed(1)}%`) && shown.churn.text.includes(c.reasons[0].text));
    assert.equal(JSON.parse(shown.clv.value), p.clv);
    const r = m.score({ history: profile, asOf, k: 0 });
    m.close();
    assert.ok(r.offer, 'the bundle carries offers, so score() answers with one');
    const want = r.offer.offer ?? (r.offer.control ? 'held out (control group)' : 'none worth its cost');
    assert.equal(JSON.parse(shown.offer.value), want);
    assert.equal(shown.offer.text, want);
    assert.deepEqual(problems, []);
    await page.screenshot({ path: join(SHOTS, 'storefront-desktop-know-panel.png'), fullPage: true });
  });

  test('"bought together" and "because you viewed" are the recommender\'s neighbours of one item', async () => {
    const { page, problems } = b;
    const events = await storedEvents(page);
    const viewed = events.filter((e) => e.type === 'view').at(-1).item;
    await page.goto(`${srv.url}#/`);
    await forYou(page);
    await page.waitForFunction(() => document.querySelector('#because-viewed')?.dataset.seq === document.body.dataset.recsSeq);
    const because = await page.$eval('#because-viewed', (e) => e.dataset.items.split(' '));
    const native = (item) => JSON.parse(ulm('recommend', fx.bundlePath, '--k', String(K), '--json', '--history', item)).items.map((r) => r.item);
    assert.deepEqual(because, native(viewed));
    const seq = Number(await page.evaluate(() => document.body.dataset.recsSeq));
    await page.goto(`${srv.url}#/p/${encodeURIComponent(viewed)}`);
    // the row once the worker has answered a request made on the product page, stable over two reads
    let together = null;
    for (let prev = null; ;) {
      await page.waitForFunction((before) => {
        const s = document.querySelector('#bought-together');
        return s && s.dataset.items && Number(document.body.dataset.recsSeq) > before && s.dataset.seq === document.body.dataset.recsSeq;
      }, seq);
      const cur = await page.$eval('#bought-together', (e) => `${e.dataset.seq}|${e.dataset.items}`);
      if (cur === prev) { together = cur.split('|')[1].split(' '); break; }
      prev = cur;
      await page.waitForTimeout(50);
    }
    assert.deepEqual(together, native(viewed));
    assert.deepEqual(problems, []);
  });

  test('search by keyboard: skip link, search box, results over item names', async () => {
    const { page, problems } = b;
    await page.goto(`${srv.url}#/`);
    await page.reload();
    await page.waitForSelector('body[data-state="ready"]');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'q');
    await page.keyboard.type('heart');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#results .card');
    const names = await page.$$eval('#results .card .name', (es) => es.map((e) => e.textContent.toLowerCase()));
    assert.ok(names.length > 0 && names.every((n) => n.includes('heart')), names.join('; '));
    const events = await storedEvents(page);
    assert.deepEqual(events.at(-1).type, 'search');
    assert.equal(events.at(-1).query, 'heart');
    // Keyboard into a product: focus the first result and press Enter.
    await page.focus('#results .card >> nth=0');
    await page.keyboard.press('Enter');
    await page.waitForSelector('body[data-page="p"]');
    await forYou(page);
    assert.deepEqual(problems, []);
  });

  test('after the first load no request carries event data: only GETs of static files', async () => {
    const { page, requests } = b;
    const later = requests.slice(firstLoadRequests);
    const events = await storedEvents(page);
    const secrets = [...new Set(events.flatMap((e) => [e.item, e.query]).filter(Boolean))];
    for (const r of requests) {
      const u = new URL(r.url);
      assert.equal(r.method, 'GET', r.url);
      assert.equal(r.post ?? null, null, r.url);
      assert.equal(u.origin, new URL(srv.url).origin, r.url);
      assert.equal(u.search, '', r.url);
      assert.match(u.pathname, STATIC, r.url);
    }
    for (const r of later) for (const s of secrets) assert.ok(!r.url.includes(encodeURIComponent(s)), `${r.url} carries ${s}`);
    for (const r of srv.log) {
      assert.equal(r.method, 'GET', r.path);
      assert.match(r.path, STATIC);
    }
  });

  test('a reload keeps the history; export gives the stored events', async () => {
    const { page, problems } = b;
    await page.goto(`${srv.url}#/`);
    const rec = await forYou(page);
    const events = await storedEvents(page);
    await page.reload();
    await page.waitForSelector('body[data-state="ready"]');
    assert.deepEqual(await forYou(page), rec);
    assert.deepEqual(await storedEvents(page), events);
    assert.equal(await page.$eval('#for-you h2', (e) => e.textContent), 'For you');
    await page.screenshot({ path: join(SHOTS, 'storefront-desktop-home-returning.png'), fullPage: true });
    await page.goto(`${srv.url}#/privacy`);
    assert.equal(await page.$$eval('#events-table tbody tr', (r) => r.length), events.length);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
    assert.deepEqual(exported.events, events);
    assert.equal(exported.storage, 'indexeddb');
    await page.screenshot({ path: join(SHOTS, 'storefront-desktop-privacy.png'), fullPage: true });
    assert.deepEqual(problems, []);
  });

  test('phone size (360x740): readable, no horizontal scrolling', async () => {
    const { page, problems } = b;
    await page.setViewportSize({ width: 360, height: 740 });
    for (const [hash, name] of [['#/', 'home'], [`#/p/${encodeURIComponent((await storedEvents(page))[0].item)}`, 'product'], ['#/cart', 'cart']]) {
      await page.goto(`${srv.url}${hash}`);
      await page.waitForSelector('body[data-state="ready"]');
      if (name !== 'cart') await forYou(page);
      if (name === 'product') {  // so that the cart shot shows a line
        await page.click('#add-to-cart');
        await page.waitForFunction(() => document.querySelector('#cart-count').textContent === '1');
      }
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 360, `${name}: page is ${width} px wide at 360`);
      const font = await page.$eval('main', (m) => parseFloat(getComputedStyle(m).fontSize));
      assert.ok(font >= 14, `${name}: font ${font}px`);
      await page.screenshot({ path: join(SHOTS, `storefront-phone-${name}.png`) });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    assert.deepEqual(problems, []);
  });

  test('"forget me" erases everything, also after a reload', async () => {
    const { page, problems } = b;
    await page.goto(`${srv.url}#/privacy`);
    await page.click('#forget');
    await page.waitForSelector('#no-events');
    assert.deepEqual(await storedEvents(page), []);
    await page.reload();
    await page.waitForSelector('body[data-state="ready"]');
    assert.deepEqual(await storedEvents(page), []);
    assert.equal(await page.$eval('#cart-count', (e) => e.textContent), '0');
    await page.goto(`${srv.url}#/`);
    assert.deepEqual(await forYou(page), nativeRecs([]));
    assert.deepEqual(problems, []);
  });
});

describe('web/serve.mjs', () => {
  test('content types, COOP/COEP, GET only, no path escapes, 127.0.0.1', async () => {
    const srv = await startServer({ bundle: fx.bundlePath, js: JS_DIR });
    try {
      assert.match(srv.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      for (const [path, type] of [['', 'text/html; charset=utf-8'], ['app.mjs', 'text/javascript; charset=utf-8'],
        ['js/ulm.mjs', 'text/javascript; charset=utf-8'], ['js/ulm-em.wasm', 'application/wasm'],
        ['js/ulm-wasi.wasm', 'application/wasm'], ['style.css', 'text/css; charset=utf-8'], ['bundle.ulm', 'application/octet-stream']]) {
        const r = await fetch(srv.url + path);
        assert.equal(r.status, 200, path);
        assert.equal(r.headers.get('content-type'), type, path);
        assert.equal(r.headers.get('cross-origin-opener-policy'), 'same-origin');
        assert.equal(r.headers.get('cross-origin-embedder-policy'), 'require-corp');
        assert.match(r.headers.get('content-security-policy'), /connect-src 'self'/);
        if (path === 'bundle.ulm') assert.deepEqual(new Uint8Array(await r.arrayBuffer()), fx.bytes);
        else await r.arrayBuffer();
      }
      assert.equal((await fetch(srv.url, { method: 'POST', body: 'x' })).status, 405);
      assert.equal((await fetch(`${srv.url}nope.mjs`)).status, 404);
      // Raw request paths (fetch would normalise the dots away): nothing outside the served folders.
      const port = new URL(srv.url).port;
      const rawGet = (path) => new Promise((ok, fail) => {
        http.get({ host: '127.0.0.1', port, path }, (r) => { r.resume(); r.on('end', () => ok(r.statusCode)); }).on('error', fail);
      });
      assert.equal(await rawGet('/app.mjs'), 200);
      for (const p of ['/../serve.mjs', '/js/../../package.json', '/%2e%2e/serve.mjs', '/js/..%2f..%2f..%2fpackage.json', '/js/%2e%2e/%2e%2e/run'])
        assert.equal(await rawGet(p), 404, p);
    } finally { await srv.close(); }
  });
});

describe('storefront with bad input', () => {
  test('a corrupt bundle shows a clear message', async () => {
    const bytes = new Uint8Array(fx.bytes);
    bytes[Math.floor(bytes.length / 2)] ^= 0x20;
    const bad = join(browserDir, 'corrupt.ulm');
    writeFileSync(bad, bytes);
    const srv = await startServer({ bundle: bad, js: JS_DIR });
    try {
      const { page, problems } = await launch();
      await page.goto(srv.url);
      await page.waitForSelector('body[data-state="error"] #shop-error');
      const text = await page.textContent('#shop-error');
      assert.match(text, /damaged/);
      assert.match(text, /ERR_CHECKSUM|ERR_FORMAT/);
      assert.deepEqual(problems, []);
      await page.screenshot({ path: join(SHOTS, 'storefront-desktop-corrupt-bundle.png') });
    } finally { await srv.close(); }
  });

  test('a missing bundle shows a clear message', async () => {
    const srv = await startServer({ bundle: join(browserDir, 'nothing-here.ulm'), js: JS_DIR });
    try {
      const { page } = await launch();
      await page.goto(srv.url);
      await page.waitForSelector('body[data-state="error"] #shop-error');
      assert.match(await page.textContent('#shop-error'), /no model bundle/);
    } finally { await srv.close(); }
  });

  test('without IndexedDB the shop keeps events in memory and says so', async () => {
    const srv = await startServer({ bundle: fx.bundlePath, js: JS_DIR });
    try {
      const { page, problems } = await launch({ width: 360, height: 740 }, () => {
        Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
      });
      await page.goto(srv.url);
      await page.waitForSelector('body[data-state="ready"]');
      assert.match(await page.textContent('#notice'), /Private mode/);
      assert.ok(await page.isVisible('#notice'));
      const cold = await forYou(page);
      await page.click('#for-you .card >> nth=0');
      await page.waitForSelector('#add-to-cart');
      assert.notDeepEqual(await forYou(page), cold);
      await page.goto(`${srv.url}#/privacy`);
      assert.match(await page.textContent('main'), /memory only/);
      assert.equal(await page.$$eval('#events-table tbody tr', (r) => r.length), 1);
      assert.deepEqual(problems, []);
      await page.screenshot({ path: join(SHOTS, 'storefront-phone-private-mode.png') });
    } finally { await srv.close(); }
  });
});
