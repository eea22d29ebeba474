// tidelog's errors: one class per core error code, 1:1 with the core's `Error` (FORMAT.md and
// core/src/error/code.rs hold the table; the same numbers as Python's exceptions and C's
// tl_status_t). `code` is the stable number, `codeName` its name ("OUT_OF_RANGE"); the fields a
// variant carries (first/next, len/max, needed, found, addr, firstAvailable, errno) are
// properties of the error.
//
// `fromCore` turns what the wasm module throws (a plain Error with `tidelogCode`) into the
// class for that code; a test checks this table against the module's `errorCodes()`.

/** Base class of every tidelog error. */
export class TidelogError extends Error {
  constructor(message, fields) {
    super(message);
    this.name = new.target.name;
    if (fields) Object.assign(this, fields);
  }
  /** The stable error number. */
  get code() {
    return this.constructor.code;
  }
  /** The error's name in the core's table, e.g. "OUT_OF_RANGE". */
  get codeName() {
    return this.constructor.codeName;
  }
}

/** Base class of the storage errors (codes 32..37). */
export class StorageError extends TidelogError {}

const table = [
  [1, "FULL", "FullError", TidelogError],
  [2, "CORRUPT", "CorruptError", TidelogError],
  [3, "OUT_OF_RANGE", "OutOfRangeError", TidelogError],
  [4, "OVERWRITTEN", "OverwrittenError", TidelogError],
  [5, "TOO_LARGE", "TooLargeError", TidelogError],
  [6, "BUFFER_TOO_SMALL", "BufferTooSmallError", TidelogError],
  [7, "UNSUPPORTED_VERSION", "UnsupportedVersionError", TidelogError],
  [8, "NOT_FORMATTED", "NotFormattedError", TidelogError],
  [9, "GEOMETRY_MISMATCH", "GeometryMismatchError", TidelogError],
  [10, "INVALID_CONFIG", "InvalidConfigError", TidelogError],
  [11, "INVALID_ARGUMENT", "InvalidArgumentError", TidelogError],
  [12, "INVALID_NAME", "InvalidNameError", TidelogError],
  [13, "NO_SUCH_CONSUMER", "NoSuchConsumerError", TidelogError],
  [14, "TOO_MANY_CONSUMERS", "TooManyConsumersError", TidelogError],
  [15, "LOCKED", "LockedError", TidelogError],
  [16, "NEEDS_REMOUNT", "NeedsRemountError", TidelogError],
  [17, "NOT_FOUND", "NotFoundError", TidelogError],
  [18, "ALREADY_EXISTS", "AlreadyExistsError", TidelogError],
  [19, "CLOSED", "ClosedError", TidelogError],
  [32, "STORAGE_OUT_OF_BOUNDS", "StorageOutOfBoundsError", StorageError],
  [33, "STORAGE_NOT_ALIGNED", "StorageNotAlignedError", StorageError],
  [34, "STORAGE_WRITE_TWICE", "StorageWriteTwiceError", StorageError],
  [35, "STORAGE_POWER_LOSS", "StoragePowerLossError", StorageError],
  [36, "STORAGE_DEVICE", "StorageDeviceError", StorageError],
  [37, "STORAGE_READ_ONLY", "StorageReadOnlyError", StorageError],
];

/** Error class by code number. */
export const errorClasses = new Map();
const byName = {};
for (const [code, codeName, className, base] of table) {
  // A named class per code: `err instanceof OutOfRangeError`, and `err.name` reads well.
  const cls = { [className]: class extends base {} }[className];
  cls.code = code;
  cls.codeName = codeName;
  errorClasses.set(code, cls);
  byName[className] = cls;
}

export const {
  FullError, CorruptError, OutOfRangeError, OverwrittenError, TooLargeError, BufferTooSmallError,
  UnsupportedVersionError, NotFormattedError, GeometryMismatchError, InvalidConfigError,
  InvalidArgumentError, InvalidNameError, NoSuchConsumerError, TooManyConsumersError, LockedError,
  NeedsRemountError, NotFoundError, AlreadyExistsError, ClosedError, StorageOutOfBoundsError,
  StorageNotAlignedError, StorageWriteTwiceError, StoragePowerLossError, StorageDeviceError,
  StorageReadOnlyError,
} = byName;

/** IndexedDB refused a flush for lack of quota: nothing of that flush was committed. */
export class QuotaError extends FullError {}

/** The tidelog error for what the wasm module threw (other values are passed through). */
export function fromCore(e) {
  if (e && typeof e === "object" && typeof e.tidelogCode === "number") {
    const cls = errorClasses.get(e.tidelogCode) || TidelogError;
    const fields = {};
    for (const k of ["first", "next", "len", "max", "needed", "found", "addr", "firstAvailable", "errno"]) {
      if (k in e) fields[k] = e[k];
    }
    return new cls(e.message, fields);
  }
  return e;
}

/** Runs `f`, turning a core error into its class. */
export function core(f) {
  try {
    return f();
  } catch (e) {
    throw fromCore(e);
  }
}
