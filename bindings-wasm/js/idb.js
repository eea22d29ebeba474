// IndexedDB persistence of a page-cached log or KV: one database per name, two object stores —
// `pages` (page index -> Uint8Array) and `meta` ("manifest" -> the geometry, the generation and
// what the last commit held). A flush is ONE readwrite transaction that puts the dirty pages,
// deletes the erased ones and puts the manifest: the transaction is the commit point, so what
// IndexedDB keeps after a crash is the image of the last completed flush — whole, never torn.
// Nothing but IndexedDB requests is issued inside it (no await of other work), so it cannot
// auto-commit half-way.

import { QuotaError, TidelogError, StorageDeviceError } from "./errors.js";

const DB_VERSION = 1;

/** The database name for a log or KV name. */
export function dbName(name) {
  return `tidelog:${name}`;
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** The error a failed transaction or request becomes (quota: QuotaError; others: device). */
export function idbError(e, what) {
  if (e instanceof TidelogError) return e;
  const name = (e && e.name) || "Error";
  const msg = `${what}: IndexedDB ${name}${e && e.message ? `: ${e.message}` : ""}`;
  if (name === "QuotaExceededError") return new QuotaError(msg);
  return new StorageDeviceError(msg, { cause: e });
}

/** Opens (creating when absent) the database of `name`. */
export async function openDb(name) {
  const req = indexedDB.open(dbName(name), DB_VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains("pages")) db.createObjectStore("pages");
    if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
  };
  req.onblocked = () => {};
  try {
    return await request(req);
  } catch (e) {
    throw idbError(e, `opening ${dbName(name)}`);
  }
}

/** Reads the manifest and every page in one read-only transaction: `{ manifest, indices, pages }`
 * (`manifest` undefined for a new database). */
export async function load(db) {
  try {
    const tx = db.transaction(["pages", "meta"], "readonly");
    const store = tx.objectStore("pages");
    const [manifest, keys, values] = await Promise.all([
      request(tx.objectStore("meta").get("manifest")),
      request(store.getAllKeys()),
      request(store.getAll()),
    ]);
    return { manifest, indices: Uint32Array.from(keys), pages: values };
  } catch (e) {
    throw idbError(e, "loading");
  }
}

/** Commits a page set and the manifest in one transaction; resolves once it is complete.
 * `durability`: "strict" or "relaxed" (IndexedDB's transaction durability hint). */
export function commit(db, set, manifest, durability) {
  return new Promise((resolve, reject) => {
    let tx;
    try {
      tx = db.transaction(["pages", "meta"], "readwrite", { durability });
    } catch (e) {
      reject(idbError(e, "flush"));
      return;
    }
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(idbError(tx.error, "flush aborted"));
    // A failed request aborts the transaction (its error is not prevented), and `onabort`
    // rejects: a flush is all its pages and the manifest, or nothing.
    try {
      const pages = tx.objectStore("pages");
      for (let i = 0; i < set.length; i++) {
        const index = set.index(i);
        const bytes = set.page(i);
        if (bytes === undefined) pages.delete(index);
        else pages.put(bytes, index);
      }
      tx.objectStore("meta").put(manifest, "manifest");
    } catch (e) {
      try {
        tx.abort();
      } catch {
        // already finished
      }
      reject(idbError(e, "flush"));
    }
  });
}

/** Deletes the database of `name`. */
export async function deleteDb(name) {
  const req = indexedDB.deleteDatabase(dbName(name));
  req.onblocked = () => {};
  try {
    await request(req);
  } catch (e) {
    throw idbError(e, `deleting ${dbName(name)}`);
  }
}

// Which names this origin has created, kept outside IndexedDB (Cache Storage, which windows and
// workers share and which a discarded IndexedDB database does not take with it), so that `open`
// can tell a new log from one the browser threw away. `remembered` is `undefined` without
// Cache Storage.
const MARKS = "tidelog-names";
const markUrl = (name) => `/tidelog-name/${encodeURIComponent(name)}`;

export async function remembered(name) {
  if (typeof caches === "undefined") return undefined;
  try {
    return (await (await caches.open(MARKS)).match(markUrl(name))) !== undefined;
  } catch {
    return undefined;
  }
}

export async function remember(name) {
  if (typeof caches === "undefined") return;
  try {
    await (await caches.open(MARKS)).put(markUrl(name), new Response("1"));
  } catch {
    // best effort: without the mark a later loss is reported as `lost: false`
  }
}

export async function forget(name) {
  if (typeof caches === "undefined") return;
  try {
    await (await caches.open(MARKS)).delete(markUrl(name));
  } catch {
    // nothing to forget
  }
}
