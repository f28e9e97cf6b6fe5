// dashboard.test.mjs: the operations dashboard (web/dashboard, bundled into build/dashboard by ./run build)
// written by the native `ulm dashboard` from a store, a bundle with churn + profiler + item-kNN, the
// recommender evaluation of two algorithms and a campaign plan, opened in Debian's Chromium from file://
// with every non-file request refused. Checks: no console errors; every chart has data points and
// non-blank pixels; the headline numbers on the page equal data.json; the stage flow uses the previous
// run; a folder of an older / newer data version says so; a bundle without churn shows "not in this
// bundle". Screenshots at 1280x800 and 360x740 go to build/screenshots/; the page weight is printed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { chromium } from 'playwright-core';

import { ROOT, dataFile, ulm } from '../node/fixture.mjs';

const CHROMIUM = process.env.ULM_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = join(ROOT, 'build', 'screenshots');
const ASSETS = join(ROOT, 'build', 'dashboard');
const DENY = 'POST,DOT,M,C2,D,PADS,AMAZONFEE,BANK CHARGES';
const CHARTS = ['segments', 'rfm-segments', 'rfm-grid', 'stages', 'flow', 'churn', 'clv', 'recs', 'campaign'];

let dir;
let browser;
const out = {};

before(async () => {
  assert.ok(existsSync(join(ASSETS, 'dashboard.js')), `${ASSETS}/dashboard.js missing: run ./run build`);
  dir = mkdtempSync(join(tmpdir(), 'ulm-dash-'));
  const store = join(dir, 's.store');
  ulm('ingest', dataFile(), '--out', store);
  ulm('train', store, '--out', join(dir, 'full.ulm'), '--deny', DENY, '--recs', 'itemknn', '--churn', 'logreg',
    '--cutoff', '2011-09-01', '--horizon', '90', '--no-user-table');
  ulm('train', store, '--out', join(dir, 'plain.ulm'), '--deny', DENY, '--no-user-table');
  const evals = ['itemknn', 'pop'].map((a) => JSON.parse(ulm('eval', 'recs', store, '--split', 'leave-last', '--algo', a, '--json')));
  writeFileSync(join(dir, 'recs_eval.json'), JSON.stringify(evals));
  writeFileSync(join(dir, 'campaign.json'), ulm('campaign', 'plan', store, '--model', join(dir, 'full.ulm'),
    '--offers', join(ROOT, 'examples', 'offers.json'), '--out', join(dir, 'plan.csv'), '--json'));
  const dash = (name, model, ...extra) => {
    const o = join(dir, name);
    const summary = JSON.parse(ulm('dashboard', store, '--model', join(dir, model), '--out', o, '--assets', ASSETS, '--json', ...extra));
    assert.equal(summary.out, o);
    out[name] = { dir: o, data: JSON.parse(readFileSync(join(o, 'data.json'), 'utf8')) };
  };
  dash('prev', 'full.ulm', '--as-of', '2011-10-01');
  dash('run', 'full.ulm', '--previous', join(dir, 'prev', 'data.json'), '--recs-eval', join(dir, 'recs_eval.json'),
    '--campaign', join(dir, 'campaign.json'));
  dash('plain', 'plain.ulm');
  browser = await chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(SHOTS, { recursive: true });
});
after(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Opens DIR/index.html from file:// with the network refused; returns the page, problems and requests.
async function open(folder, viewport = { width: 1280, height: 800 }) {
  const ctx = await browser.newContext({ viewport });
  const problems = [];
  const requests = [];
  await ctx.route('**/*', (route) => {
    const u = route.request().url();
    requests.push(u);
    return u.startsWith('file://') ? route.continue() : route.abort();
  });
  const page = await ctx.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(pathToFileURL(join(folder, 'index.html')).href);
  await page.waitForFunction(() => document.body.dataset.state);
  return { ctx, page, problems, requests };
}

describe('dashboard of a full run', () => {
  test('every chart has data and pixels; headline equals data.json; offline from file://', async () => {
    const { ctx, page, problems, requests } = await open(out.run.dir);
    const data = out.run.data;
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready');
    assert.equal(data.format, 'ulm-dashboard');
    assert.equal(data.version, 1);
    // Charts: Chart.js instances with data points, and canvases with drawn (non-blank) pixels.
    const charts = await page.evaluate(() => Object.fromEntries(Object.entries(globalThis.ULM_CHARTS).map(([id, c]) => {
      const points = c.data.datasets.reduce((n, d) => n + d.data.filter((v) => (typeof v === 'object' ? v.v : v) > 0).length, 0);
      const cv = c.canvas;
      const px = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
      let ink = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ink++;
      return [id, { points, ink, w: cv.width, h: cv.height }];
    })));
    assert.deepEqual(Object.keys(charts).sort(), [...CHARTS].sort());
    for (const [id, c] of Object.entries(charts)) {
      assert.ok(c.points > 0, `chart ${id} has data points`);
      assert.ok(c.ink > 0.01 * c.w * c.h, `chart ${id} draws pixels (${c.ink} of ${c.w * c.h})`);
    }
    // Chart data equal data.json.
    const stagesChart = await page.evaluate(() => globalThis.ULM_CHARTS.stages.data.datasets[0].data);
    assert.deepEqual(stagesChart, data.stages.map((s) => s.customers));
    const churnChart = await page.evaluate(() => globalThis.ULM_CHARTS.churn.data.datasets[0].data);
    assert.deepEqual(churnChart, data.churn.counts);
    // Headline: the shown numbers are data.json's, rounded to whole units.
    const shown = await page.$$eval('#headline dd', (es) => es.map((e) => [e.dataset.key, e.textContent]));
    assert.deepEqual(shown.map(([k]) => k), ['customers', 'active', 'at_risk', 'revenue', 'clv_12m']);
    for (const [k, text] of shown) assert.equal(Number(text.replace(/,/g, '')), Math.round(data.headline[k]), k);
    // The at-risk table lists data.json's top customers in order.
    const ids = await page.$$eval('#panel-at-risk tbody th', (es) => es.map((e) => e.textContent));
    assert.deepEqual(ids, data.churn.top.map((t) => t.customer));
    assert.ok(data.stage_flow && data.stage_flow.previous_as_of === '2011-10-01');
    // Offline: only file:// requests, all of them inside the dashboard folder.
    assert.ok(requests.length >= 4 && requests.every((u) => u.startsWith(pathToFileURL(out.run.dir).href)), requests.join(' '));
    assert.deepEqual(problems, []);
    const files = requests.map((u) => decodeURIComponent(new URL(u).pathname));
    const raw = files.reduce((n, f) => n + statSync(f).size, 0);
    const gz = files.reduce((n, f) => n + gzipSync(readFileSync(f)).length, 0);
    console.log(`dashboard page weight, first load: ${raw} bytes (${gz} gzip) in ${files.length} files: ` +
      files.map((f) => `${f.split('/').pop()} ${statSync(f).size}`).join(', '));
    await page.screenshot({ path: join(SHOTS, 'dashboard-desktop.png'), fullPage: true });
    await ctx.close();
  });

  test('360 px wide: no horizontal scrolling, charts drawn', async () => {
    const { ctx, page, problems } = await open(out.run.dir, { width: 360, height: 740 });
    const { sw, cw } = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth }));
    assert.ok(sw <= cw, `no horizontal scroll at 360 px (${sw} > ${cw})`);
    const widths = await page.evaluate(() => Object.values(globalThis.ULM_CHARTS).map((c) => c.width));
    assert.ok(widths.every((w) => w > 200 && w <= 360), widths.join(','));
    assert.deepEqual(problems, []);
    await page.screenshot({ path: join(SHOTS, 'dashboard-phone.png'), fullPage: true });
    await ctx.close();
  });
});

describe('dashboard edge cases', () => {
  test('first run: the stage flow says so', async () => {
    const { ctx, page, problems } = await open(out.prev.dir);
    assert.equal(out.prev.data.stage_flow, null);
    assert.match(await page.$eval('#panel-flow', (e) => e.textContent), /First run/);
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  test('a bundle without churn: churn panels say "not in this bundle"', async () => {
    const { ctx, page, problems } = await open(out.plain.dir);
    const d = out.plain.data;
    assert.equal(d.churn, null);
    assert.equal(d.headline.at_risk_basis, 'lifecycle stage');
    assert.match(await page.$eval('#panel-churn', (e) => e.textContent), /Not in this bundle/);
    assert.match(await page.$eval('#panel-recs', (e) => e.textContent), /Not provided/);
    assert.ok(await page.evaluate(() => globalThis.ULM_CHARTS.segments.data.datasets[0].data.length > 0));
    assert.deepEqual(problems, []);
    await ctx.close();
  });

  for (const [version, word] of [[0, 'older'], [2, 'newer']]) {
    test(`a folder with data version ${version} says it comes from ${word === 'older' ? 'an older run' : 'a newer ulm'}`, async () => {
      const copy = join(dir, `v${version}`);
      cpSync(out.run.dir, copy, { recursive: true });
      const d = { ...out.run.data, version };
      writeFileSync(join(copy, 'data.js'), `globalThis.ULM_DASHBOARD = ${JSON.stringify(d)};\n`);
      const { ctx, page, problems } = await open(copy);
      assert.equal(await page.evaluate(() => document.body.dataset.state), 'version');
      const text = await page.$eval('#notice', (e) => e.textContent);
      assert.match(text, new RegExp(`${word}.*data version ${version}`));
      assert.deepEqual(problems, []);
      if (version === 0) await page.screenshot({ path: join(SHOTS, 'dashboard-old-version.png') });
      await ctx.close();
    });
  }
});
