/*
 * tidelog.h — the C API of tidelog, a crash-safe append-only log with consumer cursors and a
 * key-value journal for NOR flash (the same bytes as the Rust, Python and browser builds).
 *
 * Link with libtidelog.a (see README.md, "Using it from C"). One object type per task —
 * tl_log_t (the log), tl_iter_t (a read position), tl_kv_t (the KV) — each a byte array of a
 * size fixed at compile time: allocate them statically, no heap is ever used. The device is a
 * tl_storage_t of callbacks (the shape of littlefs's lfs_config).
 *
 * Every function returns a tl_status_t: TL_OK (0) or a TL_ERR_* code (tl_strerror() says
 * what it means). A function never writes through a pointer on error, except where it says
 * so (TL_ERR_BUFFER_TOO_SMALL stores the length needed). Buffers stay the caller's: the
 * library reads or writes them during the call only. The objects are not thread-safe: give
 * each to one thread, or hold a lock around every call.
 *
 * SPDX-License-Identifier: MIT OR Apache-2.0
 */

#ifndef TIDELOG_H
#define TIDELOG_H

/* Generated from bindings-c/src by cbindgen 0.29.4 (bash bindings-c/gen-header.sh): do not edit. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
/* The object sizes below depend on the pointer width. */
#if UINTPTR_MAX == 0xFFFFFFFFu
#define TL_PTR_32 1
#elif UINTPTR_MAX == 0xFFFFFFFFFFFFFFFFu
#define TL_PTR_64 1
#else
#error "tidelog.h: only 32-bit and 64-bit targets are supported"
#endif

/**
 * Major version of the library (the header this crate generates).
 */
#define TL_VERSION_MAJOR 0

/**
 * Minor version of the library.
 */
#define TL_VERSION_MINOR 1

/**
 * Patch version of the library.
 */
#define TL_VERSION_PATCH 0

/**
 * `TL_VERSION_MAJOR * 10000 + TL_VERSION_MINOR * 100 + TL_VERSION_PATCH`.
 */
#define TL_VERSION_NUMBER 100

/**
 * The log format version this library writes (it reads every version up to it).
 */
#define TL_FORMAT_VERSION 1

/**
 * The KV format version this library writes (it reads every version up to it).
 */
#define TL_KV_FORMAT_VERSION 1

/**
 * Consumer cursors a log holds (every image, whatever its own capacity, mounts).
 */
#define TL_MAX_CONSUMERS 16

#if defined(TL_PTR_64)
/**
 * Bytes of a `tl_log_t` (64-bit targets).
 */
#define TL_LOG_SIZE 992
#endif

#if defined(TL_PTR_32)
/**
 * Bytes of a `tl_log_t` (32-bit targets).
 */
#define TL_LOG_SIZE 976
#endif

#if defined(TL_PTR_64)
/**
 * Bytes of a `tl_iter_t` (64-bit targets).
 */
#define TL_ITER_SIZE 272
#endif

#if defined(TL_PTR_32)
/**
 * Bytes of a `tl_iter_t` (32-bit targets).
 */
#define TL_ITER_SIZE 256
#endif

#if defined(TL_PTR_64)
/**
 * Bytes of a `tl_kv_t` (64-bit targets).
 */
#define TL_KV_SIZE 160
#endif

#if defined(TL_PTR_32)
/**
 * Bytes of a `tl_kv_t` (32-bit targets).
 */
#define TL_KV_SIZE 128
#endif

/**
 * Most records in one `tl_log_append_batch` (the binding lays the batch out on the stack:
 * 8 bytes per record on a 32-bit target).
 */
#define TL_BATCH_MAX 32

/**
 * `tl_log_config_t.full_policy`: keep every record; appends fail with `TL_ERR_FULL` when
 * no trimmed (or fully consumed) segment can be reclaimed.
 */
#define TL_FULL_REJECT 0

/**
 * `tl_log_config_t.full_policy`: a ring buffer; the oldest segment is dropped, lagging
 * readers get `TL_ERR_OVERWRITTEN`.
 */
#define TL_FULL_OVERWRITE_OLDEST 1

/**
 * Longest consumer name, in bytes (UTF-8, NUL-terminated in the API).
 */
#define TL_MAX_CONSUMER_NAME 32

/**
 * Most pairs in one `tl_kv_set_multiple` (the binding lays the batch out on the stack:
 * 16 bytes per pair on a 32-bit target).
 */
#define TL_KV_BATCH_MAX 16

/**
 * Status codes. Every function returns one as a `tl_status_t`; `TL_OK` (0) is success.
 * `TL_ERR_*` below 64 are the core's error codes (the same numbers in every binding);
 * 64 and above are the C binding's own.
 */
enum tl_status
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : int32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
    /**
     * Success.
     */
    TL_OK = 0,
    /**
     * The log is full (full policy `TL_FULL_REJECT`) and nothing can be reclaimed; or the KV
     * has no room even after compaction.
     */
    TL_ERR_FULL = 1,
    /**
     * Data on the medium failed validation (checksum, structure).
     */
    TL_ERR_CORRUPT = 2,
    /**
     * The offset is past the log's next offset (or not readable).
     */
    TL_ERR_OUT_OF_RANGE = 3,
    /**
     * The records asked for were dropped (trimmed or overwritten); read on from the first
     * offset (`tl_log_stats`).
     */
    TL_ERR_OVERWRITTEN = 4,
    /**
     * A record, batch, key or value is larger than the log or KV accepts (or a batch has more
     * than `TL_BATCH_MAX` / `TL_KV_BATCH_MAX` items).
     */
    TL_ERR_TOO_LARGE = 5,
    /**
     * The caller's buffer is too small; the out-length holds the size needed.
     */
    TL_ERR_BUFFER_TOO_SMALL = 6,
    /**
     * The medium holds an image of a newer format version (nothing was written to it).
     */
    TL_ERR_UNSUPPORTED_VERSION = 7,
    /**
     * The medium holds no tidelog image (nothing was written to it): format it.
     */
    TL_ERR_NOT_FORMATTED = 8,
    /**
     * The image's geometry does not match the storage, or its headers disagree.
     */
    TL_ERR_GEOMETRY_MISMATCH = 9,
    /**
     * The geometry in `tl_storage_t` or a configuration field breaks a rule.
     */
    TL_ERR_INVALID_CONFIG = 10,
    /**
     * An argument breaks a rule (an empty batch, a commit that moves backwards, ...).
     */
    TL_ERR_INVALID_ARGUMENT = 11,
    /**
     * A consumer name is empty, longer than `TL_MAX_CONSUMER_NAME` bytes or not UTF-8.
     */
    TL_ERR_INVALID_NAME = 12,
    /**
     * No consumer of that name has committed.
     */
    TL_ERR_NO_SUCH_CONSUMER = 13,
    /**
     * The consumer table is full (`TL_MAX_CONSUMERS`).
     */
    TL_ERR_TOO_MANY_CONSUMERS = 14,
    /**
     * The storage is locked by another writer (not returned by this binding's storage).
     */
    TL_ERR_LOCKED = 15,
    /**
     * An earlier write failed part-way: mount again before writing (reads still work).
     */
    TL_ERR_NEEDS_REMOUNT = 16,
    /**
     * The KV key is absent.
     */
    TL_ERR_NOT_FOUND = 17,
    /**
     * Something that should be new exists already (not returned by this binding).
     */
    TL_ERR_ALREADY_EXISTS = 18,
    /**
     * The handle was closed (not returned by this binding: see `TL_ERR_NOT_MOUNTED`).
     */
    TL_ERR_CLOSED = 19,
    /**
     * The log asked for an address outside the storage (a bug: please report it).
     */
    TL_ERR_STORAGE_OUT_OF_BOUNDS = 32,
    /**
     * The log asked for a misaligned program or erase (a bug: please report it).
     */
    TL_ERR_STORAGE_NOT_ALIGNED = 33,
    /**
     * A write unit was programmed twice without an erase (not returned by this binding's
     * storage: a callback reports its own failures as device errors).
     */
    TL_ERR_STORAGE_WRITE_TWICE = 34,
    /**
     * Power was lost during the operation (not returned by this binding's storage).
     */
    TL_ERR_STORAGE_POWER_LOSS = 35,
    /**
     * A storage callback returned non-zero; `tl_log_last_device_error` /
     * `tl_kv_last_device_error` return its code.
     */
    TL_ERR_STORAGE_DEVICE = 36,
    /**
     * The storage is read-only (not returned by this binding's storage).
     */
    TL_ERR_STORAGE_READ_ONLY = 37,
    /**
     * `tl_iter_next`: no record at the iterator's offset yet (it is at the log's next
     * offset). Not an error: records appended later are read by the next call.
     */
    TL_END = 64,
    /**
     * A pointer argument that must not be NULL is NULL (or a buffer of non-zero length is).
     */
    TL_ERR_NULL_POINTER = 65,
    /**
     * An object pointer (`tl_log_t *`, `tl_iter_t *`, `tl_kv_t *`) is not aligned for its
     * type.
     */
    TL_ERR_UNALIGNED = 66,
    /**
     * The object is not mounted (or initialised), was unmounted, or is another kind of
     * object.
     */
    TL_ERR_NOT_MOUNTED = 67,
    /**
     * The object is in use by a call that has not returned: a storage callback called back
     * into it, or two threads share it without a lock.
     */
    TL_ERR_BUSY = 68,
    /**
     * The iterator belongs to another log object (or the log object was moved), a buffer
     * overlaps the object it is passed with, or format / mount / `tl_iter_init` was given a
     * live object of another kind.
     */
    TL_ERR_WRONG_OBJECT = 69,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum tl_status tl_status;
#else
typedef int32_t tl_status;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * The return type of every function: a `tl_status` value (`TL_OK` = 0).
 */
typedef int32_t tl_status_t;

/**
 * A mounted log. Zero-initialise it (a static object is) or mount it before any other
 * call; it holds no pointer into itself, and moving it while mounted is allowed (its
 * iterators then report `TL_ERR_WRONG_OBJECT`).
 */
typedef union {
    /**
     * The object's bytes (opaque).
     */
    uint8_t _bytes[TL_LOG_SIZE];
    /**
     * Alignment.
     */
    uint64_t _align_u64;
    /**
     * Alignment.
     */
    void *_align_ptr;
} tl_log_t;

/**
 * A storage device: the driver's context, its geometry and its callbacks. Copied by
 * `tl_log_format` / `tl_log_mount` / `tl_kv_format` / `tl_kv_mount`; the callbacks and
 * `ctx` must stay valid while the object is mounted.
 *
 * Every callback returns 0 on success; any other value fails the operation with
 * `TL_ERR_STORAGE_DEVICE`, and `tl_log_last_device_error` / `tl_kv_last_device_error`
 * return that value. The callbacks must not call back into the object they serve (that
 * returns `TL_ERR_BUSY`).
 */
typedef struct {
    /**
     * Passed unchanged to every callback (the driver's state, e.g. a base address).
     */
    void *ctx;
    /**
     * Read alignment in bytes: must be 1 (reads at any address and length).
     */
    uint32_t read_size;
    /**
     * Program unit in bytes: a power of two in 1..=256 (e.g. 8 for STM32L4, 32 for the ECC
     * flash of STM32H7). Every program is a whole number of units, aligned, to erased units
     * only: no unit is programmed twice between erases.
     */
    uint32_t write_size;
    /**
     * Erase sector in bytes: a power of two in 256..=262144, a multiple of `write_size`.
     */
    uint32_t erase_size;
    /**
     * Size of the device in bytes: a non-zero multiple of `erase_size`, at most 4 GiB minus
     * one sector.
     */
    uint32_t capacity;
    /**
     * Copies `len` bytes at `addr` into `buf`. Erased bytes read `0xFF`.
     */
    int (*read)(void *ctx, uint32_t addr, void *buf, uint32_t len);
    /**
     * Programs `len` bytes from `data` at `addr` (both multiples of `write_size`, all units
     * erased). Programming clears bits only. Must take effect in the order issued.
     */
    int (*prog)(void *ctx, uint32_t addr, const void *data, uint32_t len);
    /**
     * Erases the one sector that starts at `addr` (a multiple of `erase_size`) to `0xFF`.
     */
    int (*erase)(void *ctx, uint32_t addr);
    /**
     * Durability barrier: returns once every program and erase before it survives power
     * loss. May be NULL (raw NOR flash, where every program is durable when it returns).
     */
    int (*sync)(void *ctx);
} tl_storage_t;

/**
 * How a log is laid out by `tl_log_format` and how it behaves when full. A zeroed struct
 * (or NULL) means the defaults. `tl_log_mount` takes the layout from the image and uses only
 * `full_policy`.
 */
typedef struct {
    /**
     * Segment size in erase sectors; 0 means 1. The device must hold at least two segments.
     */
    uint32_t segment_sectors;
    /**
     * Bytes of records between index slots (at least the write size); 0 means 1024.
     * Smaller: faster reads by offset and mount, more index bytes.
     */
    uint32_t index_interval;
    /**
     * Largest record (or batch) in bytes; 0 means the largest that fits in a segment.
     */
    uint32_t max_record_size;
    /**
     * `TL_FULL_REJECT` (0, the default) or `TL_FULL_OVERWRITE_OLDEST`.
     */
    uint32_t full_policy;
} tl_log_config_t;

/**
 * One record of a batch: `len` bytes at `data` (`data` may be NULL when `len` is 0).
 */
typedef struct {
    /**
     * The bytes.
     */
    const void *data;
    /**
     * How many.
     */
    size_t len;
} tl_buf_t;

/**
 * Size and position of a log, from `tl_log_stats`.
 */
typedef struct {
    /**
     * First readable offset.
     */
    uint64_t first_offset;
    /**
     * Offset the next appended record gets.
     */
    uint64_t next_offset;
    /**
     * Bytes held by the segments in use.
     */
    uint64_t bytes_used;
    /**
     * Record bytes that can be appended before a segment must be reclaimed.
     */
    uint64_t bytes_free;
    /**
     * Segments in use (from the oldest live one to the active one).
     */
    uint32_t segments_used;
    /**
     * Segments on the device.
     */
    uint32_t segments_total;
    /**
     * Segment size in bytes.
     */
    uint32_t segment_size;
    /**
     * Largest record (or batch) accepted, in bytes.
     */
    uint32_t max_record_size;
    /**
     * Program unit of the image, bytes.
     */
    uint32_t write_size;
    /**
     * Erase sector of the image, bytes.
     */
    uint32_t erase_size;
    /**
     * The full policy in force (`TL_FULL_REJECT` or `TL_FULL_OVERWRITE_OLDEST`).
     */
    uint32_t full_policy;
} tl_log_stats_t;

/**
 * A read position in a log, from `tl_iter_init`.
 */
typedef union {
    /**
     * The object's bytes (opaque).
     */
    uint8_t _bytes[TL_ITER_SIZE];
    /**
     * Alignment.
     */
    uint64_t _align_u64;
    /**
     * Alignment.
     */
    void *_align_ptr;
} tl_iter_t;

/**
 * A mounted KV journal. Zero-initialise it or mount it before any other call.
 */
typedef union {
    /**
     * The object's bytes (opaque).
     */
    uint8_t _bytes[TL_KV_SIZE];
    /**
     * Alignment.
     */
    uint64_t _align_u64;
    /**
     * Alignment.
     */
    void *_align_ptr;
} tl_kv_t;

/**
 * How a KV is laid out by `tl_kv_format`. A zeroed struct (or NULL) means the defaults.
 * `tl_kv_mount` takes the key and value limits from the image and uses only
 * `high_water_percent`.
 */
typedef struct {
    /**
     * Longest key in bytes, 1..=255; 0 means 255.
     */
    uint32_t max_key_len;
    /**
     * Longest value in bytes; 0 means the largest a partition holds next to a longest key.
     */
    uint32_t max_value_len;
    /**
     * The high-water mark in percent of a partition, 1..=100; 0 means 75.
     */
    uint32_t high_water_percent;
} tl_kv_config_t;

/**
 * One pair of `tl_kv_set_multiple`: `key_len` bytes at `key`, `value_len` bytes at `value`
 * (either pointer may be NULL when its length is 0).
 */
typedef struct {
    /**
     * The key.
     */
    const void *key;
    /**
     * Its length.
     */
    size_t key_len;
    /**
     * The value.
     */
    const void *value;
    /**
     * Its length.
     */
    size_t value_len;
} tl_kv_pair_t;

/**
 * Size and state of a KV, from `tl_kv_stats`.
 */
typedef struct {
    /**
     * Generation of the active partition (1 after format, +1 per compaction).
     */
    uint64_t generation;
    /**
     * Size of each of the two partitions, bytes.
     */
    uint32_t partition_size;
    /**
     * Bytes used in the active partition.
     */
    uint32_t used_bytes;
    /**
     * The high-water mark in bytes: the flag is set while `used_bytes >= high_water_mark`.
     */
    uint32_t high_water_mark;
    /**
     * Longest key accepted.
     */
    uint32_t max_key_len;
    /**
     * Longest value accepted.
     */
    uint32_t max_value_len;
    /**
     * Largest batch (sum of its encoded entries) one `tl_kv_set_multiple` may write.
     */
    uint32_t max_batch_body;
    /**
     * Which partition is active: 0 (first half of the storage) or 1.
     */
    uint32_t active_partition;
} tl_kv_stats_t;

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The library's version, `major * 10000 + minor * 100 + patch` (compare with
 * `TL_VERSION_NUMBER` from the header the program was compiled with).
 */
uint32_t tl_version(void);

/**
 * A short description of `status` (a `tl_status_t`): the core's description for its error
 * codes, `"ok"` for `TL_OK`, `"unknown status"` for a number that is no status. The string is
 * static and NUL-terminated; never NULL.
 */
const char *tl_strerror(tl_status_t status);

/**
 * Erases the whole device and creates an empty log on it, laid out by `config` (NULL: the
 * defaults) and the geometry in `storage` (copied; its callbacks and `ctx` must stay valid
 * while the log is mounted). `log` is then mounted, whatever it held before.
 *
 * Returns `TL_OK`; `TL_ERR_NULL_POINTER` (`log` or `storage` NULL, or a NULL `read`, `prog`
 * or `erase` callback), `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`, `TL_ERR_INVALID_CONFIG` (bad
 * geometry, fewer than two segments, a segment too small, a bad `full_policy`, ...),
 * `TL_ERR_STORAGE_DEVICE`. After an error `log` is not mounted.
 *
 * # Safety
 * Pointers are NULL or valid for their types (`log` zeroed or set up by this library).
 */
tl_status_t tl_log_format(tl_log_t *log,
                          const tl_storage_t *storage,
                          const tl_log_config_t *config);

/**
 * Mounts the log on `storage`, recovering from any power cut; the layout comes from the
 * image, `config` (NULL: the defaults) supplies only the full policy. Nothing is written to
 * a device that holds no tidelog image, or one of a newer format version. `log` is then
 * mounted, whatever it held before.
 *
 * Returns `TL_OK`; `TL_ERR_NOT_FORMATTED` (no image: call `tl_log_format`),
 * `TL_ERR_UNSUPPORTED_VERSION`, `TL_ERR_GEOMETRY_MISMATCH` (the image is not for this
 * geometry), `TL_ERR_TOO_MANY_CONSUMERS`, `TL_ERR_CORRUPT`, `TL_ERR_INVALID_CONFIG`, and the
 * argument and device statuses of `tl_log_format`. After an error `log` is not mounted.
 *
 * # Safety
 * As for `tl_log_format`.
 */
tl_status_t tl_log_mount(tl_log_t *log, const tl_storage_t *storage, const tl_log_config_t *config);

/**
 * Marks `log` not mounted (nothing is written: every operation that returned `TL_OK` is on
 * the device already; call `tl_log_sync` first on a device with a write cache). Later calls
 * return `TL_ERR_NOT_MOUNTED` until it is mounted again.
 *
 * Returns `TL_OK`, `TL_ERR_NULL_POINTER`, `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`,
 * `TL_ERR_NOT_MOUNTED`.
 *
 * # Safety
 * `log` is NULL or valid (zeroed or set up by this library).
 */
tl_status_t tl_log_unmount(tl_log_t *log);

/**
 * Appends one record of `len` bytes (0 allowed; `data` may then be NULL) and stores its
 * offset in `*offset` (optional: may be NULL). The record is on the device when this
 * returns (durable after `tl_log_sync` on a device with a write cache).
 *
 * Returns `TL_OK`; `TL_ERR_TOO_LARGE`, `TL_ERR_FULL` (policy `TL_FULL_REJECT`),
 * `TL_ERR_STORAGE_DEVICE` (after which writes return `TL_ERR_NEEDS_REMOUNT` until the log is
 * mounted again), `TL_ERR_NEEDS_REMOUNT`, and the object and buffer statuses
 * (`TL_ERR_NULL_POINTER`, `TL_ERR_UNALIGNED`, `TL_ERR_NOT_MOUNTED`, `TL_ERR_BUSY`,
 * `TL_ERR_WRONG_OBJECT`).
 *
 * # Safety
 * Pointers are NULL or valid for their types and lengths.
 */
tl_status_t tl_log_append(tl_log_t *log, const void *data, size_t len, uint64_t *offset);

/**
 * Appends `count` records atomically — one frame, one checksum: after a power cut either all
 * are in the log or none — and stores the offset of the first in `*first_offset`
 * (optional). At most `TL_BATCH_MAX` records; together they must fit the largest record size
 * (`tl_log_stats_t.max_record_size`). The caller keeps the buffers.
 *
 * Returns `TL_OK`; `TL_ERR_INVALID_ARGUMENT` (`count` is 0), `TL_ERR_TOO_LARGE` (a record
 * or the batch too large, or more than `TL_BATCH_MAX` records), `TL_ERR_NULL_POINTER`
 * (`records` NULL, or a NULL buffer of non-zero length), and the statuses of
 * `tl_log_append`.
 *
 * # Safety
 * `records` is NULL or valid for `count` elements, each valid for its length.
 */
tl_status_t tl_log_append_batch(tl_log_t *log,
                                const tl_buf_t *records,
                                size_t count,
                                uint64_t *first_offset);

/**
 * Copies the record at `offset` into `buf` (`cap` bytes; may be NULL when `cap` is 0) and
 * stores its length in `*len` (required). When the record is longer than `cap`, nothing is
 * copied, `*len` is the length needed and the status is `TL_ERR_BUFFER_TOO_SMALL` (so
 * `cap` 0 asks for the length). Every record read is checked against its checksum.
 *
 * Returns `TL_OK`; `TL_ERR_BUFFER_TOO_SMALL`, `TL_ERR_OUT_OF_RANGE` (`offset` is at or
 * past the next offset), `TL_ERR_OVERWRITTEN` (trimmed or overwritten), `TL_ERR_CORRUPT`,
 * `TL_ERR_STORAGE_DEVICE`, and the object and buffer statuses.
 *
 * # Safety
 * `buf` is NULL or valid for writes of `cap` bytes; `len` is NULL or valid.
 */
tl_status_t tl_log_read(tl_log_t *log, uint64_t offset, void *buf, size_t cap, size_t *len);

/**
 * Makes everything appended, committed or trimmed before it durable (calls the `sync`
 * callback; nothing to do when it is NULL).
 *
 * Returns `TL_OK`; `TL_ERR_STORAGE_DEVICE`, and the object statuses.
 *
 * # Safety
 * `log` is NULL or valid.
 */
tl_status_t tl_log_sync(tl_log_t *log);

/**
 * Drops the records below `offset` (at most the next offset); their space is reclaimed a
 * whole segment at a time. Persisted.
 *
 * Returns `TL_OK`; `TL_ERR_OUT_OF_RANGE`, `TL_ERR_FULL`, `TL_ERR_STORAGE_DEVICE`,
 * `TL_ERR_NEEDS_REMOUNT`, and the object statuses.
 *
 * # Safety
 * `log` is NULL or valid.
 */
tl_status_t tl_log_trim_front(tl_log_t *log, uint64_t offset);

/**
 * Drops the records at offsets `len` and above, atomically; the next record appended gets
 * offset `len` (the one case where offsets are reused). Persisted.
 *
 * Returns `TL_OK`; `TL_ERR_OUT_OF_RANGE` (`len` past the next offset or below the first
 * readable one), `TL_ERR_FULL`, `TL_ERR_STORAGE_DEVICE`, `TL_ERR_NEEDS_REMOUNT`, and the
 * object statuses.
 *
 * # Safety
 * `log` is NULL or valid.
 */
tl_status_t tl_log_truncate_back(tl_log_t *log, uint64_t len);

/**
 * Persists `offset` as consumer `name`'s position ("records below it are done"), creating
 * the consumer on its first commit. `offset` may not exceed the next offset nor move the
 * position backwards (see `tl_log_rewind`); committing the current position writes nothing.
 *
 * Returns `TL_OK`; `TL_ERR_INVALID_NAME` (empty, longer than `TL_MAX_CONSUMER_NAME`, not
 * UTF-8), `TL_ERR_OUT_OF_RANGE`, `TL_ERR_INVALID_ARGUMENT` (backwards), `TL_ERR_TOO_MANY_CONSUMERS`,
 * `TL_ERR_FULL`, `TL_ERR_STORAGE_DEVICE`, `TL_ERR_NEEDS_REMOUNT`, and the object statuses.
 *
 * # Safety
 * `name` is NULL or a NUL-terminated string.
 */
tl_status_t tl_log_commit(tl_log_t *log,
                          const char *name,
                          uint64_t offset);

/**
 * Moves consumer `name` to `offset` (readable or the next offset), backwards or forwards,
 * and persists it.
 *
 * Returns `TL_OK`; `TL_ERR_OUT_OF_RANGE`, `TL_ERR_OVERWRITTEN` (below the first readable
 * offset), and the statuses of `tl_log_commit`.
 *
 * # Safety
 * `name` is NULL or a NUL-terminated string.
 */
tl_status_t tl_log_rewind(tl_log_t *log, const char *name, uint64_t offset);

/**
 * Deletes consumer `name` (persisted).
 *
 * Returns `TL_OK`; `TL_ERR_NO_SUCH_CONSUMER`, `TL_ERR_INVALID_NAME`, `TL_ERR_FULL`,
 * `TL_ERR_STORAGE_DEVICE`, `TL_ERR_NEEDS_REMOUNT`, and the object statuses.
 *
 * # Safety
 * `name` is NULL or a NUL-terminated string.
 */
tl_status_t tl_log_remove_consumer(tl_log_t *log, const char *name);

/**
 * Stores consumer `name`'s committed offset in `*offset` (required). Reads nothing from the
 * device.
 *
 * Returns `TL_OK`; `TL_ERR_NO_SUCH_CONSUMER` (it never committed), `TL_ERR_INVALID_NAME`,
 * and the object statuses.
 *
 * # Safety
 * `name` is NULL or a NUL-terminated string; `offset` is NULL or valid.
 */
tl_status_t tl_log_committed(tl_log_t *log, const char *name, uint64_t *offset);

/**
 * Stores in `*offset` (required) where consumer `name` resumes reading: its committed
 * offset, or the first readable offset if it never committed.
 *
 * Returns `TL_OK`; `TL_ERR_OVERWRITTEN` (its committed records were dropped: rewind it),
 * `TL_ERR_INVALID_NAME`, and the object statuses.
 *
 * # Safety
 * As for `tl_log_committed`.
 */
tl_status_t tl_log_position(tl_log_t *log, const char *name, uint64_t *offset);

/**
 * Stores the log's size and position in `*stats` (required). Reads nothing from the device.
 *
 * Returns `TL_OK`, `TL_ERR_NULL_POINTER`, and the object statuses.
 *
 * # Safety
 * `stats` is NULL or valid.
 */
tl_status_t tl_log_stats(tl_log_t *log, tl_log_stats_t *stats);

/**
 * The last non-zero value a storage callback of this log returned since it was mounted (0:
 * none; also 0 for an object that is not a mounted log).
 *
 * # Safety
 * `log` is NULL or valid.
 */
int tl_log_last_device_error(tl_log_t *log);

/**
 * Makes `iter` a read position at `from` in `log` (a readable offset, or the next offset:
 * an iterator at the end sees records appended later). The iterator holds no reference into
 * the log; it stays usable across appends, trims and truncations (it finds its offset again)
 * and belongs to this log object. Whatever `iter` held before is replaced.
 *
 * Returns `TL_OK`; `TL_ERR_OUT_OF_RANGE`, `TL_ERR_OVERWRITTEN`, `TL_ERR_WRONG_OBJECT`
 * (`iter` overlaps `log`), and the object statuses of both. After an error `iter` is not
 * initialised.
 *
 * # Safety
 * Pointers are NULL or valid (objects zeroed or set up by this library).
 */
tl_status_t tl_iter_init(tl_log_t *log, tl_iter_t *iter, uint64_t from);

/**
 * Copies the record at the iterator into `buf` (`cap` bytes), stores its length in `*len`
 * (required) and its offset in `*offset` (optional), and moves the iterator past it.
 *
 * Returns `TL_OK`; `TL_END` when the iterator is at the log's next offset (nothing to read
 * yet: not an error); `TL_ERR_BUFFER_TOO_SMALL` (`*len` is the length needed; the iterator
 * does not move); `TL_ERR_OVERWRITTEN` (its record was trimmed or overwritten:
 * `tl_iter_seek` to the first offset); `TL_ERR_OUT_OF_RANGE` (past the next offset after a
 * truncation); `TL_ERR_CORRUPT` (the iterator stays at that record);
 * `TL_ERR_WRONG_OBJECT` (`iter` was made on another log object); the object statuses of
 * both; `TL_ERR_STORAGE_DEVICE`.
 *
 * # Safety
 * `buf` is NULL or valid for writes of `cap` bytes; `len` and `offset` are NULL or valid.
 */
tl_status_t tl_iter_next(tl_log_t *log,
                         tl_iter_t *iter,
                         void *buf,
                         size_t cap,
                         size_t *len,
                         uint64_t *offset);

/**
 * Moves the iterator to `offset` (checked by the next `tl_iter_next`).
 *
 * Returns `TL_OK` and the object statuses.
 *
 * # Safety
 * `iter` is NULL or valid.
 */
tl_status_t tl_iter_seek(tl_iter_t *iter, uint64_t offset);

/**
 * Stores the offset of the record the next `tl_iter_next` returns in `*offset` (required).
 *
 * Returns `TL_OK`, `TL_ERR_NULL_POINTER` and the object statuses.
 *
 * # Safety
 * `iter` and `offset` are NULL or valid.
 */
tl_status_t tl_iter_offset(tl_iter_t *iter, uint64_t *offset);

/**
 * Retires the iterator: later calls with it return `TL_ERR_NOT_MOUNTED` until
 * `tl_iter_init` sets it up again. (An iterator owns nothing; this only catches use after
 * done.)
 *
 * Returns `TL_OK` and the object statuses.
 *
 * # Safety
 * `iter` is NULL or valid.
 */
tl_status_t tl_iter_done(tl_iter_t *iter);

/**
 * Creates an empty KV on `storage` (copied; its callbacks and `ctx` must stay valid while
 * the KV is mounted): the two halves of the storage are its two partitions. An existing KV
 * of this geometry is replaced crash-safely (a power cut leaves the old map or the empty
 * one); anything else on the storage is erased. `kv` is then mounted.
 *
 * Returns `TL_OK`; `TL_ERR_NULL_POINTER` (`kv` or `storage` NULL, a NULL required
 * callback), `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`, `TL_ERR_INVALID_CONFIG` (bad geometry, fewer
 * than two sectors, a longest entry that does not fit, a mark outside 1..=100),
 * `TL_ERR_STORAGE_DEVICE`. After an error `kv` is not mounted.
 *
 * # Safety
 * Pointers are NULL or valid for their types (`kv` zeroed or set up by this library).
 */
tl_status_t tl_kv_format(tl_kv_t *kv, const tl_storage_t *storage, const tl_kv_config_t *config);

/**
 * Mounts the KV on `storage`: the partition with the newer generation, its journal replayed
 * up to the last complete write. Only reads.
 *
 * Returns `TL_OK`; `TL_ERR_NOT_FORMATTED` (call `tl_kv_format`),
 * `TL_ERR_UNSUPPORTED_VERSION`, `TL_ERR_GEOMETRY_MISMATCH`, `TL_ERR_CORRUPT`, and the
 * statuses of `tl_kv_format`. After an error `kv` is not mounted.
 *
 * # Safety
 * As for `tl_kv_format`.
 */
tl_status_t tl_kv_mount(tl_kv_t *kv, const tl_storage_t *storage, const tl_kv_config_t *config);

/**
 * Marks `kv` not mounted (nothing is written).
 *
 * Returns `TL_OK`, `TL_ERR_NULL_POINTER`, `TL_ERR_UNALIGNED`, `TL_ERR_BUSY`,
 * `TL_ERR_NOT_MOUNTED`.
 *
 * # Safety
 * `kv` is NULL or valid.
 */
tl_status_t tl_kv_unmount(tl_kv_t *kv);

/**
 * Copies the value of the key (`key_len` bytes at `key`) into `buf` (`cap` bytes) and
 * stores its length in `*len` (required). When the value is longer than `cap`, nothing is
 * copied, `*len` is the length needed and the status is `TL_ERR_BUFFER_TOO_SMALL`. The
 * entry is checked against its checksum.
 *
 * Returns `TL_OK`; `TL_ERR_NOT_FOUND` (no such key), `TL_ERR_BUFFER_TOO_SMALL`,
 * `TL_ERR_CORRUPT`, `TL_ERR_STORAGE_DEVICE`, and the object and buffer statuses.
 *
 * # Safety
 * Buffers are NULL or valid for their lengths; `len` is NULL or valid.
 */
tl_status_t tl_kv_get(tl_kv_t *kv,
                      const void *key,
                      size_t key_len,
                      void *buf,
                      size_t cap,
                      size_t *len);

/**
 * Sets the key to the value (one atomic write). A write that crosses the high-water mark
 * compacts right after it; a write that does not fit compacts and retries once.
 *
 * Returns `TL_OK`; `TL_ERR_TOO_LARGE` (key or value over its limit), `TL_ERR_FULL` (no room
 * even after compaction: nothing was written), `TL_ERR_STORAGE_DEVICE` (after which writes
 * return `TL_ERR_NEEDS_REMOUNT` until mounted again), `TL_ERR_NEEDS_REMOUNT`,
 * `TL_ERR_CORRUPT`, and the object and buffer statuses.
 *
 * # Safety
 * Buffers are NULL or valid for their lengths.
 */
tl_status_t tl_kv_set(tl_kv_t *kv,
                      const void *key,
                      size_t key_len,
                      const void *value,
                      size_t value_len);

/**
 * Deletes the key; stores whether it was present in `*existed` (optional). Nothing is
 * written when it was absent.
 *
 * Returns `TL_OK` and the statuses of `tl_kv_set`.
 *
 * # Safety
 * `key` is NULL or valid for `key_len` bytes; `existed` is NULL or valid.
 */
tl_status_t tl_kv_delete(tl_kv_t *kv, const void *key, size_t key_len, bool *existed);

/**
 * Sets `count` keys atomically — one frame, one checksum: after a power cut either all are
 * set or none. Later pairs win over earlier ones with the same key. At most
 * `TL_KV_BATCH_MAX` pairs; `count` 0 writes nothing.
 *
 * Returns `TL_OK`; `TL_ERR_TOO_LARGE` (a key or value over its limit, the batch larger than
 * `tl_kv_stats_t.max_batch_body`, or more than `TL_KV_BATCH_MAX` pairs),
 * `TL_ERR_NULL_POINTER` (`pairs` NULL with `count` > 0, a NULL buffer of non-zero length),
 * and the statuses of `tl_kv_set`.
 *
 * # Safety
 * `pairs` is NULL or valid for `count` elements, each valid for its lengths.
 */
tl_status_t tl_kv_set_multiple(tl_kv_t *kv, const tl_kv_pair_t *pairs, size_t count);

/**
 * Stores the high-water flag in `*triggered` (required): the active partition is filled to
 * the mark or beyond. A plain flag, recomputed after every write and compaction; when it
 * stays set after `tl_kv_compact`, the live map itself is over the mark.
 *
 * Returns `TL_OK`, `TL_ERR_NULL_POINTER` and the object statuses.
 *
 * # Safety
 * `triggered` is NULL or valid.
 */
tl_status_t tl_kv_high_water(tl_kv_t *kv, bool *triggered);

/**
 * Compacts now: the live map is written into the other partition, which becomes active
 * (crash-safe). Clears the high-water flag when the compacted map is below the mark.
 *
 * Returns `TL_OK`; `TL_ERR_CORRUPT`, `TL_ERR_STORAGE_DEVICE`, `TL_ERR_NEEDS_REMOUNT`, and
 * the object statuses.
 *
 * # Safety
 * `kv` is NULL or valid.
 */
tl_status_t tl_kv_compact(tl_kv_t *kv);

/**
 * Makes every write before it durable (calls the `sync` callback; nothing to do when it is
 * NULL).
 *
 * Returns `TL_OK`; `TL_ERR_STORAGE_DEVICE`, and the object statuses.
 *
 * # Safety
 * `kv` is NULL or valid.
 */
tl_status_t tl_kv_sync(tl_kv_t *kv);

/**
 * Stores the KV's size and state in `*stats` (required). Reads nothing from the device.
 *
 * Returns `TL_OK`, `TL_ERR_NULL_POINTER` and the object statuses.
 *
 * # Safety
 * `stats` is NULL or valid.
 */
tl_status_t tl_kv_stats(tl_kv_t *kv, tl_kv_stats_t *stats);

/**
 * The last non-zero value a storage callback of this KV returned since it was mounted (0:
 * none; also 0 for an object that is not a mounted KV).
 *
 * # Safety
 * `kv` is NULL or valid.
 */
int tl_kv_last_device_error(tl_kv_t *kv);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* TIDELOG_H */
