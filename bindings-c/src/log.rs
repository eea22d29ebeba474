//! The log: `tl_log_*` (format, mount, append, read, consumers, trim, truncate, sync, stats)
//! and `tl_iter_*` (reading in offset order with a detached `ReadCursor`).
//!
//! Every function converts its arguments ([`crate::args`]), enters the object
//! ([`crate::object`]), calls the core and returns the status; out-parameters are written
//! after the object is left.

use core::ffi::{c_char, c_int, c_void};

use crate::args::{self, batch, input, output, put, required, tl_buf_t, TL_BATCH_MAX};
use crate::object::{self, tl_iter_t, tl_log_t, CLog, IterBody, Span};
use crate::status::{status_of, tl_status, tl_status_t, Fail};
use crate::storage::{tl_storage_t, CallbackStorage};

/// `tl_log_config_t.full_policy`: keep every record; appends fail with `TL_ERR_FULL` when
/// no trimmed (or fully consumed) segment can be reclaimed.
pub const TL_FULL_REJECT: u32 = 0;
/// `tl_log_config_t.full_policy`: a ring buffer; the oldest segment is dropped, lagging
/// readers get `TL_ERR_OVERWRITTEN`.
pub const TL_FULL_OVERWRITE_OLDEST: u32 = 1;
/// Longest consumer name, in bytes (UTF-8, NUL-terminated in the API).
pub const TL_MAX_CONSUMER_NAME: u32 = 32;

const _: () = assert!(TL_MAX_CONSUMER_NAME as usize == tl::MAX_CONSUMER_NAME);

/// How a log is laid out by `tl_log_format` and how it behaves when full. A zeroed struct
/// (or NULL) means the defaults. `tl_log_mount` takes the layout from the image and uses only
/// `full_policy`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct tl_log_config_t {
    /// Segment size in erase sectors; 0 means 1. The device must hold at least two segments.
    pub segment_sectors: u32,
    /// Bytes of records between index slots (at least the write size); 0 means 1024.
    /// Smaller: faster reads by offset and mount, more index bytes.
    pub index_interval: u32,
    /// Largest record (or batch) in bytes; 0 means the largest that fits in a segment.
    pub max_record_size: u32,
    /// `TL_FULL_REJECT` (0, the default) or `TL_FULL_OVERWRITE_OLDEST`.
    pub full_policy: u32,
}

/// Size and position of a log, from `tl_log_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct tl_log_stats_t {
    /// First readable offset.
    pub first_offset: u64,
    /// Offset the next appended record gets.
    pub next_offset: u64,
    /// Bytes held by the segments in use.
    pub bytes_used: u64,
    /// Record bytes that can be appended before a segment must be reclaimed.
    pub bytes_free: u64,
    /// Segments in use (from the oldest live one to the active one).
    pub segments_used: u32,
    /// Segments on the device.
    pub segments_total: u32,
    /// Segment size in bytes.
    pub segment_size: u32,
    /// Largest record (or batch) accepted, in bytes.
    pub max_record_size: u32,
    /// Program unit of the image, bytes.
    pub write_size: u32,
    /// Erase sector of the image, bytes.
    pub erase_size: u32,
    /// The full policy in force (`TL_FULL_REJECT` or `TL_FULL_OVERWRITE_OLDEST`).
    pub full_policy: u32,
}

/// The storage argument of format and mount, copied.
///
/// # Safety
/// `storage` is NULL or points to a readable `tl_storage_t`.
pub(crate) unsafe fn storage_arg(storage: *const tl_storage_t) -> Result<CallbackStorage, Fail> {
    if storage.is_null() {
        return Err(Fail::of(tl_status::TL_ERR_NULL_POINTER));
    }
    // SAFETY: non-NULL and readable (the contract).
    let dev = unsafe { storage.read_unaligned() };
    CallbackStorage::new(&dev).ok_or(Fail::of(tl_status::TL_ERR_NULL_POINTER))
}

/// # Safety
/// `config` is NULL or points to a readable `tl_log_config_t`.
unsafe fn config_arg(config: *const tl_log_config_t) -> Result<tl::Config, Fail> {
    let c = if config.is_null() {
        tl_log_config_t::default()
    } else {
        // SAFETY: non-NULL and readable (the contract).
        unsafe { config.read_unaligned() }
    };
    let policy = match c.full_policy {
        TL_FULL_REJECT => tl::FullPolicy::Reject,
        TL_FULL_OVERWRITE_OLDEST => tl::FullPolicy::OverwriteOldest,
        _ => return Err(Fail::of(tl_status::TL_ERR_INVALID_CONFIG)),
    };
    let d = tl::Config::new();
    let or = |v: u32, default: u32| if v == 0 { default } else { v };
    Ok(d.segment_sectors(or(c.segment_sectors, d.segment_sectors))
        .index_interval(or(c.index_interval, d.index_interval))
        .max_record_size(c.max_record_size)
        .full_policy(policy))
}

/// A length result: `TL_ERR_BUFFER_TOO_SMALL` carries the length needed.
fn sized(r: tl::Result<usize>) -> Result<(tl_status_t, usize), Fail> {
    match r {
        Ok(n) => Ok((tl_status::TL_OK as i32, n)),
        Err(tl::Error::BufferTooSmall { needed }) => {
            Ok((tl_status::TL_ERR_BUFFER_TOO_SMALL as i32, needed as usize))
        }
        Err(e) => Err(e.into()),
    }
}

/// Erases the whole device and creates an empty log on it, laid out by `config` (NULL: the
/// defaults) and the geometry in `storage` (copied; its callbacks and `ctx` must stay valid
/// while the log is mounted). `log` is then mounted, whatever it held before.
///
/// Returns `TL_OK`; `TL_ERR_NULL_POINTER` (`log` or `storage` NULL, or a NULL `read`, `prog`
/// or `erase` callback), `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`, `TL_ERR_INVALID_CONFIG` (bad
/// geometry, fewer than two segments, a segment too small, a bad `full_policy`, ...),
/// `TL_ERR_STORAGE_DEVICE`. After an error `log` is not mounted.
///
/// # Safety
/// Pointers are NULL or valid for their types (`log` zeroed or set up by this library).
#[no_mangle]
pub unsafe extern "C" fn tl_log_format(
    log: *mut tl_log_t,
    storage: *const tl_storage_t,
    config: *const tl_log_config_t,
) -> tl_status_t {
    // SAFETY: the contract.
    unsafe { open(log, storage, config, true) }
}

/// Mounts the log on `storage`, recovering from any power cut; the layout comes from the
/// image, `config` (NULL: the defaults) supplies only the full policy. Nothing is written to
/// a device that holds no tidelog image, or one of a newer format version. `log` is then
/// mounted, whatever it held before.
///
/// Returns `TL_OK`; `TL_ERR_NOT_FORMATTED` (no image: call `tl_log_format`),
/// `TL_ERR_UNSUPPORTED_VERSION`, `TL_ERR_GEOMETRY_MISMATCH` (the image is not for this
/// geometry), `TL_ERR_TOO_MANY_CONSUMERS`, `TL_ERR_CORRUPT`, `TL_ERR_INVALID_CONFIG`, and the
/// argument and device statuses of `tl_log_format`. After an error `log` is not mounted.
///
/// # Safety
/// As for `tl_log_format`.
#[no_mangle]
pub unsafe extern "C" fn tl_log_mount(
    log: *mut tl_log_t,
    storage: *const tl_storage_t,
    config: *const tl_log_config_t,
) -> tl_status_t {
    // SAFETY: the contract.
    unsafe { open(log, storage, config, false) }
}

/// Format (`format` true) or mount: one copy of the argument handling for both.
///
/// # Safety
/// As for `tl_log_format`.
#[inline(never)]
unsafe fn open(
    log: *mut tl_log_t,
    storage: *const tl_storage_t,
    config: *const tl_log_config_t,
    format: bool,
) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe {
        object::set(log, || {
            let (s, c) = (storage_arg(storage)?, config_arg(config)?);
            // One call site (not two inlined ones): one result on the stack.
            let open = if format { CLog::format } else { CLog::mount };
            Ok(open(s, c)?)
        })
    })
}

/// Marks `log` not mounted (nothing is written: every operation that returned `TL_OK` is on
/// the device already; call `tl_log_sync` first on a device with a write cache). Later calls
/// return `TL_ERR_NOT_MOUNTED` until it is mounted again.
///
/// Returns `TL_OK`, `TL_ERR_NULL_POINTER`, `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`,
/// `TL_ERR_NOT_MOUNTED`.
///
/// # Safety
/// `log` is NULL or valid (zeroed or set up by this library).
#[no_mangle]
pub unsafe extern "C" fn tl_log_unmount(log: *mut tl_log_t) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { object::clear(log) })
}

/// Appends one record of `len` bytes (0 allowed; `data` may then be NULL) and stores its
/// offset in `*offset` (optional: may be NULL). The record is on the device when this
/// returns (durable after `tl_log_sync` on a device with a write cache).
///
/// Returns `TL_OK`; `TL_ERR_TOO_LARGE`, `TL_ERR_FULL` (policy `TL_FULL_REJECT`),
/// `TL_ERR_STORAGE_DEVICE` (after which writes return `TL_ERR_NEEDS_REMOUNT` until the log is
/// mounted again), `TL_ERR_NEEDS_REMOUNT`, and the object and buffer statuses
/// (`TL_ERR_NULL_POINTER`, `TL_ERR_UNALIGNED`, `TL_ERR_NOT_MOUNTED`, `TL_ERR_BUSY`,
/// `TL_ERR_WRONG_OBJECT`).
///
/// # Safety
/// Pointers are NULL or valid for their types and lengths.
#[no_mangle]
pub unsafe extern "C" fn tl_log_append(
    log: *mut tl_log_t,
    data: *const c_void,
    len: usize,
    offset: *mut u64,
) -> tl_status_t {
    let span = Span::of(log);
    // SAFETY: the contract.
    let r = unsafe { object::with(log, |l| Ok(l.append(input(&[span], data, len)?)?)) };
    status_of(r.map(|off| unsafe { put(offset, off) }))
}

/// Appends `count` records atomically — one frame, one checksum: after a power cut either all
/// are in the log or none — and stores the offset of the first in `*first_offset`
/// (optional). At most `TL_BATCH_MAX` records; together they must fit the largest record size
/// (`tl_log_stats_t.max_record_size`). The caller keeps the buffers.
///
/// Returns `TL_OK`; `TL_ERR_INVALID_ARGUMENT` (`count` is 0), `TL_ERR_TOO_LARGE` (a record
/// or the batch too large, or more than `TL_BATCH_MAX` records), `TL_ERR_NULL_POINTER`
/// (`records` NULL, or a NULL buffer of non-zero length), and the statuses of
/// `tl_log_append`.
///
/// # Safety
/// `records` is NULL or valid for `count` elements, each valid for its length.
#[no_mangle]
pub unsafe extern "C" fn tl_log_append_batch(
    log: *mut tl_log_t,
    records: *const tl_buf_t,
    count: usize,
    first_offset: *mut u64,
) -> tl_status_t {
    let span = Span::of(log);
    // SAFETY: the contract.
    let r = unsafe {
        object::with(log, |l| {
            let mut slices: [&[u8]; TL_BATCH_MAX as usize] = [&[]; TL_BATCH_MAX as usize];
            let recs = batch(&[span], records, count, &mut slices)?;
            Ok(l.append_batch(recs)?)
        })
    };
    status_of(r.map(|off| unsafe { put(first_offset, off) }))
}

/// Copies the record at `offset` into `buf` (`cap` bytes; may be NULL when `cap` is 0) and
/// stores its length in `*len` (required). When the record is longer than `cap`, nothing is
/// copied, `*len` is the length needed and the status is `TL_ERR_BUFFER_TOO_SMALL` (so
/// `cap` 0 asks for the length). Every record read is checked against its checksum.
///
/// Returns `TL_OK`; `TL_ERR_BUFFER_TOO_SMALL`, `TL_ERR_OUT_OF_RANGE` (`offset` is at or
/// past the next offset), `TL_ERR_OVERWRITTEN` (trimmed or overwritten), `TL_ERR_CORRUPT`,
/// `TL_ERR_STORAGE_DEVICE`, and the object and buffer statuses.
///
/// # Safety
/// `buf` is NULL or valid for writes of `cap` bytes; `len` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_log_read(
    log: *mut tl_log_t,
    offset: u64,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
) -> tl_status_t {
    let span = Span::of(log);
    // SAFETY: the contract.
    let r = required(len).and_then(|_| unsafe {
        object::with(log, |l| sized(l.read(offset, output(&[span], buf, cap)?)))
    });
    match r {
        Ok((st, n)) => {
            unsafe { put(len, n) };
            st
        }
        Err(Fail(st)) => st,
    }
}

/// Makes everything appended, committed or trimmed before it durable (calls the `sync`
/// callback; nothing to do when it is NULL).
///
/// Returns `TL_OK`; `TL_ERR_STORAGE_DEVICE`, and the object statuses.
///
/// # Safety
/// `log` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_log_sync(log: *mut tl_log_t) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { object::with(log, |l| Ok(l.sync()?)) })
}

/// Drops the records below `offset` (at most the next offset); their space is reclaimed a
/// whole segment at a time. Persisted.
///
/// Returns `TL_OK`; `TL_ERR_OUT_OF_RANGE`, `TL_ERR_FULL`, `TL_ERR_STORAGE_DEVICE`,
/// `TL_ERR_NEEDS_REMOUNT`, and the object statuses.
///
/// # Safety
/// `log` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_log_trim_front(log: *mut tl_log_t, offset: u64) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { object::with(log, |l| Ok(l.trim_front(offset)?)) })
}

/// Drops the records at offsets `len` and above, atomically; the next record appended gets
/// offset `len` (the one case where offsets are reused). Persisted.
///
/// Returns `TL_OK`; `TL_ERR_OUT_OF_RANGE` (`len` past the next offset or below the first
/// readable one), `TL_ERR_FULL`, `TL_ERR_STORAGE_DEVICE`, `TL_ERR_NEEDS_REMOUNT`, and the
/// object statuses.
///
/// # Safety
/// `log` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_log_truncate_back(log: *mut tl_log_t, len: u64) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { object::with(log, |l| Ok(l.truncate_back(len)?)) })
}

/// Persists `offset` as consumer `name`'s position ("records below it are done"), creating
/// the consumer on its first commit. `offset` may not exceed the next offset nor move the
/// position backwards (see `tl_log_rewind`); committing the current position writes nothing.
///
/// Returns `TL_OK`; `TL_ERR_INVALID_NAME` (empty, longer than `TL_MAX_CONSUMER_NAME`, not
/// UTF-8), `TL_ERR_OUT_OF_RANGE`, `TL_ERR_INVALID_ARGUMENT` (backwards), `TL_ERR_TOO_MANY_CONSUMERS`,
/// `TL_ERR_FULL`, `TL_ERR_STORAGE_DEVICE`, `TL_ERR_NEEDS_REMOUNT`, and the object statuses.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tl_log_commit(
    log: *mut tl_log_t,
    name: *const c_char,
    offset: u64,
) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { consumer(log, name, |l, n| Ok(l.commit(n, offset)?)) })
}

/// Moves consumer `name` to `offset` (readable or the next offset), backwards or forwards,
/// and persists it.
///
/// Returns `TL_OK`; `TL_ERR_OUT_OF_RANGE`, `TL_ERR_OVERWRITTEN` (below the first readable
/// offset), and the statuses of `tl_log_commit`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tl_log_rewind(
    log: *mut tl_log_t,
    name: *const c_char,
    offset: u64,
) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { consumer(log, name, |l, n| Ok(l.rewind(n, offset)?)) })
}

/// Deletes consumer `name` (persisted).
///
/// Returns `TL_OK`; `TL_ERR_NO_SUCH_CONSUMER`, `TL_ERR_INVALID_NAME`, `TL_ERR_FULL`,
/// `TL_ERR_STORAGE_DEVICE`, `TL_ERR_NEEDS_REMOUNT`, and the object statuses.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn tl_log_remove_consumer(
    log: *mut tl_log_t,
    name: *const c_char,
) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { consumer(log, name, |l, n| Ok(l.remove_consumer(n)?)) })
}

/// Stores consumer `name`'s committed offset in `*offset` (required). Reads nothing from the
/// device.
///
/// Returns `TL_OK`; `TL_ERR_NO_SUCH_CONSUMER` (it never committed), `TL_ERR_INVALID_NAME`,
/// and the object statuses.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `offset` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_log_committed(
    log: *mut tl_log_t,
    name: *const c_char,
    offset: *mut u64,
) -> tl_status_t {
    let r = required(offset).and_then(|_| unsafe {
        consumer(log, name, |l, n| {
            l.committed(n)
                .ok_or(Fail::of(tl_status::TL_ERR_NO_SUCH_CONSUMER))
        })
    });
    status_of(r.map(|off| unsafe { put(offset, off) }))
}

/// Stores in `*offset` (required) where consumer `name` resumes reading: its committed
/// offset, or the first readable offset if it never committed.
///
/// Returns `TL_OK`; `TL_ERR_OVERWRITTEN` (its committed records were dropped: rewind it),
/// `TL_ERR_INVALID_NAME`, and the object statuses.
///
/// # Safety
/// As for `tl_log_committed`.
#[no_mangle]
pub unsafe extern "C" fn tl_log_position(
    log: *mut tl_log_t,
    name: *const c_char,
    offset: *mut u64,
) -> tl_status_t {
    let r =
        required(offset).and_then(|_| unsafe { consumer(log, name, |l, n| Ok(l.position(n)?)) });
    status_of(r.map(|off| unsafe { put(offset, off) }))
}

/// Runs `f` with the log and the consumer name (read before the log is entered).
///
/// # Safety
/// As for the consumer functions.
unsafe fn consumer<R>(
    log: *mut tl_log_t,
    name: *const c_char,
    f: impl FnOnce(&mut CLog, &str) -> Result<R, Fail>,
) -> Result<R, Fail> {
    // SAFETY: the contract.
    let n = unsafe { args::name(&[Span::of(log)], name) };
    unsafe { object::with(log, |l| f(l, n?)) }
}

/// Stores the log's size and position in `*stats` (required). Reads nothing from the device.
///
/// Returns `TL_OK`, `TL_ERR_NULL_POINTER`, and the object statuses.
///
/// # Safety
/// `stats` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_log_stats(
    log: *mut tl_log_t,
    stats: *mut tl_log_stats_t,
) -> tl_status_t {
    let r = required(stats).and_then(|_| unsafe {
        object::with(log, |l| {
            let s = l.stats();
            let layout = l.layout();
            Ok(tl_log_stats_t {
                first_offset: s.first_offset,
                next_offset: s.next_offset,
                bytes_used: s.bytes_used,
                bytes_free: s.bytes_free,
                segments_used: s.segments_used,
                segments_total: s.segments_total,
                segment_size: s.segment_size,
                max_record_size: s.max_record_size,
                write_size: layout.write_size,
                erase_size: layout.erase_size,
                full_policy: match l.full_policy() {
                    tl::FullPolicy::Reject => TL_FULL_REJECT,
                    tl::FullPolicy::OverwriteOldest => TL_FULL_OVERWRITE_OLDEST,
                },
            })
        })
    });
    status_of(r.map(|s| unsafe { put(stats, s) }))
}

/// The last non-zero value a storage callback of this log returned since it was mounted (0:
/// none; also 0 for an object that is not a mounted log).
///
/// # Safety
/// `log` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_log_last_device_error(log: *mut tl_log_t) -> c_int {
    // SAFETY: the contract.
    unsafe { object::with(log, |l| Ok(l.storage().last_device_error())) }.unwrap_or(0)
}

/// Makes `iter` a read position at `from` in `log` (a readable offset, or the next offset:
/// an iterator at the end sees records appended later). The iterator holds no reference into
/// the log; it stays usable across appends, trims and truncations (it finds its offset again)
/// and belongs to this log object. Whatever `iter` held before is replaced.
///
/// Returns `TL_OK`; `TL_ERR_OUT_OF_RANGE`, `TL_ERR_OVERWRITTEN`, `TL_ERR_WRONG_OBJECT`
/// (`iter` overlaps `log`), and the object statuses of both. After an error `iter` is not
/// initialised.
///
/// # Safety
/// Pointers are NULL or valid (objects zeroed or set up by this library).
#[no_mangle]
pub unsafe extern "C" fn tl_iter_init(
    log: *mut tl_log_t,
    iter: *mut tl_iter_t,
    from: u64,
) -> tl_status_t {
    let span = Span::of(log);
    if !log.is_null() && span.overlaps(iter as usize, core::mem::size_of::<tl_iter_t>()) {
        return tl_status::TL_ERR_WRONG_OBJECT as i32;
    }
    // SAFETY: the contract; the two objects are disjoint.
    status_of(unsafe {
        object::set(iter, || {
            object::with(log, |l| {
                Ok(IterBody {
                    owner: log as *const c_void,
                    cursor: l.cursor(from)?,
                })
            })
        })
    })
}

/// Copies the record at the iterator into `buf` (`cap` bytes), stores its length in `*len`
/// (required) and its offset in `*offset` (optional), and moves the iterator past it.
///
/// Returns `TL_OK`; `TL_END` when the iterator is at the log's next offset (nothing to read
/// yet: not an error); `TL_ERR_BUFFER_TOO_SMALL` (`*len` is the length needed; the iterator
/// does not move); `TL_ERR_OVERWRITTEN` (its record was trimmed or overwritten:
/// `tl_iter_seek` to the first offset); `TL_ERR_OUT_OF_RANGE` (past the next offset after a
/// truncation); `TL_ERR_CORRUPT` (the iterator stays at that record);
/// `TL_ERR_WRONG_OBJECT` (`iter` was made on another log object); the object statuses of
/// both; `TL_ERR_STORAGE_DEVICE`.
///
/// # Safety
/// `buf` is NULL or valid for writes of `cap` bytes; `len` and `offset` are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_iter_next(
    log: *mut tl_log_t,
    iter: *mut tl_iter_t,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
    offset: *mut u64,
) -> tl_status_t {
    let (ls, is) = (Span::of(log), Span::of(iter));
    // SAFETY: the contract.
    let r = required(len).and_then(|_| unsafe {
        object::with2(log, iter, |l, it| {
            if it.owner != log as *const c_void {
                return Err(Fail::of(tl_status::TL_ERR_WRONG_OBJECT));
            }
            let out = output(&[ls, is], buf, cap)?;
            match l.read_next(&mut it.cursor, out) {
                Ok(Some((off, n))) => Ok((tl_status::TL_OK as i32, n, off)),
                Ok(None) => Ok((tl_status::TL_END as i32, 0, it.cursor.offset())),
                Err(e) => {
                    let (st, n) = sized(Err(e))?;
                    Ok((st, n, it.cursor.offset()))
                }
            }
        })
    });
    match r {
        Ok((st, n, off)) => {
            unsafe { put(len, n) };
            if st == tl_status::TL_OK as i32 {
                unsafe { put(offset, off) };
            }
            st
        }
        Err(Fail(st)) => st,
    }
}

/// Moves the iterator to `offset` (checked by the next `tl_iter_next`).
///
/// Returns `TL_OK` and the object statuses.
///
/// # Safety
/// `iter` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_iter_seek(iter: *mut tl_iter_t, offset: u64) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe {
        object::with(iter, |it| {
            it.cursor.seek(offset);
            Ok(())
        })
    })
}

/// Stores the offset of the record the next `tl_iter_next` returns in `*offset` (required).
///
/// Returns `TL_OK`, `TL_ERR_NULL_POINTER` and the object statuses.
///
/// # Safety
/// `iter` and `offset` are NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_iter_offset(iter: *mut tl_iter_t, offset: *mut u64) -> tl_status_t {
    let r =
        required(offset).and_then(|_| unsafe { object::with(iter, |it| Ok(it.cursor.offset())) });
    status_of(r.map(|off| unsafe { put(offset, off) }))
}

/// Retires the iterator: later calls with it return `TL_ERR_NOT_MOUNTED` until
/// `tl_iter_init` sets it up again. (An iterator owns nothing; this only catches use after
/// done.)
///
/// Returns `TL_OK` and the object statuses.
///
/// # Safety
/// `iter` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_iter_done(iter: *mut tl_iter_t) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { object::clear(iter) })
}
