// ulm.d.ts: types of ulm.mjs, the JavaScript API of the ulm scorer (Emscripten or WASI build).

/** Which wasm build runs the model. Both give identical results. */
export type UlmRuntime = 'emscripten' | 'wasi';

export interface LoadOptions {
  /** Default 'emscripten'. */
  runtime?: UlmRuntime;
  /** The .wasm to use instead of the file next to ulm.mjs (bytes, or a URL to fetch). */
  wasm?: Uint8Array | ArrayBuffer | URL | string;
  /** Force the SIMD (true) or plain (false) build; by default the engine's support decides. */
  simd?: boolean;
}

export interface Recommendation {
  /** Item id as in the catalogue. */
  item: string;
  /** Model score (a float32 value); higher is better. */
  score: number;
  /** Display name, present only when the bundle has a non-empty name for the item. */
  name?: string;
  /** The history's item ids that contributed most to this item, best first; absent for popularity. */
  because?: string[];
}

/** Business rules of a recommendation request (docs/recs.md). */
export interface RecommendRules {
  /** When learned repurchase cycles are judged (history entries 'ID@YYYY-MM-DD'); default now. */
  now?: number | Date | string;
  /** Only these item ids may be recommended (e.g. in stock). */
  allow?: Iterable<string | number>;
  /** Only items of these categories (the profiler's); unknown names throw ERR_NOT_FOUND. */
  categories?: Iterable<string>;
  /** No items of these categories. */
  notCategories?: Iterable<string>;
}

export type RecommendRequest =
  | ({ history: Iterable<string | number>; user?: undefined; k?: number; explain?: number } & RecommendRules)
  | ({ user: string | number; history?: undefined; k?: number; explain?: number } & RecommendRules);

/** One event of a customer's history for Model.profile(). */
export interface HistoryEvent {
  /** 'purchase' | 'return' | 'view' | 'cart' | 'search', or the ulm_event_type number (0..4). */
  type: 'view' | 'cart' | 'purchase' | 'return' | 'search' | number;
  /** Unix seconds (floored), a Date or a date string. */
  time: number | Date | string;
  /** Catalogue item id; unknown ids count as items outside the catalogue. */
  item?: string | number | null;
  /** Unit price; omitted = unknown. */
  price?: number | null;
  /** Units (default 1); returns take positive quantities. */
  qty?: number;
  /** Order (invoice) id; events without one form an order per distinct time. */
  order?: string | number | null;
  /** Search text (search events). */
  query?: string | null;
}

export interface ProfileRequest {
  history: Iterable<HistoryEvent>;
  /** Only events before this count (default: one second after the latest event). */
  asOf?: number | Date | string;
}

export interface CustomerProfile {
  /** Every ulm_profile_feature by its native name (recency_days, ..., clv, rfm_r, rfm_f, rfm_m); null = undefined. */
  features: Record<string, number | null>;
  /** Top tf-idf keywords of the items bought and the queries searched, best first. */
  keywords: { word: string; weight: number }[];
  /** 'Champions', 'Loyal', ..., 'Lost'; null without purchases. */
  rfmSegment: string | null;
  /** k-means segment (0 = highest centroid spend) and its description; null without purchases. */
  segment: number | null;
  segmentDescription: string | null;
  /** 'new' | 'active' | 'at risk' | 'dormant' | 'churned' | 'reactivated'; null without purchases. */
  stage: string | null;
  pAlive: number | null;
  expectedPurchases: number | null;
  expectedSpend: number | null;
  clv: number | null;
}

export interface ScoreRequest {
  /** The visitor's events (default []): item ids are the shop's; unknown ids are ignored and counted. */
  history?: Iterable<HistoryEvent>;
  /** The customer's id: decides the offers' control group. Anonymous visitors are never held out. */
  user?: string | number;
  /** Items wanted (default 10); <= 0 gives none, a huge k is clamped to the catalogue. */
  k?: number;
  /** Reasons per item (0..16, default 3) and churn reasons (0..16, default 3). */
  explain?: number;
  reasons?: number;
  /** As-of time of churn, profile and repurchase cycles (default: now). */
  now?: number | Date | string;
  /** The same as `now` (the name profile() and churn() use); `now` wins when both are given. */
  asOf?: number | Date | string;
  /** Search terms, counted as searches one second before `now`. */
  queries?: Iterable<string>;
  /** Business rules as for recommend(). */
  allow?: Iterable<string | number>;
  categories?: Iterable<string>;
  notCategories?: Iterable<string>;
}

export interface ScoreResult {
  items: { item: string; score: number; name?: string; because?: string[] }[];
  /** History events whose item id is not in the catalogue. */
  unknownItems: number;
  /** With a churn model (customer-v1 features). */
  churn?: { probability: number; reasons: { feature: number; name: string; effect: number; text: string }[] };
  /** With a profiler that has CLV parameters; null = undefined (no purchase). */
  clv?: { pAlive: number | null; expectedPurchases: number | null; clv: number | null };
  /** With a profiler. */
  segment?: { rfm: string | null; kmeans: number | null; description: string | null };
  stage?: string | null;
  /** With offers in the bundle and a churn model: the offer with the largest positive expected net value. */
  offer?: {
    offer: string | null;
    control: boolean;
    net?: number;
    value: number;
    valueBasis: 'clv' | 'annual_spend_rate';
    pChurn: number;
  };
}

/** An error from the ulm core. */
export class UlmError extends Error {
  readonly name: 'UlmError';
  /** Status number from ulm_status.h (never 0). */
  readonly status: number;
  /** Status name from ulm_status_name(), e.g. 'ERR_FORMAT', 'ERR_CHECKSUM', 'ERR_NOT_FOUND'. */
  readonly code: string;
  /** The core's message without the code prefix. */
  readonly detail: string;
  /** Section tag at fault, '' when the error is not about a section. */
  readonly section: string;
  /** Byte offset in the bundle at fault (0 when not applicable). */
  readonly offset: number;
}

export interface Model {
  readonly runtime: UlmRuntime;
  /** Whether the model runs on the SIMD build. */
  readonly simd: boolean;
  /** Number of items in the catalogue. */
  readonly itemCount: number;
  /** Number of known users (0 when the bundle has no user table). */
  readonly userCount: number;
  /** Metadata value by key ('model.recs', 'train.as_of', ...), or null. */
  meta(key: string): string | null;
  /** Item id of catalogue index i, or null when out of range. */
  itemId(i: number): string | null;
  /** True when the catalogue has an item with this id. */
  hasItem(id: string): boolean;
  /** Display name of an item, or null when unknown or the bundle has no names. */
  itemName(id: string | number): string | null;
  /** A known user's purchased item ids, in catalogue order; null for an unknown user. */
  userHistory(user: string | number): string[] | null;
  /**
   * Top-k items (default k = 10), best first, never an item in the history. With `history`,
   * unknown ids are ignored; with `user`, the bundle's user table gives the history and an
   * unknown user throws UlmError ERR_NOT_FOUND. k = 0 gives []; k larger than the catalogue
   * gives every item not in the history. Ties go to the lower catalogue index.
   */
  recommend(request: RecommendRequest): Recommendation[];
  /**
   * Churn risk with reasons from the bundle's churn model, computed on the device. With `history` (models
   * trained from an event log: customer-v1 features) the features come from the events before `asOf`;
   * with `features` the row is given as is (NaN or null = missing; categorical features as codes).
   * Throws UlmError ERR_NOT_FOUND when the bundle has no churn model.
   */
  churn(request: ChurnRequest): ChurnResult;
  /** Unit price of an item (the bundle's ITPR section), or null when unknown or not priced. */
  itemPrice(id: string | number): number | null;
  /**
   * Profile features, RFM and k-means segments, lifecycle stage, P(alive), expected purchases and CLV
   * of one customer from a locally held history, computed by the same core code as `ulm segment`.
   * Throws UlmError ERR_UNSUPPORTED when the bundle has no profiler (trained with --no-profiles).
   */
  profile(request: ProfileRequest): CustomerProfile;
  /**
   * Everything the bundle can say about one visitor in one call (items, churn, CLV, segments, stage,
   * next best offer), computed on the device by the core's ulm_score; each optional part is present
   * only when the bundle has its model (docs/api-js.md, score).
   */
  score(request: ScoreRequest): ScoreResult;
  /** The bundle's recommender: 'pop', 'itemknn', 'als', 'bpr', 'ease', 'content' or 'hybrid'. */
  readonly recsAlgo: string;
  /**
   * P(churn) of n table rows at once, without reasons (the batch scorer): rows holds the rows' features
   * back to back (NaN = missing). Each value equals churn({ features: row }).probability.
   * Throws UlmError ERR_NOT_FOUND when the bundle has no churn model.
   */
  churnProbabilities(rows: Float32Array | ArrayLike<number>): Float32Array;
  /**
   * P(churn) of one table row (the model's features; NaN = missing), without reasons: the lightest call
   * (the row goes into a block kept in wasm memory; nothing is allocated per call). The same number as
   * churnProbabilities(row)[0]. Throws UlmError ERR_MISUSE when the row's length is not the feature count,
   * ERR_NOT_FOUND when the bundle has no churn model.
   */
  churnProbability(row: Float32Array | ArrayLike<number>): number;
  /** Frees the model's wasm memory; any later use throws UlmError ERR_MISUSE. Idempotent. */
  close(): void;
}

/** Loads .ulm bundle bytes. Rejects with UlmError when the bundle is malformed, truncated or tampered. */
/** True when this engine runs WebAssembly SIMD (the plain builds are used otherwise). */
export function hasSimd(): boolean;
export function loadModel(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: LoadOptions): Promise<Model>;

export interface ChurnEvent {
  /** Date, ISO-8601 string or Unix seconds. */
  time: Date | string | number;
  /** Default 'purchase'. */
  type?: 'purchase' | 'view' | 'cart' | 'return' | 0 | 1 | 2 | 3;
  /** Units, default 1. */
  qty?: number;
  /** Unit price; unknown when absent. */
  price?: number | null;
  /** Order id: lines with one id form one order. */
  order?: string | number;
}

export type ChurnRequest =
  | { history: Iterable<ChurnEvent>; asOf: Date | string | number; features?: undefined; reasons?: number }
  | { features: ArrayLike<number | null>; history?: undefined; asOf?: undefined; reasons?: number };

export interface ChurnReason {
  /** Feature index. */
  feature: number;
  /** Feature name ('recency_days', a CSV column, ...). */
  name: string;
  /** Contribution to the log-odds: > 0 raises the risk. */
  effect: number;
  /** A sentence for people, e.g. 'no purchase for 94 days, usually every 21'. */
  text: string;
}

export interface ChurnResult {
  /** Calibrated P(churn), a float32 value. */
  probability: number;
  /** Strongest reasons first (default 3). */
  reasons: ChurnReason[];
  /** The feature row that was scored (float32 values; NaN = missing). */
  features: number[];
}
