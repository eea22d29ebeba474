//! The KV journal: `tl_kv_*` (format, mount, get, set, delete, set_multiple, the high-water
//! flag, compact, sync, stats), over a storage of its own — a second device, or a second
//! region of the log's device described by a second `tl_storage_t`.

use core::ffi::{c_int, c_void};

use crate::args::{check, input, output, put, required};
use crate::log::storage_arg;
use crate::object::{self, tl_kv_t, CKv, Span};
use crate::status::{status_of, tl_status, tl_status_t, Fail};
use crate::storage::tl_storage_t;

/// Most pairs in one `tl_kv_set_multiple` (the binding lays the batch out on the stack:
/// 16 bytes per pair on a 32-bit target).
pub const TL_KV_BATCH_MAX: u32 = 16;

/// How a KV is laid out by `tl_kv_format`. A zeroed struct (or NULL) means the defaults.
/// `tl_kv_mount` takes the key and value limits from the image and uses only
/// `high_water_percent`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct tl_kv_config_t {
    /// Longest key in bytes, 1..=255; 0 means 255.
    pub max_key_len: u32,
    /// Longest value in bytes; 0 means the largest a partition holds next to a longest key.
    pub max_value_len: u32,
    /// The high-water mark in percent of a partition, 1..=100; 0 means 75.
    pub high_water_percent: u32,
}

/// One pair of `tl_kv_set_multiple`: `key_len` bytes at `key`, `value_len` bytes at `value`
/// (either pointer may be NULL when its length is 0).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tl_kv_pair_t {
    /// The key.
    pub key: *const c_void,
    /// Its length.
    pub key_len: usize,
    /// The value.
    pub value: *const c_void,
    /// Its length.
    pub value_len: usize,
}

/// Size and state of a KV, from `tl_kv_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct tl_kv_stats_t {
    /// Generation of the active partition (1 after format, +1 per compaction).
    pub generation: u64,
    /// Size of each of the two partitions, bytes.
    pub partition_size: u32,
    /// Bytes used in the active partition.
    pub used_bytes: u32,
    /// The high-water mark in bytes: the flag is set while `used_bytes >= high_water_mark`.
    pub high_water_mark: u32,
    /// Longest key accepted.
    pub max_key_len: u32,
    /// Longest value accepted.
    pub max_value_len: u32,
    /// Largest batch (sum of its encoded entries) one `tl_kv_set_multiple` may write.
    pub max_batch_body: u32,
    /// Which partition is active: 0 (first half of the storage) or 1.
    pub active_partition: u32,
}

/// # Safety
/// `config` is NULL or points to a readable `tl_kv_config_t`.
unsafe fn config_arg(config: *const tl_kv_config_t) -> Result<tl::KvConfig, Fail> {
    let c = if config.is_null() {
        tl_kv_config_t::default()
    } else {
        // SAFETY: non-NULL and readable (the contract).
        unsafe { config.read_unaligned() }
    };
    let d = tl::KvConfig::new();
    let key = match c.max_key_len {
        0 => d.max_key_len,
        n => u8::try_from(n).map_err(|_| Fail::of(tl_status::TL_ERR_INVALID_CONFIG))?,
    };
    let mark = match c.high_water_percent {
        0 => d.high_water_percent,
        n => u8::try_from(n).map_err(|_| Fail::of(tl_status::TL_ERR_INVALID_CONFIG))?,
    };
    Ok(d.max_key_len(key)
        .max_value_len(c.max_value_len)
        .high_water_percent(mark))
}

/// Creates an empty KV on `storage` (copied; its callbacks and `ctx` must stay valid while
/// the KV is mounted): the two halves of the storage are its two partitions. An existing KV
/// of this geometry is replaced crash-safely (a power cut leaves the old map or the empty
/// one); anything else on the storage is erased. `kv` is then mounted.
///
/// Returns `TL_OK`; `TL_ERR_NULL_POINTER` (`kv` or `storage` NULL, a NULL required
/// callback), `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`, `TL_ERR_INVALID_CONFIG` (bad geometry, fewer
/// than two sectors, a longest entry that does not fit, a mark outside 1..=100),
/// `TL_ERR_STORAGE_DEVICE`. After an error `kv` is not mounted.
///
/// # Safety
/// Pointers are NULL or valid for their types (`kv` zeroed or set up by this library).
#[no_mangle]
pub unsafe extern "C" fn tl_kv_format(
    kv: *mut tl_kv_t,
    storage: *const tl_storage_t,
    config: *const tl_kv_config_t,
) -> tl_status_t {
    // SAFETY: the contract.
    unsafe { open(kv, storage, config, true) }
}

/// Mounts the KV on `storage`: the partition with the newer generation, its journal replayed
/// up to the last complete write. Only reads.
///
/// Returns `TL_OK`; `TL_ERR_NOT_FORMATTED` (call `tl_kv_format`),
/// `TL_ERR_UNSUPPORTED_VERSION`, `TL_ERR_GEOMETRY_MISMATCH`, `TL_ERR_CORRUPT`, and the
/// statuses of `tl_kv_format`. After an error `kv` is not mounted.
///
/// # Safety
/// As for `tl_kv_format`.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_mount(
    kv: *mut tl_kv_t,
    storage: *const tl_storage_t,
    config: *const tl_kv_config_t,
) -> tl_status_t {
    // SAFETY: the contract.
    unsafe { open(kv, storage, config, false) }
}

/// Format (`format` true) or mount: one copy of the argument handling for both.
///
/// # Safety
/// As for `tl_kv_format`.
#[inline(never)]
unsafe fn open(
    kv: *mut tl_kv_t,
    storage: *const tl_storage_t,
    config: *const tl_kv_config_t,
    format: bool,
) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe {
        object::set(kv, || {
            let (s, c) = (storage_arg(storage)?, config_arg(config)?);
            // One call site (not two inlined ones): one result on the stack.
            let open = if format { CKv::format } else { CKv::mount };
            Ok(open(s, c)?)
        })
    })
}

/// Marks `kv` not mounted (nothing is written).
///
/// Returns `TL_OK`, `TL_ERR_NULL_POINTER`, `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`,
/// `TL_ERR_NOT_MOUNTED`.
///
/// # Safety
/// `kv` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_unmount(kv: *mut tl_kv_t) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { object::clear(kv) })
}

/// Copies the value of the key (`key_len` bytes at `key`) into `buf` (`cap` bytes) and
/// stores its length in `*len` (required). When the value is longer than `cap`, nothing is
/// copied, `*len` is the length needed and the status is `TL_ERR_BUFFER_TOO_SMALL`. The
/// entry is checked against its checksum.
///
/// Returns `TL_OK`; `TL_ERR_NOT_FOUND` (no such key), `TL_ERR_BUFFER_TOO_SMALL`,
/// `TL_ERR_CORRUPT`, `TL_ERR_STORAGE_DEVICE`, and the object and buffer statuses.
///
/// # Safety
/// Buffers are NULL or valid for their lengths; `len` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_get(
    kv: *mut tl_kv_t,
    key: *const c_void,
    key_len: usize,
    buf: *mut c_void,
    cap: usize,
    len: *mut usize,
) -> tl_status_t {
    let span = [Span::of(kv)];
    // SAFETY: the contract.
    let r = required(len).and_then(|_| unsafe {
        object::with(kv, |k| {
            let key = input(&span, key, key_len)?;
            match k.get(key, output(&span, buf, cap)?) {
                Ok(Some(n)) => Ok((tl_status::TL_OK as i32, n)),
                Ok(None) => Err(Fail::of(tl_status::TL_ERR_NOT_FOUND)),
                Err(tl::Error::BufferTooSmall { needed }) => {
                    Ok((tl_status::TL_ERR_BUFFER_TOO_SMALL as i32, needed as usize))
                }
                Err(e) => Err(e.into()),
            }
        })
    });
    match r {
        Ok((st, n)) => {
            unsafe { put(len, n) };
            st
        }
        Err(Fail(st)) => st,
    }
}

/// Sets the key to the value (one atomic write). A write that crosses the high-water mark
/// compacts right after it; a write that does not fit compacts and retries once.
///
/// Returns `TL_OK`; `TL_ERR_TOO_LARGE` (key or value over its limit), `TL_ERR_FULL` (no room
/// even after compaction: nothing was written), `TL_ERR_STORAGE_DEVICE` (after which writes
/// return `TL_ERR_NEEDS_REMOUNT` until mounted again), `TL_ERR_NEEDS_REMOUNT`,
/// `TL_ERR_CORRUPT`, and the object and buffer statuses.
///
/// # Safety
/// Buffers are NULL or valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_set(
    kv: *mut tl_kv_t,
    key: *const c_void,
    key_len: usize,
    value: *const c_void,
    value_len: usize,
) -> tl_status_t {
    let span = [Span::of(kv)];
    // SAFETY: the contract.
    status_of(unsafe {
        object::with(kv, |k| {
            let (key, value) = (input(&span, key, key_len)?, input(&span, value, value_len)?);
            Ok(k.set(key, value)?)
        })
    })
}

/// Deletes the key; stores whether it was present in `*existed` (optional). Nothing is
/// written when it was absent.
///
/// Returns `TL_OK` and the statuses of `tl_kv_set`.
///
/// # Safety
/// `key` is NULL or valid for `key_len` bytes; `existed` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_delete(
    kv: *mut tl_kv_t,
    key: *const c_void,
    key_len: usize,
    existed: *mut bool,
) -> tl_status_t {
    let span = [Span::of(kv)];
    // SAFETY: the contract.
    let r = unsafe { object::with(kv, |k| Ok(k.delete(input(&span, key, key_len)?)?)) };
    status_of(r.map(|e| unsafe { put(existed, e) }))
}

/// Sets `count` keys atomically — one frame, one checksum: after a power cut either all are
/// set or none. Later pairs win over earlier ones with the same key. At most
/// `TL_KV_BATCH_MAX` pairs; `count` 0 writes nothing.
///
/// Returns `TL_OK`; `TL_ERR_TOO_LARGE` (a key or value over its limit, the batch larger than
/// `tl_kv_stats_t.max_batch_body`, or more than `TL_KV_BATCH_MAX` pairs),
/// `TL_ERR_NULL_POINTER` (`pairs` NULL with `count` > 0, a NULL buffer of non-zero length),
/// and the statuses of `tl_kv_set`.
///
/// # Safety
/// `pairs` is NULL or valid for `count` elements, each valid for its lengths.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_set_multiple(
    kv: *mut tl_kv_t,
    pairs: *const tl_kv_pair_t,
    count: usize,
) -> tl_status_t {
    let span = [Span::of(kv)];
    const N: usize = TL_KV_BATCH_MAX as usize;
    // SAFETY: the contract.
    status_of(unsafe {
        object::with(kv, |k| {
            if count > N {
                return Err(Fail::of(tl_status::TL_ERR_TOO_LARGE));
            }
            if count > 0 {
                check(
                    &span,
                    pairs as usize,
                    count * core::mem::size_of::<tl_kv_pair_t>(),
                )?;
            }
            let mut slices: [(&[u8], &[u8]); N] = [(&[], &[]); N];
            for (i, slot) in slices.iter_mut().take(count).enumerate() {
                let p = pairs.add(i).read_unaligned();
                *slot = (
                    input(&span, p.key, p.key_len)?,
                    input(&span, p.value, p.value_len)?,
                );
            }
            Ok(k.set_multiple(&slices[..count])?)
        })
    })
}

/// Stores the high-water flag in `*triggered` (required): the active partition is filled to
/// the mark or beyond. A plain flag, recomputed after every write and compaction; when it
/// stays set after `tl_kv_compact`, the live map itself is over the mark.
///
/// Returns `TL_OK`, `TL_ERR_NULL_POINTER` and the object statuses.
///
/// # Safety
/// `triggered` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_high_water(kv: *mut tl_kv_t, triggered: *mut bool) -> tl_status_t {
    let r = required(triggered)
        .and_then(|_| unsafe { object::with(kv, |k| Ok(k.is_high_water_mark_triggered())) });
    status_of(r.map(|t| unsafe { put(triggered, t) }))
}

/// Compacts now: the live map is written into the other partition, which becomes active
/// (crash-safe). Clears the high-water flag when the compacted map is below the mark.
///
/// Returns `TL_OK`; `TL_ERR_CORRUPT`, `TL_ERR_STORAGE_DEVICE`, `TL_ERR_NEEDS_REMOUNT`, and
/// the object statuses.
///
/// # Safety
/// `kv` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_compact(kv: *mut tl_kv_t) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { object::with(kv, |k| Ok(k.compact()?)) })
}

/// Makes every write before it durable (calls the `sync` callback; nothing to do when it is
/// NULL).
///
/// Returns `TL_OK`; `TL_ERR_STORAGE_DEVICE`, and the object statuses.
///
/// # Safety
/// `kv` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_sync(kv: *mut tl_kv_t) -> tl_status_t {
    // SAFETY: the contract.
    status_of(unsafe { object::with(kv, |k| Ok(k.sync()?)) })
}

/// Stores the KV's size and state in `*stats` (required). Reads nothing from the device.
///
/// Returns `TL_OK`, `TL_ERR_NULL_POINTER` and the object statuses.
///
/// # Safety
/// `stats` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_stats(kv: *mut tl_kv_t, stats: *mut tl_kv_stats_t) -> tl_status_t {
    let r = required(stats).and_then(|_| unsafe {
        object::with(kv, |k| {
            let s = k.stats();
            Ok(tl_kv_stats_t {
                generation: s.generation,
                partition_size: s.partition_size,
                used_bytes: s.used_bytes,
                high_water_mark: s.high_water_mark,
                max_key_len: s.max_key_len as u32,
                max_value_len: s.max_value_len,
                max_batch_body: s.max_batch_body,
                active_partition: s.active_partition as u32,
            })
        })
    });
    status_of(r.map(|s| unsafe { put(stats, s) }))
}

/// The last non-zero value a storage callback of this KV returned since it was mounted (0:
/// none; also 0 for an object that is not a mounted KV).
///
/// # Safety
/// `kv` is NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn tl_kv_last_device_error(kv: *mut tl_kv_t) -> c_int {
    // SAFETY: the contract.
    unsafe { object::with(kv, |k| Ok(k.storage().last_device_error())) }.unwrap_or(0)
}
