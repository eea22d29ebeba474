// What Log and Kv share: the handle's lifetime and persistence — the Web Lock held from open to
// close (one writer per name), the IndexedDB database (idb.js: one transaction per flush), the
// flush queue, auto-flush, the BroadcastChannel that tells readers of commits, and `open`
// itself (load or create). The log logic is the core's; this is storage.

import { coreFormatVersion, init } from "./wasm.js";
import * as idb from "./idb.js";
import { checkOptions, oneOf, DURABILITY } from "./args.js";
import { core, ClosedError, GeometryMismatchError, InvalidArgumentError, LockedError, NotFoundError } from "./errors.js";

export class Persisted {
  #core;
  #closing = false;
  #db = null;
  #release = null;
  #channel = null;
  #flushing = Promise.resolve();
  #timer = null;
  #listeners = new Set();
  #manifest = null;

  constructor(coreObj, { name = null, db = null, release = null, manifest = null, durability = "strict", autoFlush = 0, readOnly = false } = {}) {
    this.#core = coreObj;
    this.#db = db;
    this.#release = release;
    this.#manifest = manifest;
    /** The name it was opened with (`null` for an image). */
    this.name = name;
    /** Default durability of `flush()`. */
    this.durability = durability;
    /** Auto-flush delay in ms (0: off). */
    this.autoFlush = autoFlush;
    /** True when opened read-only (a second tab's view, or an image). */
    this.readOnly = readOnly;
    /** The last error of an automatic flush (`null` when it succeeded). */
    this.lastFlushError = null;
    /** True when `open` had to create the store anew although this origin had created it
     * before (the browser discarded it: see README, "What survives what"); `undefined` where
     * that cannot be known (no Cache Storage). */
    this.lost = undefined;
    if (name !== null && typeof BroadcastChannel === "function") {
      this.#channel = new BroadcastChannel(idb.dbName(name));
      this.#channel.onmessage = (ev) => {
        for (const f of this.#listeners) {
          try {
            f(ev.data);
          } catch (e) {
            queueMicrotask(() => {
              throw e;
            });
          }
        }
      };
    }
  }

  /** @internal the wasm object (throws ClosedError once closed). */
  get _core() {
    if (this.#core === null || this.#closing) throw new ClosedError("handle is closed");
    return this.#core;
  }

  /** @internal replaces the wasm object (refresh). */
  _swap(c) {
    const old = this.#core;
    this.#core = c;
    if (old) old.free();
  }

  /** True once `close()` ran. */
  get closed() {
    return this.#core === null || this.#closing;
  }

  /** The generation of the last committed flush (0 before the first). */
  get generation() {
    return this.#manifest ? this.#manifest.generation : 0;
  }

  /** @internal after every write: schedules an automatic flush. */
  _wrote() {
    if (!this.autoFlush || this.#timer !== null || this.#db === null) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.flush().then(
        () => {
          this.lastFlushError = null;
        },
        (e) => {
          this.lastFlushError = e;
        },
      );
    }, this.autoFlush);
  }

  /** Pages changed since the last committed flush. */
  get dirtyPages() {
    return core(() => this._core.dirtyPages());
  }

  /** Persists every change since the last flush in one IndexedDB transaction; resolves once
   * it committed (then everything written before the call survives a crash). On failure it
   * rejects (QuotaError when out of quota), the in-memory state stays and nothing committed
   * is harmed; a later flush retries. Flushes run one after another. */
  flush(options) {
    const opts = checkOptions(options, ["durability"], "flush");
    const durability = oneOf(opts.durability ?? this.durability, DURABILITY, "durability");
    const run = this.#flushing.then(() => this.#flushNow(durability));
    this.#flushing = run.catch(() => {});
    return run;
  }

  async #flushNow(durability) {
    const c = this.#core;
    if (c === null) throw new ClosedError("handle is closed");
    if (this.#db === null) {
      if (this.readOnly) return; // nothing to persist
      throw new InvalidArgumentError("an image opened with fromImage has no store: use exportImage()");
    }
    if (c.dirtyPages() === 0) return;
    const set = core(() => c.flushSet());
    try {
      const manifest = { ...this.#manifest, ...this._manifestFields(c), generation: this.generation + 1 };
      await idb.commit(this.#db, set, manifest, durability);
      this.#manifest = manifest;
      if (this.#core === c) c.persisted(set);
      if (this.#channel) this.#channel.postMessage({ generation: manifest.generation, ...this._commitInfo(c) });
    } finally {
      set.free();
    }
  }

  /** Calls `f({ generation, ... })` whenever another tab or worker commits a flush of this name
   * (BroadcastChannel); returns a function that stops it. */
  onCommit(f) {
    if (typeof f !== "function") throw new TypeError("onCommit takes a function");
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  /** Read-only handles: reloads the last committed state from IndexedDB. */
  async refresh() {
    this._core;
    if (!this.readOnly || this.#db === null) throw new InvalidArgumentError("refresh() is for handles opened with { readOnly: true }");
    const stored = await idb.load(this.#db);
    if (!stored.manifest) throw new NotFoundError(`${this.name}: no longer in IndexedDB`);
    this.#manifest = stored.manifest;
    this._swap(core(() => this.constructor._mountReadOnly(stored)));
  }

  /** Flushes what is pending (writers), then releases the lock and the database; every later
   * call throws ClosedError. The final flush's error is returned (the handle is closed
   * anyway). */
  async close() {
    this._core; // ClosedError when closed or closing
    this.#closing = true; // writes from now on throw ClosedError: nothing is lost unflushed
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    let failure = null;
    try {
      if (this.#db !== null && !this.readOnly) await this.flush();
      else await this.#flushing;
    } catch (e) {
      failure = e;
    }
    const c = this.#core;
    this.#core = null;
    c.free();
    if (this.#channel) this.#channel.close();
    if (this.#db) this.#db.close();
    if (this.#release) this.#release();
    if (failure) throw failure;
  }

  /** The whole image (as a device, Python or C reads it). */
  exportImage() {
    return core(() => this._core.exportImage());
  }

  /** Asks the browser to keep this origin's storage under pressure (navigator.storage.persist). */
  static async persist() {
    return navigator.storage && navigator.storage.persist ? navigator.storage.persist() : false;
  }

  /** The origin's storage usage and quota (navigator.storage.estimate). */
  static async estimate() {
    return navigator.storage && navigator.storage.estimate ? navigator.storage.estimate() : { usage: undefined, quota: undefined };
  }

  /** Deletes the stored log or KV `name` (it must not be open for writing anywhere). */
  static async delete(name) {
    if (typeof name !== "string" || !name) throw new TypeError("delete takes a name");
    await withLock(name, async () => {
      await idb.deleteDb(name);
      await idb.forget(name);
    });
  }

  /** @internal opens `name`: lock (writers), database, load or create. */
  static async _open(name, opts, create, mount) {
    await init();
    if (typeof name !== "string" || name.length === 0) throw new TypeError("open takes a non-empty name (string)");
    const readOnly = opts.readOnly === true;
    const durability = oneOf(opts.durability ?? "strict", DURABILITY, "durability");
    const autoFlush = opts.autoFlush ?? 0;
    if (typeof autoFlush !== "number" || !(autoFlush >= 0) || !Number.isFinite(autoFlush)) {
      throw new InvalidArgumentError(`autoFlush must be a delay in ms (>= 0), not ${String(autoFlush)}`);
    }
    const release = readOnly ? null : await acquire(name);
    let db = null;
    try {
      db = await idb.openDb(name);
      const stored = await idb.load(db);
      let c;
      let manifest = stored.manifest;
      if (manifest) {
        if (manifest.kind !== this._kind) throw new InvalidArgumentError(`${name} holds a ${manifest.kind}, not a ${this._kind}`);
        if (opts.capacity !== undefined && opts.capacity !== manifest.capacity) {
          throw new GeometryMismatchError(`${name} exists with capacity ${manifest.capacity}, not ${opts.capacity}`);
        }
        c = core(() => (readOnly ? this._mountReadOnly(stored) : mount(stored)));
      } else if (readOnly) {
        throw new NotFoundError(`${name}: no such ${this._kind} in IndexedDB`);
      } else {
        c = core(create);
        manifest = { kind: this._kind, format: coreFormatVersion(), generation: 0, ...this._geometry(c) };
      }
      const handle = new this(c, { name, db, release, manifest, durability, autoFlush, readOnly });
      handle.lost = false;
      if (!stored.manifest) {
        // A name this origin created before but IndexedDB no longer holds: the browser discarded
        // the database (site data cleared, eviction, or its own recovery from a corrupt store).
        handle.lost = await idb.remembered(name);
        await handle.flush(); // the new log exists once open resolves
        await idb.remember(name);
      }
      return handle;
    } catch (e) {
      if (db) db.close();
      if (release) release();
      throw e;
    }
  }
}

// Web Locks: one writer per name, held from open to close.
const held = new Set();
function acquire(name) {
  if (typeof navigator === "undefined" || !navigator.locks) {
    // No Web Locks (an insecure context): one writer per page at least.
    if (held.has(name)) return Promise.reject(new LockedError(`${name} is open for writing on this page`));
    held.add(name);
    return Promise.resolve(() => held.delete(name));
  }
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(idb.dbName(name), { ifAvailable: true }, (lock) => {
        if (lock === null) {
          reject(new LockedError(`${name} is open for writing in another tab or worker (open it with { readOnly: true } to read)`));
          return undefined;
        }
        return new Promise((done) => resolve(done));
      })
      .catch(reject);
  });
}

async function withLock(name, f) {
  const release = await acquire(name);
  try {
    return await f();
  } finally {
    release();
  }
}

/** The bytes of persisted pages laid out as an image (for read-only handles). */
export function imageOf(stored) {
  const { capacity, pageSize } = stored.manifest;
  const img = new Uint8Array(capacity).fill(0xff);
  stored.pages.forEach((p, i) => img.set(p, stored.indices[i] * pageSize));
  return img;
}
