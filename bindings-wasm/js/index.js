// tidelog for the browser: a crash-safe append-only log (and a KV journal) whose image lives
// in IndexedDB — the same bytes as on a device's flash or in a Python file.
//
//   import { init, Log } from "tidelog";
//   await init();                                   // once: loads the wasm module
//   const log = await Log.open("outbox", { capacity: 1 << 20 });
//   log.append("hello");  await log.flush();        // durable once flush() resolves
//
// What survives what: after `flush()` resolves, every record appended before it survives a
// reload, a tab crash, a killed browser. Appends after the last flush may be lost; never a
// torn batch, never a gap. This file only converts arguments and drives persistence
// (idb.js: one IndexedDB transaction per flush; Web Locks: one writer per name;
// BroadcastChannel: readers learn of commits); every piece of log logic is the Rust core.

import wasmInit, { LogCore, KvCore, errorCodes, formatVersion as coreFormatVersion } from "./tidelog_wasm.js";
import * as idb from "./idb.js";
import {
  core, ClosedError, GeometryMismatchError, InvalidArgumentError, LockedError, NotFoundError,
} from "./errors.js";

export * from "./errors.js";

let ready = null;
let loaded = false;

/** Loads the wasm module (once; later calls return the same promise). `input`: where to fetch
 * it from (default: next to this file), or a `WebAssembly.Module` / bytes. */
export function init(input) {
  if (!ready) {
    const arg = input === undefined ? { module_or_path: new URL("./tidelog_wasm_bg.wasm", import.meta.url) } : { module_or_path: input };
    ready = wasmInit(arg).then(() => {
      loaded = true;
    }, (e) => {
      ready = null;
      throw e;
    });
  }
  return ready;
}

function needInit() {
  if (!loaded) throw new Error("tidelog: call `await init()` before using the package");
}

/** The on-media format version this package writes (FORMAT.md). */
export function formatVersion() {
  needInit();
  return coreFormatVersion();
}

/** The core's error table: `[code, name, description]` triples. */
export function coreErrorCodes() {
  needInit();
  return errorCodes();
}

// ---------------------------------------------------------------------------------------------
// Argument conversion: wrong types get a TypeError, bad values a tidelog error — never a trap.

const encoder = new TextEncoder();

function describe(x) {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an Array";
  if (typeof x === "object") return `a ${x.constructor ? x.constructor.name : "object"}`;
  return `a ${typeof x}`;
}

/** A record, key or value: Uint8Array, other ArrayBuffer views, ArrayBuffer, or string (UTF-8). */
export function toBytes(x, what = "record") {
  if (x instanceof Uint8Array) return x;
  if (typeof x === "string") return encoder.encode(x);
  if (ArrayBuffer.isView(x)) return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
  if (x instanceof ArrayBuffer) return new Uint8Array(x);
  throw new TypeError(`${what} must be a Uint8Array, an ArrayBuffer (or a view of one) or a string, not ${describe(x)}`);
}

/** An offset: a number (range-checked by the core: negative, fractional or huge values are out
 * of range) or a BigInt. */
function toOffset(x, what = "offset") {
  if (typeof x === "number") return x;
  if (typeof x === "bigint") return x >= 0n && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : -1;
  throw new TypeError(`${what} must be a number, not ${describe(x)}`);
}

function toName(x) {
  if (typeof x !== "string") throw new TypeError(`a consumer name must be a string, not ${describe(x)}`);
  return x;
}

/** Concatenates an iterable of records: `[data, lengths]` for one call into the core. */
function concat(records, what) {
  if (records === null || typeof records !== "object" || typeof records[Symbol.iterator] !== "function" || ArrayBuffer.isView(records)) {
    throw new TypeError(`${what} takes an iterable of records (Uint8Array or string), not ${describe(records)}`);
  }
  const parts = [];
  let total = 0;
  for (const r of records) {
    const b = toBytes(r, `each record of ${what}`);
    parts.push(b);
    total += b.length;
  }
  const data = new Uint8Array(total);
  const lens = new Uint32Array(parts.length);
  let at = 0;
  parts.forEach((b, i) => {
    data.set(b, at);
    lens[i] = b.length;
    at += b.length;
  });
  return [data, lens];
}

function checkOptions(opts, allowed, what) {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) {
    throw new TypeError(`${what} options must be an object, not ${describe(opts)}`);
  }
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) {
      throw new InvalidArgumentError(`${what}: unknown option "${k}" (known: ${allowed.join(", ")})`);
    }
  }
  return opts;
}

function oneOf(v, values, what) {
  if (!values.includes(v)) throw new InvalidArgumentError(`${what} must be one of ${values.map((x) => JSON.stringify(x)).join(", ")}, not ${JSON.stringify(v)}`);
  return v;
}

function wholeNumber(v, what, min, max) {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${what} must be a whole number in ${min}..=${max}, not ${String(v)}`);
  }
  return v;
}

function positiveInt(v, what) {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
    throw new InvalidArgumentError(`${what} must be a positive whole number, not ${String(v)}`);
  }
  return v;
}

const DURABILITY = ["strict", "relaxed"];
const POLICIES = ["reject", "overwriteOldest"];
const PAGE_SIZE = 4096;

// ---------------------------------------------------------------------------------------------
// Persistence shared by Log and Kv: lock, database, flush, broadcast, auto-flush.

class Persisted {
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
    await withLock(name, false, async () => {
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

async function withLock(name, _shared, f) {
  const release = await acquire(name);
  try {
    return await f();
  } finally {
    release();
  }
}

/** The bytes of persisted pages laid out as an image (for read-only handles). */
function imageOf(stored) {
  const { capacity, pageSize } = stored.manifest;
  const img = new Uint8Array(capacity).fill(0xff);
  stored.pages.forEach((p, i) => img.set(p, stored.indices[i] * pageSize));
  return img;
}

// ---------------------------------------------------------------------------------------------
// Log

/** An iterator over `[offset, record]` pairs (a reading position of its own: the log may be
 * appended to while it runs). */
class Entries {
  #log;
  #cursor;
  constructor(log, cursor) {
    this.#log = log;
    this.#cursor = cursor;
  }
  [Symbol.iterator]() {
    return this;
  }
  /** The offset the next step reads. */
  get offset() {
    return this.#cursor ? this.#cursor.offset : undefined;
  }
  next() {
    if (this.#cursor === null) return { done: true, value: undefined };
    let r;
    try {
      r = core(() => this.#log._core.readNext(this.#cursor));
    } catch (e) {
      this.return();
      throw e;
    }
    if (r === undefined) {
      this.return();
      return { done: true, value: undefined };
    }
    return { done: false, value: r };
  }
  return() {
    if (this.#cursor) {
      this.#cursor.free();
      this.#cursor = null;
    }
    return { done: true, value: undefined };
  }
}

/** A named consumer cursor: deliver, then `commit(offset + 1)`; after a crash, iterate again
 * from `committed` and the undelivered records come back. */
export class Consumer {
  #log;
  constructor(log, name) {
    this.#log = log;
    /** The consumer's name. */
    this.name = name;
  }
  /** The committed offset (the next one to deliver), `undefined` before the first commit. */
  get committed() {
    return core(() => this.#log._core.committed(this.name));
  }
  /** Where delivery resumes: the committed offset, or the first readable one. */
  get position() {
    return core(() => this.#log._core.position(this.name));
  }
  /** Commits: every record below `offset` is delivered. */
  commit(offset) {
    core(() => this.#log._core.commit(this.name, toOffset(offset)));
    this.#log._wrote();
  }
  /** Moves the cursor back to `offset` (replay). */
  rewind(offset) {
    core(() => this.#log._core.rewind(this.name, toOffset(offset)));
    this.#log._wrote();
  }
  /** Removes the consumer. */
  remove() {
    core(() => this.#log._core.removeConsumer(this.name));
    this.#log._wrote();
  }
  /** `[offset, record]` from the consumer's position on. */
  entries() {
    return this.#log.entries(this.position);
  }
  [Symbol.iterator]() {
    return this.entries();
  }
}

/** A crash-safe append-only log persisted in IndexedDB (or an image in memory). */
export class Log extends Persisted {
  static _kind = "log";

  static _geometry(c) {
    const s = c.stats();
    return { capacity: s.capacity, writeSize: s.writeSize, eraseSize: s.eraseSize, segmentSize: s.segmentSize, pageSize: PAGE_SIZE, fullPolicy: s.fullPolicy };
  }
  static _mountReadOnly(stored) {
    return LogCore.fromImage(imageOf(stored), false, PAGE_SIZE, stored.manifest.fullPolicy);
  }
  _manifestFields(c) {
    const s = c.stats();
    return { firstOffset: s.firstOffset, nextOffset: s.nextOffset };
  }
  _commitInfo(c) {
    return this._manifestFields(c);
  }

  /** Opens the log `name`, creating it when absent (see index.d.ts for the options). A second
   * writer of the same name (another tab or worker) gets LockedError; `{ readOnly: true }`
   * opens a view that `refresh()` brings up to date. */
  static async open(name, options) {
    const opts = checkOptions(options, ["capacity", "segmentSize", "writeSize", "eraseSize", "maxRecordSize", "indexInterval", "fullPolicy", "durability", "autoFlush", "readOnly"], "Log.open");
    const policy = oneOf(opts.fullPolicy ?? "reject", POLICIES, "fullPolicy");
    const capacity = positiveInt(opts.capacity ?? 1 << 20, "capacity");
    const eraseSize = positiveInt(opts.eraseSize ?? 4096, "eraseSize");
    const writeSize = positiveInt(opts.writeSize ?? 1, "writeSize");
    const segments = Math.max(1, Math.floor(capacity / eraseSize / 64));
    const segmentSize = positiveInt(opts.segmentSize ?? segments * eraseSize, "segmentSize");
    const maxRecordSize = wholeNumber(opts.maxRecordSize ?? 0, "maxRecordSize", 0, 2 ** 32 - 1);
    const indexInterval = wholeNumber(opts.indexInterval ?? 1024, "indexInterval", 1, 2 ** 32 - 1);
    return this._open(
      name,
      opts,
      () => LogCore.create(capacity, writeSize, eraseSize, segmentSize, PAGE_SIZE, policy, maxRecordSize, indexInterval),
      (stored) => {
        const m = stored.manifest;
        return LogCore.load(m.capacity, m.writeSize, m.eraseSize, m.pageSize, opts.fullPolicy ?? m.fullPolicy, stored.indices, stored.pages);
      },
    );
  }

  /** A log over an image's bytes (a flash dump, an exported image), geometry from the image:
   * read-only (never changes a byte), or `{ writable: true }` on a copy in memory (then
   * `exportImage()` gives the result; there is no store to flush to). */
  static fromImage(bytes, options) {
    needInit();
    const opts = checkOptions(options, ["writable", "fullPolicy"], "Log.fromImage");
    const img = toBytes(bytes, "image");
    const policy = oneOf(opts.fullPolicy ?? "reject", POLICIES, "fullPolicy");
    const writable = opts.writable === true;
    const c = core(() => LogCore.fromImage(img, writable, PAGE_SIZE, policy));
    return new Log(c, { readOnly: !writable });
  }

  /** Appends a record (Uint8Array or string); returns its offset. */
  append(record) {
    const b = toBytes(record);
    const o = core(() => this._core.append(b));
    this._wrote();
    return o;
  }

  /** Appends records atomically (one frame: all or none after a crash); returns the first
   * offset. Bounded by the largest record size (TooLargeError). */
  appendBatch(records) {
    const [data, lens] = concat(records, "appendBatch");
    const o = core(() => this._core.appendBatch(data, lens));
    this._wrote();
    return o;
  }

  /** Appends any number of records, in as many atomic frames as needed (each frame whole or
   * absent after a crash, not the whole call); returns the first offset. */
  extend(records) {
    const [data, lens] = concat(records, "extend");
    const o = core(() => this._core.extend(data, lens));
    this._wrote();
    return o;
  }

  /** The record at `offset`. */
  read(offset) {
    const o = toOffset(offset);
    return core(() => this._core.read(o));
  }

  /** `[offset, record]` pairs from `from` (default: the first readable offset) up to `stop`
   * (exclusive; default: the end). */
  entries(from, stop) {
    const f = from === undefined ? undefined : toOffset(from, "from");
    const s = stop === undefined ? undefined : toOffset(stop, "stop");
    return new Entries(this, core(() => this._core.cursor(f, s)));
  }

  [Symbol.iterator]() {
    return this.entries();
  }

  /** The consumer `name` (created on its first commit). */
  consumer(name) {
    const n = toName(name);
    core(() => this._core.committed(n)); // checks the name
    return new Consumer(this, n);
  }

  /** Every consumer and its committed offset: `[name, offset]` pairs. */
  consumers() {
    return core(() => this._core.consumers());
  }

  /** Drops the records below `offset`. */
  trimFront(offset) {
    core(() => this._core.trimFront(toOffset(offset)));
    this._wrote();
  }

  /** Drops the records from offset `length` on. */
  truncateBack(length) {
    core(() => this._core.truncateBack(toOffset(length, "length")));
    this._wrote();
  }

  /** First readable offset. */
  get firstOffset() {
    return core(() => this._core.firstOffset());
  }
  /** The offset the next record gets. */
  get nextOffset() {
    return core(() => this._core.nextOffset());
  }
  /** Live records. */
  get length() {
    return this.nextOffset - this.firstOffset;
  }

  /** Size and position (see Stats in index.d.ts). */
  stats() {
    return core(() => this._core.stats());
  }
}

// ---------------------------------------------------------------------------------------------
// Kv

/** A crash-safe key-value journal persisted in IndexedDB (or an image in memory). */
export class Kv extends Persisted {
  static _kind = "kv";

  static _geometry(c) {
    const s = c.stats();
    return { capacity: s.capacity, writeSize: s.writeSize, eraseSize: s.eraseSize, pageSize: PAGE_SIZE };
  }
  static _mountReadOnly(stored) {
    return KvCore.fromImage(imageOf(stored), false, PAGE_SIZE);
  }
  _manifestFields(c) {
    return { kvGeneration: c.stats().generation };
  }
  _commitInfo() {
    return {};
  }

  /** Opens the KV `name`, creating it when absent. */
  static async open(name, options) {
    const opts = checkOptions(options, ["capacity", "writeSize", "eraseSize", "maxKeyLen", "maxValueLen", "highWaterPercent", "durability", "autoFlush", "readOnly"], "Kv.open");
    const eraseSize = positiveInt(opts.eraseSize ?? 4096, "eraseSize");
    const capacity = positiveInt(opts.capacity ?? 16 * eraseSize, "capacity");
    const writeSize = positiveInt(opts.writeSize ?? 1, "writeSize");
    const maxKeyLen = wholeNumber(opts.maxKeyLen ?? 255, "maxKeyLen", 0, 255);
    const maxValueLen = wholeNumber(opts.maxValueLen ?? 0, "maxValueLen", 0, 2 ** 32 - 1);
    const highWater = wholeNumber(opts.highWaterPercent ?? 75, "highWaterPercent", 1, 100);
    return this._open(
      name,
      opts,
      () => KvCore.create(capacity, writeSize, eraseSize, PAGE_SIZE, maxKeyLen, maxValueLen, highWater),
      (stored) => {
        const m = stored.manifest;
        return KvCore.load(m.capacity, m.writeSize, m.eraseSize, m.pageSize, highWater, stored.indices, stored.pages);
      },
    );
  }

  /** A KV over an image's bytes (geometry from the image), read-only or `{ writable: true }`. */
  static fromImage(bytes, options) {
    needInit();
    const opts = checkOptions(options, ["writable"], "Kv.fromImage");
    const img = toBytes(bytes, "image");
    const writable = opts.writable === true;
    return new Kv(core(() => KvCore.fromImage(img, writable, PAGE_SIZE)), { readOnly: !writable });
  }

  /** The value of `key` (Uint8Array), or `undefined`. */
  get(key) {
    const k = toBytes(key, "key");
    return core(() => this._core.get(k));
  }
  /** Sets `key` to `value`. */
  set(key, value) {
    const k = toBytes(key, "key");
    const v = toBytes(value, "value");
    core(() => this._core.set(k, v));
    this._wrote();
  }
  /** Deletes `key`; returns whether it was there. */
  delete(key) {
    const k = toBytes(key, "key");
    const r = core(() => this._core.delete(k));
    this._wrote();
    return r;
  }
  /** Sets several pairs atomically (all or none after a crash): an iterable of `[key, value]`
   * or a Map. */
  setMultiple(pairs) {
    if (pairs === null || typeof pairs !== "object" || typeof pairs[Symbol.iterator] !== "function") {
      throw new TypeError(`setMultiple takes an iterable of [key, value] pairs, not ${describe(pairs)}`);
    }
    const flat = [];
    for (const p of pairs) {
      if (!Array.isArray(p) || p.length !== 2) throw new TypeError("setMultiple: each pair must be [key, value]");
      flat.push(toBytes(p[0], "key"), toBytes(p[1], "value"));
    }
    const [data, lens] = concat(flat, "setMultiple");
    core(() => this._core.setMultiple(data, lens));
    this._wrote();
  }
  /** Every live entry as `[key, value]` (ascending keys). */
  entries() {
    return core(() => this._core.entries())[Symbol.iterator]();
  }
  [Symbol.iterator]() {
    return this.entries();
  }
  /** Rewrites the live entries into the other partition. */
  compact() {
    core(() => this._core.compact());
    this._wrote();
  }
  /** Figures (see KvStats in index.d.ts). */
  stats() {
    return core(() => this._core.stats());
  }
}
