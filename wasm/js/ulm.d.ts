// ulm.d.ts: types of ulm.mjs, the JavaScript API of the ulm scorer (Emscripten or WASI build).

/** Which wasm build runs the model. Both give identical results. */
export type UlmRuntime = 'emscripten' | 'wasi';

export interface LoadOptions {
  /** Default 'emscripten'. */
  runtime?: UlmRuntime;
  /** The .wasm to use instead of the file next to ulm.mjs (bytes, or a URL to fetch). */
  wasm?: Uint8Array | ArrayBuffer | URL | string;
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

export type RecommendRequest =
  | { history: Iterable<string | number>; user?: undefined; k?: number; explain?: number }
  | { user: string | number; history?: undefined; k?: number; explain?: number };

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
  /** Number of items in the catalogue. */
  readonly itemCount: number;
  /** Number of known users (0 when the bundle has no user table). */
  readonly userCount: number;
  /** Metadata value by key ('model.recs', 'train.as_of', ...), or null. */
  meta(key: string): string | null;
  /** Item id of catalogue index i, or null when out of range. */
  itemId(i: number): string | null;
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
  /** The bundle's recommender: 'pop', 'itemknn', 'als', 'bpr', 'ease', 'content' or 'hybrid'. */
  readonly recsAlgo: string;
  /** Frees the model's wasm memory; any later use throws UlmError ERR_MISUSE. Idempotent. */
  close(): void;
}

/** Loads .ulm bundle bytes. Rejects with UlmError when the bundle is malformed, truncated or tampered. */
export function loadModel(bytes: Uint8Array | ArrayBuffer | ArrayBufferView, options?: LoadOptions): Promise<Model>;
