// dashboard.mjs: the operations dashboard page. Reads globalThis.ULM_DASHBOARD (set by data.js, written by
// `ulm dashboard` beside this page, so the page opens from file:// without fetch) and draws every panel with
// Chart.js (+ chartjs-chart-matrix for the heat maps). Bundled by esbuild into dashboard.js at ./run build.
// Schema and definitions: docs/dashboard.md.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend, MatrixController, MatrixElement);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
Chart.defaults.color = '#1d2430';

export const SUPPORTED_VERSION = 1;
const BLUE = '#1f5fbf';
const ORANGE = '#c2570c';
const charts = {};
globalThis.ULM_CHARTS = charts;

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const dec = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const pct = (x) => `${(100 * x).toFixed(1)}%`;

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of kids) if (c != null) e.append(c);
  return e;
}

// A table (the accessible alternative of a chart, or a panel of its own).
function table(head, rows, numeric = []) {
  const t = el('table');
  const tr = el('tr');
  head.forEach((h, i) => tr.append(el('th', { scope: 'col', class: numeric.includes(i) ? 'n' : '', text: h })));
  t.append(el('thead', {}, tr));
  const tb = el('tbody');
  for (const r of rows) {
    const row = el('tr');
    r.forEach((c, i) => row.append(el(i === 0 ? 'th' : 'td', { class: numeric.includes(i) ? 'n' : '', ...(i === 0 ? { scope: 'row' } : {}), text: String(c) })));
    tb.append(row);
  }
  t.append(tb);
  return el('div', { class: 'tablewrap' }, t);
}
const asDetails = (label, node) => el('details', {}, el('summary', { text: label }), node);

function panel(id, title, how, wide = false) {
  const h = el('h2', { id: `h-${id}`, text: title });
  const sec = el('section', { class: `panel${wide ? ' wide' : ''}`, id: `panel-${id}`, 'aria-labelledby': `h-${id}` }, h);
  if (how) sec.append(el('p', { class: 'how', text: how }));
  document.getElementById('panels').append(sec);
  return sec;
}
function absent(sec, text) {
  sec.append(el('p', { class: 'absent', text }));
  sec.dataset.absent = '1';
}

function chart(sec, id, label, config, tall = false) {
  const canvas = el('canvas', { id: `chart-${id}`, role: 'img', 'aria-label': label });
  sec.append(el('div', { class: `chart${tall ? ' tall' : ''}` }, canvas));
  config.options = { responsive: true, maintainAspectRatio: false, animation: false, ...config.options };
  charts[id] = new Chart(canvas, config);
  return charts[id];
}

function bar(sec, id, label, labels, datasets, { horizontal = false, yTitle, xTitle, stacked = false } = {}) {
  const scale = (title) => ({ beginAtZero: true, stacked, title: title ? { display: true, text: title } : undefined });
  return chart(sec, id, label, {
    type: 'bar',
    data: { labels, datasets: datasets.map((d, i) => ({ backgroundColor: [BLUE, ORANGE, '#2e8540', '#6b4fa0'][i % 4], ...d })) },
    options: {
      indexAxis: horizontal ? 'y' : 'x',
      plugins: { legend: { display: datasets.length > 1 } },
      scales: horizontal ? { x: scale(xTitle), y: { stacked } } : { x: { stacked, title: xTitle ? { display: true, text: xTitle } : undefined }, y: scale(yTitle) },
    },
  });
}

// A heat map: cells {x, y, v} on category axes xs, ys.
function heat(sec, id, label, xs, ys, cells, { xTitle, yTitle, unit }) {
  const max = Math.max(1, ...cells.map((c) => c.v));
  return chart(sec, id, label, {
    type: 'matrix',
    data: {
      datasets: [{
        label: unit,
        data: cells,
        backgroundColor: (ctx) => {
          const v = ctx.dataset.data[ctx.dataIndex]?.v ?? 0;
          return v === 0 ? 'rgba(31,95,191,0.04)' : `rgba(31,95,191,${(0.12 + 0.88 * v / max).toFixed(3)})`;
        },
        borderColor: '#ffffff', borderWidth: 1,
        width: ({ chart: c }) => (c.chartArea || {}).width / xs.length - 2,
        height: ({ chart: c }) => (c.chartArea || {}).height / ys.length - 2,
      }],
    },
    options: {
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { title: () => '', label: (ctx) => { const c = ctx.raw; return `${yTitle} ${c.y}, ${xTitle} ${c.x}: ${int.format(c.v)} ${unit}`; } } },
      },
      scales: {
        x: { type: 'category', labels: xs, offset: true, grid: { display: false }, title: { display: true, text: xTitle } },
        y: { type: 'category', labels: ys, offset: true, grid: { display: false }, title: { display: true, text: yTitle } },
      },
    },
  }, true);
}

function headline(d) {
  const h = d.headline;
  const items = [
    ['customers', 'Customers', int.format(h.customers)],
    ['active', 'Active (new, active, reactivated)', int.format(h.active)],
    ['at_risk', h.at_risk_basis === 'churn risk' ? 'At risk (churn risk ≥ threshold)' : 'At risk (lifecycle stage)', int.format(h.at_risk)],
    ['revenue', 'Revenue (net of returns)', int.format(h.revenue)],
    ['clv_12m', 'Predicted CLV, next 12 months', int.format(h.clv_12m)],
  ];
  const dl = document.getElementById('headline');
  for (const [key, label, text] of items) dl.append(el('div', {}, el('dt', { text: label }), el('dd', { 'data-key': key, 'data-value': String(h[key]), text })));
}

function segments(d) {
  const sec = panel('segments', 'Segments', 'k-means on standardised profile features (k chosen by silhouette), from the bundle\'s profiler; sizes count customers with a purchase.');
  if (!d.segments) return absent(sec, 'Not in this bundle: it has no profiler (train without --no-profiles).');
  const km = d.segments.kmeans;
  bar(sec, 'segments', 'Customers per k-means segment', km.map((s) => `Segment ${s.segment}`), [{ label: 'customers', data: km.map((s) => s.size) }]);
  sec.append(table(['Segment', 'Description', 'Customers', 'Revenue', 'Mean CLV'],
    km.map((s) => [`Segment ${s.segment}`, s.description, int.format(s.size), int.format(s.revenue), s.mean_clv == null ? '–' : int.format(s.mean_clv)]), [2, 3, 4]));
  const sec2 = panel('rfm-segments', 'RFM segments', 'Named segments of the recency × frequency quintile map (docs/segments.md).');
  const rfm = d.segments.rfm;
  bar(sec2, 'rfm-segments', 'Customers per RFM segment', rfm.map((s) => s.name), [{ label: 'customers', data: rfm.map((s) => s.size) }], { horizontal: true, xTitle: 'customers' });
  sec2.append(asDetails('Table of RFM segments', table(['Segment', 'Customers', 'Revenue'], rfm.map((s) => [s.name, int.format(s.size), int.format(s.revenue)]), [1, 2])));
}

function rfmGrid(d) {
  const sec = panel('rfm-grid', 'RFM grid', 'Customers by recency quintile (R, 5 = most recent) and frequency quintile (F, 5 = most orders); darker = more customers.');
  if (!d.rfm_grid) return absent(sec, 'Not in this bundle: it has no RFM cut points.');
  const cells = d.rfm_grid.cells.map((c) => ({ x: String(c.f), y: String(c.r), v: c.customers }));
  heat(sec, 'rfm-grid', 'Heat map of customers by R and F score', ['1', '2', '3', '4', '5'], ['1', '2', '3', '4', '5'], cells, { xTitle: 'F', yTitle: 'R', unit: 'customers' });
  const rows = [5, 4, 3, 2, 1].map((r) => [`R ${r}`, ...[1, 2, 3, 4, 5].map((f) => {
    const c = d.rfm_grid.cells.find((x) => x.r === r && x.f === f);
    return `${int.format(c.customers)} (${int.format(c.revenue)})`;
  })]);
  sec.append(asDetails('Table: customers (revenue) per cell', table(['', 'F 1', 'F 2', 'F 3', 'F 4', 'F 5'], rows, [1, 2, 3, 4, 5])));
}

function stages(d) {
  const sec = panel('stages', 'Lifecycle stages', 'Stage of every customer as of this run (rules: docs/segments.md).');
  if (!d.stages) return absent(sec, 'Not in this bundle: it has no profiler.');
  bar(sec, 'stages', 'Customers per lifecycle stage', d.stages.map((s) => s.stage), [{ label: 'customers', data: d.stages.map((s) => s.customers) }]);
  sec.append(asDetails('Table of stages', table(['Stage', 'Customers'], d.stages.map((s) => [s.stage, int.format(s.customers)]), [1])));

  const f = d.stage_flow;
  const sec2 = panel('flow', 'Stage flow since the previous run', f ? `From the run as of ${f.previous_as_of} (rows) to this one (columns), by customer id.` : null);
  if (!d.stages) return absent(sec2, 'Not in this bundle: it has no profiler.');
  if (!f) return absent(sec2, 'First run: there is no previous run to compare with.');
  const used = f.states.map((_, i) => f.matrix[i].some((v) => v > 0) || f.matrix.some((r) => r[i] > 0));
  const states = f.states.filter((_, i) => used[i]);
  const cells = [];
  f.states.forEach((from, i) => f.states.forEach((to, j) => { if (used[i] && used[j]) cells.push({ x: to, y: from, v: f.matrix[i][j] }); }));
  heat(sec2, 'flow', 'Heat map of customers moving between stages', states, [...states].reverse(), cells, { xTitle: 'now', yTitle: 'before', unit: 'customers' });
  sec2.append(asDetails('Table: previous stage (rows) to current stage (columns)',
    table(['before \\ now', ...states], states.map((from) => [from, ...states.map((to) => int.format(f.matrix[f.states.indexOf(from)][f.states.indexOf(to)]))]), states.map((_, i) => i + 1))));
}

function churn(d) {
  const c = d.churn;
  const sec = panel('churn', 'Churn risk', c ? `P(churn) of ${int.format(c.scored)} customers from the bundle's churn model; ${int.format(c.at_risk)} at or above ${c.threshold} (mean risk ${pct(c.mean_risk)}).` : null);
  if (!c) return absent(sec, 'Not in this bundle: it has no churn model (ulm train --churn).');
  const labels = c.counts.map((_, i) => `${i * 100 / c.bins}–${(i + 1) * 100 / c.bins}%`);
  bar(sec, 'churn', 'Histogram of churn risk', labels, [{ label: 'customers', data: c.counts }], { xTitle: 'P(churn)', yTitle: 'customers' });
  sec.append(asDetails('Table of the histogram', table(['Risk', 'Customers'], labels.map((l, i) => [l, int.format(c.counts[i])]), [1])));
  const sec2 = panel('at-risk', 'Top customers at risk', `By value at risk (risk × ${c.value_basis}); total value at risk ${int.format(c.value_at_risk)}. Reasons from the churn model, strongest first.`, true);
  if (!c.top.length) return absent(sec2, 'Nobody is at or above the threshold.');
  sec2.append(table(['Customer', 'Risk', 'Value at risk', 'Stage', 'Segment', 'Reasons'],
    c.top.map((t) => [t.customer, pct(t.p_churn), int.format(t.value_at_risk), t.stage ?? '–', t.segment ?? '–', t.reasons.join('; ')]), [1, 2]));
}

function clv(d) {
  const c = d.clv;
  const sec = panel('clv', 'Lifetime value', c ? `Predicted CLV over ${c.horizon_days} days (BG/NBD × Gamma-Gamma, discounted): total ${int.format(c.total)}, mean ${int.format(c.mean)}, median ${int.format(c.median)}.` : null);
  if (!c) return absent(sec, 'Not in this bundle: its profiler has no CLV model.');
  const w = c.bin_width;
  const labels = c.counts.map((_, i) => (i < c.counts.length - 1 ? `${int.format(i * w)}–${int.format((i + 1) * w)}` : `≥ ${int.format(i * w)}`));
  bar(sec, 'clv', 'Histogram of predicted customer lifetime value', labels, [{ label: 'customers', data: c.counts }], { xTitle: 'CLV', yTitle: 'customers' });
  sec.append(asDetails('Table of the histogram', table(['CLV', 'Customers'], labels.map((l, i) => [l, int.format(c.counts[i])]), [1])));
}

function recs(d) {
  const r = d.recs;
  const sec = panel('recs', 'Recommender quality', r ? `Leave-last evaluation (ulm eval recs); the bundle's recommender is ${r.live ?? 'unknown'}.` : null);
  if (!r) return absent(sec, 'Not provided: run with --recs-eval (ulm eval recs --json output).');
  const names = r.results.map((x) => (x.algo === r.live ? `${x.algo} (live)` : x.algo));
  bar(sec, 'recs', 'NDCG@10 and hit rate@10 per algorithm', names, [
    { label: 'NDCG@10', data: r.results.map((x) => x['ndcg@10']) },
    { label: 'hit rate@10', data: r.results.map((x) => x['hit_rate@10'] ?? 0) },
  ]);
  sec.append(asDetails('Table of the metrics', table(['Algorithm', 'NDCG@10', 'Hit rate@10', 'Precision@10', 'Recall@10', 'Coverage@10'],
    r.results.map((x, i) => [names[i], ...['ndcg@10', 'hit_rate@10', 'precision@10', 'recall@10', 'coverage@10'].map((k) => (x[k] == null ? '–' : x[k].toFixed(4)))]), [1, 2, 3, 4, 5])));
}

function campaign(d) {
  const c = d.campaign;
  const sec = panel('campaign', 'Campaign plan', c ? `Retention offers as of ${c.as_of}: each customer's offer maximises P(churn) × value × uplift − cost, greedily under the budget; a control group is held out.` : null);
  if (!c) return absent(sec, 'Not provided: run with --campaign (ulm campaign plan --json output).');
  const facts = el('p', { class: 'facts' });
  for (const [k, v] of [['Budget', c.budget == null ? 'no limit' : int.format(c.budget)], ['Spend', int.format(c.spend)], ['Treated', int.format(c.treated)],
    ['Control', int.format(c.control)], ['Expected retained value', int.format(c.expected_retained_value ?? 0)], ['Expected net', int.format(c.expected_net)]])
    facts.append(el('span', {}, `${k}: `, el('b', { text: v })));
  sec.append(facts);
  bar(sec, 'campaign', 'Customers per offer, treated and control', c.offers.map((o) => o.id), [
    { label: 'treated', data: c.offers.map((o) => o.treated) },
    { label: 'control', data: c.offers.map((o) => o.control) },
  ], { stacked: true, yTitle: 'customers' });
  sec.append(asDetails('Table of the offers', table(['Offer', 'Cost', 'Uplift', 'Uplift from', 'Treated', 'Control'],
    c.offers.map((o) => [o.id, dec.format(o.cost), pct(o.uplift), o.uplift_source ?? '–', int.format(o.treated), int.format(o.control)]), [1, 2, 4, 5])));
}

function notice(text) {
  const n = document.getElementById('notice');
  n.textContent = text;
  n.hidden = false;
}

function main() {
  const d = globalThis.ULM_DASHBOARD;
  const meta = document.getElementById('meta');
  if (!d || typeof d !== 'object') {
    meta.textContent = '';
    notice('No dashboard data: data.js is missing from this folder. Write it with `ulm dashboard STORE --model BUNDLE --out DIR`.');
    document.body.dataset.state = 'missing';
    return;
  }
  if (d.format !== 'ulm-dashboard' || d.version !== SUPPORTED_VERSION) {
    const v = Number(d.version);
    const which = d.format !== 'ulm-dashboard' ? 'is not ulm dashboard data' :
      v < SUPPORTED_VERSION ? `comes from an older run (data version ${v})` : `comes from a newer ulm (data version ${v})`;
    meta.textContent = d.as_of ? `Data as of ${d.as_of}` : '';
    notice(`This dashboard folder ${which}; this page reads data version ${SUPPORTED_VERSION}. Regenerate it with \`ulm dashboard\` from the same ulm.`);
    document.body.dataset.state = 'version';
    return;
  }
  meta.textContent = `Customers as of ${d.as_of} · store ${d.store} · model ${d.model}`;
  headline(d);
  for (const f of [segments, rfmGrid, stages, churn, clv, recs, campaign]) f(d);
  document.body.dataset.state = 'ready';
}

main();
