//! `tl_status_t`: what every function returns. `TL_OK` is 0; `TL_ERR_<NAME>` is the number
//! and the name of the core's [`ErrorCode`] (one append-only table shared by every binding);
//! the statuses only C has (a NULL pointer, an unaligned object, an object that is not
//! mounted, ...) take numbers from 64 up, which the core's table never uses (1–31 the log's
//! errors, 32–63 the storage's).
//!
//! The compiler proves the table complete: [`CORE_STATUSES`] must list every core code with
//! its number and name (a `const` assertion walks [`ErrorCode::ALL`]), and Rust refuses two
//! variants with one number. `tl_strerror` returns the core's description.

use core::ffi::c_char;
use tl::ErrorCode;

/// Status codes. Every function returns one as a `tl_status_t`; `TL_OK` (0) is success.
/// `TL_ERR_*` below 64 are the core's error codes (the same numbers in every binding);
/// 64 and above are the C binding's own.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum tl_status {
    /// Success.
    TL_OK = 0,
    /// The log is full (full policy `TL_FULL_REJECT`) and nothing can be reclaimed; or the KV
    /// has no room even after compaction.
    TL_ERR_FULL = 1,
    /// Data on the medium failed validation (checksum, structure).
    TL_ERR_CORRUPT = 2,
    /// The offset is past the log's next offset (or not readable).
    TL_ERR_OUT_OF_RANGE = 3,
    /// The records asked for were dropped (trimmed or overwritten); read on from the first
    /// offset (`tl_log_stats`).
    TL_ERR_OVERWRITTEN = 4,
    /// A record, batch, key or value is larger than the log or KV accepts (or a batch has more
    /// than `TL_BATCH_MAX` / `TL_KV_BATCH_MAX` items).
    TL_ERR_TOO_LARGE = 5,
    /// The caller's buffer is too small; the out-length holds the size needed.
    TL_ERR_BUFFER_TOO_SMALL = 6,
    /// The medium holds an image of a newer format version (nothing was written to it).
    TL_ERR_UNSUPPORTED_VERSION = 7,
    /// The medium holds no tidelog image (nothing was written to it): format it.
    TL_ERR_NOT_FORMATTED = 8,
    /// The image's geometry does not match the storage, or its headers disagree.
    TL_ERR_GEOMETRY_MISMATCH = 9,
    /// The geometry in `tl_storage_t` or a configuration field breaks a rule.
    TL_ERR_INVALID_CONFIG = 10,
    /// An argument breaks a rule (an empty batch, a commit that moves backwards, ...).
    TL_ERR_INVALID_ARGUMENT = 11,
    /// A consumer name is empty, longer than `TL_MAX_CONSUMER_NAME` bytes or not UTF-8.
    TL_ERR_INVALID_NAME = 12,
    /// No consumer of that name has committed.
    TL_ERR_NO_SUCH_CONSUMER = 13,
    /// The consumer table is full (`TL_MAX_CONSUMERS`).
    TL_ERR_TOO_MANY_CONSUMERS = 14,
    /// The storage is locked by another writer (not returned by this binding's storage).
    TL_ERR_LOCKED = 15,
    /// An earlier write failed part-way: mount again before writing (reads still work).
    TL_ERR_NEEDS_REMOUNT = 16,
    /// The KV key is absent.
    TL_ERR_NOT_FOUND = 17,
    /// Something that should be new exists already (not returned by this binding).
    TL_ERR_ALREADY_EXISTS = 18,
    /// The handle was closed (not returned by this binding: see `TL_ERR_NOT_MOUNTED`).
    TL_ERR_CLOSED = 19,
    /// The log asked for an address outside the storage (a bug: please report it).
    TL_ERR_STORAGE_OUT_OF_BOUNDS = 32,
    /// The log asked for a misaligned program or erase (a bug: please report it).
    TL_ERR_STORAGE_NOT_ALIGNED = 33,
    /// A write unit was programmed twice without an erase (not returned by this binding's
    /// storage: a callback reports its own failures as device errors).
    TL_ERR_STORAGE_WRITE_TWICE = 34,
    /// Power was lost during the operation (not returned by this binding's storage).
    TL_ERR_STORAGE_POWER_LOSS = 35,
    /// A storage callback returned non-zero; `tl_log_last_device_error` /
    /// `tl_kv_last_device_error` return its code.
    TL_ERR_STORAGE_DEVICE = 36,
    /// The storage is read-only (not returned by this binding's storage).
    TL_ERR_STORAGE_READ_ONLY = 37,
    /// `tl_iter_next`: no record at the iterator's offset yet (it is at the log's next
    /// offset). Not an error: records appended later are read by the next call.
    TL_END = 64,
    /// A pointer argument that must not be NULL is NULL (or a buffer of non-zero length is).
    TL_ERR_NULL_POINTER = 65,
    /// An object pointer (`tl_log_t *`, `tl_iter_t *`, `tl_kv_t *`) is not aligned for its
    /// type.
    TL_ERR_UNALIGNED = 66,
    /// The object is not mounted (or initialised), was unmounted, or is another kind of
    /// object.
    TL_ERR_NOT_MOUNTED = 67,
    /// The object is in use by a call that has not returned: a storage callback called back
    /// into it, or two threads share it without a lock.
    TL_ERR_BUSY = 68,
    /// The iterator belongs to another log object (or the log object was moved), a buffer
    /// overlaps the object it is passed with, or format / mount / `tl_iter_init` was given a
    /// live object of another kind.
    TL_ERR_WRONG_OBJECT = 69,
}

/// The return type of every function: a `tl_status` value (`TL_OK` = 0).
pub type tl_status_t = i32;

use tl_status::*;

/// Every core error code with its C status and the core's name: the compiler checks this
/// against [`ErrorCode::ALL`] (numbers and names), so a core code without a C status does not
/// build.
pub(crate) const CORE_STATUSES: [(tl_status, &str); 25] = [
    (TL_ERR_FULL, "FULL"),
    (TL_ERR_CORRUPT, "CORRUPT"),
    (TL_ERR_OUT_OF_RANGE, "OUT_OF_RANGE"),
    (TL_ERR_OVERWRITTEN, "OVERWRITTEN"),
    (TL_ERR_TOO_LARGE, "TOO_LARGE"),
    (TL_ERR_BUFFER_TOO_SMALL, "BUFFER_TOO_SMALL"),
    (TL_ERR_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION"),
    (TL_ERR_NOT_FORMATTED, "NOT_FORMATTED"),
    (TL_ERR_GEOMETRY_MISMATCH, "GEOMETRY_MISMATCH"),
    (TL_ERR_INVALID_CONFIG, "INVALID_CONFIG"),
    (TL_ERR_INVALID_ARGUMENT, "INVALID_ARGUMENT"),
    (TL_ERR_INVALID_NAME, "INVALID_NAME"),
    (TL_ERR_NO_SUCH_CONSUMER, "NO_SUCH_CONSUMER"),
    (TL_ERR_TOO_MANY_CONSUMERS, "TOO_MANY_CONSUMERS"),
    (TL_ERR_LOCKED, "LOCKED"),
    (TL_ERR_NEEDS_REMOUNT, "NEEDS_REMOUNT"),
    (TL_ERR_NOT_FOUND, "NOT_FOUND"),
    (TL_ERR_ALREADY_EXISTS, "ALREADY_EXISTS"),
    (TL_ERR_CLOSED, "CLOSED"),
    (TL_ERR_STORAGE_OUT_OF_BOUNDS, "STORAGE_OUT_OF_BOUNDS"),
    (TL_ERR_STORAGE_NOT_ALIGNED, "STORAGE_NOT_ALIGNED"),
    (TL_ERR_STORAGE_WRITE_TWICE, "STORAGE_WRITE_TWICE"),
    (TL_ERR_STORAGE_POWER_LOSS, "STORAGE_POWER_LOSS"),
    (TL_ERR_STORAGE_DEVICE, "STORAGE_DEVICE"),
    (TL_ERR_STORAGE_READ_ONLY, "STORAGE_READ_ONLY"),
];

/// The C binding's own statuses (64 and up) with their descriptions, for `tl_strerror`.
pub(crate) const C_STATUSES: [(tl_status, &core::ffi::CStr); 6] = [
    (
        TL_END,
        c"no record yet at the iterator's offset (end of the log)",
    ),
    (TL_ERR_NULL_POINTER, c"a required pointer argument is NULL"),
    (TL_ERR_UNALIGNED, c"object pointer not aligned for its type"),
    (
        TL_ERR_NOT_MOUNTED,
        c"object not mounted (or initialised), unmounted, or of another kind",
    ),
    (
        TL_ERR_BUSY,
        c"object in use by a call that has not returned",
    ),
    (
        TL_ERR_WRONG_OBJECT,
        c"wrong object: an iterator of another log, a buffer overlapping the object, or a live object of another kind",
    ),
];

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

// The proof (see the module doc): every core code, in the core's order, with its number and
// name; the C-only statuses above the core's ranges.
const _: () = {
    assert!(CORE_STATUSES.len() == ErrorCode::ALL.len());
    let mut i = 0;
    while i < ErrorCode::ALL.len() {
        let (st, name) = CORE_STATUSES[i];
        assert!(st as i32 == ErrorCode::ALL[i].as_u16() as i32);
        assert!(same(name, ErrorCode::ALL[i].name()));
        assert!((st as i32) > 0 && (st as i32) < 64);
        i += 1;
    }
    let mut j = 0;
    while j < C_STATUSES.len() {
        assert!(C_STATUSES[j].0 as i32 == 64 + j as i32);
        j += 1;
    }
};

/// The core's descriptions, each NUL-terminated, one after the other (built at compile time:
/// the only copy of the strings in the binary).
const DESCRIPTIONS_LEN: usize = {
    let mut n = 0;
    let mut i = 0;
    while i < ErrorCode::ALL.len() {
        n += ErrorCode::ALL[i].description().len() + 1;
        i += 1;
    }
    n
};

static DESCRIPTIONS: [u8; DESCRIPTIONS_LEN] = {
    let mut out = [0u8; DESCRIPTIONS_LEN];
    let mut at = 0;
    let mut i = 0;
    while i < ErrorCode::ALL.len() {
        let d = ErrorCode::ALL[i].description().as_bytes();
        let mut k = 0;
        while k < d.len() {
            assert!(d[k] != 0);
            out[at] = d[k];
            at += 1;
            k += 1;
        }
        at += 1; // the NUL
        i += 1;
    }
    out
};

/// Where each core code's description starts in [`DESCRIPTIONS`] (in the order of `ALL`).
static DESCRIPTION_AT: [u16; 25] = {
    let mut out = [0u16; 25];
    let mut at = 0;
    let mut i = 0;
    while i < ErrorCode::ALL.len() {
        out[i] = at as u16;
        at += ErrorCode::ALL[i].description().len() + 1;
        i += 1;
    }
    out
};

/// A short description of `status` (a `tl_status_t`): the core's description for its error
/// codes, `"ok"` for `TL_OK`, `"unknown status"` for a number that is no status. The string is
/// static and NUL-terminated; never NULL.
#[no_mangle]
pub extern "C" fn tl_strerror(status: tl_status_t) -> *const c_char {
    if status == 0 {
        return c"ok".as_ptr();
    }
    if let Ok(n) = u16::try_from(status) {
        if let Some(code) = ErrorCode::from_u16(n) {
            if let Some(i) = ErrorCode::ALL.iter().position(|&c| c == code) {
                return DESCRIPTIONS[DESCRIPTION_AT[i] as usize..].as_ptr().cast();
            }
        }
    }
    for (st, text) in C_STATUSES {
        if st as i32 == status {
            return text.as_ptr();
        }
    }
    c"unknown status".as_ptr()
}

/// A failed call's status (never `TL_OK`): what the internal functions return as their
/// error, converted from a core [`tl::Error`] by `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail(pub tl_status_t);

impl Fail {
    /// One of the C binding's own statuses.
    pub(crate) const fn of(st: tl_status) -> Fail {
        Fail(st as i32)
    }
}

impl From<tl::Error> for Fail {
    fn from(e: tl::Error) -> Self {
        // A core code: each is a `tl_status` of the same number (proved above).
        Fail(e.code().as_u16() as i32)
    }
}

/// The status of a result.
pub(crate) fn status_of(r: Result<(), Fail>) -> tl_status_t {
    match r {
        Ok(()) => TL_OK as i32,
        Err(Fail(st)) => st,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::CStr;

    fn text(st: i32) -> &'static str {
        // SAFETY: tl_strerror returns a static NUL-terminated string.
        unsafe { CStr::from_ptr(tl_strerror(st)) }.to_str().unwrap()
    }

    #[test]
    fn every_core_code_maps_to_its_own_status_and_description() {
        for (i, code) in ErrorCode::ALL.iter().enumerate() {
            let n = code.as_u16() as i32;
            assert_eq!(CORE_STATUSES[i].0 as i32, n);
            assert_eq!(text(n), code.description());
            let e = Fail::from(example(*code));
            assert_eq!(e.0, n, "{code:?}");
        }
        assert_eq!(text(0), "ok");
        assert_eq!(text(-1), "unknown status");
        assert_eq!(text(20), "unknown status");
        assert_eq!(text(1000), "unknown status");
        for (st, d) in C_STATUSES {
            assert_eq!(text(st as i32), d.to_str().unwrap());
        }
        // No two statuses share a description.
        let mut all: Vec<&str> = (0..200)
            .map(text)
            .filter(|t| *t != "unknown status")
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
        assert_eq!(n, 1 + CORE_STATUSES.len() + C_STATUSES.len());
    }

    /// The committed header (what C programs compile against) has every core code under its
    /// name and number, and no number twice.
    #[test]
    fn the_header_lists_every_core_code_once() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/tidelog.h");
        let header = std::fs::read_to_string(path).expect("include/tidelog.h");
        let mut numbers = Vec::new();
        for line in header.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("TL_") {
                if let Some((name, n)) = rest.split_once(" = ") {
                    let n: i32 = n.trim_end_matches(',').parse().expect(line);
                    numbers.push((format!("TL_{name}"), n));
                }
            }
        }
        for code in ErrorCode::ALL {
            let want = (format!("TL_ERR_{}", code.name()), code.as_u16() as i32);
            assert!(numbers.contains(&want), "{want:?} missing from tidelog.h");
        }
        let mut values: Vec<i32> = numbers.iter().map(|(_, n)| *n).collect();
        values.sort();
        values.dedup();
        assert_eq!(values.len(), numbers.len(), "two statuses share a number");
        assert_eq!(numbers.len(), 1 + CORE_STATUSES.len() + C_STATUSES.len());
    }

    /// One error per code, through the core's `Error::code`.
    fn example(c: ErrorCode) -> tl::Error {
        use tl::{ConfigError, Error, StorageError};
        let all = [
            Error::Full,
            Error::Corrupt { addr: 1 },
            Error::OutOfRange { first: 0, next: 1 },
            Error::Overwritten { first_available: 2 },
            Error::TooLarge { len: 9, max: 8 },
            Error::BufferTooSmall { needed: 3 },
            Error::UnsupportedVersion { found: 2 },
            Error::NotFormatted,
            Error::GeometryMismatch,
            Error::InvalidConfig(ConfigError::WriteSize),
            Error::InvalidArgument("x"),
            Error::InvalidName,
            Error::NoSuchConsumer,
            Error::TooManyConsumers,
            Error::Locked,
            Error::NeedsRemount,
            Error::NotFound,
            Error::AlreadyExists,
            Error::Closed,
            Error::Storage(StorageError::OutOfBounds),
            Error::Storage(StorageError::NotAligned),
            Error::Storage(StorageError::WriteTwice),
            Error::Storage(StorageError::PowerLoss),
            Error::Storage(StorageError::Device(-4)),
            Error::Storage(StorageError::ReadOnly),
        ];
        *all.iter()
            .find(|e| e.code() == c)
            .unwrap_or_else(|| panic!("no example error for {c:?}: add one"))
    }
}
