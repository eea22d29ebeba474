// Types of the npm package `tidelog` (hand-written; checked by `tsc --strict` in
// scripts/test-browser.sh against tests/types-check.ts).

/** Bytes a record, key or value may be given as (strings are UTF-8 encoded). */
export type Bytes = Uint8Array | ArrayBuffer | ArrayBufferView | string;
/** An offset: a whole number (or a BigInt) in 0..=Number.MAX_SAFE_INTEGER. */
export type Offset = number | bigint;
export type Durability = "strict" | "relaxed";
export type FullPolicy = "reject" | "overwriteOldest";

/** Loads the wasm module; call once (later calls return the same promise) before using anything
 * synchronous (`Log.fromImage`). `Log.open` and `Kv.open` call it themselves. */
export function init(input?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<void>;
/** The on-media format version this package writes (FORMAT.md). */
export function formatVersion(): number;
/** The core's error table: `[code, name, description]`. */
export function coreErrorCodes(): Array<[number, string, string]>;
/** How records are converted to bytes (Uint8Array as is, strings UTF-8). */
export function toBytes(x: Bytes, what?: string): Uint8Array;

export interface LogOptions {
  /** Bytes of the image (default 1 MiB); fixed when the log is created. */
  capacity?: number;
  /** Bytes per segment, a multiple of eraseSize (default: about 64 segments). */
  segmentSize?: number;
  /** Program unit of the image (default 1; use the device's to exchange images with it). */
  writeSize?: number;
  /** Erase sector of the image (default 4096). */
  eraseSize?: number;
  /** Largest record (default: what fits a segment). */
  maxRecordSize?: number;
  /** Bytes of frames between index slots (default 1024). */
  indexInterval?: number;
  /** When full: "reject" (FullError, the default) or "overwriteOldest" (a ring). */
  fullPolicy?: FullPolicy;
  /** Default durability of flush() ("strict", the default, or "relaxed"). */
  durability?: Durability;
  /** Flush automatically this many ms after a write (0: never, the default). */
  autoFlush?: number;
  /** Open a view without the writer lock; `refresh()` brings it up to date. */
  readOnly?: boolean;
}

export interface KvOptions {
  capacity?: number;
  writeSize?: number;
  eraseSize?: number;
  maxKeyLen?: number;
  maxValueLen?: number;
  /** The high-water mark in percent of a partition (default 75). */
  highWaterPercent?: number;
  durability?: Durability;
  autoFlush?: number;
  readOnly?: boolean;
}

export interface ImageOptions {
  /** Open a writable copy in memory (default: read-only, never changes a byte). */
  writable?: boolean;
}

export interface Stats {
  firstOffset: number;
  nextOffset: number;
  length: number;
  bytesUsed: number;
  bytesFree: number;
  segmentsUsed: number;
  segmentsTotal: number;
  segmentSize: number;
  maxRecordSize: number;
  writeSize: number;
  eraseSize: number;
  capacity: number;
  fullPolicy: FullPolicy;
  readOnly: boolean;
}

export interface KvStats {
  generation: number;
  partitionSize: number;
  usedBytes: number;
  highWaterMark: number;
  highWater: boolean;
  liveKeys: number | undefined;
  maxKeyLen: number;
  maxValueLen: number;
  capacity: number;
  writeSize: number;
  eraseSize: number;
  readOnly: boolean;
}

export interface CommitEvent {
  generation: number;
  firstOffset?: number;
  nextOffset?: number;
}

declare class Persisted {
  /** The name it was opened with (`null` for an image). */
  readonly name: string | null;
  /** Default durability of flush(). */
  durability: Durability;
  /** Auto-flush delay in ms (0: off). */
  autoFlush: number;
  readonly readOnly: boolean;
  /** The last automatic flush's error, `null` when it succeeded. */
  lastFlushError: unknown;
  /** True when `open` created the store anew although this origin had created it before (the
   * browser discarded it); `undefined` when that cannot be known (no Cache Storage). */
  readonly lost: boolean | undefined;
  readonly closed: boolean;
  /** Generation of the last committed flush. */
  readonly generation: number;
  /** Pages changed since the last committed flush. */
  readonly dirtyPages: number;
  /** Persists every change in one IndexedDB transaction; resolves once committed. Rejects
   * (QuotaError when out of quota) with the in-memory state and the committed state intact. */
  flush(options?: { durability?: Durability }): Promise<void>;
  /** Calls `f` when another tab or worker commits a flush of this name. Returns an unsubscribe. */
  onCommit(f: (e: CommitEvent) => void): () => void;
  /** Read-only handles: reload the last committed state. */
  refresh(): Promise<void>;
  /** Flushes (writers), releases the lock and the database. */
  close(): Promise<void>;
  /** The whole image: what a device, Python or C reads. */
  exportImage(): Uint8Array;
  static persist(): Promise<boolean>;
  static estimate(): Promise<StorageEstimate>;
  /** Deletes the stored log or KV `name`. */
  static delete(name: string): Promise<void>;
}

/** `[offset, record]` pairs; `offset` is where the next step reads. */
export interface Entries extends IterableIterator<[number, Uint8Array]> {
  readonly offset: number | undefined;
}

export class Consumer {
  private constructor();
  readonly name: string;
  /** The committed offset (the next to deliver), `undefined` before the first commit. */
  readonly committed: number | undefined;
  /** Where delivery resumes. */
  readonly position: number;
  commit(offset: Offset): void;
  rewind(offset: Offset): void;
  remove(): void;
  entries(): Entries;
  [Symbol.iterator](): Entries;
}

export class Log extends Persisted {
  private constructor();
  static open(name: string, options?: LogOptions): Promise<Log>;
  static fromImage(bytes: Bytes, options?: ImageOptions & { fullPolicy?: FullPolicy }): Log;
  append(record: Bytes): number;
  appendBatch(records: Iterable<Bytes>): number;
  extend(records: Iterable<Bytes>): number;
  read(offset: Offset): Uint8Array;
  entries(from?: Offset, stop?: Offset): Entries;
  [Symbol.iterator](): Entries;
  consumer(name: string): Consumer;
  consumers(): Array<[string, number]>;
  trimFront(offset: Offset): void;
  truncateBack(length: Offset): void;
  readonly firstOffset: number;
  readonly nextOffset: number;
  readonly length: number;
  stats(): Stats;
}

export class Kv extends Persisted {
  private constructor();
  static open(name: string, options?: KvOptions): Promise<Kv>;
  static fromImage(bytes: Bytes, options?: ImageOptions): Kv;
  get(key: Bytes): Uint8Array | undefined;
  set(key: Bytes, value: Bytes): void;
  delete(key: Bytes): boolean;
  setMultiple(pairs: Iterable<[Bytes, Bytes]>): void;
  entries(): IterableIterator<[Uint8Array, Uint8Array]>;
  [Symbol.iterator](): IterableIterator<[Uint8Array, Uint8Array]>;
  compact(): void;
  stats(): KvStats;
}

export class TidelogError extends Error {
  /** The core's stable error number. */
  readonly code: number;
  /** Its name in the core's table, e.g. "OUT_OF_RANGE". */
  readonly codeName: string;
  static readonly code: number;
  static readonly codeName: string;
  first?: number;
  next?: number;
  len?: number;
  max?: number;
  needed?: number;
  found?: number;
  addr?: number;
  firstAvailable?: number;
  errno?: number;
}
export class StorageError extends TidelogError {}
export class FullError extends TidelogError {}
export class QuotaError extends FullError {}
export class CorruptError extends TidelogError {}
export class OutOfRangeError extends TidelogError {}
export class OverwrittenError extends TidelogError {}
export class TooLargeError extends TidelogError {}
export class BufferTooSmallError extends TidelogError {}
export class UnsupportedVersionError extends TidelogError {}
export class NotFormattedError extends TidelogError {}
export class GeometryMismatchError extends TidelogError {}
export class InvalidConfigError extends TidelogError {}
export class InvalidArgumentError extends TidelogError {}
export class InvalidNameError extends TidelogError {}
export class NoSuchConsumerError extends TidelogError {}
export class TooManyConsumersError extends TidelogError {}
export class LockedError extends TidelogError {}
export class NeedsRemountError extends TidelogError {}
export class NotFoundError extends TidelogError {}
export class AlreadyExistsError extends TidelogError {}
export class ClosedError extends TidelogError {}
export class StorageOutOfBoundsError extends StorageError {}
export class StorageNotAlignedError extends StorageError {}
export class StorageWriteTwiceError extends StorageError {}
export class StoragePowerLossError extends StorageError {}
export class StorageDeviceError extends StorageError {}
export class StorageReadOnlyError extends StorageError {}
/** Error class by code number. */
export const errorClasses: Map<number, typeof TidelogError>;
/** The tidelog error for what the wasm module threw (other values pass through). */
export function fromCore(e: unknown): unknown;
