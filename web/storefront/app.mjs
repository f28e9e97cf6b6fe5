// app.mjs: the storefront page. Catalogue and rankings come from the model bundle through the
// scorer worker (worker.mjs); the visitor's events live in IndexedDB (store.mjs) and never leave
// the browser. Hash routes: #/ home, #/p/ID product, #/search/QUERY, #/cart, #/checkout,
// #/thanks/ORDER, #/privacy.
import { openStore, DB_NAME } from './store.mjs';

const $ = (sel) => document.querySelector(sel);
const main = $('#main');
const K = 8;

const shop = {
  catalogue: new Map(),  // id -> { id, name, price }
  popular: [],           // ids, most popular first
  caps: null,
  events: [],
  store: null,
  worker: null,
  seq: 0,
  recs: null,            // last answer of the worker
  writes: 0,             // events being saved
};

// ---- small DOM helper (textContent only: names from the bundle are never parsed as HTML) ----
function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : String(kid));
  return el;
}

const money = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' });
const fmtPrice = (p) => (p === null || p === undefined ? 'price on request' : money.format(p));
const titleCase = (s) => s.toLowerCase().replace(/(^|[\s/(&-])([a-z])/g, (_, a, b) => a + b.toUpperCase());
const itemHref = (id) => `#/p/${encodeURIComponent(id)}`;

function hue(id) {
  let x = 2166136261;
  for (const c of id) x = Math.imul(x ^ c.codePointAt(0), 16777619);
  return (x >>> 0) % 360;
}
function initials(name) {
  return name.split(/\s+/).filter((w) => /^[a-z0-9]/i.test(w)).slice(0, 2).map((w) => w[0].toUpperCase()).join('') || '?';
}
function thumb(item, big = false) {
  const el = h('div', { class: big ? 'thumb big' : 'thumb', 'aria-hidden': 'true' }, initials(item.name));
  el.style.setProperty('--h', String(hue(item.id)));
  return el;
}
function card(id) {
  const item = shop.catalogue.get(id);
  if (!item) return null;
  return h('a', { class: 'card', href: itemHref(id), 'data-item': id },
    thumb(item), h('span', { class: 'name' }, titleCase(item.name)), h('span', { class: 'price' }, fmtPrice(item.price)));
}

// ---- events and derived state ----
async function record(ev) {
  const e = { ...ev, t: new Date().toISOString() };
  shop.events.push(e);
  // Rank at once (the history is in shop.events already); body[data-writes] counts saves in flight.
  refreshRecs();
  updateCartCount();
  document.body.dataset.writes = String(++shop.writes);
  try { await shop.store.add(e); } catch (err) { notice(`Could not save to IndexedDB (${err?.message ?? err}); kept in memory.`); }
  document.body.dataset.writes = String(--shop.writes);
}

function cartLines() {
  const qty = new Map();
  for (const e of shop.events) {
    if (e.type === 'cart') qty.set(e.item, (qty.get(e.item) ?? 0) + (e.qty ?? 1));
    else if (e.type === 'remove' || e.type === 'purchase') qty.delete(e.item);
  }
  return [...qty].filter(([, q]) => q > 0).map(([id, q]) => ({ id, qty: q, item: shop.catalogue.get(id) })).filter((l) => l.item);
}

// The history the scorer sees: purchases, then cart adds, then views, most recent first, each id once.
function history() {
  const seen = new Set();
  const out = [];
  for (const type of ['purchase', 'cart', 'view'])
    for (let i = shop.events.length - 1; i >= 0; i--) {
      const e = shop.events[i];
      if (e.type === type && e.item && !seen.has(e.item)) { seen.add(e.item); out.push(e.item); }
    }
  return out;
}
const lastViewed = () => [...shop.events].reverse().find((e) => e.type === 'view')?.item ?? null;
const purchased = () => new Set(shop.events.filter((e) => e.type === 'purchase').map((e) => e.item));

function updateCartCount() {
  $('#cart-count').textContent = String(cartLines().reduce((a, l) => a + l.qty, 0));
}

function notice(text, error = false) {
  const n = $('#notice');
  n.hidden = false;
  n.className = error ? 'notice error' : 'notice';
  n.textContent = text;
}

// ---- scorer worker ----
function currentProduct() {
  const m = location.hash.match(/^#\/p\/(.+)$/);
  return m ? decodeURIComponent(m[1]) : null;
}
function refreshRecs() {
  if (!shop.worker || !shop.caps) return;
  shop.seq += 1;
  // asOf: one second past now, so that every stored event counts (the models count events before asOf).
  shop.worker.postMessage({ type: 'recs', seq: shop.seq, history: history(), viewed: lastViewed(), product: currentProduct(), k: K,
    events: shop.events, asOf: Math.floor(Date.now() / 1000) + 1 });
}
function onRecs(msg) {
  if (msg.seq !== shop.seq) return;  // a newer request is on its way
  shop.recs = msg;
  renderRecRows();
  document.body.dataset.recsSeq = String(msg.seq);
}

// ---- recommendation rows (filled in place when the worker answers) ----
function recRow(id, title, sub) {
  return h('section', { id, class: 'recs', 'aria-labelledby': `${id}-h` },
    h('h2', { id: `${id}-h` }, title), h('p', { class: 'sub' }, sub ?? ''),
    h('div', { class: 'row', 'data-list': '' }, h('p', { class: 'loading' }, 'Ranking on your device…')));
}
function fillRow(id, items, title) {
  const sec = document.getElementById(id);
  if (!sec) return;
  const row = sec.querySelector('[data-list]');
  if (title) sec.querySelector('h2').textContent = title;
  sec.hidden = !items;
  if (!items) return;
  row.replaceChildren(...items.map((r) => card(r.item)).filter(Boolean));
  sec.dataset.items = items.map((r) => r.item).join(' ');
  sec.dataset.seq = String(shop.recs.seq);
}
function renderRecRows() {
  const r = shop.recs;
  if (!r) return;
  const fresh = history().length === 0;
  fillRow('for-you', r.forYou, fresh ? 'Popular right now' : 'For you');
  const fy = document.querySelector('#for-you .sub');
  if (fy) fy.textContent = forYouNote(fresh);
  fillRow('bought-together', r.boughtTogether ?? null);
  if (r.becauseViewed) {
    const name = titleCase(shop.catalogue.get(r.becauseViewed.item)?.name ?? r.becauseViewed.item);
    fillRow('because-viewed', r.becauseViewed.list, `Because you viewed ${name}`);
  } else fillRow('because-viewed', null);
  renderKnow();
}
function forYouNote(fresh) {
  const recs = shop.caps.recs ?? 'unknown';
  if (fresh) return 'New here? These are the shop\u2019s best sellers. Browse a little and this row adapts, on your device.';
  if (!shop.caps.itemToItem)
    return `Best sellers you have not bought, viewed or carted yet. This bundle\u2019s recommender is popularity only (model.recs = ${recs}).`;
  return `Ranked on your device from your views, cart and purchases (model.recs = ${recs}).`;
}

// ---- "what the shop would know" ----
// From the worker's answer (visitor.mjs): model.profile() and model.churn() on this visitor's stored events,
// and model.score()'s offer when the JS API has it. Each row carries its raw value in data-value for tests.
function renderKnow() {
  const dl = document.getElementById('know');
  if (!dl) return;
  const count = (t) => shop.events.filter((e) => e.type === t).length;
  const spend = shop.events.filter((e) => e.type === 'purchase').reduce((a, e) => a + (e.price ?? 0) * (e.qty ?? 1), 0);
  const c = shop.caps;
  const k = shop.recs?.know;
  const note = (text) => h('span', { class: 'missing' }, text);
  const part = (x, what, fn) => {
    if (!k) return note('Working it out on your device…');
    if (!x) return note(`Not available: this bundle carries no ${what} model, so nothing is guessed.`);
    if (x.absent) return note(`Not available: this bundle carries no ${what} model (${x.error}), so nothing is guessed.`);
    if (x.error) return note(`Could not be computed: ${x.error}`);
    return fn(x);
  };
  const row = (key, dt, dd, value) => [h('dt', {}, dt), h('dd', { 'data-key': key, ...(value === undefined ? {} : { 'data-value': JSON.stringify(value) }) }, dd)];
  const p = k?.profile;
  const ch = k?.churn;
  const ok = (x) => x && !x.error && !x.absent;
  dl.replaceChildren(
    ...row('activity', 'Your activity', `${count('view')} views, ${count('cart')} cart adds, ${count('purchase')} items bought (${money.format(spend)}), ${count('search')} search${count('search') === 1 ? '' : 'es'}`),
    ...row('segment', 'Segment', part(p, 'segment', (x) => (x.segment >= 0 ?
      `${x.rfmSegment} (RFM); segment ${x.segment}: ${x.segmentDescription}` : 'none yet: segments start with a first purchase')),
    ok(p) ? { rfmSegment: p.rfmSegment, segment: p.segment } : undefined),
    ...row('stage', 'Lifecycle stage', part(p, 'lifecycle-stage', (x) => x.stage || 'none yet: no purchase'), ok(p) ? p.stage : undefined),
    ...row('churn', 'Churn risk', part(ch, 'churn', (x) => `${(100 * x.probability).toFixed(1)}%${x.reason ? ` (strongest reason: ${x.reason})` : ''}`),
      ok(ch) ? { probability: ch.probability, reason: ch.reason } : undefined),
    ...row('clv', 'Lifetime value (12 months)', part(p, 'lifetime-value', (x) => (x.clv == null ? 'not predicted: needs a purchase' : money.format(x.clv))),
      ok(p) ? p.clv : undefined),
    ...row('offer', 'Offer chosen on the device', k && k.offer === null ? note('no offer model') :
      part(k?.offer, 'offer', (x) => x.offer), ok(k?.offer) ? k.offer.offer : undefined),
    ...row('recs', 'Recommender', `${c.recs ?? 'unknown'} (${c.itemToItem ? 'personal' : 'popularity: the same order for everyone, minus what you already have'})`),
  );
  dl.dataset.asOf = k ? String(k.asOf) : '';
  dl.dataset.seq = shop.recs ? String(shop.recs.seq) : '';
}
function knowPanel() {
  return h('section', { class: 'panel', 'aria-labelledby': 'know-h' },
    h('h2', { id: 'know-h' }, 'What the shop would know, if it asked'),
    h('p', { class: 'sub' }, 'Computed here from the events stored in this browser. The shop\u2019s server never sees them.'),
    h('dl', { class: 'know', id: 'know' }));
}

// ---- pages ----
function home() {
  const top = shop.popular.slice(0, 24);
  return [
    h('div', { class: 'hero' }, h('h1', {}, 'Gifts and homeware'),
      h('p', {}, `${shop.catalogue.size.toLocaleString('en-GB')} products. Recommendations are worked out in your browser; your clicks never leave it.`)),
    recRow('for-you', 'For you'),
    shop.caps.itemToItem ? recRow('because-viewed', 'Because you viewed') : null,
    h('section', { 'aria-labelledby': 'best-h' }, h('h2', { id: 'best-h' }, 'Best sellers'),
      h('div', { class: 'grid', id: 'best' }, top.map(card))),
    knowPanel(),
  ];
}

function product(id) {
  const item = shop.catalogue.get(id);
  if (!item) return [h('h1', {}, 'Product not found'), h('p', {}, `There is no product with id ${id} in this shop. `, h('a', { href: '#/' }, 'Back to the shop'))];
  const qty = h('input', { id: 'qty', type: 'number', min: '1', max: '999', value: '1', inputmode: 'numeric' });
  const bought = purchased().has(id);
  const add = async () => {
    const n = Math.max(1, Math.min(999, Number.parseInt(qty.value, 10) || 1));
    await record({ type: 'cart', item: id, qty: n, price: item.price });
    status.textContent = `Added ${n} to your cart.`;
  };
  const status = h('p', { role: 'status', class: 'meta-line', id: 'add-status' });
  return [
    h('div', { class: 'product' },
      thumb(item, true),
      h('div', {},
        h('h1', {}, titleCase(item.name)),
        h('p', { class: 'price' }, fmtPrice(item.price)),
        h('p', { class: 'meta-line' }, `Item ${id}`, bought ? ' \u00b7 you bought this before' : ''),
        h('div', { class: 'qty' }, h('label', { for: 'qty' }, 'Quantity'), qty,
          h('button', { type: 'button', id: 'add-to-cart', onclick: add }, 'Add to cart')),
        status)),
    shop.caps.itemToItem ? recRow('bought-together', 'Bought together') :
      h('p', { class: 'sub', id: 'no-i2i' }, `\u201cBought together\u201d needs an item-to-item recommender; this bundle has popularity only (model.recs = ${shop.caps.recs ?? 'unknown'}).`),
    recRow('for-you', 'For you'),
  ];
}

function matches(query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const rank = new Map(shop.popular.map((id, i) => [id, i]));
  return [...shop.catalogue.values()]
    // Only items the model may recommend: the bundle's deny list (postage, fees) is not for sale.
    .filter((it) => rank.has(it.id))
    .filter((it) => { const s = `${it.name} ${it.id}`.toLowerCase(); return words.every((w) => s.includes(w)); })
    .sort((a, b) => (rank.get(a.id) ?? 1e9) - (rank.get(b.id) ?? 1e9))
    .map((it) => it.id);
}
function search(query) {
  const found = matches(query);
  $('#q').value = query;
  return [h('h1', {}, `Search: ${query}`),
    h('p', { class: 'sub', role: 'status' }, found.length ? `${found.length} product${found.length === 1 ? '' : 's'}, best sellers first` : 'No products match. Try fewer or other words.'),
    h('div', { class: 'grid', id: 'results' }, found.slice(0, 60).map(card))];
}

function cart() {
  const lines = cartLines();
  if (!lines.length) return [h('h1', {}, 'Your cart'), h('p', {}, 'Your cart is empty. ', h('a', { href: '#/' }, 'Continue shopping')), recRow('for-you', 'For you')];
  const total = lines.reduce((a, l) => a + (l.item.price ?? 0) * l.qty, 0);
  return [h('h1', {}, 'Your cart'),
    h('div', { class: 'table-wrap' }, h('table', { id: 'cart-table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Product'), h('th', { class: 'num' }, 'Qty'), h('th', { class: 'num' }, 'Price'), h('th', {}, h('span', { class: 'sr' }, 'Remove')))),
      h('tbody', {}, lines.map((l) => h('tr', { 'data-item': l.id },
        h('td', {}, h('a', { href: itemHref(l.id) }, titleCase(l.item.name))),
        h('td', { class: 'num' }, String(l.qty)),
        h('td', { class: 'num' }, l.item.price === null ? '\u2013' : money.format(l.item.price * l.qty)),
        h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `Remove ${titleCase(l.item.name)}`,
          onclick: async () => { await record({ type: 'remove', item: l.id }); render(); } }, 'Remove'))))))),
    h('p', { class: 'total' }, `Total ${money.format(total)}`),
    h('div', { class: 'actions' }, h('a', { class: 'btn', href: '#/checkout', id: 'to-checkout' }, 'Checkout'), h('a', { class: 'btn secondary', href: '#/' }, 'Continue shopping')),
    recRow('for-you', 'For you')];
}

function checkout() {
  const lines = cartLines();
  if (!lines.length) return [h('h1', {}, 'Checkout'), h('p', {}, 'Your cart is empty. ', h('a', { href: '#/' }, 'Continue shopping'))];
  const total = lines.reduce((a, l) => a + (l.item.price ?? 0) * l.qty, 0);
  const place = async () => {
    const order = `D${Date.now().toString(36).toUpperCase()}`;
    for (const l of lines) await record({ type: 'purchase', item: l.id, qty: l.qty, price: l.item.price, order });
    location.hash = `#/thanks/${order}`;
  };
  return [h('h1', {}, 'Checkout'),
    h('p', { class: 'sub' }, 'This is a demo: there is no payment and nothing is sent. Placing the order records the purchase on this device only.'),
    h('ul', {}, lines.map((l) => h('li', {}, `${l.qty} \u00d7 ${titleCase(l.item.name)}`))),
    h('p', { class: 'total' }, `Total ${money.format(total)}`),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'place-order', onclick: place }, 'Place order'),
      h('a', { class: 'btn secondary', href: '#/cart' }, 'Back to cart'))];
}

function thanks(order) {
  return [h('h1', {}, 'Thank you!'), h('p', {}, `Order ${order} is recorded in this browser. `, h('a', { href: '#/' }, 'Back to the shop')),
    recRow('for-you', 'For you')];
}

function privacy() {
  const kind = shop.store.kind === 'indexeddb'
    ? `IndexedDB database \u201c${DB_NAME}\u201d, object store \u201cevents\u201d, in this browser profile on this device`
    : `this tab\u2019s memory only (${shop.store.reason}); it is gone when you close the tab`;
  const rows = shop.events.map((e, i) => h('tr', {},
    h('td', { class: 'num' }, String(i + 1)), h('td', {}, e.t), h('td', {}, e.type),
    h('td', {}, e.item ? `${e.item} (${titleCase(shop.catalogue.get(e.item)?.name ?? '?')})` : (e.query !== undefined ? `\u201c${e.query}\u201d` : '')),
    h('td', { class: 'num' }, e.qty ?? ''), h('td', {}, e.order ?? '')));
  const exportData = () => {
    const blob = new Blob([JSON.stringify({ exported: new Date().toISOString(), storage: shop.store.kind, database: DB_NAME, events: shop.events }, null, 2)],
      { type: 'application/json' });
    const a = h('a', { href: URL.createObjectURL(blob), download: 'my-ulm-shop-data.json' });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  };
  const forget = async () => {
    await shop.store.clear();
    shop.events = [];
    updateCartCount();
    refreshRecs();
    render();
    $('#privacy-status').textContent = 'Done: everything this shop stored in your browser is erased.';
  };
  return [h('h1', {}, 'Your data'),
    h('p', {}, 'Everything this shop knows about you is listed here, and it is kept only in ', h('strong', {}, kind),
      '. Recommendations are computed from it by a WebAssembly scorer running in your browser; no event is ever sent to a server. The page downloads only its own files and the model (the same for every visitor).'),
    h('p', { id: 'privacy-status', role: 'status', class: 'meta-line' }),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'export', onclick: exportData }, 'Export my data (JSON)'),
      h('button', { type: 'button', id: 'forget', class: 'danger', onclick: forget }, 'Forget me')),
    h('h2', {}, `Stored events (${shop.events.length})`),
    shop.events.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'events-table' },
      h('thead', {}, h('tr', {}, ['#', 'When (UTC)', 'Event', 'Item or search', 'Qty', 'Order'].map((t) => h('th', {}, t)))),
      h('tbody', {}, rows))) : h('p', { id: 'no-events' }, 'Nothing is stored.')];
}

function render() {
  const hash = location.hash || '#/';
  let m;
  let view;
  if ((m = hash.match(/^#\/p\/(.+)$/))) view = product(decodeURIComponent(m[1]));
  else if ((m = hash.match(/^#\/search\/(.*)$/))) view = search(decodeURIComponent(m[1]));
  else if (hash === '#/cart') view = cart();
  else if (hash === '#/checkout') view = checkout();
  else if ((m = hash.match(/^#\/thanks\/(.+)$/))) view = thanks(decodeURIComponent(m[1]));
  else if (hash === '#/privacy') view = privacy();
  else view = home();
  main.replaceChildren(...view.filter(Boolean));
  document.body.dataset.page = hash.split('/')[1] || 'home';
  renderRecRows();
}

// After a route change, focus moves to the new content (for screen readers and keyboards); on the
// first load it stays at the top of the page, so Tab reaches the skip link first.
async function navigate(ev) {
  const id = currentProduct();
  render();
  if (ev) { main.focus({ preventScroll: true }); window.scrollTo(0, 0); }
  if (id && shop.catalogue.has(id)) await record({ type: 'view', item: id });
  else refreshRecs();
}

function fail(title, detail) {
  document.body.dataset.state = 'error';
  main.replaceChildren(h('div', { class: 'error-page', role: 'alert', id: 'shop-error' },
    h('h1', {}, title), h('p', {}, detail),
    h('p', {}, 'The shop needs a model bundle at ', h('code', {}, 'bundle.ulm'), '. Create one with ', h('code', {}, './run demo'),
      ' and serve it with ', h('code', {}, 'node web/serve.mjs --bundle build/demo/shop.ulm'), '.')));
}

async function start() {
  shop.store = await openStore();
  if (shop.store.kind === 'memory')
    notice(`Private mode: ${shop.store.reason}. Your activity is kept in this tab\u2019s memory only and is forgotten when you close it.`);
  try { shop.events = await shop.store.all(); } catch { shop.events = []; }
  $('#search-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = $('#q').value.trim();
    if (!q) return;
    location.hash = `#/search/${encodeURIComponent(q)}`;
    await record({ type: 'search', query: q });
  });

  let worker;
  try {
    worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
  } catch (e) {
    return fail('The shop cannot start', `This browser cannot run module workers (${e.message}).`);
  }
  shop.worker = worker;
  worker.onerror = (e) => fail('The shop cannot start', `The scorer failed to start (${e.message ?? 'worker error'}).`);
  const ready = await new Promise((ok) => {
    worker.onmessage = ({ data }) => ok(data);
    worker.postMessage({ type: 'init', url: new URL('./bundle.ulm', location.href).href });
  });
  if (ready.type === 'error') {
    worker.terminate();
    shop.worker = null;
    return ready.kind === 'corrupt'
      ? fail('The shop\u2019s model bundle is damaged', `bundle.ulm could not be loaded: ${ready.message}`)
      : fail('The shop has no model bundle', `${ready.message}.`);
  }
  for (const it of ready.catalogue) shop.catalogue.set(it.id, it);
  shop.popular = ready.popular;
  shop.caps = ready.caps;
  worker.onmessage = ({ data }) => {
    if (data.type === 'recs') onRecs(data);
    else if (data.type === 'error') notice(`The on-device scorer reported an error: ${data.message}`, true);
  };
  $('#foot').append(h('p', {}, `Model: ${shop.catalogue.size.toLocaleString('en-GB')} products, recommender \u201c${shop.caps.recs ?? 'unknown'}\u201d, ` +
    `scored by ulm (${shop.caps.runtime}${shop.caps.simd ? ', SIMD' : ''}) in a web worker.`));
  updateCartCount();
  window.addEventListener('hashchange', navigate);
  document.body.dataset.state = 'ready';
  await navigate(null);
}

start().catch((e) => fail('The shop cannot start', String(e?.message ?? e)));
