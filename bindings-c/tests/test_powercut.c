/*
 * Power cuts, from C, against the static library: a workload (appends, batches, consumer
 * commits, trims, truncations, syncs; for the KV sets, deletes, atomic batches, compactions)
 * runs on the RAM flash of flash.c with the power cut at its N-th program or erase — that
 * operation torn — for EVERY N the workload reaches. After each cut the device "reboots":
 * mount must succeed and the log must be the one after the last operation that returned
 * TL_OK, or after the interrupted one — every record that was acknowledged is there, byte for
 * byte, in order, no batch is half there, the consumer's committed offset is one of the two.
 * Then the log must take new records (a second cut, during the first writes after recovery,
 * is checked the same way), and the NOR rules (no unit programmed twice between erases)
 * must hold throughout.
 *
 * Usage: test_powercut [STEP]   runs every STEP-th cut point (default 1: all of them)
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

#define MAXREC 4096
#define OPS 400
#define NAME "up"

static uint32_t rng;
static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void fill(uint8_t *buf, size_t len, uint32_t id) {
    size_t i;
    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t)(id * 131u + i * 17u + (id >> 8));
    }
}

/* ---------------------------------------------------------------------------------------
 * The log */

typedef struct {
    uint32_t id;
    uint16_t len;
} rec_t;

/* What the log holds after an operation: the records are rec[0..next) of the one array
 * (an append in flight writes past `next`, a truncation leaves them in place). */
typedef struct {
    uint64_t next, trim, committed;
    int has_commit;
} lstate_t;

typedef struct {
    const char *name;
    uint32_t ws, es, sectors, segment_sectors, policy;
} geometry_t;

static rec_t recs[MAXREC];
static uint32_t next_id;
/* What the runs went through (printed per geometry: the workload must reach these). */
static unsigned long n_full, n_truncated, n_front_moved, n_inflight_kept, n_inflight_lost;
static unsigned long n_kv_kept, n_kv_lost, n_kv_generation;

/* The outcome of a run: the state acknowledged last, and the one the interrupted operation
 * would have made (equal to it when nothing was in flight). */
typedef struct {
    lstate_t acked, inflight;
    int cut; /* the power went during the run */
} outcome_t;

static int power_lost(tl_log_t *log, tl_status_t st) {
    return st == TL_ERR_STORAGE_DEVICE && tl_log_last_device_error(log) == FLASH_ERR_POWER;
}

/* Runs `ops` operations of the workload on a mounted log, from state `s`; stops at the first
 * power loss. Returns the outcome. */
static outcome_t run_log_ops(tl_log_t *log, lstate_t s, int ops) {
    outcome_t o;
    uint8_t buf[64 * 6];
    int i;
    o.cut = 0;
    for (i = 0; i < ops; i++) {
        lstate_t after = s;
        uint32_t r = rnd() % 100;
        tl_status_t st;
        tl_log_stats_t stats;
        uint64_t off = 0;
        if (tl_log_stats(log, &stats) != TL_OK) {
            CHECK(0);
            break;
        }
        if (r < 50 || r < 75) {
            tl_buf_t b[6];
            unsigned k, n = r < 50 ? 1 : 2 + rnd() % 5;
            size_t at = 0;
            if (s.next + n >= MAXREC) {
                break;
            }
            for (k = 0; k < n; k++) {
                rec_t *rc = &recs[s.next + k];
                rc->id = next_id++;
                rc->len = (uint16_t)(rnd() % (n == 1 ? 60 : 30));
                fill(buf + at, rc->len, rc->id);
                b[k].data = buf + at;
                b[k].len = rc->len;
                at += rc->len;
            }
            after.next = s.next + n;
            st = n == 1 ? tl_log_append(log, b[0].data, b[0].len, &off)
                        : tl_log_append_batch(log, b, n, &off);
            if (st == TL_OK) {
                CHECK(off == s.next);
            } else if (st == TL_ERR_FULL) {
                /* Reject: deliver everything, then trim it (two more operations). */
                n_full++;
                after = s;
                after.committed = s.next;
                after.has_commit = 1;
                st = tl_log_commit(log, NAME, s.next);
                if (st == TL_OK) {
                    s = after;
                    after.trim = s.next;
                    st = tl_log_trim_front(log, s.next);
                }
                if (st == TL_ERR_FULL) {
                    st = TL_OK; /* only the spare left: nothing changed */
                    after = s;
                }
            }
        } else if (r < 85) {
            uint64_t base = s.has_commit ? s.committed : 0;
            if (base < stats.first_offset) {
                base = stats.first_offset;
            }
            after.committed = base + rnd() % (s.next - base + 1);
            after.has_commit = 1;
            st = tl_log_commit(log, NAME, after.committed);
            if (st == TL_ERR_FULL || st == TL_ERR_INVALID_ARGUMENT) {
                st = TL_OK;
                after = s;
            }
        } else if (r < 92) {
            uint64_t upto = s.has_commit ? s.committed : s.next;
            after.trim = upto > s.trim ? upto : s.trim;
            st = tl_log_trim_front(log, upto);
            if (st == TL_ERR_FULL) {
                st = TL_OK;
                after = s;
            }
        } else if (r < 96) {
            st = tl_log_sync(log);
        } else {
            uint64_t len = s.next - rnd() % 3;
            if (len < stats.first_offset || len > s.next) {
                len = s.next;
            }
            after.next = len;
            if (s.committed > len) {
                after.committed = len;
            }
            st = tl_log_truncate_back(log, len);
            if (st == TL_ERR_FULL) {
                st = TL_OK;
                after = s;
            } else if (st == TL_OK && len < s.next) {
                n_truncated++;
            }
        }
        if (st == TL_OK) {
            s = after;
            continue;
        }
        if (power_lost(log, st)) {
            o.acked = s;
            o.inflight = after;
            o.cut = 1;
            return o;
        }
        fprintf(stderr, "workload op %d (r=%u) failed: %d (%s)\n", i, (unsigned)r, (int)st,
                tl_strerror(st));
        check_failures++;
        break;
    }
    o.acked = s;
    o.inflight = s;
    return o;
}

/* Checks a mounted log against an outcome; returns the state it found. */
static lstate_t verify_log(tl_log_t *log, const outcome_t *o, uint32_t policy, const char *where) {
    static tl_iter_t it;
    tl_log_stats_t s;
    lstate_t found, a = o->acked, b = o->inflight;
    uint8_t buf[512], want[512];
    uint64_t off, x, hi_first;
    size_t len;
    tl_status_t st;
    int failures = check_failures;

    memset(&found, 0, sizeof found);
    OK(tl_log_stats(log, &s));
    found.next = s.next_offset;
    /* I2 + I3: every acknowledged record is there; an interrupted batch is all or nothing. */
    if (s.next_offset != a.next && s.next_offset != b.next) {
        fprintf(stderr, "%s: next offset %llu, expected %llu or %llu\n", where,
                (unsigned long long)s.next_offset, (unsigned long long)a.next,
                (unsigned long long)b.next);
        check_failures++;
    }
    /* The front moves only by trims and (Reject) consumed segments; a ring drops any. */
    hi_first = a.trim > b.trim ? a.trim : b.trim;
    if (a.has_commit && a.committed > hi_first) hi_first = a.committed;
    if (b.has_commit && b.committed > hi_first) hi_first = b.committed;
    CHECK(s.first_offset >= (a.trim < b.trim ? a.trim : b.trim) || s.first_offset == s.next_offset);
    if (policy == TL_FULL_REJECT) {
        CHECK(s.first_offset <= hi_first);
    }
    CHECK(s.first_offset <= s.next_offset);
    n_front_moved += s.first_offset > 0;
    if (a.next != b.next) {
        n_inflight_kept += s.next_offset == b.next;
        n_inflight_lost += s.next_offset == a.next;
    }
    /* I1 + I4: the records from first to next are the appended ones, in order, intact. */
    OK(tl_iter_init(log, &it, s.first_offset));
    for (x = s.first_offset; x < s.next_offset; x++) {
        st = tl_iter_next(log, &it, buf, sizeof buf, &len, &off);
        if (st != TL_OK || off != x) {
            fprintf(stderr, "%s: iterating at %llu: %d (%s)\n", where, (unsigned long long)x,
                    (int)st, tl_strerror(st));
            check_failures++;
            break;
        }
        fill(want, recs[x].len, recs[x].id);
        if (len != recs[x].len || memcmp(buf, want, len) != 0) {
            fprintf(stderr, "%s: record %llu differs (len %u, want %u)\n", where,
                    (unsigned long long)x, (unsigned)len, (unsigned)recs[x].len);
            check_failures++;
            break;
        }
    }
    EXPECT(tl_iter_next(log, &it, buf, sizeof buf, &len, &off), TL_END);
    OK(tl_iter_done(&it));
    if (s.next_offset > s.first_offset) { /* and by offset */
        x = s.first_offset + rnd() % (s.next_offset - s.first_offset);
        OK(tl_log_read(log, x, buf, sizeof buf, &len));
        CHECK(len == recs[x].len);
    }
    /* I8: the committed offset is one of the two. */
    st = tl_log_committed(log, NAME, &off);
    if (st == TL_ERR_NO_SUCH_CONSUMER) {
        CHECK(!a.has_commit || !b.has_commit);
        found.has_commit = 0;
    } else {
        EXPECT(st, TL_OK);
        CHECK((a.has_commit && off == a.committed) || (b.has_commit && off == b.committed));
        found.has_commit = 1;
        found.committed = off;
    }
    /* The trim point in force: the larger candidate that the first offset has reached. */
    found.trim = a.trim;
    if (b.trim <= s.first_offset && b.trim > found.trim) {
        found.trim = b.trim;
    }
    if (check_failures != failures) {
        fprintf(stderr, "%s: after the cut (acked next %llu, in flight next %llu)\n", where,
                (unsigned long long)a.next, (unsigned long long)b.next);
    }
    return found;
}

/* One run: format, the workload with the power cut at program/erase `cut`, reboot, check,
 * continue with a second cut, reboot, check. Returns the number of flash operations the
 * first phase took (to find how many cut points there are). */
static unsigned long log_run(const geometry_t *g, unsigned long cut, uint32_t seed) {
    static tl_log_t log;
    flash_t f;
    tl_storage_t st;
    tl_log_config_t cfg;
    lstate_t zero;
    outcome_t o;
    unsigned long ops;
    char where[96];
    tl_status_t r;

    rng = seed;
    next_id = 1;
    memset(&zero, 0, sizeof zero);
    memset(&cfg, 0, sizeof cfg);
    cfg.segment_sectors = g->segment_sectors;
    cfg.full_policy = g->policy;
    cfg.max_record_size = 250;
    if (flash_init(&f, g->ws, g->es, g->es * g->sectors) != 0) {
        CHECK(0);
        return 0;
    }
    f.rng = seed ^ 0xA5A5A5A5u;
    st = flash_storage(&f);
    f.cut_at = cut;
    r = tl_log_format(&log, &st, &cfg);
    if (r != TL_OK) {
        /* Cut during format: whatever it left, mount finds no log or an empty one. */
        CHECK(power_lost(&log, r) || r == TL_ERR_STORAGE_DEVICE);
        flash_power_on(&f);
        r = tl_log_mount(&log, &st, &cfg);
        if (r == TL_OK) {
            o.acked = o.inflight = zero;
            o.cut = 1;
            verify_log(&log, &o, g->policy, "cut in format");
        } else {
            CHECK(r == TL_ERR_NOT_FORMATTED || r == TL_ERR_CORRUPT);
        }
        ops = f.ops;
        CHECK(f.violations == 0);
        flash_free(&f);
        return ops;
    }
    o = run_log_ops(&log, zero, OPS);
    ops = f.ops;
    /* Reboot. */
    flash_power_on(&f);
    sprintf(where, "%s cut %lu", g->name, cut);
    OK(tl_log_mount(&log, &st, &cfg));
    zero = verify_log(&log, &o, g->policy, where);
    /* I6: the log goes on after recovery; cut again among its first writes. */
    flash_clear_counters(&f);
    f.cut_at = 1 + cut % 23;
    o = run_log_ops(&log, zero, 12);
    flash_power_on(&f);
    sprintf(where, "%s cut %lu, then %lu", g->name, cut, 1 + cut % 23);
    OK(tl_log_mount(&log, &st, &cfg));
    zero = verify_log(&log, &o, g->policy, where);
    /* And it still takes records. */
    o = run_log_ops(&log, zero, 8);
    CHECK(!o.cut);
    OK(tl_log_mount(&log, &st, &cfg));
    verify_log(&log, &o, g->policy, where);
    CHECK(f.violations == 0);
    flash_free(&f);
    return ops;
}

/* ---------------------------------------------------------------------------------------
 * The KV */

#define KEYS 10
typedef struct {
    uint32_t id[KEYS]; /* 0: absent */
    uint16_t len[KEYS];
} kstate_t;

static int kv_power_lost(tl_kv_t *kv, tl_status_t st) {
    return st == TL_ERR_STORAGE_DEVICE && tl_kv_last_device_error(kv) == FLASH_ERR_POWER;
}

static void key_of(unsigned k, char *out) {
    sprintf(out, "key.%u", k);
}

typedef struct {
    kstate_t acked, inflight;
    int cut;
} koutcome_t;

static koutcome_t run_kv_ops(tl_kv_t *kv, kstate_t s, int ops) {
    koutcome_t o;
    static uint8_t vals[5][64];
    static char keys[5][16];
    int i;
    o.cut = 0;
    for (i = 0; i < ops; i++) {
        kstate_t after = s;
        uint32_t r = rnd() % 100;
        tl_status_t st;
        if (r < 45) {
            unsigned k = rnd() % KEYS;
            after.id[k] = next_id++;
            after.len[k] = (uint16_t)(rnd() % 40);
            key_of(k, keys[0]);
            fill(vals[0], after.len[k], after.id[k]);
            st = tl_kv_set(kv, keys[0], strlen(keys[0]), vals[0], after.len[k]);
        } else if (r < 60) {
            unsigned k = rnd() % KEYS;
            bool existed = false;
            after.id[k] = 0;
            key_of(k, keys[0]);
            st = tl_kv_delete(kv, keys[0], strlen(keys[0]), &existed);
            if (st == TL_OK) {
                CHECK(existed == (s.id[k] != 0));
            }
        } else if (r < 92) {
            tl_kv_pair_t p[5];
            unsigned j, n = 2 + rnd() % 4;
            for (j = 0; j < n; j++) {
                unsigned k = rnd() % KEYS;
                after.id[k] = next_id++;
                after.len[k] = (uint16_t)(rnd() % 40);
                key_of(k, keys[j]);
                fill(vals[j], after.len[k], after.id[k]);
                p[j].key = keys[j];
                p[j].key_len = strlen(keys[j]);
                p[j].value = vals[j];
                p[j].value_len = after.len[k];
            }
            st = tl_kv_set_multiple(kv, p, n);
        } else if (r < 96) {
            st = tl_kv_compact(kv);
        } else {
            st = tl_kv_sync(kv);
        }
        if (st == TL_OK) {
            s = after;
            continue;
        }
        if (kv_power_lost(kv, st)) {
            o.acked = s;
            o.inflight = after;
            o.cut = 1;
            return o;
        }
        fprintf(stderr, "kv workload op %d failed: %d (%s)\n", i, (int)st, tl_strerror(st));
        check_failures++;
        break;
    }
    o.acked = o.inflight = s;
    return o;
}

/* Checks a mounted KV: its map is exactly the acknowledged one or the one after the
 * interrupted write (a batch entirely or not at all). Returns the map found. */
static kstate_t verify_kv(tl_kv_t *kv, const koutcome_t *o, const char *where) {
    const kstate_t *cand[2];
    kstate_t found;
    int c, ok_any = 0;
    unsigned k;
    cand[0] = &o->acked;
    cand[1] = &o->inflight;
    for (c = 0; c < 2 && !ok_any; c++) {
        int ok = 1;
        for (k = 0; k < KEYS && ok; k++) {
            char key[16];
            uint8_t buf[64], want[64];
            size_t len = 0;
            tl_status_t st;
            key_of(k, key);
            st = tl_kv_get(kv, key, strlen(key), buf, sizeof buf, &len);
            if (cand[c]->id[k] == 0) {
                ok = st == TL_ERR_NOT_FOUND;
            } else {
                fill(want, cand[c]->len[k], cand[c]->id[k]);
                ok = st == TL_OK && len == cand[c]->len[k] && memcmp(buf, want, len) == 0;
            }
        }
        if (ok) {
            ok_any = 1;
            found = *cand[c];
        }
    }
    if (ok_any && memcmp(&o->acked, &o->inflight, sizeof o->acked) != 0) {
        n_kv_kept += c == 2;
        n_kv_lost += c == 1;
    }
    {
        tl_kv_stats_t ks;
        OK(tl_kv_stats(kv, &ks));
        if (ks.generation > n_kv_generation) {
            n_kv_generation = (unsigned long)ks.generation;
        }
    }
    if (!ok_any) {
        fprintf(stderr, "%s: the KV map is neither the acknowledged one nor the next\n", where);
        check_failures++;
        found = o->acked;
    }
    return found;
}

static unsigned long kv_run(uint32_t ws, uint32_t es, unsigned long cut, uint32_t seed) {
    static tl_kv_t kv;
    flash_t f;
    tl_storage_t st;
    tl_kv_config_t cfg;
    kstate_t zero;
    koutcome_t o;
    unsigned long ops;
    char where[96];
    tl_status_t r;

    rng = seed;
    next_id = 1;
    memset(&zero, 0, sizeof zero);
    memset(&cfg, 0, sizeof cfg);
    cfg.max_key_len = 16;
    cfg.max_value_len = 64;
    if (flash_init(&f, ws, es, es * 4 < 2048 ? 2048 : es * 4) != 0) {
        CHECK(0);
        return 0;
    }
    f.rng = seed ^ 0x5A5A5A5Au;
    st = flash_storage(&f);
    f.cut_at = cut;
    sprintf(where, "kv ws %u es %u cut %lu", (unsigned)ws, (unsigned)es, cut);
    r = tl_kv_format(&kv, &st, &cfg);
    if (r != TL_OK) {
        CHECK(kv_power_lost(&kv, r) || r == TL_ERR_STORAGE_DEVICE);
        flash_power_on(&f);
        r = tl_kv_mount(&kv, &st, &cfg);
        if (r == TL_OK) {
            o.acked = o.inflight = zero;
            verify_kv(&kv, &o, where);
        } else {
            CHECK(r == TL_ERR_NOT_FORMATTED);
        }
        ops = f.ops;
        flash_free(&f);
        return ops;
    }
    o = run_kv_ops(&kv, zero, 150);
    ops = f.ops;
    flash_power_on(&f);
    OK(tl_kv_mount(&kv, &st, &cfg));
    zero = verify_kv(&kv, &o, where);
    flash_clear_counters(&f);
    f.cut_at = 1 + cut % 17;
    o = run_kv_ops(&kv, zero, 10);
    flash_power_on(&f);
    OK(tl_kv_mount(&kv, &st, &cfg));
    zero = verify_kv(&kv, &o, where);
    o = run_kv_ops(&kv, zero, 6);
    CHECK(!o.cut);
    OK(tl_kv_mount(&kv, &st, &cfg));
    verify_kv(&kv, &o, where);
    CHECK(f.violations == 0);
    flash_free(&f);
    return ops;
}

int main(int argc, char **argv) {
    static const geometry_t geos[] = {
        {"ws 1 es 256 x8 reject", 1, 256, 32, 8, TL_FULL_REJECT},
        {"ws 1 es 256 x8 ring", 1, 256, 32, 8, TL_FULL_OVERWRITE_OLDEST},
        {"ws 8 es 2048 reject", 8, 2048, 4, 1, TL_FULL_REJECT},
        {"ws 8 es 2048 ring", 8, 2048, 4, 1, TL_FULL_OVERWRITE_OLDEST},
        {"ws 32 es 2048 ecc reject", 32, 2048, 4, 1, TL_FULL_REJECT},
        {"ws 32 es 2048 ecc ring", 32, 2048, 4, 1, TL_FULL_OVERWRITE_OLDEST},
    };
    static const uint32_t kvgeo[][2] = {{1, 256}, {8, 512}, {32, 1024}};
    unsigned long step = argc > 1 ? strtoul(argv[1], NULL, 10) : 1, n, total, points = 0;
    size_t g;
    if (step == 0) {
        step = 1;
    }
    for (g = 0; g < sizeof geos / sizeof geos[0]; g++) {
        uint32_t seed = 0x1234567u + (uint32_t)g * 7919u;
        n_full = n_truncated = n_front_moved = n_inflight_kept = n_inflight_lost = 0;
        total = log_run(&geos[g], 0, seed); /* no cut: how many operations there are */
        for (n = 1; n <= total + 1; n += step) {
            log_run(&geos[g], n, seed);
            points++;
        }
        printf("  log %-26s %4lu cut points; interrupted append/truncation kept %lu, lost %lu; "
               "full %lu, truncated %lu, front moved %lu\n",
               geos[g].name, (total + step) / step, n_inflight_kept, n_inflight_lost, n_full,
               n_truncated, n_front_moved);
        CHECK(n_inflight_kept > 0 && n_inflight_lost > 0 && n_truncated > 0 && n_front_moved > 0);
        CHECK(geos[g].policy != TL_FULL_REJECT || n_full > 0);
    }
    for (g = 0; g < sizeof kvgeo / sizeof kvgeo[0]; g++) {
        uint32_t seed = 0x7654321u + (uint32_t)g * 104729u;
        n_kv_kept = n_kv_lost = n_kv_generation = 0;
        total = kv_run(kvgeo[g][0], kvgeo[g][1], 0, seed);
        for (n = 1; n <= total + 1; n += step) {
            kv_run(kvgeo[g][0], kvgeo[g][1], n, seed);
            points++;
        }
        printf("  kv  ws %-2u es %-4u                %4lu cut points; interrupted write kept %lu, "
               "lost %lu; generations up to %lu (compactions)\n",
               (unsigned)kvgeo[g][0], (unsigned)kvgeo[g][1], (total + step) / step, n_kv_kept,
               n_kv_lost, n_kv_generation);
        CHECK(n_kv_kept > 0 && n_kv_lost > 0 && n_kv_generation > 2);
    }
    if (check_failures) {
        fprintf(stderr, "test_powercut: %d failed checks\n", check_failures);
        return 1;
    }
    printf("test_powercut: ok, %lu power cuts, each followed by a second cut after recovery\n",
           points);
    return 0;
}
