// visitor.mjs: what the shop would know about the visitor, computed on the device by the bundle's own models
// (model.profile: segments, stage, CLV; model.churn: risk and reasons; model.score: the offer, when the JS
// API has it). Imported by worker.mjs; the browser test imports visitorHistory to score the same history in
// Node. The stored events ({ type, item, qty, price, order, query, t }: store.mjs) become:
//   profile history: view, cart, purchase and search events as { item, type, time, price, qty, order, query }
//   churn history:   view, cart and purchase events as { time, type, qty, price, order }
// ('remove' events, cart removals, are not events of the models.)
const PROFILE_TYPES = new Set(['view', 'cart', 'purchase', 'search']);
const CHURN_TYPES = new Set(['view', 'cart', 'purchase']);

const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

export function visitorHistory(events) {
  const profile = [];
  const churn = [];
  for (const e of events) {
    if (PROFILE_TYPES.has(e.type)) {
      const p = { type: e.type, time: e.t, qty: num(e.qty) ?? 1 };
      if (e.item != null) p.item = String(e.item);
      if (num(e.price) !== undefined) p.price = e.price;
      if (e.order != null) p.order = String(e.order);
      if (e.query != null) p.query = String(e.query);
      profile.push(p);
    }
    if (CHURN_TYPES.has(e.type)) {
      const c = { type: e.type, time: e.t, qty: num(e.qty) ?? 1 };
      if (num(e.price) !== undefined) c.price = e.price;
      if (e.order != null) c.order = String(e.order);
      churn.push(c);
    }
  }
  return { profile, churn };
}

// A bundle without the model: { absent: true }; any other failure: { error }.
const failure = (e) => (e.code === 'ERR_UNSUPPORTED' || e.code === 'ERR_NOT_FOUND' ? { absent: true, error: e.message } :
  { error: e.code ? e.message : `${e.name}: ${e.message}` });

// { asOf, profile, churn, offer } for the visitor's events as of asOf (Unix seconds). Each part is the model's
// answer in plain values, { absent } (a bundle without that model), { error }, or null (offer: the JS API has no
// model.score yet).
export function knowVisitor(model, events, asOf) {
  const { profile, churn } = visitorHistory(events);
  const out = { asOf, profile: null, churn: null, offer: null };
  {
    try {
      const p = model.profile({ history: profile, asOf });
      out.profile = { rfmSegment: p.rfmSegment, segment: p.segment, segmentDescription: p.segmentDescription,
        stage: p.stage, clv: p.clv, pAlive: p.pAlive, orders: p.features.orders ?? null };
    } catch (e) { out.profile = failure(e); }
  }
  {
    try {
      const c = model.churn({ history: churn, asOf, reasons: 1 });
      out.churn = { probability: c.probability, reason: c.reasons[0]?.text ?? null };
    } catch (e) { out.churn = failure(e); }
  }
  if (typeof model.score === 'function') {
    try {
      const r = model.score({ history: profile, asOf });
      // r.offer is absent without offers in the bundle; { offer: null } means no offer is worth its cost,
      // { offer: null, control: true } that this customer is held out as the control group.
      const o = r?.offer;
      out.offer = o === undefined ? { absent: true, error: 'no offers in it: ulm train --offers' }
        : { offer: o.offer ?? (o.control ? 'held out (control group)' : 'none worth its cost'), net: o.net ?? null };
    } catch (e) { out.offer = failure(e); }
  }
  return out;
}
