/*
 * Example firmware: a sensor logger on NOR flash that loses power — for QEMU's mps2-an386
 * (Cortex-M4F), with semihosting for the console and the host file holding the flash.
 *
 * A RAM array is the NOR flash (write unit and sector size set on the command line): the
 * first part holds the log, the last sectors the KV. At boot the previous flash image is
 * loaded from a host file (blank flash the first time), the log and the KV are mounted
 * (formatted on a blank device), and the firmware checks what it finds; then it logs sensor
 * readings in atomic batches, uploads them through the consumer "uploader" (iterate, commit,
 * trim), keeps its counters in the KV — and at a pseudo-random program or erase the flash
 * callback cuts the power: that write is torn, every later flash call fails. The firmware
 * then "reboots" (forgets its RAM objects, mounts again, checks again, goes on). After the
 * last cycle it shuts down cleanly and writes the flash back to the host file, a normal
 * tidelog image (the log at address 0, the KV in the last sectors).
 *
 * The checks, at every boot (the exit code is non-zero on any violation):
 *   - every batch whose tl_log_append_batch returned TL_OK is there; the batch interrupted by
 *     the cut is entirely there or entirely absent; every record from the first offset to
 *     the next is intact and is the reading appended at that offset;
 *   - the uploader's committed offset is the last one committed, or the one being committed
 *     when the power went; no record it has not committed was trimmed;
 *   - the KV holds the counters of the last write that returned TL_OK, or of the interrupted
 *     one (set_multiple is atomic), consistent with the log;
 *   - after a clean shutdown (the previous QEMU run), the log ends where it ended then.
 *
 * Command line (semihosting): fw IMAGE [WRITE_SIZE ERASE_SIZE SECTORS [SEED [CYCLES]]]
 * Exit codes: 0 ok, 1 an invariant was violated, 2 bad arguments, 3 the image file does not
 * fit the flash, 4 the library returned an unexpected status, 70 a CPU fault.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidelog.h"

#define MAX_FLASH (256u * 1024u)
#define RECORD_LEN 16u
#define MAX_BATCH 6u
/* Not a multiple of the upload period: a few batches stay in the log, not uploaded, at
 * shutdown (what a host tool reading the image finds). */
#define BATCHES_PER_CYCLE 153u

/* ---- the flash: a RAM array with NOR semantics and a power switch ---- */

static uint8_t flash_mem[MAX_FLASH];
static uint32_t write_size = 8, erase_size = 4096, sectors = 16;
static unsigned long flash_ops;  /* programs + erases since power-on of the QEMU run */
static unsigned long cut_at;     /* cut the power at this op (0: never) */
static int powered = 1;
static unsigned long nor_violations;
static uint32_t rng = 1;

static uint32_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

/* A partition of the flash: the ctx of its tl_storage_t. */
typedef struct {
    uint32_t base;
} region_t;

static int flash_read(void *ctx, uint32_t addr, void *buf, uint32_t len) {
    const region_t *r = ctx;
    if (!powered) {
        return -1;
    }
    memcpy(buf, flash_mem + r->base + addr, len);
    return 0;
}

/* Counts a program or erase: returns 1 when the power goes now. */
static int cut_now(void) {
    flash_ops++;
    if (cut_at != 0 && flash_ops == cut_at) {
        powered = 0;
        return 1;
    }
    return 0;
}

static int flash_prog(void *ctx, uint32_t addr, const void *data, uint32_t len) {
    const region_t *r = ctx;
    uint8_t *p = flash_mem + r->base + addr;
    const uint8_t *d = data;
    uint32_t i, n = len;
    if (!powered) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (p[i] != 0xFF) {
            nor_violations++; /* NOR: only erased bytes are programmed (write-once units) */
            return -2;
        }
    }
    if (cut_now()) {
        n = rnd() % len; /* torn: a prefix reaches the flash */
    }
    for (i = 0; i < n; i++) {
        p[i] &= d[i];
    }
    return powered ? 0 : -1;
}

static int flash_erase(void *ctx, uint32_t addr) {
    const region_t *r = ctx;
    uint32_t n = erase_size;
    if (!powered) {
        return -1;
    }
    if (cut_now()) {
        n = rnd() % erase_size; /* a prefix of the sector is erased */
    }
    memset(flash_mem + r->base + addr, 0xFF, n);
    return powered ? 0 : -1;
}

/* ---- the application's state: the objects (statically allocated, no heap) ---- */

static tl_log_t log_obj;
static tl_kv_t kv_obj;
static tl_iter_t upload_iter;
static region_t log_region, kv_region;
static tl_storage_t log_dev, kv_dev;
static tl_log_config_t log_cfg;

/* ---- what the firmware knows must be on the flash (RAM that "survives" the simulated
 * reboots: the checker's memory, not the device's) ---- */

typedef struct {
    uint64_t uploaded, last_seq, boots;
} counters_t;

static struct {
    uint64_t next_acked, next_inflight;         /* the log's next offset */
    int has_commit;
    uint64_t commit_acked, commit_inflight;     /* the uploader's committed offset */
    counters_t kv_acked, kv_inflight;           /* the KV's counters */
    int known;                                  /* 0 at the first boot of a QEMU run */
    uint64_t first;                             /* the first offset found at boot */
} model;

static unsigned long violations, cycles_cut, records_appended, records_uploaded;

#define VIOLATION(...)                                                                   \
    do {                                                                                 \
        printf("VIOLATION: " __VA_ARGS__);                                               \
        printf("\n");                                                                    \
        violations++;                                                                    \
    } while (0)

static int power_lost(void) {
    return !powered;
}

static void fail_status(const char *what, tl_status_t st) {
    printf("%s: unexpected status %d (%s)\n", what, (int)st, tl_strerror(st));
    exit(4);
}

/* ---- records: a sensor reading, 16 bytes, little-endian ---- */

static int32_t reading(uint32_t seq) {
    return (int32_t)((seq * 2654435761u) >> 20) - 2048;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The reading appended at `offset`, in a batch of `count` starting at `first`. */
static void encode(uint8_t *p, uint32_t offset, uint32_t first, uint32_t count) {
    put32(p, offset);
    put32(p + 4, first);
    put32(p + 8, count | (offset % 4u) << 16); /* batch size, sensor id */
    put32(p + 12, (uint32_t)reading(offset));
}

/* ---- the KV counters ---- */

static void put64(uint8_t *p, uint64_t v) {
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p) {
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int kv_read_u64(const char *key, uint64_t *v) {
    uint8_t buf[8];
    size_t len = 0;
    tl_status_t st = tl_kv_get(&kv_obj, key, strlen(key), buf, sizeof buf, &len);
    if (st == TL_ERR_NOT_FOUND) {
        *v = 0;
        return 0;
    }
    if (st != TL_OK || len != 8) {
        fail_status("tl_kv_get", st);
    }
    *v = get64(buf);
    return 1;
}

/* Writes the three counters atomically. */
static tl_status_t kv_write_counters(const counters_t *c) {
    uint8_t v[3][8];
    tl_kv_pair_t pairs[3];
    put64(v[0], c->uploaded);
    put64(v[1], c->last_seq);
    put64(v[2], c->boots);
    pairs[0].key = "uploaded";
    pairs[0].key_len = 8;
    pairs[1].key = "last_seq";
    pairs[1].key_len = 8;
    pairs[2].key = "boots";
    pairs[2].key_len = 5;
    pairs[0].value = v[0];
    pairs[1].value = v[1];
    pairs[2].value = v[2];
    pairs[0].value_len = pairs[1].value_len = pairs[2].value_len = 8;
    return tl_kv_set_multiple(&kv_obj, pairs, 3);
}

/* ---- boot: mount and check ---- */

static void check_log(void) {
    tl_log_stats_t s;
    tl_status_t st;
    uint8_t rec[64];
    size_t len;
    uint64_t off, x, committed = 0;
    int has_commit;

    if ((st = tl_log_stats(&log_obj, &s)) != TL_OK) {
        fail_status("tl_log_stats", st);
    }
    if (model.known && s.next_offset != model.next_acked && s.next_offset != model.next_inflight) {
        VIOLATION("next offset %llu, expected %llu (acknowledged) or %llu (interrupted batch)",
                  (unsigned long long)s.next_offset, (unsigned long long)model.next_acked,
                  (unsigned long long)model.next_inflight);
    }
    /* The uploader. */
    st = tl_log_committed(&log_obj, "uploader", &committed);
    has_commit = st == TL_OK;
    if (st != TL_OK && st != TL_ERR_NO_SUCH_CONSUMER) {
        fail_status("tl_log_committed", st);
    }
    if (model.known && model.has_commit &&
        (!has_commit || (committed != model.commit_acked && committed != model.commit_inflight))) {
        VIOLATION("uploader committed %llu, expected %llu or %llu", (unsigned long long)committed,
                  (unsigned long long)model.commit_acked, (unsigned long long)model.commit_inflight);
    }
    if (s.first_offset > (has_commit ? committed : 0)) {
        VIOLATION("records below %llu were trimmed, the uploader committed only %llu",
                  (unsigned long long)s.first_offset, (unsigned long long)committed);
    }
    /* Every record from the first offset on: the reading appended there, batches whole. */
    if ((st = tl_iter_init(&log_obj, &upload_iter, s.first_offset)) != TL_OK) {
        fail_status("tl_iter_init", st);
    }
    for (x = s.first_offset; x < s.next_offset; x++) {
        uint8_t want[RECORD_LEN];
        uint32_t first, count;
        st = tl_iter_next(&log_obj, &upload_iter, rec, sizeof rec, &len, &off);
        if (st != TL_OK || off != x || len != RECORD_LEN) {
            VIOLATION("reading offset %llu: status %d (%s), len %u", (unsigned long long)x, (int)st,
                      tl_strerror(st), (unsigned)len);
            break;
        }
        first = get32(rec + 4);
        count = get32(rec + 8) & 0xFFFFu;
        encode(want, (uint32_t)x, first, count);
        if (memcmp(rec, want, RECORD_LEN) != 0 || first > x || x >= (uint64_t)first + count) {
            VIOLATION("record %llu is not the reading appended there", (unsigned long long)x);
            break;
        }
        if (x + 1 == s.next_offset && (uint64_t)first + count != s.next_offset) {
            VIOLATION("the last batch (offsets %lu..%lu) is torn: the log ends at %llu",
                      (unsigned long)first, (unsigned long)(first + count),
                      (unsigned long long)s.next_offset);
        }
    }
    if (x == s.next_offset && tl_iter_next(&log_obj, &upload_iter, rec, sizeof rec, &len, &off) != TL_END) {
        VIOLATION("records past the next offset");
    }
    /* Resolved: this is the state now. */
    model.first = s.first_offset;
    model.next_acked = model.next_inflight = s.next_offset;
    model.has_commit = has_commit;
    model.commit_acked = model.commit_inflight = committed;
}

static void check_kv(counters_t *found) {
    int present = kv_read_u64("uploaded", &found->uploaded);
    present &= kv_read_u64("last_seq", &found->last_seq);
    present &= kv_read_u64("boots", &found->boots);
    if (model.known && memcmp(found, &model.kv_acked, sizeof *found) != 0 &&
        memcmp(found, &model.kv_inflight, sizeof *found) != 0) {
        VIOLATION("KV counters (%llu, %llu, %llu) are neither the acknowledged nor the next",
                  (unsigned long long)found->uploaded, (unsigned long long)found->last_seq,
                  (unsigned long long)found->boots);
    }
    if (found->last_seq > model.next_acked) {
        VIOLATION("KV last_seq %llu is past the log's next offset %llu",
                  (unsigned long long)found->last_seq, (unsigned long long)model.next_acked);
    }
    if (found->uploaded > model.commit_acked) {
        VIOLATION("KV uploaded %llu is past the uploader's commit %llu",
                  (unsigned long long)found->uploaded, (unsigned long long)model.commit_acked);
    }
    (void)present;
    model.kv_acked = model.kv_inflight = *found;
}

/* Mounts both (formatting a blank device), checks them, counts the boot. */
static void boot(unsigned cycle, int first_boot_of_run, counters_t *kv) {
    tl_status_t st;
    uint64_t clean_next = 0;
    int formatted = 0;

    /* A reboot forgets everything in RAM: the objects are zero again (as .bss would be). */
    memset(&log_obj, 0, sizeof log_obj);
    memset(&kv_obj, 0, sizeof kv_obj);
    memset(&upload_iter, 0, sizeof upload_iter);
    powered = 1;
    cut_at = 0;

    st = tl_log_mount(&log_obj, &log_dev, &log_cfg);
    if (st == TL_ERR_NOT_FORMATTED && !model.known && first_boot_of_run) {
        st = tl_log_format(&log_obj, &log_dev, &log_cfg);
        formatted = 1;
    }
    if (st != TL_OK) {
        fail_status("tl_log_mount", st);
    }
    st = tl_kv_mount(&kv_obj, &kv_dev, NULL);
    if (st == TL_ERR_NOT_FORMATTED && formatted) {
        st = tl_kv_format(&kv_obj, &kv_dev, NULL);
    }
    if (st != TL_OK) {
        fail_status("tl_kv_mount", st);
    }
    check_log();
    check_kv(kv);
    if (first_boot_of_run && !formatted) {
        /* The previous run shut down cleanly: it wrote "shutdown" = its next offset. */
        if (!kv_read_u64("shutdown", &clean_next) || clean_next != model.next_acked) {
            VIOLATION("the log ends at %llu, the previous run shut down at %llu",
                      (unsigned long long)model.next_acked, (unsigned long long)clean_next);
        }
    }
    model.known = 1;
    printf("boot %u: %s; log offsets %llu..%llu, uploader at %llu; KV: %llu boots\n", cycle,
           formatted ? "blank flash, formatted" : "mounted", (unsigned long long)model.first,
           (unsigned long long)model.next_acked, (unsigned long long)model.commit_acked,
           (unsigned long long)kv->boots);
}

/* ---- the application: log, upload, keep counters ---- */

/* Delivers the readings after the uploader's position (checking each), commits, trims. */
static tl_status_t upload(counters_t *kv) {
    uint8_t rec[64];
    size_t len;
    uint64_t pos, off, n = 0;
    tl_status_t st;
    counters_t next;
    if ((st = tl_log_position(&log_obj, "uploader", &pos)) != TL_OK) {
        return st;
    }
    if ((st = tl_iter_init(&log_obj, &upload_iter, pos)) != TL_OK) {
        return st;
    }
    while ((st = tl_iter_next(&log_obj, &upload_iter, rec, sizeof rec, &len, &off)) == TL_OK) {
        if (len != RECORD_LEN || get32(rec) != (uint32_t)off || get32(rec + 12) != (uint32_t)reading((uint32_t)off)) {
            VIOLATION("uploading offset %llu: not the reading appended there", (unsigned long long)off);
        }
        n++; /* ... here a real firmware would send rec somewhere ... */
    }
    if (st != TL_END) {
        return st;
    }
    if ((st = tl_iter_offset(&upload_iter, &pos)) != TL_OK) {
        return st;
    }
    model.commit_inflight = pos;
    if ((st = tl_log_commit(&log_obj, "uploader", pos)) != TL_OK) {
        return st;
    }
    model.has_commit = 1;
    model.commit_acked = pos;
    records_uploaded += n;
    if ((st = tl_log_trim_front(&log_obj, pos)) != TL_OK) {
        return st;
    }
    next = *kv;
    next.uploaded = pos;
    next.last_seq = model.next_acked;
    model.kv_inflight = next;
    if ((st = kv_write_counters(&next)) != TL_OK) {
        return st;
    }
    *kv = model.kv_acked = next;
    return TL_OK;
}

/* One batch of readings: appended atomically. */
static tl_status_t log_batch(void) {
    static uint8_t recs[MAX_BATCH][RECORD_LEN];
    tl_buf_t bufs[MAX_BATCH];
    uint32_t k, n = 1 + rnd() % MAX_BATCH, first = (uint32_t)model.next_acked;
    uint64_t off = 0;
    tl_status_t st;
    for (k = 0; k < n; k++) {
        encode(recs[k], first + k, first, n);
        bufs[k].data = recs[k];
        bufs[k].len = RECORD_LEN;
    }
    model.next_inflight = model.next_acked + n;
    st = tl_log_append_batch(&log_obj, bufs, n, &off);
    if (st == TL_OK) {
        if (off != model.next_acked) {
            VIOLATION("batch appended at %llu, expected %llu", (unsigned long long)off,
                      (unsigned long long)model.next_acked);
        }
        model.next_acked = model.next_inflight;
        records_appended += n;
    } else {
        model.next_inflight = model.next_acked; /* nothing in flight unless the power went */
        if (power_lost()) {
            model.next_inflight = model.next_acked + n;
        }
    }
    return st;
}

/* Runs until the power goes (returns 1) or the cycle's work is done (0). */
static int work(counters_t *kv) {
    unsigned b;
    tl_status_t st;
    counters_t next = *kv;
    next.boots = kv->boots + 1;
    model.kv_inflight = next;
    if ((st = kv_write_counters(&next)) != TL_OK) {
        if (power_lost()) return 1;
        fail_status("kv_write_counters", st);
    }
    *kv = model.kv_acked = next;
    for (b = 0; b < BATCHES_PER_CYCLE; b++) {
        st = log_batch();
        if (st == TL_ERR_FULL) { /* the uploader is behind: deliver, then retry */
            st = upload(kv);
            if (st == TL_OK) {
                st = log_batch();
            }
        }
        if (st == TL_OK && b % 5 == 4) {
            st = upload(kv);
        }
        if (st == TL_OK && b % 7 == 6) {
            st = tl_log_sync(&log_obj);
            if (st == TL_OK) {
                st = tl_kv_sync(&kv_obj);
            }
        }
        if (st != TL_OK) {
            if (power_lost()) {
                return 1;
            }
            fail_status("work", st);
        }
    }
    return 0;
}

static void shutdown(counters_t *kv) {
    uint8_t v[8];
    tl_status_t st;
    counters_t next = *kv;
    next.last_seq = model.next_acked;
    if ((st = kv_write_counters(&next)) != TL_OK) {
        fail_status("shutdown", st);
    }
    put64(v, model.next_acked);
    if ((st = tl_kv_set(&kv_obj, "shutdown", 8, v, 8)) != TL_OK ||
        (st = tl_log_sync(&log_obj)) != TL_OK || (st = tl_kv_sync(&kv_obj)) != TL_OK) {
        fail_status("shutdown", st);
    }
}

/* ---- the stack: how deep the library goes (painted below main's frame) ---- */

#define STACK_PAINT (16u * 1024u)
static uint8_t *stack_low;

static void paint_stack(void) {
    volatile uint8_t *sp = (volatile uint8_t *)__builtin_frame_address(0);
    uint32_t i;
    stack_low = (uint8_t *)(sp - STACK_PAINT);
    for (i = 256; i <= STACK_PAINT; i++) {
        sp[-(long)i] = 0xA5;
    }
}

static unsigned long stack_used(void) {
    volatile uint8_t *p = stack_low;
    while (*p == 0xA5) {
        p++;
    }
    return (unsigned long)(stack_low + STACK_PAINT - (uint8_t *)p);
}

int main(int argc, char **argv) {
    const char *image = argc > 1 ? argv[1] : "flash.img";
    unsigned long seed = 1, cycles = 4, c;
    uint32_t capacity, kv_sectors, log_sectors;
    FILE *fp;
    counters_t kv;
    int first = 1;

    paint_stack();
    if (argc > 4) {
        write_size = (uint32_t)strtoul(argv[2], NULL, 0);
        erase_size = (uint32_t)strtoul(argv[3], NULL, 0);
        sectors = (uint32_t)strtoul(argv[4], NULL, 0);
    }
    if (argc > 5) {
        seed = strtoul(argv[5], NULL, 0);
    }
    if (argc > 6) {
        cycles = strtoul(argv[6], NULL, 0);
    }
    capacity = erase_size * sectors;
    kv_sectors = sectors / 4 < 2 ? 2 : sectors / 4;
    log_sectors = sectors - kv_sectors;
    if (erase_size == 0 || capacity > MAX_FLASH || capacity / erase_size != sectors || cycles == 0) {
        printf("usage: fw IMAGE [WRITE_SIZE ERASE_SIZE SECTORS [SEED [CYCLES]]] (flash <= %u B)\n",
               MAX_FLASH);
        return 2;
    }
    printf("tidelog %d.%d.%d (format %d) on a Cortex-M4: flash %lu x %lu B, write unit %lu B; "
           "log %lu sectors, KV %lu; sizeof tl_log_t %u, tl_kv_t %u, tl_iter_t %u\n",
           TL_VERSION_MAJOR, TL_VERSION_MINOR, TL_VERSION_PATCH, TL_FORMAT_VERSION,
           (unsigned long)sectors, (unsigned long)erase_size, (unsigned long)write_size,
           (unsigned long)log_sectors, (unsigned long)kv_sectors, (unsigned)sizeof(tl_log_t),
           (unsigned)sizeof(tl_kv_t), (unsigned)sizeof(tl_iter_t));
    if (tl_version() != TL_VERSION_NUMBER) {
        printf("library %lu does not match the header %d\n", (unsigned long)tl_version(), TL_VERSION_NUMBER);
        return 4;
    }

    /* The previous image, or blank flash. */
    memset(flash_mem, 0xFF, capacity);
    fp = fopen(image, "rb");
    if (fp) {
        size_t n = fread(flash_mem, 1, capacity, fp);
        int extra = fgetc(fp) != EOF;
        fclose(fp);
        if (n != capacity || extra) {
            printf("%s: %lu bytes, expected %lu (another geometry?)\n", image, (unsigned long)n,
                   (unsigned long)capacity);
            return 3;
        }
        printf("loaded %s (%lu bytes)\n", image, (unsigned long)n);
    } else {
        printf("%s: not found, starting with blank flash\n", image);
    }

    log_region.base = 0;
    kv_region.base = log_sectors * erase_size;
    memset(&log_dev, 0, sizeof log_dev);
    log_dev.ctx = &log_region;
    log_dev.read_size = 1;
    log_dev.write_size = write_size;
    log_dev.erase_size = erase_size;
    log_dev.capacity = log_sectors * erase_size;
    log_dev.read = flash_read;
    log_dev.prog = flash_prog;
    log_dev.erase = flash_erase;
    log_dev.sync = NULL; /* raw NOR: a program is durable when it returns */
    kv_dev = log_dev;
    kv_dev.ctx = &kv_region;
    kv_dev.capacity = kv_sectors * erase_size;
    memset(&log_cfg, 0, sizeof log_cfg);
    log_cfg.segment_sectors = erase_size >= 2048 ? 1 : 2048 / erase_size;
    log_cfg.full_policy = TL_FULL_REJECT;

    for (c = 0; c < cycles; c++) {
        int last = c + 1 == cycles, cut;
        boot((unsigned)c, first, &kv);
        if (first) {
            /* Each QEMU run cuts at other places: the seed and the boot count. */
            rng = (uint32_t)(seed * 2654435761u + kv.boots * 40503u + 1u);
            first = 0;
        }
        if (!last) {
            cut_at = flash_ops + 1 + rnd() % 400;
        }
        cut = work(&kv);
        if (cut) {
            cycles_cut++;
            printf("  power cut at flash operation %lu (next offset %llu, a batch of %llu in flight)\n",
                   cut_at, (unsigned long long)model.next_acked,
                   (unsigned long long)(model.next_inflight - model.next_acked));
        } else if (!last) {
            printf("  no cut this cycle (%lu records so far)\n", records_appended);
        }
    }
    cut_at = 0;
    shutdown(&kv);

    fp = fopen(image, "wb");
    if (!fp || fwrite(flash_mem, 1, capacity, fp) != capacity || fclose(fp) != 0) {
        printf("%s: cannot write the image\n", image);
        return 3;
    }
    {
        tl_log_stats_t s;
        if (tl_log_stats(&log_obj, &s) == TL_OK) {
            printf("shutdown: log offsets %llu..%llu (%llu not uploaded)\n",
                   (unsigned long long)s.first_offset, (unsigned long long)s.next_offset,
                   (unsigned long long)(s.next_offset - model.commit_acked));
        }
    }
    printf("saved %s; %lu cycles (%lu cut), %lu readings appended, %lu uploaded (at least once); "
           "stack high-water below main (library and printf): %lu B; NOR rule violations %lu\n",
           image, cycles, cycles_cut, records_appended, records_uploaded, stack_used(), nor_violations);
    if (violations || nor_violations) {
        printf("FAILED: %lu violations\n", violations + nor_violations);
        return 1;
    }
    printf("ok\n");
    return 0;
}
