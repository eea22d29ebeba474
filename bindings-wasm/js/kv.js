// Kv: a thin layer over the core's KvCore (arguments converted by args.js, persistence in
// store.js).

import { KvCore } from "./tidelog_wasm.js";
import { needInit } from "./wasm.js";
import { Persisted, imageOf } from "./store.js";
import { checkOptions, concat, describe, positiveInt, toBytes, wholeNumber, PAGE_SIZE } from "./args.js";
import { core } from "./errors.js";

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
