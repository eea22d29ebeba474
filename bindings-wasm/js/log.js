// Log, Consumer and the `[offset, record]` iterator: a thin layer over the core's LogCore
// (arguments converted by args.js, persistence in store.js).

import { LogCore } from "./tidelog_wasm.js";
import { needInit } from "./wasm.js";
import { Persisted, imageOf } from "./store.js";
import { checkOptions, concat, oneOf, positiveInt, toBytes, toName, toOffset, wholeNumber, PAGE_SIZE, POLICIES } from "./args.js";
import { core } from "./errors.js";

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
