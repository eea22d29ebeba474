/*
 * Every function of tidelog.h and every status it can return, against the static library
 * and the committed header: the log (format, mount, append, batches, read, iterators,
 * consumers, trim, truncate, sync, stats, device errors, re-entrancy), the KV, the argument
 * checks (NULL, unaligned, not mounted, overlapping buffers, bad geometry), images that must
 * not be written (blank, foreign, future version), and the golden images of tests/golden.
 *
 * Usage: test_api GOLDEN_DIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "flash.h"
#include "tidelog.h"

int check_failures;
unsigned char check_seen[128];

/* Statuses this binding never returns, with the reason (checked: strerror only). */
static const tl_status_t never_returned[] = {
    TL_ERR_LOCKED,                /* file storage only */
    TL_ERR_ALREADY_EXISTS,        /* grouped logs only */
    TL_ERR_CLOSED,                /* shared file handles only (C has TL_ERR_NOT_MOUNTED) */
    TL_ERR_STORAGE_OUT_OF_BOUNDS, /* the log never asks for it (a core bug if it did) */
    TL_ERR_STORAGE_NOT_ALIGNED,   /* ditto */
    TL_ERR_STORAGE_WRITE_TWICE,   /* simulator / file storages only */
    TL_ERR_STORAGE_POWER_LOSS,    /* simulator only: a callback reports a device error */
    TL_ERR_STORAGE_READ_ONLY,     /* read-only storages only */
};

static const tl_status_t all_statuses[] = {
    TL_OK, TL_ERR_FULL, TL_ERR_CORRUPT, TL_ERR_OUT_OF_RANGE, TL_ERR_OVERWRITTEN,
    TL_ERR_TOO_LARGE, TL_ERR_BUFFER_TOO_SMALL, TL_ERR_UNSUPPORTED_VERSION,
    TL_ERR_NOT_FORMATTED, TL_ERR_GEOMETRY_MISMATCH, TL_ERR_INVALID_CONFIG,
    TL_ERR_INVALID_ARGUMENT, TL_ERR_INVALID_NAME, TL_ERR_NO_SUCH_CONSUMER,
    TL_ERR_TOO_MANY_CONSUMERS, TL_ERR_LOCKED, TL_ERR_NEEDS_REMOUNT, TL_ERR_NOT_FOUND,
    TL_ERR_ALREADY_EXISTS, TL_ERR_CLOSED, TL_ERR_STORAGE_OUT_OF_BOUNDS,
    TL_ERR_STORAGE_NOT_ALIGNED, TL_ERR_STORAGE_WRITE_TWICE, TL_ERR_STORAGE_POWER_LOSS,
    TL_ERR_STORAGE_DEVICE, TL_ERR_STORAGE_READ_ONLY, TL_END, TL_ERR_NULL_POINTER,
    TL_ERR_UNALIGNED, TL_ERR_NOT_MOUNTED, TL_ERR_BUSY, TL_ERR_WRONG_OBJECT,
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The deterministic bytes of record `id`. */
static void fill(uint8_t *buf, size_t len, unsigned id) {
    size_t i;
    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t)(id * 31u + i * 7u + 1u);
    }
}

static int same_record(const uint8_t *buf, size_t len, unsigned id) {
    uint8_t want[512];
    fill(want, len, id);
    return memcmp(buf, want, len) == 0;
}

static void test_versions_and_statuses(void) {
    size_t i, j;
    struct { char c; tl_log_t x; } al;
    struct { char c; tl_iter_t x; } ai;
    struct { char c; tl_kv_t x; } ak;
    CHECK(tl_version() == TL_VERSION_NUMBER);
    CHECK(TL_VERSION_NUMBER == TL_VERSION_MAJOR * 10000 + TL_VERSION_MINOR * 100 + TL_VERSION_PATCH);
    CHECK(TL_FORMAT_VERSION == 1 && TL_KV_FORMAT_VERSION == 1);
    CHECK(TL_MAX_CONSUMERS == 16 && TL_MAX_CONSUMER_NAME == 32);
    CHECK(sizeof(tl_log_t) == TL_LOG_SIZE);
    CHECK(sizeof(tl_iter_t) == TL_ITER_SIZE);
    CHECK(sizeof(tl_kv_t) == TL_KV_SIZE);
    CHECK((size_t)((char *)&al.x - (char *)&al) >= 4);
    CHECK((size_t)((char *)&ai.x - (char *)&ai) >= 4);
    CHECK((size_t)((char *)&ak.x - (char *)&ak) >= 4);
    /* The published numbers (the core's table; the Rust side proves the mapping). */
    CHECK(TL_OK == 0 && TL_ERR_FULL == 1 && TL_ERR_CORRUPT == 2 && TL_ERR_OUT_OF_RANGE == 3);
    CHECK(TL_ERR_OVERWRITTEN == 4 && TL_ERR_TOO_LARGE == 5 && TL_ERR_BUFFER_TOO_SMALL == 6);
    CHECK(TL_ERR_UNSUPPORTED_VERSION == 7 && TL_ERR_NOT_FORMATTED == 8);
    CHECK(TL_ERR_GEOMETRY_MISMATCH == 9 && TL_ERR_INVALID_CONFIG == 10);
    CHECK(TL_ERR_INVALID_ARGUMENT == 11 && TL_ERR_INVALID_NAME == 12);
    CHECK(TL_ERR_NO_SUCH_CONSUMER == 13 && TL_ERR_TOO_MANY_CONSUMERS == 14);
    CHECK(TL_ERR_LOCKED == 15 && TL_ERR_NEEDS_REMOUNT == 16 && TL_ERR_NOT_FOUND == 17);
    CHECK(TL_ERR_ALREADY_EXISTS == 18 && TL_ERR_CLOSED == 19);
    CHECK(TL_ERR_STORAGE_OUT_OF_BOUNDS == 32 && TL_ERR_STORAGE_NOT_ALIGNED == 33);
    CHECK(TL_ERR_STORAGE_WRITE_TWICE == 34 && TL_ERR_STORAGE_POWER_LOSS == 35);
    CHECK(TL_ERR_STORAGE_DEVICE == 36 && TL_ERR_STORAGE_READ_ONLY == 37);
    for (i = 0; i < COUNT(all_statuses); i++) {
        const char *t = tl_strerror(all_statuses[i]);
        CHECK(t != NULL && strcmp(t, "unknown status") != 0 && strlen(t) > 1);
        if (all_statuses[i] > 0 && all_statuses[i] < 64) {
            CHECK(strcmp(t, "ok") != 0);
        }
        for (j = 0; j < i; j++) {
            CHECK(all_statuses[j] != all_statuses[i]);
            CHECK(strcmp(tl_strerror(all_statuses[j]), t) != 0);
        }
    }
    CHECK(strcmp(tl_strerror(TL_OK), "ok") == 0);
    /* The core's descriptions (ErrorCode::description; the Rust side checks them all). */
    CHECK(strstr(tl_strerror(TL_ERR_FULL), "full") != NULL);
    CHECK(strstr(tl_strerror(TL_ERR_BUFFER_TOO_SMALL), "buffer too small") != NULL);
    CHECK(strcmp(tl_strerror(-1), "unknown status") == 0);
    CHECK(strcmp(tl_strerror(20), "unknown status") == 0);
    CHECK(strcmp(tl_strerror(63), "unknown status") == 0);
    CHECK(strcmp(tl_strerror(70), "unknown status") == 0);
    CHECK(strcmp(tl_strerror(INT32_MAX), "unknown status") == 0);
    CHECK(strcmp(tl_strerror(INT32_MIN), "unknown status") == 0);
}

/* Every function on NULL, an unaligned pointer, and a zeroed (never mounted) object. */
static void test_object_checks(void) {
    static tl_log_t zlog;
    static tl_iter_t ziter;
    static tl_kv_t zkv;
    static union { uint64_t align; unsigned char bytes[sizeof(tl_log_t) + sizeof(tl_kv_t) + 16]; } raw;
    tl_log_t *ulog = (tl_log_t *)(void *)(raw.bytes + 1);
    tl_iter_t *uiter = (tl_iter_t *)(void *)(raw.bytes + 2);
    tl_kv_t *ukv = (tl_kv_t *)(void *)(raw.bytes + 3);
    tl_log_t *logs[3];
    tl_iter_t *iters[3];
    tl_kv_t *kvs[3];
    tl_status_t want[3] = {TL_ERR_NULL_POINTER, TL_ERR_UNALIGNED, TL_ERR_NOT_MOUNTED};
    uint8_t buf[8];
    size_t len = 0;
    uint64_t off = 0;
    bool b = false;
    tl_log_stats_t ls;
    tl_kv_stats_t ks;
    tl_buf_t rec = {buf, 1};
    tl_kv_pair_t pair = {buf, 1, buf, 1};
    flash_t f;
    tl_storage_t st;
    int i;

    logs[0] = NULL; logs[1] = ulog; logs[2] = &zlog;
    iters[0] = NULL; iters[1] = uiter; iters[2] = &ziter;
    kvs[0] = NULL; kvs[1] = ukv; kvs[2] = &zkv;
    CHECK(flash_init(&f, 4, 256, 8 * 256) == 0);
    st = flash_storage(&f);
    for (i = 0; i < 3; i++) {
        tl_status_t w = want[i];
        tl_status_t wm = i == 2 ? TL_ERR_NOT_FORMATTED : w; /* mount of a blank device */
        EXPECT(tl_log_mount(logs[i], &st, NULL), wm);
        EXPECT(tl_log_unmount(logs[i]), w);
        EXPECT(tl_log_append(logs[i], buf, 1, &off), w);
        EXPECT(tl_log_append_batch(logs[i], &rec, 1, &off), w);
        EXPECT(tl_log_read(logs[i], 0, buf, sizeof buf, &len), w);
        EXPECT(tl_log_sync(logs[i]), w);
        EXPECT(tl_log_trim_front(logs[i], 0), w);
        EXPECT(tl_log_truncate_back(logs[i], 0), w);
        EXPECT(tl_log_commit(logs[i], "c", 0), w);
        EXPECT(tl_log_rewind(logs[i], "c", 0), w);
        EXPECT(tl_log_remove_consumer(logs[i], "c"), w);
        EXPECT(tl_log_committed(logs[i], "c", &off), w);
        EXPECT(tl_log_position(logs[i], "c", &off), w);
        EXPECT(tl_log_stats(logs[i], &ls), w);
        CHECK(tl_log_last_device_error(logs[i]) == 0);
        EXPECT(tl_iter_init(logs[i], &ziter, 0), w);
        EXPECT(tl_iter_next(logs[i], &ziter, buf, sizeof buf, &len, &off), w);
        EXPECT(tl_iter_seek(iters[i], 0), w);
        EXPECT(tl_iter_offset(iters[i], &off), w);
        EXPECT(tl_iter_done(iters[i]), w);
        EXPECT(tl_kv_mount(kvs[i], &st, NULL), wm);
        EXPECT(tl_kv_unmount(kvs[i]), w);
        EXPECT(tl_kv_get(kvs[i], "k", 1, buf, sizeof buf, &len), w);
        EXPECT(tl_kv_set(kvs[i], "k", 1, "v", 1), w);
        EXPECT(tl_kv_delete(kvs[i], "k", 1, &b), w);
        EXPECT(tl_kv_set_multiple(kvs[i], &pair, 1), w);
        EXPECT(tl_kv_high_water(kvs[i], &b), w);
        EXPECT(tl_kv_compact(kvs[i]), w);
        EXPECT(tl_kv_sync(kvs[i]), w);
        EXPECT(tl_kv_stats(kvs[i], &ks), w);
        CHECK(tl_kv_last_device_error(kvs[i]) == 0);
    }
    /* Format on NULL / unaligned objects. */
    EXPECT(tl_log_format(NULL, &st, NULL), TL_ERR_NULL_POINTER);
    EXPECT(tl_log_format(ulog, &st, NULL), TL_ERR_UNALIGNED);
    EXPECT(tl_kv_format(NULL, &st, NULL), TL_ERR_NULL_POINTER);
    EXPECT(tl_kv_format(ukv, &st, NULL), TL_ERR_UNALIGNED);
    /* An iterator on a zeroed log, and a valid log with a zeroed iterator. */
    EXPECT(tl_iter_next(&zlog, &ziter, buf, sizeof buf, &len, &off), TL_ERR_NOT_MOUNTED);
    /* Nothing above wrote to the flash. */
    CHECK(f.progs == 0 && f.erases == 0);
    flash_free(&f);
}

static void test_storage_checks(void) {
    static tl_log_t log;
    static tl_kv_t kv;
    flash_t f;
    tl_storage_t st, bad;
    tl_log_config_t cfg;
    tl_kv_config_t kcfg;
    CHECK(flash_init(&f, 8, 2048, 8 * 2048) == 0);
    st = flash_storage(&f);
    EXPECT(tl_log_format(&log, NULL, NULL), TL_ERR_NULL_POINTER);
    EXPECT(tl_kv_format(&kv, NULL, NULL), TL_ERR_NULL_POINTER);
    bad = st; bad.read = NULL;
    EXPECT(tl_log_format(&log, &bad, NULL), TL_ERR_NULL_POINTER);
    bad = st; bad.prog = NULL;
    EXPECT(tl_log_mount(&log, &bad, NULL), TL_ERR_NULL_POINTER);
    bad = st; bad.erase = NULL;
    EXPECT(tl_kv_format(&kv, &bad, NULL), TL_ERR_NULL_POINTER);
    bad = st; bad.read_size = 2;
    EXPECT(tl_log_format(&log, &bad, NULL), TL_ERR_INVALID_CONFIG);
    bad = st; bad.read_size = 0;
    EXPECT(tl_log_mount(&log, &bad, NULL), TL_ERR_INVALID_CONFIG);
    bad = st; bad.write_size = 3;
    EXPECT(tl_log_format(&log, &bad, NULL), TL_ERR_INVALID_CONFIG);
    bad = st; bad.write_size = 0;
    EXPECT(tl_kv_format(&kv, &bad, NULL), TL_ERR_INVALID_CONFIG);
    bad = st; bad.write_size = 512;
    EXPECT(tl_log_format(&log, &bad, NULL), TL_ERR_INVALID_CONFIG);
    bad = st; bad.erase_size = 128;
    EXPECT(tl_log_format(&log, &bad, NULL), TL_ERR_INVALID_CONFIG);
    bad = st; bad.erase_size = 768;
    EXPECT(tl_kv_mount(&kv, &bad, NULL), TL_ERR_INVALID_CONFIG);
    bad = st; bad.capacity = 0;
    EXPECT(tl_log_format(&log, &bad, NULL), TL_ERR_INVALID_CONFIG);
    bad = st; bad.capacity = 8 * 2048 + 8;
    EXPECT(tl_log_format(&log, &bad, NULL), TL_ERR_INVALID_CONFIG);
    bad = st; bad.capacity = 0xFFFFFFFFu;
    EXPECT(tl_log_mount(&log, &bad, NULL), TL_ERR_INVALID_CONFIG);
    bad = st; bad.capacity = 2048; /* one segment */
    EXPECT(tl_log_format(&log, &bad, NULL), TL_ERR_INVALID_CONFIG);
    memset(&cfg, 0, sizeof cfg);
    cfg.full_policy = 2;
    EXPECT(tl_log_format(&log, &st, &cfg), TL_ERR_INVALID_CONFIG);
    cfg.full_policy = TL_FULL_REJECT;
    cfg.segment_sectors = 8; /* one segment of 8 sectors */
    EXPECT(tl_log_format(&log, &st, &cfg), TL_ERR_INVALID_CONFIG);
    cfg.segment_sectors = 0;
    cfg.index_interval = 4; /* below the write size */
    EXPECT(tl_log_format(&log, &st, &cfg), TL_ERR_INVALID_CONFIG);
    cfg.index_interval = 0;
    cfg.max_record_size = 1u << 20;
    EXPECT(tl_log_format(&log, &st, &cfg), TL_ERR_INVALID_CONFIG);
    memset(&kcfg, 0, sizeof kcfg);
    kcfg.max_key_len = 256;
    EXPECT(tl_kv_format(&kv, &st, &kcfg), TL_ERR_INVALID_CONFIG);
    kcfg.max_key_len = 0;
    kcfg.high_water_percent = 101;
    EXPECT(tl_kv_format(&kv, &st, &kcfg), TL_ERR_INVALID_CONFIG);
    kcfg.high_water_percent = 0;
    kcfg.max_value_len = 1u << 20;
    EXPECT(tl_kv_format(&kv, &st, &kcfg), TL_ERR_INVALID_CONFIG);
    bad = st; bad.capacity = 2048; /* one sector: no room for two partitions */
    EXPECT(tl_kv_format(&kv, &bad, NULL), TL_ERR_INVALID_CONFIG);
    CHECK(f.progs == 0 && f.erases == 0);
    /* After a failed format the object is not mounted. */
    EXPECT(tl_log_sync(&log), TL_ERR_NOT_MOUNTED);
    EXPECT(tl_kv_sync(&kv), TL_ERR_NOT_MOUNTED);
    /* A NULL sync callback is fine (raw flash), the config may be NULL, and the storage struct
     * is copied: it may go away after mount. */
    {
        tl_storage_t copy = st;
        copy.sync = NULL;
        OK(tl_log_format(&log, &copy, NULL));
        memset(&copy, 0, sizeof copy);
        OK(tl_log_append(&log, "x", 1, NULL));
        OK(tl_log_sync(&log));
        CHECK(f.syncs == 0); /* no callback to call */
        OK(tl_log_unmount(&log));
        EXPECT(tl_log_unmount(&log), TL_ERR_NOT_MOUNTED);
    }
    flash_free(&f);
}

static void test_log_basics(void) {
    static tl_log_t log, moved;
    static tl_iter_t it, it2;
    flash_t f;
    tl_storage_t st;
    tl_log_stats_t s;
    tl_log_config_t cfg;
    uint8_t buf[256], big[2048];
    size_t len;
    uint64_t off, first;
    tl_buf_t recs[TL_BATCH_MAX + 3];
    unsigned i;

    CHECK(flash_init(&f, 8, 2048, 8 * 2048) == 0);
    st = flash_storage(&f);
    memset(&cfg, 0, sizeof cfg);
    cfg.index_interval = 128;
    cfg.max_record_size = 200;
    EXPECT(tl_log_mount(&log, &st, &cfg), TL_ERR_NOT_FORMATTED);
    CHECK(f.progs == 0 && f.erases == 0);
    OK(tl_log_format(&log, &st, &cfg));
    CHECK(f.erases == 8); /* one erase callback per sector */
    OK(tl_log_stats(&log, &s));
    CHECK(s.first_offset == 0 && s.next_offset == 0 && s.segments_total == 8);
    CHECK(s.segment_size == 2048 && s.max_record_size == 200 && s.write_size == 8);
    CHECK(s.erase_size == 2048 && s.full_policy == TL_FULL_REJECT && s.segments_used == 1);
    EXPECT(tl_log_stats(&log, NULL), TL_ERR_NULL_POINTER);

    /* append */
    fill(buf, 10, 0);
    OK(tl_log_append(&log, buf, 10, &off));
    CHECK(off == 0);
    OK(tl_log_append(&log, NULL, 0, &off)); /* an empty record */
    CHECK(off == 1);
    OK(tl_log_append(&log, buf, 0, NULL));
    EXPECT(tl_log_append(&log, NULL, 5, &off), TL_ERR_NULL_POINTER);
    memset(big, 0, sizeof big);
    EXPECT(tl_log_append(&log, big, 201, &off), TL_ERR_TOO_LARGE);
    EXPECT(tl_log_append(&log, (const uint8_t *)&log + 8, 4, &off), TL_ERR_WRONG_OBJECT);
    CHECK(off == 1); /* untouched on error */

    /* append_batch */
    for (i = 0; i < TL_BATCH_MAX + 3; i++) {
        recs[i].data = big;
        recs[i].len = 1;
    }
    fill(buf, 20, 3);
    fill(buf + 20, 30, 4);
    recs[0].data = buf; recs[0].len = 20;
    recs[1].data = buf + 20; recs[1].len = 30;
    recs[2].data = NULL; recs[2].len = 0;
    OK(tl_log_append_batch(&log, recs, 3, &first));
    CHECK(first == 3);
    EXPECT(tl_log_append_batch(&log, recs, 0, &first), TL_ERR_INVALID_ARGUMENT);
    EXPECT(tl_log_append_batch(&log, NULL, 2, &first), TL_ERR_NULL_POINTER);
    EXPECT(tl_log_append_batch(&log, recs, TL_BATCH_MAX + 1, &first), TL_ERR_TOO_LARGE);
    recs[2].len = 4; /* NULL with a length */
    EXPECT(tl_log_append_batch(&log, recs, 3, &first), TL_ERR_NULL_POINTER);
    recs[2].data = big; recs[2].len = 160; /* 20 + 30 + 160 > 200 */
    EXPECT(tl_log_append_batch(&log, recs, 3, &first), TL_ERR_TOO_LARGE);
    recs[2].data = &log; recs[2].len = 8;
    EXPECT(tl_log_append_batch(&log, recs, 3, &first), TL_ERR_WRONG_OBJECT);
    EXPECT(tl_log_append_batch(&log, (const tl_buf_t *)(const void *)&log, 1, &first), TL_ERR_WRONG_OBJECT);
    recs[2].data = NULL; recs[2].len = 0;
    OK(tl_log_append_batch(&log, recs + 3, TL_BATCH_MAX, NULL)); /* the most records */
    OK(tl_log_stats(&log, &s));
    CHECK(s.next_offset == 6 + TL_BATCH_MAX);

    /* read */
    OK(tl_log_read(&log, 0, buf, sizeof buf, &len));
    CHECK(len == 10 && same_record(buf, 10, 0));
    OK(tl_log_read(&log, 1, NULL, 0, &len));
    CHECK(len == 0);
    len = 0;
    EXPECT(tl_log_read(&log, 4, buf, 29, &len), TL_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 30);
    EXPECT(tl_log_read(&log, 4, NULL, 0, &len), TL_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 30);
    OK(tl_log_read(&log, 4, buf, 30, &len));
    CHECK(len == 30 && same_record(buf, 30, 4));
    OK(tl_log_read(&log, 3, buf, sizeof buf, &len));
    CHECK(len == 20 && same_record(buf, 20, 3));
    EXPECT(tl_log_read(&log, 4, buf, sizeof buf, NULL), TL_ERR_NULL_POINTER);
    EXPECT(tl_log_read(&log, 4, NULL, 10, &len), TL_ERR_NULL_POINTER);
    EXPECT(tl_log_read(&log, 4, (uint8_t *)&log + 16, 64, &len), TL_ERR_WRONG_OBJECT);
    EXPECT(tl_log_read(&log, 6 + TL_BATCH_MAX, buf, sizeof buf, &len), TL_ERR_OUT_OF_RANGE);
    EXPECT(tl_log_read(&log, UINT64_MAX, buf, sizeof buf, &len), TL_ERR_OUT_OF_RANGE);

    /* iterators */
    OK(tl_iter_init(&log, &it, 0));
    for (i = 0; i < 6 + TL_BATCH_MAX; i++) {
        tl_status_t r = tl_iter_next(&log, &it, buf, sizeof buf, &len, &off);
        EXPECT(r, TL_OK);
        CHECK(off == i);
    }
    EXPECT(tl_iter_next(&log, &it, buf, sizeof buf, &len, &off), TL_END);
    OK(tl_log_append(&log, "late", 4, NULL));
    OK(tl_iter_next(&log, &it, buf, sizeof buf, &len, NULL)); /* sees the appended record */
    CHECK(len == 4 && memcmp(buf, "late", 4) == 0);
    OK(tl_iter_seek(&it, 4));
    EXPECT(tl_iter_next(&log, &it, buf, 3, &len, &off), TL_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 30);
    OK(tl_iter_offset(&it, &off));
    CHECK(off == 4); /* not moved */
    EXPECT(tl_iter_offset(&it, NULL), TL_ERR_NULL_POINTER);
    EXPECT(tl_iter_next(&log, &it, buf, sizeof buf, NULL, &off), TL_ERR_NULL_POINTER);
    EXPECT(tl_iter_next(&log, &it, (uint8_t *)&it + 8, 64, &len, &off), TL_ERR_WRONG_OBJECT);
    EXPECT(tl_iter_next(&log, &it, (uint8_t *)&log + 8, 64, &len, &off), TL_ERR_WRONG_OBJECT);
    OK(tl_iter_next(&log, &it, buf, sizeof buf, &len, &off));
    CHECK(off == 4 && len == 30 && same_record(buf, 30, 4));
    EXPECT(tl_iter_init(&log, &it2, 7 + TL_BATCH_MAX + 1), TL_ERR_OUT_OF_RANGE);
    EXPECT(tl_iter_next(&log, &it2, buf, sizeof buf, &len, &off), TL_ERR_NOT_MOUNTED);
    EXPECT(tl_iter_init(&log, (tl_iter_t *)(void *)&log, 0), TL_ERR_WRONG_OBJECT);
    OK(tl_log_stats(&log, &s)); /* the log is intact */
    EXPECT(tl_iter_next(&log, (tl_iter_t *)(void *)&log, buf, sizeof buf, &len, &off), TL_ERR_WRONG_OBJECT);
    OK(tl_iter_init(&log, &it2, 7 + TL_BATCH_MAX)); /* at the end */
    EXPECT(tl_iter_next(&log, &it2, buf, sizeof buf, &len, &off), TL_END);
    OK(tl_iter_done(&it2));
    EXPECT(tl_iter_done(&it2), TL_ERR_NOT_MOUNTED);
    EXPECT(tl_iter_next(&log, &it2, buf, sizeof buf, &len, &off), TL_ERR_NOT_MOUNTED);
    /* An iterator is the log object's: another (moved) log object is refused. */
    memcpy(&moved, &log, sizeof log);
    EXPECT(tl_iter_next(&moved, &it, buf, sizeof buf, &len, &off), TL_ERR_WRONG_OBJECT);
    OK(tl_log_read(&moved, 0, buf, sizeof buf, &len)); /* a moved log works */
    OK(tl_log_unmount(&moved));
    /* A live object of another kind is not overwritten by format, mount or tl_iter_init. */
    EXPECT(tl_log_mount((tl_log_t *)(void *)&it, &st, NULL), TL_ERR_WRONG_OBJECT);
    EXPECT(tl_kv_format((tl_kv_t *)(void *)&it, &st, NULL), TL_ERR_WRONG_OBJECT);
    EXPECT(tl_iter_init(&moved, (tl_iter_t *)(void *)&log, 0), TL_ERR_WRONG_OBJECT);
    OK(tl_iter_offset(&it, &off)); /* untouched */
    /* Kinds are told apart: a log is not an iterator nor a KV. */
    EXPECT(tl_iter_seek((tl_iter_t *)(void *)&log, 0), TL_ERR_NOT_MOUNTED);
    EXPECT(tl_kv_sync((tl_kv_t *)(void *)&log), TL_ERR_NOT_MOUNTED);
    EXPECT(tl_log_sync((tl_log_t *)(void *)&it), TL_ERR_NOT_MOUNTED);

    /* trim_front and truncate_back */
    OK(tl_log_trim_front(&log, 2));
    EXPECT(tl_log_read(&log, 1, buf, sizeof buf, &len), TL_ERR_OVERWRITTEN);
    EXPECT(tl_iter_init(&log, &it2, 1), TL_ERR_OVERWRITTEN);
    OK(tl_iter_seek(&it, 0));
    EXPECT(tl_iter_next(&log, &it, buf, sizeof buf, &len, &off), TL_ERR_OVERWRITTEN);
    OK(tl_log_stats(&log, &s));
    CHECK(s.first_offset == 2);
    OK(tl_iter_seek(&it, s.first_offset));
    OK(tl_iter_next(&log, &it, buf, sizeof buf, &len, &off));
    CHECK(off == 2 && len == 0);
    EXPECT(tl_log_trim_front(&log, s.next_offset + 1), TL_ERR_OUT_OF_RANGE);
    EXPECT(tl_log_truncate_back(&log, s.next_offset + 1), TL_ERR_OUT_OF_RANGE);
    OK(tl_log_truncate_back(&log, 5));
    OK(tl_log_stats(&log, &s));
    CHECK(s.next_offset == 5);
    EXPECT(tl_log_read(&log, 5, buf, sizeof buf, &len), TL_ERR_OUT_OF_RANGE);
    OK(tl_log_append(&log, "new5", 4, &off));
    CHECK(off == 5);
    OK(tl_log_read(&log, 5, buf, sizeof buf, &len));
    CHECK(len == 4 && memcmp(buf, "new5", 4) == 0);
    OK(tl_log_sync(&log));

    /* Everything survives a remount. */
    OK(tl_log_mount(&log, &st, NULL));
    OK(tl_log_stats(&log, &s));
    CHECK(s.first_offset == 2 && s.next_offset == 6 && s.max_record_size == 200);
    OK(tl_log_read(&log, 4, buf, sizeof buf, &len));
    CHECK(len == 30 && same_record(buf, 30, 4));
    /* The old iterator finds its offset again in the remounted log. */
    OK(tl_iter_seek(&it, 3));
    OK(tl_iter_next(&log, &it, buf, sizeof buf, &len, &off));
    CHECK(off == 3 && len == 20 && same_record(buf, 20, 3));
    CHECK(f.violations == 0);
    flash_free(&f);
}

static void test_consumers(void) {
    static tl_log_t log;
    flash_t f;
    tl_storage_t st;
    uint64_t off = 99;
    char name[40];
    unsigned i;

    CHECK(flash_init(&f, 4, 2048, 4 * 2048) == 0);
    st = flash_storage(&f);
    OK(tl_log_format(&log, &st, NULL));
    for (i = 0; i < 10; i++) {
        OK(tl_log_append(&log, &i, sizeof i, NULL));
    }
    EXPECT(tl_log_committed(&log, "up", &off), TL_ERR_NO_SUCH_CONSUMER);
    CHECK(off == 99);
    OK(tl_log_position(&log, "up", &off));
    CHECK(off == 0);
    OK(tl_log_commit(&log, "up", 4));
    OK(tl_log_committed(&log, "up", &off));
    CHECK(off == 4);
    OK(tl_log_position(&log, "up", &off));
    CHECK(off == 4);
    OK(tl_log_commit(&log, "up", 4)); /* the same: writes nothing */
    EXPECT(tl_log_commit(&log, "up", 3), TL_ERR_INVALID_ARGUMENT);
    EXPECT(tl_log_commit(&log, "up", 11), TL_ERR_OUT_OF_RANGE);
    OK(tl_log_commit(&log, "up", 10)); /* the next offset */
    OK(tl_log_rewind(&log, "up", 2));
    OK(tl_log_committed(&log, "up", &off));
    CHECK(off == 2);
    EXPECT(tl_log_rewind(&log, "up", 11), TL_ERR_OUT_OF_RANGE);
    OK(tl_log_commit(&log, "audit", 1));
    OK(tl_log_commit(&log, "\xc3\xa9t\xc3\xa9", 1)); /* UTF-8 */
    EXPECT(tl_log_commit(&log, "", 1), TL_ERR_INVALID_NAME);
    EXPECT(tl_log_commit(&log, "bad\xff", 1), TL_ERR_INVALID_NAME);
    EXPECT(tl_log_commit(&log, NULL, 1), TL_ERR_NULL_POINTER);
    memset(name, 'n', sizeof name);
    name[32] = 0;
    OK(tl_log_commit(&log, name, 1)); /* 32 bytes: the longest */
    name[32] = 'n';
    name[33] = 0;
    EXPECT(tl_log_commit(&log, name, 1), TL_ERR_INVALID_NAME);
    name[39] = 'n'; /* unterminated within 33 bytes: only 33 are read */
    EXPECT(tl_log_committed(&log, name, &off), TL_ERR_INVALID_NAME);
    EXPECT(tl_log_position(&log, "up", NULL), TL_ERR_NULL_POINTER);
    EXPECT(tl_log_committed(&log, "up", NULL), TL_ERR_NULL_POINTER);
    EXPECT(tl_log_commit(&log, (const char *)(const void *)&log, 1), TL_ERR_WRONG_OBJECT);
    OK(tl_log_remove_consumer(&log, "audit"));
    EXPECT(tl_log_remove_consumer(&log, "audit"), TL_ERR_NO_SUCH_CONSUMER);
    EXPECT(tl_log_committed(&log, "audit", &off), TL_ERR_NO_SUCH_CONSUMER);
    /* 16 consumers, then the table is full. */
    for (i = 0; i < 16; i++) {
        sprintf(name, "c%02u", i);
        if (i < 13) {
            OK(tl_log_commit(&log, name, 5));
        }
    }
    /* up, été, nnn...n and c00..c12 = 16 */
    EXPECT(tl_log_commit(&log, "c13", 5), TL_ERR_TOO_MANY_CONSUMERS);
    OK(tl_log_sync(&log));
    OK(tl_log_mount(&log, &st, NULL));
    OK(tl_log_committed(&log, "up", &off));
    CHECK(off == 2);
    OK(tl_log_committed(&log, "c12", &off));
    CHECK(off == 5);
    /* Trim below a committed position: the consumer must be rewound. */
    OK(tl_log_trim_front(&log, 6));
    EXPECT(tl_log_position(&log, "up", &off), TL_ERR_OVERWRITTEN);
    EXPECT(tl_log_rewind(&log, "up", 5), TL_ERR_OVERWRITTEN);
    OK(tl_log_rewind(&log, "up", 6));
    CHECK(f.violations == 0);
    flash_free(&f);
}

static void test_full_and_policies(void) {
    static tl_log_t log;
    flash_t f;
    tl_storage_t st;
    tl_log_config_t cfg;
    tl_log_stats_t s;
    uint8_t rec[100], buf[128];
    uint64_t off = 0, last = 0;
    size_t len;
    tl_status_t r = TL_OK;
    unsigned i;

    memset(rec, 0xA5, sizeof rec);
    CHECK(flash_init(&f, 8, 2048, 4 * 2048) == 0);
    st = flash_storage(&f);
    OK(tl_log_format(&log, &st, NULL)); /* TL_FULL_REJECT */
    for (i = 0; i < 1000 && (r = tl_log_append(&log, rec, sizeof rec, &off)) == TL_OK; i++) {
        last = off;
    }
    EXPECT(r, TL_ERR_FULL);
    OK(tl_log_stats(&log, &s));
    CHECK(s.next_offset == last + 1 && s.first_offset == 0);
    CHECK(s.bytes_free < sizeof rec + 16);
    OK(tl_log_read(&log, 0, buf, sizeof buf, &len)); /* nothing was dropped */
    /* Consumed and trimmed records make room. */
    OK(tl_log_commit(&log, "up", s.next_offset));
    OK(tl_log_trim_front(&log, s.next_offset));
    OK(tl_log_append(&log, rec, sizeof rec, &off));
    CHECK(off == last + 1);

    /* A ring buffer never fills; lagging reads are told where to resume. */
    memset(&cfg, 0, sizeof cfg);
    cfg.full_policy = TL_FULL_OVERWRITE_OLDEST;
    OK(tl_log_format(&log, &st, &cfg));
    for (i = 0; i < 200; i++) {
        OK(tl_log_append(&log, rec, sizeof rec, &off));
    }
    OK(tl_log_stats(&log, &s));
    CHECK(s.full_policy == TL_FULL_OVERWRITE_OLDEST && s.first_offset > 0);
    CHECK(s.next_offset == 200);
    EXPECT(tl_log_read(&log, 0, buf, sizeof buf, &len), TL_ERR_OVERWRITTEN);
    OK(tl_log_read(&log, s.first_offset, buf, sizeof buf, &len));
    /* The policy is a run-time choice: mount with the other one. */
    OK(tl_log_mount(&log, &st, NULL));
    OK(tl_log_stats(&log, &s));
    CHECK(s.full_policy == TL_FULL_REJECT);
    CHECK(f.violations == 0);
    flash_free(&f);
}

static void test_corruption(void) {
    static tl_log_t log;
    static tl_iter_t it;
    flash_t f;
    tl_storage_t st;
    uint8_t buf[64];
    size_t len;
    uint64_t off;
    uint32_t a;
    int flipped = 0;

    CHECK(flash_init(&f, 4, 2048, 4 * 2048) == 0);
    st = flash_storage(&f);
    OK(tl_log_format(&log, &st, NULL));
    OK(tl_log_append(&log, "0123456789abcdef0123456789abcdef", 32, NULL));
    OK(tl_log_append(&log, "second", 6, NULL));
    /* Flip a bit inside the first record's bytes on the flash (find them). */
    for (a = 0; a + 32 <= f.capacity && !flipped; a++) {
        if (memcmp(f.mem + a, "0123456789abcdef0123456789abcdef", 32) == 0) {
            f.mem[a + 5] ^= 0x01;
            flipped = 1;
        }
    }
    CHECK(flipped);
    EXPECT(tl_log_read(&log, 0, buf, sizeof buf, &len), TL_ERR_CORRUPT);
    OK(tl_iter_init(&log, &it, 0));
    EXPECT(tl_iter_next(&log, &it, buf, sizeof buf, &len, &off), TL_ERR_CORRUPT);
    OK(tl_iter_offset(&it, &off));
    CHECK(off == 0); /* stays at the damaged record */
    flash_free(&f);
}

/* A device error from a callback: reported with its code; writes then need a remount. */
static void test_device_errors(void) {
    static tl_log_t log;
    static tl_kv_t kv;
    static tl_iter_t it;
    flash_t f;
    tl_storage_t st;
    uint8_t buf[16];
    size_t len;

    CHECK(flash_init(&f, 4, 2048, 4 * 2048) == 0);
    st = flash_storage(&f);
    f.fail_next = -5;
    EXPECT(tl_log_format(&log, &st, NULL), TL_ERR_STORAGE_DEVICE);
    CHECK(tl_log_last_device_error(&log) == 0); /* not mounted */
    OK(tl_log_format(&log, &st, NULL));
    CHECK(tl_log_last_device_error(&log) == 0);
    OK(tl_log_append(&log, "a", 1, NULL));
    f.fail_next = -7;
    EXPECT(tl_log_append(&log, "b", 1, NULL), TL_ERR_STORAGE_DEVICE);
    CHECK(tl_log_last_device_error(&log) == -7);
    EXPECT(tl_log_append(&log, "c", 1, NULL), TL_ERR_NEEDS_REMOUNT);
    EXPECT(tl_log_commit(&log, "up", 1), TL_ERR_NEEDS_REMOUNT);
    OK(tl_log_read(&log, 0, buf, sizeof buf, &len)); /* reads still work */
    CHECK(len == 1 && buf[0] == 'a');
    f.fail_next = 3; /* (a fresh read: a read that walks on from the last one retries a
                      * failed walk through the index, so it may succeed) */
    EXPECT(tl_iter_init(&log, &it, 0), TL_OK);
    EXPECT(tl_iter_next(&log, &it, buf, sizeof buf, &len, NULL), TL_ERR_STORAGE_DEVICE);
    CHECK(tl_log_last_device_error(&log) == 3);
    f.fail_next = -9;
    EXPECT(tl_log_sync(&log), TL_ERR_STORAGE_DEVICE);
    CHECK(tl_log_last_device_error(&log) == -9);
    f.fail_next = 1;
    EXPECT(tl_log_mount(&log, &st, NULL), TL_ERR_STORAGE_DEVICE);
    OK(tl_log_mount(&log, &st, NULL));
    CHECK(tl_log_last_device_error(&log) == 0);
    OK(tl_log_append(&log, "c", 1, NULL));
    /* The KV: the same. */
    OK(tl_kv_format(&kv, &st, NULL));
    f.fail_next = -11;
    EXPECT(tl_kv_set(&kv, "k", 1, "v", 1), TL_ERR_STORAGE_DEVICE);
    CHECK(tl_kv_last_device_error(&kv) == -11);
    EXPECT(tl_kv_set(&kv, "k", 1, "v", 1), TL_ERR_NEEDS_REMOUNT);
    f.fail_next = -12;
    EXPECT(tl_kv_sync(&kv), TL_ERR_STORAGE_DEVICE);
    OK(tl_kv_mount(&kv, &st, NULL));
    CHECK(tl_kv_last_device_error(&kv) == 0);
    OK(tl_kv_set(&kv, "k", 1, "v", 1));
    flash_free(&f);
}

/* A callback that calls back into the object it serves gets TL_ERR_BUSY. */
static tl_status_t hook_status[8];
static int hook_calls;
static void reenter(flash_t *f) {
    static tl_storage_t st;
    tl_log_t *log = f->hook_arg;
    uint64_t off;
    f->hook = NULL; /* once */
    st = flash_storage(f);
    hook_status[0] = tl_log_append(log, "x", 1, &off);
    hook_status[1] = tl_log_mount(log, &st, NULL);
    hook_status[2] = tl_log_format(log, &st, NULL);
    hook_status[3] = tl_log_unmount(log);
    hook_calls++;
}
static void reenter_kv(flash_t *f) {
    static tl_storage_t st;
    tl_kv_t *kv = f->hook_arg;
    f->hook = NULL;
    st = flash_storage(f);
    hook_status[4] = tl_kv_set(kv, "k", 1, "v", 1);
    hook_status[5] = tl_kv_mount(kv, &st, NULL);
    hook_status[6] = tl_kv_unmount(kv);
    hook_calls++;
}
static void test_reentrancy(void) {
    static tl_log_t log;
    static tl_kv_t kv;
    static tl_iter_t it;
    flash_t f;
    tl_storage_t st;
    uint8_t buf[8];
    size_t len;
    int i;

    CHECK(flash_init(&f, 4, 2048, 4 * 2048) == 0);
    st = flash_storage(&f);
    OK(tl_log_format(&log, &st, NULL));
    f.hook = reenter;
    f.hook_arg = &log;
    OK(tl_log_append(&log, "a", 1, NULL));
    CHECK(hook_calls == 1);
    for (i = 0; i < 4; i++) {
        EXPECT(hook_status[i], TL_ERR_BUSY);
    }
    OK(tl_log_read(&log, 0, buf, sizeof buf, &len)); /* still mounted, intact */
    CHECK(len == 1 && buf[0] == 'a');
    /* Busy during mount too. */
    f.hook = reenter;
    OK(tl_log_mount(&log, &st, NULL));
    EXPECT(hook_status[0], TL_ERR_BUSY);
    OK(tl_iter_init(&log, &it, 0));
    OK(tl_iter_next(&log, &it, buf, sizeof buf, &len, NULL));
    OK(tl_kv_format(&kv, &st, NULL));
    f.hook = reenter_kv;
    f.hook_arg = &kv;
    OK(tl_kv_set(&kv, "a", 1, "b", 1));
    for (i = 4; i < 7; i++) {
        EXPECT(hook_status[i], TL_ERR_BUSY);
    }
    OK(tl_kv_get(&kv, "a", 1, buf, sizeof buf, &len));
    CHECK(len == 1 && buf[0] == 'b');
    flash_free(&f);
}

/* Makes every segment header of a log image claim format version 2 (CRCs fixed up). */
static int future_log_image(flash_t *f, uint32_t seg) {
    uint32_t a;
    int n = 0;
    for (a = 0; a + 64 <= f->capacity; a += seg) {
        uint8_t *h = f->mem + a;
        uint32_t c;
        if (memcmp(h, "TDLG", 4) != 0) {
            continue;
        }
        h[4] = 2;
        h[5] = 0;
        c = crc32c(h, 60);
        h[60] = (uint8_t)c; h[61] = (uint8_t)(c >> 8); h[62] = (uint8_t)(c >> 16); h[63] = (uint8_t)(c >> 24);
        n++;
    }
    return n;
}

static void test_images_not_written(void) {
    static tl_log_t log;
    static tl_kv_t kv;
    flash_t f;
    tl_storage_t st;
    uint32_t i, x = 12345;
    uint8_t *copy;
    size_t len;

    CHECK(flash_init(&f, 8, 2048, 4 * 2048) == 0);
    st = flash_storage(&f);
    copy = malloc(f.capacity);
    /* Blank. */
    EXPECT(tl_log_mount(&log, &st, NULL), TL_ERR_NOT_FORMATTED);
    EXPECT(tl_kv_mount(&kv, &st, NULL), TL_ERR_NOT_FORMATTED);
    /* Foreign: random bytes, and all zeros. */
    for (i = 0; i < f.capacity; i++) {
        x = x * 1103515245u + 12345u;
        f.mem[i] = (uint8_t)(x >> 16);
    }
    memcpy(copy, f.mem, f.capacity);
    EXPECT(tl_log_mount(&log, &st, NULL), TL_ERR_NOT_FORMATTED);
    EXPECT(tl_kv_mount(&kv, &st, NULL), TL_ERR_NOT_FORMATTED);
    memset(f.mem, 0, f.capacity);
    EXPECT(tl_log_mount(&log, &st, NULL), TL_ERR_NOT_FORMATTED);
    EXPECT(tl_kv_mount(&kv, &st, NULL), TL_ERR_NOT_FORMATTED);
    CHECK(f.progs == 0 && f.erases == 0);
    /* A log of a newer format version (written by newer firmware). */
    memset(f.mem, 0xFF, f.capacity);
    memset(f.programmed, 0, f.capacity / f.write_size + 1);
    OK(tl_log_format(&log, &st, NULL));
    for (i = 0; i < 200; i++) {
        OK(tl_log_append(&log, "reading", 7, NULL));
    }
    OK(tl_log_commit(&log, "up", 3));
    CHECK(future_log_image(&f, 2048) >= 2);
    memcpy(copy, f.mem, f.capacity);
    flash_clear_counters(&f);
    EXPECT(tl_log_mount(&log, &st, NULL), TL_ERR_UNSUPPORTED_VERSION);
    EXPECT(tl_kv_mount(&kv, &st, NULL), TL_ERR_NOT_FORMATTED);
    CHECK(f.progs == 0 && f.erases == 0 && memcmp(copy, f.mem, f.capacity) == 0);
    EXPECT(tl_log_append(&log, "x", 1, NULL), TL_ERR_NOT_MOUNTED);
    /* A KV of a newer format version. */
    OK(tl_kv_format(&kv, &st, NULL));
    OK(tl_kv_set(&kv, "k", 1, "v", 1));
    {
        uint8_t *h = f.mem; /* partition 0 holds the active header */
        uint32_t c, n;
        CHECK(memcmp(h, "TDKV", 4) == 0);
        if (memcmp(h, "TDKV", 4) != 0) {
            h = f.mem + f.capacity / 2;
        }
        n = (uint32_t)h[6] | (uint32_t)h[7] << 8;
        h[4] = 2;
        c = crc32c(h, n - 4);
        h[n - 4] = (uint8_t)c; h[n - 3] = (uint8_t)(c >> 8); h[n - 2] = (uint8_t)(c >> 16); h[n - 1] = (uint8_t)(c >> 24);
    }
    memcpy(copy, f.mem, f.capacity);
    flash_clear_counters(&f);
    EXPECT(tl_kv_mount(&kv, &st, NULL), TL_ERR_UNSUPPORTED_VERSION);
    EXPECT(tl_log_mount(&log, &st, NULL), TL_ERR_NOT_FORMATTED);
    CHECK(f.progs == 0 && f.erases == 0 && memcmp(copy, f.mem, f.capacity) == 0);
    EXPECT(tl_kv_get(&kv, "k", 1, NULL, 0, &len), TL_ERR_NOT_MOUNTED);
    /* Another geometry: an image of 8-byte units on a device said to have 16-byte ones. */
    memset(f.mem, 0xFF, f.capacity);
    memset(f.programmed, 0, f.capacity / f.write_size + 1);
    OK(tl_log_format(&log, &st, NULL));
    OK(tl_log_append(&log, "x", 1, NULL));
    {
        tl_storage_t other = st;
        other.write_size = 16;
        flash_clear_counters(&f);
        EXPECT(tl_log_mount(&log, &other, NULL), TL_ERR_GEOMETRY_MISMATCH);
        CHECK(f.progs == 0 && f.erases == 0);
    }
    free(copy);
    flash_free(&f);
}

static void test_kv(void) {
    static tl_kv_t kv;
    flash_t f;
    tl_storage_t st;
    tl_kv_config_t cfg;
    tl_kv_stats_t s;
    tl_kv_pair_t pairs[TL_KV_BATCH_MAX + 1];
    uint8_t buf[300], val[200];
    size_t len;
    bool b, was = false;
    unsigned i;
    tl_status_t r = TL_OK;
    uint64_t gen;

    CHECK(flash_init(&f, 8, 1024, 4 * 1024) == 0);
    st = flash_storage(&f);
    memset(&cfg, 0, sizeof cfg);
    cfg.max_key_len = 16;
    cfg.max_value_len = 200;
    cfg.high_water_percent = 50;
    OK(tl_kv_format(&kv, &st, &cfg));
    OK(tl_kv_stats(&kv, &s));
    CHECK(s.generation == 1 && s.partition_size == 2048 && s.max_key_len == 16);
    CHECK(s.max_value_len == 200 && s.high_water_mark == 1024);
    EXPECT(tl_kv_stats(&kv, NULL), TL_ERR_NULL_POINTER);
    EXPECT(tl_kv_get(&kv, "k", 1, buf, sizeof buf, &len), TL_ERR_NOT_FOUND);
    OK(tl_kv_set(&kv, "wifi.ssid", 9, "workshop", 8));
    OK(tl_kv_get(&kv, "wifi.ssid", 9, buf, sizeof buf, &len));
    CHECK(len == 8 && memcmp(buf, "workshop", 8) == 0);
    EXPECT(tl_kv_get(&kv, "wifi.ssid", 9, buf, 3, &len), TL_ERR_BUFFER_TOO_SMALL);
    CHECK(len == 8);
    EXPECT(tl_kv_get(&kv, "wifi.ssid", 9, NULL, 0, &len), TL_ERR_BUFFER_TOO_SMALL);
    EXPECT(tl_kv_get(&kv, "wifi.ssid", 9, buf, sizeof buf, NULL), TL_ERR_NULL_POINTER);
    EXPECT(tl_kv_get(&kv, NULL, 9, buf, sizeof buf, &len), TL_ERR_NULL_POINTER);
    EXPECT(tl_kv_get(&kv, "wifi.ssid", 9, (uint8_t *)&kv + 4, 16, &len), TL_ERR_WRONG_OBJECT);
    OK(tl_kv_set(&kv, "", 0, NULL, 0)); /* the empty key, an empty value */
    OK(tl_kv_get(&kv, NULL, 0, NULL, 0, &len));
    CHECK(len == 0);
    EXPECT(tl_kv_set(&kv, "k", 1, NULL, 3), TL_ERR_NULL_POINTER);
    EXPECT(tl_kv_set(&kv, "0123456789abcdefX", 17, "v", 1), TL_ERR_TOO_LARGE);
    memset(val, 'v', sizeof val);
    EXPECT(tl_kv_set(&kv, "k", 1, val, 201), TL_ERR_TOO_LARGE);
    EXPECT(tl_kv_set(&kv, &kv, 4, "v", 1), TL_ERR_WRONG_OBJECT);
    OK(tl_kv_delete(&kv, "wifi.ssid", 9, &was));
    CHECK(was);
    OK(tl_kv_delete(&kv, "wifi.ssid", 9, &was));
    CHECK(!was);
    OK(tl_kv_delete(&kv, "nothing", 7, NULL));
    EXPECT(tl_kv_get(&kv, "wifi.ssid", 9, buf, sizeof buf, &len), TL_ERR_NOT_FOUND);

    /* set_multiple */
    for (i = 0; i <= TL_KV_BATCH_MAX; i++) {
        pairs[i].key = "key";
        pairs[i].key_len = 3;
        pairs[i].value = val;
        pairs[i].value_len = i;
    }
    pairs[0].key = "fw.version"; pairs[0].key_len = 10; pairs[0].value = "1.4.2"; pairs[0].value_len = 5;
    pairs[1].key = "fw.slot"; pairs[1].key_len = 7; pairs[1].value = "B"; pairs[1].value_len = 1;
    OK(tl_kv_set_multiple(&kv, pairs, 2));
    OK(tl_kv_get(&kv, "fw.slot", 7, buf, sizeof buf, &len));
    CHECK(len == 1 && buf[0] == 'B');
    OK(tl_kv_set_multiple(&kv, NULL, 0)); /* writes nothing */
    OK(tl_kv_set_multiple(&kv, pairs, 0));
    EXPECT(tl_kv_set_multiple(&kv, NULL, 1), TL_ERR_NULL_POINTER);
    EXPECT(tl_kv_set_multiple(&kv, pairs, TL_KV_BATCH_MAX + 1), TL_ERR_TOO_LARGE);
    EXPECT(tl_kv_set_multiple(&kv, (const tl_kv_pair_t *)(const void *)&kv, 1), TL_ERR_WRONG_OBJECT);
    OK(tl_kv_set_multiple(&kv, pairs + 1, TL_KV_BATCH_MAX)); /* later pairs win */
    OK(tl_kv_get(&kv, "key", 3, buf, sizeof buf, &len));
    CHECK(len == TL_KV_BATCH_MAX);
    pairs[2].value = NULL; pairs[2].value_len = 5;
    EXPECT(tl_kv_set_multiple(&kv, pairs, 3), TL_ERR_NULL_POINTER);
    pairs[2].value = val; pairs[2].value_len = 200;
    pairs[3].value_len = 200; pairs[4].value_len = 200; pairs[5].value_len = 200;
    pairs[6].value_len = 200; pairs[7].value_len = 200; pairs[8].value_len = 200;
    pairs[9].value_len = 200; pairs[10].value_len = 200; pairs[11].value_len = 200;
    EXPECT(tl_kv_set_multiple(&kv, pairs, 12), TL_ERR_TOO_LARGE); /* over max_batch_body */

    /* The high-water flag and compaction. */
    OK(tl_kv_high_water(&kv, &b));
    CHECK(!b);
    EXPECT(tl_kv_high_water(&kv, NULL), TL_ERR_NULL_POINTER);
    OK(tl_kv_stats(&kv, &s));
    gen = s.generation;
    for (i = 0; i < 40; i++) {
        char key[8];
        sprintf(key, "k%u", i % 4);
        OK(tl_kv_set(&kv, key, strlen(key), val, 100));
    }
    OK(tl_kv_stats(&kv, &s));
    CHECK(s.generation > gen); /* crossing the mark compacted */
    gen = s.generation;
    OK(tl_kv_compact(&kv));
    OK(tl_kv_stats(&kv, &s));
    CHECK(s.generation == gen + 1);
    OK(tl_kv_high_water(&kv, &b));
    CHECK(!b);
    OK(tl_kv_sync(&kv));
    OK(tl_kv_get(&kv, "fw.version", 10, buf, sizeof buf, &len));
    CHECK(len == 5 && memcmp(buf, "1.4.2", 5) == 0);

    /* Full: distinct keys until even compaction cannot help; the flag stays set. */
    for (i = 0; i < 200; i++) {
        char key[8];
        sprintf(key, "f%u", i);
        r = tl_kv_set(&kv, key, strlen(key), val, 150);
        if (r != TL_OK) {
            break;
        }
    }
    EXPECT(r, TL_ERR_FULL);
    OK(tl_kv_high_water(&kv, &b));
    CHECK(b);
    OK(tl_kv_get(&kv, "f0", 2, buf, sizeof buf, &len)); /* nothing lost */
    CHECK(len == 150);
    /* Survives a remount. */
    OK(tl_kv_mount(&kv, &st, NULL));
    OK(tl_kv_get(&kv, "fw.slot", 7, buf, sizeof buf, &len));
    OK(tl_kv_get(&kv, "f0", 2, buf, sizeof buf, &len));
    CHECK(len == 150);
    OK(tl_kv_unmount(&kv));
    EXPECT(tl_kv_get(&kv, "f0", 2, buf, sizeof buf, &len), TL_ERR_NOT_MOUNTED);
    CHECK(f.violations == 0);
    flash_free(&f);
}

/* ---- the golden images (the .txt files of tests/golden): every binding must read them ---- */

static size_t unhex(const char *s, uint8_t *out, size_t cap) {
    size_t n = 0;
    unsigned v;
    if (strcmp(s, "-") == 0) {
        return 0;
    }
    while (s[0] && s[1] && n < cap && sscanf(s, "%2x", &v) == 1) {
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *fp = fopen(path, "rb");
    uint8_t *data;
    long n;
    if (!fp) {
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    data = malloc(n > 0 ? (size_t)n : 1);
    *len = fread(data, 1, (size_t)n, fp);
    fclose(fp);
    return data;
}

static unsigned long field(const char *text, const char *key) {
    char pat[64];
    const char *p;
    sprintf(pat, "\n%s: ", key);
    p = strstr(text, pat);
    return p ? strtoul(p + strlen(pat), NULL, 10) : 0xFFFFFFFFul;
}

static int golden(const char *dir, const char *name) {
    static tl_log_t log;
    static tl_kv_t kv;
    static tl_iter_t it;
    char path[512], line[4096], *text;
    uint8_t *image, want[2048], got[2048];
    size_t image_len, text_len, len, n;
    flash_t f;
    tl_storage_t st;
    int is_kv = strncmp(name, "kv_", 3) == 0, records = 0;
    const char *p;
    tl_log_stats_t ls;
    tl_kv_stats_t ks;
    uint64_t off;

    sprintf(path, "%s/%s.txt", dir, name);
    text = (char *)read_file(path, &text_len);
    sprintf(path, "%s/%s.bin", dir, name);
    image = read_file(path, &image_len);
    if (!text || !image) {
        fprintf(stderr, "golden: cannot read %s\n", path);
        check_failures++;
        free(text);
        free(image);
        return 0;
    }
    text = realloc(text, text_len + 2);
    memmove(text + 1, text, text_len);
    text[0] = '\n';
    text[text_len + 1] = 0;
    CHECK(flash_init(&f, (uint32_t)field(text, "write_size"), (uint32_t)field(text, "erase_size"),
                     (uint32_t)(image_len - image_len % field(text, "erase_size"))) == 0);
    flash_load(&f, image, image_len);
    st = flash_storage(&f);
    if (is_kv) {
        OK(tl_kv_mount(&kv, &st, NULL));
        OK(tl_kv_stats(&kv, &ks));
        CHECK(ks.generation == field(text, "generation"));
        CHECK(ks.used_bytes == field(text, "used_bytes"));
        CHECK(ks.partition_size == field(text, "partition_size"));
        CHECK(ks.max_key_len == field(text, "max_key_len"));
        CHECK(ks.max_value_len == field(text, "max_value_len"));
    } else {
        OK(tl_log_mount(&log, &st, NULL));
        OK(tl_log_stats(&log, &ls));
        CHECK(ls.first_offset == field(text, "first_offset"));
        CHECK(ls.next_offset == field(text, "next_offset"));
        CHECK(ls.segments_used == field(text, "segments_used"));
        CHECK(ls.segment_size == field(text, "segment_size"));
        CHECK(ls.max_record_size == field(text, "max_record_size"));
        OK(tl_iter_init(&log, &it, ls.first_offset));
    }
    for (p = text; (p = strchr(p, '\n')) != NULL;) {
        size_t l;
        p++;
        l = strcspn(p, "\n");
        if (l >= sizeof line) {
            continue;
        }
        memcpy(line, p, l);
        line[l] = 0;
        if (strncmp(line, "record ", 7) == 0) {
            unsigned long o = strtoul(line + 7, NULL, 10);
            n = unhex(strchr(line + 7, ' ') + 1, want, sizeof want);
            OK(tl_log_read(&log, o, got, sizeof got, &len));
            CHECK(len == n && memcmp(got, want, n) == 0);
            OK(tl_iter_next(&log, &it, got, sizeof got, &len, &off));
            CHECK(off == o && len == n && memcmp(got, want, n) == 0);
            records++;
        } else if (strncmp(line, "consumer ", 9) == 0) {
            char *sp = strrchr(line, ' ');
            *sp = 0;
            OK(tl_log_committed(&log, line + 9, &off));
            CHECK(off == strtoull(sp + 1, NULL, 10));
        } else if (strncmp(line, "entry ", 6) == 0) {
            uint8_t key[300];
            char *sp = strchr(line + 6, ' ');
            size_t kl;
            *sp = 0;
            kl = unhex(line + 6, key, sizeof key);
            n = unhex(sp + 1, want, sizeof want);
            OK(tl_kv_get(&kv, key, kl, got, sizeof got, &len));
            CHECK(len == n && memcmp(got, want, n) == 0);
            records++;
        }
    }
    if (!is_kv) {
        EXPECT(tl_iter_next(&log, &it, got, sizeof got, &len, &off), TL_END);
    }
    CHECK(f.violations == 0);
    flash_free(&f);
    free(text);
    free(image);
    return records;
}

static void test_golden(const char *dir) {
    static const char *names[] = {
        "v1_ws4_e1k_basic", "v1_ws1_e256_truncated", "v1_ws32_e4k_wrapped",
        "kv_v1_ws4_e256_basic", "kv_v1_ws4_e256_compacted", "kv_v1_ws1_e256_torn",
        "kv_v1_ws32_e1k_ecc",
    };
    size_t i;
    for (i = 0; i < COUNT(names); i++) {
        int n = golden(dir, names[i]);
        CHECK(n > 0);
        printf("  golden %-26s %3d records/entries read back\n", names[i], n);
    }
}

int main(int argc, char **argv) {
    size_t i, j;
    int missing = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: %s GOLDEN_DIR\n", argv[0]);
        return 2;
    }
    test_versions_and_statuses();
    test_object_checks();
    test_storage_checks();
    test_log_basics();
    test_consumers();
    test_full_and_policies();
    test_corruption();
    test_device_errors();
    test_reentrancy();
    test_images_not_written();
    test_kv();
    test_golden(argv[1]);
    /* Every status the binding can return was returned by some call above. */
    for (i = 0; i < COUNT(all_statuses); i++) {
        int never = 0;
        for (j = 0; j < COUNT(never_returned); j++) {
            never |= never_returned[j] == all_statuses[i];
        }
        if (!never && !check_seen[all_statuses[i]]) {
            fprintf(stderr, "status %d (%s) was never produced\n", (int)all_statuses[i],
                    tl_strerror(all_statuses[i]));
            missing++;
        }
    }
    if (check_failures || missing) {
        fprintf(stderr, "test_api: %d failed checks, %d statuses not covered\n", check_failures, missing);
        return 1;
    }
    printf("test_api: ok (%u statuses produced, %u documented as never returned by this binding)\n",
           (unsigned)(COUNT(all_statuses) - COUNT(never_returned)), (unsigned)COUNT(never_returned));
    return 0;
}
