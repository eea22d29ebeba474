/*
 * Random calls: thousands of calls of every function with random, mostly invalid arguments —
 * NULL, unaligned and garbage objects, objects of the wrong kind, buffers of random lengths
 * (some overlapping the objects), absurd offsets and counts, bad names, bad geometries and
 * configurations — on flashes with garbage contents, bit flips, injected device errors,
 * power cuts, and callbacks that call back into the library. Every call must return a known
 * status (never crash, hang or touch memory it was not given: run under ASan/UBSan and
 * valgrind), and what a successful call reports must be consistent (lengths within the
 * buffer, offsets within the log).
 *
 * Usage: test_random [CALLS [SEED]]   (default 20000 calls, seed 1)
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

static uint32_t rng = 1;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}
static uint32_t below(uint32_t n) {
    return n ? rnd() % n : 0;
}

#define NLOG 3
#define NITER 3
#define NKV 2
static tl_log_t logs[NLOG];
static tl_iter_t iters[NITER];
static tl_kv_t kvs[NKV];
static union {
    uint64_t align;
    unsigned char bytes[TL_LOG_SIZE + 64];
} junk; /* garbage "objects" and unaligned pointers into it */
static flash_t flashes[2];
static uint8_t big[4096 + 64];
static unsigned long calls, ok_calls, by_status[128];
static int depth;

/* An object pointer: valid, NULL, unaligned, garbage, or a live object of another kind —
 * the last two only for calls that read the state word (`other_kinds`): format, mount and
 * tl_iter_init write the whole object, and handing them a smaller object of another kind
 * that is not live, or objects that overlap, is the caller's undefined behaviour, like any
 * wrong cast in C. */
static int other_kinds = 1;
static void *any_object(void *valid, size_t size) {
    uint32_t r = below(10);
    if ((r == 2 || r == 3) && !other_kinds) {
        r = 4; /* (and no garbage objects: mounting two overlapping ones is the caller's UB) */
    }
    switch (r) {
    case 0:
        return NULL;
    case 1:
        return junk.bytes + 1 + below(7); /* unaligned */
    case 2:
        return junk.bytes + 8 * below((uint32_t)((sizeof junk.bytes - size) / 8)); /* garbage */
    case 3: /* another kind of object */
        return below(2) ? (void *)&kvs[below(NKV)] : (void *)&iters[below(NITER)];
    default:
        return valid;
    }
}
static tl_log_t *a_log(void) {
    return any_object(&logs[below(NLOG)], sizeof(tl_log_t));
}
static tl_iter_t *an_iter(void) {
    return any_object(&iters[below(NITER)], sizeof(tl_iter_t));
}
static tl_kv_t *a_kv(void) {
    return any_object(&kvs[below(NKV)], sizeof(tl_kv_t));
}

/* A buffer and a length the caller may really use (never more than what is there). An input
 * buffer may point into an object (the library refuses one inside the object it works on;
 * reading another is harmless); an output buffer never points into another object (writing
 * a live object's bytes is the caller's undefined behaviour, as in any C library) — except
 * into the one the call works on, which the library refuses. */
static void *a_buf_(size_t *len, int input, void *self, size_t self_size) {
    uint32_t r = below(12);
    if (r == 0) {
        *len = below(3) ? 0 : 1 + below(100);
        return NULL;
    }
    if (r == 1 && !input && self) { /* inside the object of the call */
        *len = 1 + below((uint32_t)self_size);
        return (uint8_t *)self + below(8);
    }
    if (r == 1 && input && depth == 0) { /* inside an object */
        void *o = below(2) ? (void *)&logs[below(NLOG)] : (void *)&kvs[below(NKV)];
        *len = 1 + below(64);
        return o;
    }
    if (r == 2) {
        *len = 0;
        return big + below(64);
    }
    *len = below(r < 8 ? 80 : 4096);
    return big + below(64);
}
static void *a_buf(size_t *len) {
    return a_buf_(len, 1, NULL, 0);
}
static void *an_out(size_t *len, void *self, size_t self_size) {
    return a_buf_(len, 0, self, self_size);
}

static uint64_t an_offset(void) {
    switch (below(8)) {
    case 0: return 0;
    case 1: return UINT64_MAX;
    case 2: return (uint64_t)1 << 62;
    case 3: return below(5);
    default: return below(400);
    }
}

static const char *a_name(void) {
    static char unterminated[40];
    static const char *names[] = {"up", "audit", "uploader", "", "\xff\xfe", "\xc3\xa9t\xc3\xa9",
                                  "0123456789abcdef0123456789abcdef",
                                  "0123456789abcdef0123456789abcdefX", "c1", "c2", "c3"};
    uint32_t r = below(16);
    if (r == 0) {
        return NULL;
    }
    if (r == 1) {
        memset(unterminated, 'u', sizeof unterminated);
        return unterminated;
    }
    return names[r % (sizeof names / sizeof names[0])];
}

static const tl_storage_t *a_storage(void) {
    static tl_storage_t st;
    flash_t *f = &flashes[below(2)];
    uint32_t r = below(30);
    if (r == 0) {
        return NULL;
    }
    st = flash_storage(f);
    switch (r) {
    case 1: st.read = NULL; break;
    case 2: st.prog = NULL; break;
    case 3: st.erase = NULL; break;
    case 4: st.sync = NULL; break;
    case 5: st.write_size = rnd(); break;
    case 6: st.erase_size = 1u << below(20); break;
    case 7: st.capacity = rnd(); break;
    case 8: st.read_size = below(3); break;
    case 9: st.capacity = f->capacity / 2; break; /* a smaller device: still in bounds */
    default: break;
    }
    return &st;
}

static const tl_log_config_t *a_log_config(void) {
    static tl_log_config_t c;
    if (below(3) == 0) {
        return NULL;
    }
    c.segment_sectors = below(3) ? below(3) : rnd();
    c.index_interval = below(3) ? 0 : (below(2) ? 1u << below(13) : rnd());
    c.max_record_size = below(3) ? 0 : below(3000);
    c.full_policy = below(5) ? below(2) : rnd();
    return &c;
}

static const tl_kv_config_t *a_kv_config(void) {
    static tl_kv_config_t c;
    if (below(3) == 0) {
        return NULL;
    }
    c.max_key_len = below(3) ? below(40) : rnd() % 300;
    c.max_value_len = below(3) ? below(300) : rnd();
    c.high_water_percent = below(4) ? below(101) : rnd();
    return &c;
}

static int known(tl_status_t st) {
    return strcmp(tl_strerror(st), "unknown status") != 0;
}

static void one_call(void);

/* A callback that calls back into the library (once in a while). */
static void hook(flash_t *f) {
    (void)f;
    if (depth == 0 && below(4) == 0) {
        depth++;
        one_call();
        depth--;
    }
}

static void note(tl_status_t st, const char *fn) {
    calls++;
    if (!known(st)) {
        fprintf(stderr, "%s returned an unknown status %d\n", fn, (int)st);
        check_failures++;
    } else if (st >= 0 && st < 128) {
        by_status[st]++;
    }
    if (st == TL_OK) {
        ok_calls++;
    }
}

static void one_call(void) {
    size_t len = 0, cap = 0, got = 7777, k;
    void *buf;
    const void *in;
    uint64_t off = 0;
    bool flag;
    tl_status_t st;
    tl_log_stats_t ls;
    tl_kv_stats_t ks;
    tl_buf_t recs[TL_BATCH_MAX + 8];
    tl_kv_pair_t pairs[TL_KV_BATCH_MAX + 8];
    uint32_t fn = below(34);
    tl_log_t *log = a_log();

    switch (fn) {
    case 0:
        other_kinds = 0;
        log = a_log();
        other_kinds = 1;
        note(tl_log_format(log, a_storage(), a_log_config()), "tl_log_format");
        break;
    case 1:
    case 2:
        other_kinds = 0;
        log = a_log();
        other_kinds = 1;
        note(tl_log_mount(log, a_storage(), a_log_config()), "tl_log_mount");
        break;
    case 3:
        note(tl_log_unmount(below(4) ? NULL : log), "tl_log_unmount");
        break;
    case 4:
    case 5:
        in = a_buf(&len);
        st = tl_log_append(log, in, len, below(3) ? &off : NULL);
        note(st, "tl_log_append");
        break;
    case 6:
        k = below(TL_BATCH_MAX + 8);
        for (len = 0; len < k; len++) {
            recs[len].data = a_buf(&recs[len].len);
            if (below(3)) {
                recs[len].len %= 20; /* mostly small records: batches that fit */
                if (!recs[len].data && recs[len].len) recs[len].len = 0;
            }
        }
        note(tl_log_append_batch(log, below(10) ? recs : NULL, k, &off), "tl_log_append_batch");
        break;
    case 7:
    case 8:
        buf = an_out(&cap, log, sizeof *log - 8);
        st = tl_log_read(log, an_offset(), buf, cap, below(10) ? &got : NULL);
        note(st, "tl_log_read");
        if (st == TL_OK) {
            CHECK(got <= cap);
        }
        break;
    case 9:
        note(tl_log_sync(log), "tl_log_sync");
        break;
    case 10:
        note(tl_log_trim_front(log, an_offset()), "tl_log_trim_front");
        break;
    case 11:
        note(tl_log_truncate_back(log, an_offset()), "tl_log_truncate_back");
        break;
    case 12:
        note(tl_log_commit(log, a_name(), an_offset()), "tl_log_commit");
        break;
    case 13:
        note(tl_log_rewind(log, a_name(), an_offset()), "tl_log_rewind");
        break;
    case 14:
        note(tl_log_remove_consumer(log, a_name()), "tl_log_remove_consumer");
        break;
    case 15:
        note(tl_log_committed(log, a_name(), below(8) ? &off : NULL), "tl_log_committed");
        break;
    case 16:
        note(tl_log_position(log, a_name(), below(8) ? &off : NULL), "tl_log_position");
        break;
    case 17:
        st = tl_log_stats(log, below(8) ? &ls : NULL);
        note(st, "tl_log_stats");
        if (st == TL_OK) {
            CHECK(ls.first_offset <= ls.next_offset && ls.segments_used <= ls.segments_total);
        }
        (void)tl_log_last_device_error(log);
        break;
    case 18:
    case 19: {
        tl_iter_t *it;
        other_kinds = 0;
        it = an_iter();
        other_kinds = 1;
        note(tl_iter_init(log, it, an_offset()), "tl_iter_init");
        break;
    }
    case 20:
    case 21:
        buf = an_out(&cap, log, sizeof *log - 8);
        st = tl_iter_next(log, an_iter(), buf, cap, below(10) ? &got : NULL, &off);
        note(st, "tl_iter_next");
        if (st == TL_OK) {
            CHECK(got <= cap);
        }
        break;
    case 22:
        note(tl_iter_seek(an_iter(), an_offset()), "tl_iter_seek");
        break;
    case 23:
        note(tl_iter_offset(an_iter(), below(8) ? &off : NULL), "tl_iter_offset");
        note(tl_iter_done(below(8) ? NULL : an_iter()), "tl_iter_done");
        break;
    case 24:
    case 25: {
        tl_kv_t *kv;
        other_kinds = 0;
        kv = a_kv();
        other_kinds = 1;
        if (fn == 24) {
            note(tl_kv_format(kv, a_storage(), a_kv_config()), "tl_kv_format");
            break;
        }
        note(tl_kv_mount(kv, a_storage(), a_kv_config()), "tl_kv_mount");
        note(tl_kv_unmount(below(6) ? NULL : a_kv()), "tl_kv_unmount");
        break;
    }
    case 26:
    case 27:
        {
            tl_kv_t *kv = a_kv();
            in = a_buf(&len);
            buf = an_out(&cap, kv, sizeof *kv - 8);
            st = tl_kv_get(kv, in, len % 40, buf, cap, below(10) ? &got : NULL);
        }
        note(st, "tl_kv_get");
        if (st == TL_OK) {
            CHECK(got <= cap);
        }
        break;
    case 28:
    case 29: {
        size_t vl;
        const void *v;
        in = a_buf(&len);
        v = a_buf(&vl);
        note(tl_kv_set(a_kv(), in, below(3) ? len % 40 : len, v, below(3) ? vl % 300 : vl), "tl_kv_set");
        break;
    }
    case 30:
        in = a_buf(&len);
        note(tl_kv_delete(a_kv(), in, len % 40, below(2) ? &flag : NULL), "tl_kv_delete");
        break;
    case 31:
        k = below(TL_KV_BATCH_MAX + 8);
        for (len = 0; len < k; len++) {
            pairs[len].key = a_buf(&pairs[len].key_len);
            pairs[len].value = a_buf(&pairs[len].value_len);
            pairs[len].key_len %= 40;
            pairs[len].value_len %= 200;
            if (!pairs[len].key) pairs[len].key_len = 0;
            if (!pairs[len].value) pairs[len].value_len = 0;
        }
        note(tl_kv_set_multiple(a_kv(), below(10) ? pairs : NULL, k), "tl_kv_set_multiple");
        break;
    case 32:
        note(tl_kv_high_water(a_kv(), below(8) ? &flag : NULL), "tl_kv_high_water");
        note(tl_kv_compact(a_kv()), "tl_kv_compact");
        break;
    default:
        note(tl_kv_sync(a_kv()), "tl_kv_sync");
        st = tl_kv_stats(a_kv(), below(8) ? &ks : NULL);
        note(st, "tl_kv_stats");
        if (st == TL_OK) {
            CHECK(ks.used_bytes <= ks.partition_size && ks.active_partition <= 1);
        }
        (void)tl_kv_last_device_error(a_kv());
        break;
    }
}

/* Now and then: damage, device errors, power cuts, re-entrant callbacks. */
static void weather(void) {
    flash_t *f = &flashes[below(2)];
    switch (below(60)) {
    case 0: /* bit flips */
        f->mem[below(f->capacity)] ^= (uint8_t)(1u << below(8));
        break;
    case 1: /* a whole sector of garbage */
        {
            uint32_t a = below(f->capacity / f->erase_size) * f->erase_size, i;
            for (i = 0; i < f->erase_size; i++) f->mem[a + i] = (uint8_t)rnd();
        }
        break;
    case 2:
        f->fail_next = (int)rnd() | 1;
        break;
    case 3:
        f->cut_at = f->ops + 1 + below(40);
        break;
    case 4:
    case 5:
        flash_power_on(f);
        break;
    case 6:
        f->hook = f->hook ? NULL : hook;
        break;
    case 7: /* the garbage objects change */
        {
            size_t i;
            for (i = 0; i < sizeof junk.bytes; i++) junk.bytes[i] = (uint8_t)rnd();
        }
        break;
    default:
        break;
    }
}

int main(int argc, char **argv) {
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000, i;
    size_t k;
    rng = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1;
    if (rng == 0) {
        rng = 1;
    }
    for (k = 0; k < sizeof big; k++) big[k] = (uint8_t)rnd();
    for (k = 0; k < sizeof junk.bytes; k++) junk.bytes[k] = (uint8_t)rnd();
    if (flash_init(&flashes[0], 8, 2048, 8 * 2048) || flash_init(&flashes[1], 1, 2048, 6 * 2048)) {
        return 2;
    }
    /* Start with formatted objects, so that valid calls reach the log too. */
    {
        tl_storage_t s0 = flash_storage(&flashes[0]), s1 = flash_storage(&flashes[1]);
        tl_log_config_t c;
        memset(&c, 0, sizeof c);
        c.segment_sectors = 2;
        OK(tl_log_format(&logs[0], &s0, NULL));
        OK(tl_log_format(&logs[1], &s1, &c));
        OK(tl_kv_format(&kvs[0], &s1, NULL));
        OK(tl_iter_init(&logs[0], &iters[0], 0));
    }
    for (i = 0; i < n; i++) {
        weather();
        one_call();
        /* Re-format now and then, so the run keeps reaching valid states. */
        if (i % 97 == 0) {
            tl_storage_t s0 = flash_storage(&flashes[0]), s1 = flash_storage(&flashes[1]);
            tl_log_config_t c;
            memset(&c, 0, sizeof c);
            c.segment_sectors = 2;
            flash_power_on(&flashes[0]);
            flash_power_on(&flashes[1]);
            flashes[0].hook = flashes[1].hook = NULL;
            memset(flashes[0].programmed, 0, flashes[0].capacity / flashes[0].write_size + 1);
            memset(flashes[1].programmed, 0, flashes[1].capacity / flashes[1].write_size + 1);
            note(tl_log_format(&logs[i % NLOG], i % 2 ? &s0 : &s1, i % 2 ? NULL : &c), "format");
            note(tl_kv_format(&kvs[i % NKV], &s0, NULL), "kv format");
        }
    }
    printf("test_random: %lu calls (%lu returned TL_OK), statuses seen:", calls, ok_calls);
    for (k = 0; k < 128; k++) {
        if (by_status[k]) {
            printf(" %u:%lu", (unsigned)k, by_status[k]);
        }
    }
    printf("\n");
    flash_free(&flashes[0]);
    flash_free(&flashes[1]);
    if (check_failures) {
        fprintf(stderr, "test_random: %d failed checks\n", check_failures);
        return 1;
    }
    CHECK(ok_calls > n / 20);
    return check_failures ? 1 : 0;
}
