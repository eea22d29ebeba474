// Argument conversion for the package's classes: records, keys and values to bytes, offsets,
// names, batches and options. A wrong type gets a TypeError, a bad value a tidelog error (an
// unknown option is InvalidArgumentError) — never a wasm trap. Range checks of offsets are the
// core's (a negative, fractional or huge offset is out of range there).

import { InvalidArgumentError } from "./errors.js";

const encoder = new TextEncoder();

export function describe(x) {
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
export function toOffset(x, what = "offset") {
  if (typeof x === "number") return x;
  if (typeof x === "bigint") return x >= 0n && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : -1;
  throw new TypeError(`${what} must be a number, not ${describe(x)}`);
}

export function toName(x) {
  if (typeof x !== "string") throw new TypeError(`a consumer name must be a string, not ${describe(x)}`);
  return x;
}

/** Concatenates an iterable of records: `[data, lengths]` for one call into the core. */
export function concat(records, what) {
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

export function checkOptions(opts, allowed, what) {
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

export function oneOf(v, values, what) {
  if (!values.includes(v)) throw new InvalidArgumentError(`${what} must be one of ${values.map((x) => JSON.stringify(x)).join(", ")}, not ${JSON.stringify(v)}`);
  return v;
}

export function wholeNumber(v, what, min, max) {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
    throw new InvalidArgumentError(`${what} must be a whole number in ${min}..=${max}, not ${String(v)}`);
  }
  return v;
}

export function positiveInt(v, what) {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
    throw new InvalidArgumentError(`${what} must be a positive whole number, not ${String(v)}`);
  }
  return v;
}

export const DURABILITY = ["strict", "relaxed"];
export const POLICIES = ["reject", "overwriteOldest"];
export const PAGE_SIZE = 4096;
