// store.mjs: the visitor's events, kept on this device only. IndexedDB database 'ulm-shop',
// object store 'events' (auto-increment keys); when IndexedDB is unavailable (private mode, a
// blocked or broken database) the events live in memory for this tab and the page says so.
//   event: { type: 'view'|'cart'|'remove'|'purchase'|'search', item?, qty?, price?, query?, order?, t }
const DB = 'ulm-shop';
const STORE = 'events';

function req(r) {
  return new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
}

class MemoryStore {
  constructor(reason) { this.kind = 'memory'; this.reason = reason; this.rows = []; }
  async all() { return this.rows.slice(); }
  async add(e) { this.rows.push(e); }
  async clear() { this.rows = []; }
}

class IdbStore {
  constructor(db) { this.kind = 'indexeddb'; this.db = db; }
  #tx(mode) { return this.db.transaction(STORE, mode).objectStore(STORE); }
  async all() { return req(this.#tx('readonly').getAll()); }
  async add(e) {
    const tx = this.db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).add(e);
    await new Promise((ok, fail) => { tx.oncomplete = ok; tx.onerror = () => fail(tx.error); tx.onabort = () => fail(tx.error); });
  }
  async clear() {
    // Forget me: drop the whole database, not only its rows.
    this.db.close();
    await new Promise((ok) => { const r = indexedDB.deleteDatabase(DB); r.onsuccess = ok; r.onerror = ok; r.onblocked = ok; });
    this.db = await openDb();
  }
}

async function openDb() {
  const r = indexedDB.open(DB, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE, { autoIncrement: true });
  return req(r);
}

/** Opens the event store: IndexedDB when it works, else memory (store.kind says which, store.reason why). */
export async function openStore() {
  if (typeof indexedDB === 'undefined' || !indexedDB) return new MemoryStore('this browser offers no IndexedDB');
  try {
    const db = await Promise.race([
      openDb(),
      new Promise((_, fail) => setTimeout(() => fail(new Error('IndexedDB did not open within 3 s')), 3000)),
    ]);
    return new IdbStore(db);
  } catch (e) {
    return new MemoryStore(`IndexedDB could not be opened (${e?.message ?? e})`);
  }
}

export const DB_NAME = DB;
