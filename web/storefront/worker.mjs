// worker.mjs: the on-device scorer. A module worker that loads the model bundle into the ulm
// wasm runtime (./js/ulm.mjs) and answers the page's requests; no data leaves the browser.
//   page -> { type: 'init', url }             worker -> { type: 'ready', catalogue, caps } | { type: 'error', ... }
//   page -> { type: 'recs', seq, history, viewed, product, k, events, asOf }
//   worker -> { type: 'recs', seq, forYou, boughtTogether, becauseViewed, know }
// "bought together" and "because you viewed X" rank with a one-item history (the product, the viewed
// item): the item-to-item neighbours of that item. know: visitor.mjs (profile, churn risk, offer).
import { loadModel } from './js/ulm.mjs';
import { knowVisitor } from './visitor.mjs';

let model = null;

// What the bundle can answer, from its metadata. A popularity-only bundle ('pop') ranks the same
// for every history, so item-to-item rows ("bought together", "because you viewed") are not offered.
function capabilities(m) {
  const recs = m.meta('model.recs');
  const meta = {};
  for (const key of ['model.recs', 'model.segments', 'model.stages', 'model.churn', 'model.clv', 'model.offers',
    'train.as_of', 'train.events', 'train.users', 'train.currency'])
    meta[key] = m.meta(key);
  return {
    recs,
    itemToItem: Boolean(recs) && recs !== 'pop',
    segments: meta['model.segments'] !== null,
    stages: meta['model.stages'] !== null,
    churn: meta['model.churn'] !== null,
    offers: meta['model.offers'] !== null,
    meta,
    runtime: m.runtime,
    simd: m.simd,
  };
}

async function init(url) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    return { type: 'error', kind: 'missing', message: `could not fetch the model bundle (${e.message})` };
  }
  if (!res.ok) return { type: 'error', kind: 'missing', message: `no model bundle at ${url} (HTTP ${res.status})` };
  const bytes = new Uint8Array(await res.arrayBuffer());
  try {
    model = await loadModel(bytes);
  } catch (e) {
    return { type: 'error', kind: 'corrupt', code: e.code ?? e.name, message: e.message };
  }
  const catalogue = [];
  for (let i = 0; i < model.itemCount; i++) {
    const id = model.itemId(i);
    catalogue.push({ id, name: model.itemName(id) ?? id, price: model.itemPrice(id) });
  }
  // Popularity order: the recommendation for an empty history is the cold-start ranking.
  const popular = model.recommend({ history: [], k: model.itemCount }).map((r) => r.item);
  return { type: 'ready', catalogue, popular, caps: capabilities(model), bytes: bytes.length };
}

function recs({ seq, history, viewed, product, k = 8, events, asOf }) {
  const t0 = performance.now();
  const strip = (list) => list.map(({ item, score }) => ({ item, score }));
  const out = { type: 'recs', seq, forYou: strip(model.recommend({ history, k })) };
  const caps = capabilities(model);
  if (caps.itemToItem) {
    if (product) out.boughtTogether = strip(model.recommend({ history: [product], k }));
    if (viewed) out.becauseViewed = { item: viewed, list: strip(model.recommend({ history: [viewed], k })) };
  }
  if (events) out.know = knowVisitor(model, events, asOf);
  out.ms = performance.now() - t0;
  return out;
}

self.onmessage = async ({ data }) => {
  try {
    if (data.type === 'init') self.postMessage(await init(data.url));
    else if (data.type === 'recs' && model) self.postMessage(recs(data));
  } catch (e) {
    self.postMessage({ type: 'error', kind: 'scorer', code: e.code ?? e.name, message: e.message });
  }
};
