/*
 * The conformance scenarios (tests/conformance/README.md) through the C library: runs each
 * script on the RAM flash of flash.c (the log and the KV each on a device of their own), checks
 * every result and the final contents against the scenario's .expect file — including the
 * length and CRC-32C of the final images, so the C library must write the same bytes as the
 * Rust runner — and writes the images to OUT_DIR as NAME.log.bin / NAME.kv.bin, where the
 * Rust conformance tool can compare them byte for byte and read them back:
 *
 *   cargo run -p tidelog --features std --example conformance -- compare RUST_OUT OUT_DIR
 *   cargo run -p tidelog --features std --example conformance -- check OUT_DIR
 *
 * Usage: conformance SCENARIO_DIR OUT_DIR NAME...   (NAME: a scenario, without .tls)
 *
 * With TIDELOG_CONFORMANCE_READ=DIR, each scenario's images are then replaced by another
 * runner's (DIR/NAME.log.bin, DIR/NAME.kv.bin), mounted, and checked against the same .expect
 * (contents, consumers, KV entries, image length and CRC-32C): the C library reads what
 * another language wrote (scripts/test-conformance.sh).
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

#define MAX_FIELDS 64
#define MAX_NAMES 64

/* The core's error code names (ErrorCode::name), as the .expect files write them. */
static const struct {
    tl_status_t st;
    const char *name;
} code_names[] = {
    {TL_ERR_FULL, "FULL"},
    {TL_ERR_CORRUPT, "CORRUPT"},
    {TL_ERR_OUT_OF_RANGE, "OUT_OF_RANGE"},
    {TL_ERR_OVERWRITTEN, "OVERWRITTEN"},
    {TL_ERR_TOO_LARGE, "TOO_LARGE"},
    {TL_ERR_BUFFER_TOO_SMALL, "BUFFER_TOO_SMALL"},
    {TL_ERR_UNSUPPORTED_VERSION, "UNSUPPORTED_VERSION"},
    {TL_ERR_NOT_FORMATTED, "NOT_FORMATTED"},
    {TL_ERR_GEOMETRY_MISMATCH, "GEOMETRY_MISMATCH"},
    {TL_ERR_INVALID_CONFIG, "INVALID_CONFIG"},
    {TL_ERR_INVALID_ARGUMENT, "INVALID_ARGUMENT"},
    {TL_ERR_INVALID_NAME, "INVALID_NAME"},
    {TL_ERR_NO_SUCH_CONSUMER, "NO_SUCH_CONSUMER"},
    {TL_ERR_TOO_MANY_CONSUMERS, "TOO_MANY_CONSUMERS"},
    {TL_ERR_LOCKED, "LOCKED"},
    {TL_ERR_NEEDS_REMOUNT, "NEEDS_REMOUNT"},
    {TL_ERR_NOT_FOUND, "NOT_FOUND"},
    {TL_ERR_ALREADY_EXISTS, "ALREADY_EXISTS"},
    {TL_ERR_CLOSED, "CLOSED"},
    {TL_ERR_STORAGE_OUT_OF_BOUNDS, "STORAGE_OUT_OF_BOUNDS"},
    {TL_ERR_STORAGE_NOT_ALIGNED, "STORAGE_NOT_ALIGNED"},
    {TL_ERR_STORAGE_WRITE_TWICE, "STORAGE_WRITE_TWICE"},
    {TL_ERR_STORAGE_POWER_LOSS, "STORAGE_POWER_LOSS"},
    {TL_ERR_STORAGE_DEVICE, "STORAGE_DEVICE"},
    {TL_ERR_STORAGE_READ_ONLY, "STORAGE_READ_ONLY"},
};

static const char *code_name(tl_status_t st) {
    size_t i;
    for (i = 0; i < sizeof code_names / sizeof code_names[0]; i++) {
        if (code_names[i].st == st) {
            return code_names[i].name;
        }
    }
    return "(not a core code)";
}

/* ---- text: whole files, lines, fields, hex ---- */

static char *read_text(const char *path) {
    FILE *fp = fopen(path, "rb");
    char *text;
    long n;
    size_t got;
    if (!fp) {
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    text = malloc((size_t)(n > 0 ? n : 0) + 1);
    if (!text) {
        fclose(fp);
        return NULL;
    }
    got = fread(text, 1, (size_t)(n > 0 ? n : 0), fp);
    text[got] = 0;
    fclose(fp);
    return text;
}

/* Cuts the next line off `*p` (in place); NULL at the end. */
static char *next_line(char **p) {
    char *line = *p, *nl;
    if (!line || !*line) {
        return NULL;
    }
    nl = strchr(line, '\n');
    if (nl) {
        *nl = 0;
        *p = nl + 1;
    } else {
        *p = line + strlen(line);
    }
    return line;
}

/* Splits a line at single spaces (in place). */
static int fields(char *line, char **f) {
    int n = 0;
    while (*line && n < MAX_FIELDS) {
        f[n++] = line;
        line = strchr(line, ' ');
        if (!line) {
            break;
        }
        *line++ = 0;
    }
    return n;
}

static uint64_t num(const char *s) {
    return strtoull(s, NULL, 10);
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes a hex field (`-` is empty) into a new buffer; its length in *len. */
static uint8_t *unhex(const char *s, size_t *len) {
    size_t n = strcmp(s, "-") == 0 ? 0 : strlen(s) / 2, i;
    uint8_t *out = malloc(n + 1);
    for (i = 0; out && i < n; i++) {
        out[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
    }
    *len = n;
    return out;
}

/* The script format's fill function: byte i of seed s is (s * 31 + i * 7 + i / 256) mod 256. */
static uint8_t *fill(size_t len, uint64_t seed) {
    uint8_t *out = malloc(len + 1);
    size_t i;
    for (i = 0; out && i < len; i++) {
        out[i] = (uint8_t)((seed * 31u + (uint64_t)i * 7u + ((uint64_t)i >> 8)) % 256u);
    }
    return out;
}

/* ---- one scenario ---- */

typedef struct {
    int done;          /* the line was an operation with a result */
    tl_status_t st;
    int has_value;
    uint64_t value;
} result_t;

typedef struct {
    flash_t logf, kvf;
    tl_storage_t logs, kvs;
    tl_log_config_t lcfg;
    tl_kv_config_t kcfg;
    int has_log, has_kv;
    result_t *results;
    size_t lines;
    /* Every consumer name and KV key the script names (to check the final set is complete). */
    char *names[MAX_NAMES];
    size_t n_names;
    uint8_t *keys[1024];
    size_t key_lens[1024], n_keys;
} scenario_t;

static tl_log_t log_obj;
static tl_kv_t kv_obj;
static tl_iter_t iter_obj;

static void note_name(scenario_t *s, char *name) {
    size_t i;
    for (i = 0; i < s->n_names; i++) {
        if (strcmp(s->names[i], name) == 0) {
            return;
        }
    }
    if (s->n_names < MAX_NAMES) {
        s->names[s->n_names++] = name;
    }
}

static void note_key(scenario_t *s, const char *hex) {
    size_t i, len;
    uint8_t *k = unhex(hex, &len);
    for (i = 0; i < s->n_keys; i++) {
        if (s->key_lens[i] == len && memcmp(s->keys[i], k, len) == 0) {
            free(k);
            return;
        }
    }
    if (s->n_keys < sizeof s->keys / sizeof s->keys[0]) {
        s->keys[s->n_keys] = k;
        s->key_lens[s->n_keys++] = len;
    } else {
        free(k);
    }
}

/* Runs operation `f[0..n)` (script line `line`); returns 0, or -1 for a malformed line. */
static int run_op(scenario_t *s, size_t line, char **f, int n, const char *name) {
    result_t *r = &s->results[line];
    const char *op = f[0];
    r->done = 1;
    r->has_value = 0;
    if (strcmp(op, "log") == 0 && n == 8) {
        if (flash_init(&s->logf, (uint32_t)num(f[1]), (uint32_t)num(f[2]), (uint32_t)num(f[3])) != 0) {
            return -1;
        }
        s->logs = flash_storage(&s->logf);
        memset(&s->lcfg, 0, sizeof s->lcfg);
        s->lcfg.segment_sectors = (uint32_t)num(f[4]);
        s->lcfg.index_interval = (uint32_t)num(f[5]);
        s->lcfg.max_record_size = (uint32_t)num(f[6]);
        s->lcfg.full_policy = strcmp(f[7], "overwrite") == 0 ? TL_FULL_OVERWRITE_OLDEST : TL_FULL_REJECT;
        r->done = 0;
        s->has_log = 1;
        if (tl_log_format(&log_obj, &s->logs, &s->lcfg) != TL_OK) {
            fprintf(stderr, "%s:%lu: format failed\n", name, (unsigned long)line);
            return -1;
        }
    } else if (strcmp(op, "kv") == 0 && n == 7) {
        if (flash_init(&s->kvf, (uint32_t)num(f[1]), (uint32_t)num(f[2]), (uint32_t)num(f[3])) != 0) {
            return -1;
        }
        s->kvs = flash_storage(&s->kvf);
        memset(&s->kcfg, 0, sizeof s->kcfg);
        s->kcfg.max_key_len = (uint32_t)num(f[4]);
        s->kcfg.max_value_len = (uint32_t)num(f[5]);
        s->kcfg.high_water_percent = (uint32_t)num(f[6]);
        r->done = 0;
        s->has_kv = 1;
        if (tl_kv_format(&kv_obj, &s->kvs, &s->kcfg) != TL_OK) {
            fprintf(stderr, "%s:%lu: kv format failed\n", name, (unsigned long)line);
            return -1;
        }
    } else if ((strcmp(op, "append") == 0 && n == 2) || (strcmp(op, "append_fill") == 0 && n == 3)) {
        size_t len = op[6] ? (size_t)num(f[1]) : 0;
        uint8_t *rec = op[6] ? fill(len, num(f[2])) : unhex(f[1], &len);
        r->st = tl_log_append(&log_obj, rec, len, &r->value);
        r->has_value = 1;
        free(rec);
    } else if ((strcmp(op, "batch") == 0 && n >= 2) || (strcmp(op, "batch_fill") == 0 && n == 4)) {
        tl_buf_t bufs[TL_BATCH_MAX];
        uint8_t *data[TL_BATCH_MAX];
        size_t k, count = op[5] ? (size_t)num(f[1]) : (size_t)(n - 1);
        if (count > TL_BATCH_MAX) {
            fprintf(stderr, "%s:%lu: a batch of %lu records: this runner takes %d\n", name,
                    (unsigned long)line, (unsigned long)count, TL_BATCH_MAX);
            return -1;
        }
        for (k = 0; k < count; k++) {
            size_t len = op[5] ? (size_t)num(f[2]) : 0;
            data[k] = op[5] ? fill(len, num(f[3]) + k) : unhex(f[1 + k], &len);
            bufs[k].data = data[k];
            bufs[k].len = len;
        }
        r->st = tl_log_append_batch(&log_obj, bufs, count, &r->value);
        r->has_value = 1;
        for (k = 0; k < count; k++) {
            free(data[k]);
        }
    } else if (strcmp(op, "sync") == 0 && n == 1) {
        r->st = tl_log_sync(&log_obj);
    } else if (strcmp(op, "commit") == 0 && n == 3) {
        note_name(s, f[1]);
        r->st = tl_log_commit(&log_obj, f[1], num(f[2]));
    } else if (strcmp(op, "rewind") == 0 && n == 3) {
        note_name(s, f[1]);
        r->st = tl_log_rewind(&log_obj, f[1], num(f[2]));
    } else if (strcmp(op, "remove") == 0 && n == 2) {
        note_name(s, f[1]);
        r->st = tl_log_remove_consumer(&log_obj, f[1]);
    } else if (strcmp(op, "trim") == 0 && n == 2) {
        r->st = tl_log_trim_front(&log_obj, num(f[1]));
    } else if (strcmp(op, "truncate") == 0 && n == 2) {
        r->st = tl_log_truncate_back(&log_obj, num(f[1]));
    } else if (strcmp(op, "reopen") == 0 && n == 1) {
        OK(tl_log_unmount(&log_obj));
        r->st = tl_log_mount(&log_obj, &s->logs, &s->lcfg);
    } else if (strcmp(op, "kv_set") == 0 && n == 3) {
        size_t kl, vl;
        uint8_t *k = unhex(f[1], &kl), *v = unhex(f[2], &vl);
        note_key(s, f[1]);
        r->st = tl_kv_set(&kv_obj, k, kl, v, vl);
        free(k);
        free(v);
    } else if (strcmp(op, "kv_set_multiple") == 0 && n >= 3 && n % 2 == 1) {
        tl_kv_pair_t pairs[TL_KV_BATCH_MAX];
        size_t k, count = (size_t)(n - 1) / 2;
        if (count > TL_KV_BATCH_MAX) {
            return -1;
        }
        for (k = 0; k < count; k++) {
            note_key(s, f[1 + 2 * k]);
            pairs[k].key = unhex(f[1 + 2 * k], &pairs[k].key_len);
            pairs[k].value = unhex(f[2 + 2 * k], &pairs[k].value_len);
        }
        r->st = tl_kv_set_multiple(&kv_obj, pairs, count);
        for (k = 0; k < count; k++) {
            free((void *)pairs[k].key);
            free((void *)pairs[k].value);
        }
    } else if (strcmp(op, "kv_delete") == 0 && n == 2) {
        size_t kl;
        uint8_t *k = unhex(f[1], &kl);
        bool existed = false;
        note_key(s, f[1]);
        r->st = tl_kv_delete(&kv_obj, k, kl, &existed);
        r->has_value = 1;
        r->value = existed;
        free(k);
    } else if (strcmp(op, "kv_compact") == 0 && n == 1) {
        r->st = tl_kv_compact(&kv_obj);
    } else if (strcmp(op, "kv_reopen") == 0 && n == 1) {
        OK(tl_kv_unmount(&kv_obj));
        r->st = tl_kv_mount(&kv_obj, &s->kvs, &s->kcfg);
    } else {
        return -1;
    }
    if (r->done && r->st != TL_OK) {
        r->has_value = 0;
    }
    return 0;
}

#define FAIL(...)                                                                        \
    do {                                                                                 \
        fprintf(stderr, "%s: ", name);                                                   \
        fprintf(stderr, __VA_ARGS__);                                                    \
        fprintf(stderr, "\n");                                                           \
        failures++;                                                                      \
    } while (0)

/* Checks the .expect lines against the results and the final state. */
static int check_expect(scenario_t *s, char *text, const char *name) {
    char *p = text, *line, *f[MAX_FIELDS];
    int failures = 0, n;
    size_t records = 0, consumers = 0, entries = 0, i, len;
    size_t results = 0, ops = 0;
    uint8_t *buf = malloc(s->has_log ? s->logf.capacity + 1 : 1);
    tl_log_stats_t ls;
    memset(&ls, 0, sizeof ls);
    if (s->has_log) {
        OK(tl_log_stats(&log_obj, &ls));
    }
    while ((line = next_line(&p)) != NULL) {
        if (!*line || *line == '#') {
            continue;
        }
        n = fields(line, f);
        if (strcmp(f[0], "result") == 0 && n >= 3) {
            size_t at = (size_t)num(f[1]);
            result_t *r = at < s->lines ? &s->results[at] : NULL;
            results++;
            if (!r || !r->done) {
                FAIL("line %lu: no operation with a result", (unsigned long)at);
            } else if (strcmp(f[2], "ok") == 0) {
                if (r->st != TL_OK) {
                    FAIL("line %lu: %s (%s), expected ok", (unsigned long)at, code_name(r->st),
                         tl_strerror(r->st));
                } else if ((n == 4) != r->has_value || (n == 4 && num(f[3]) != r->value)) {
                    FAIL("line %lu: ok %llu, expected ok %s", (unsigned long)at,
                         (unsigned long long)r->value, n == 4 ? f[3] : "(no value)");
                }
            } else if (strcmp(f[2], "err") == 0 && n == 4) {
                if (strcmp(code_name(r->st), f[3]) != 0) {
                    FAIL("line %lu: %s, expected err %s", (unsigned long)at,
                         r->st == TL_OK ? "ok" : code_name(r->st), f[3]);
                }
            } else {
                FAIL("bad expect line: result %s %s", f[1], f[2]);
            }
        } else if (strcmp(f[0], "first") == 0 && n == 2) {
            if (ls.first_offset != num(f[1])) {
                FAIL("first offset %llu, expected %s", (unsigned long long)ls.first_offset, f[1]);
            }
        } else if (strcmp(f[0], "next") == 0 && n == 2) {
            if (ls.next_offset != num(f[1])) {
                FAIL("next offset %llu, expected %s", (unsigned long long)ls.next_offset, f[1]);
            }
        } else if (strcmp(f[0], "record") == 0 && n == 3) {
            uint8_t *want = unhex(f[2], &len);
            size_t got = 0;
            tl_status_t st = tl_log_read(&log_obj, num(f[1]), buf, s->logf.capacity, &got);
            if (st != TL_OK || got != len || memcmp(buf, want, len) != 0) {
                FAIL("record %s: %s, %lu bytes, expected %lu bytes as in .expect", f[1],
                     st == TL_OK ? "ok" : code_name(st), (unsigned long)got, (unsigned long)len);
            }
            free(want);
            records++;
        } else if (strcmp(f[0], "consumer") == 0 && n == 3) {
            uint64_t off = 0;
            tl_status_t st = tl_log_committed(&log_obj, f[1], &off);
            if (st != TL_OK || off != num(f[2])) {
                FAIL("consumer %s: %s %llu, expected %s", f[1], st == TL_OK ? "ok" : code_name(st),
                     (unsigned long long)off, f[2]);
            }
            consumers++;
        } else if (strcmp(f[0], "kv") == 0 && n == 3) {
            size_t kl, vl, got = 0;
            uint8_t *k = unhex(f[1], &kl), *v = unhex(f[2], &vl);
            uint8_t *val = malloc(s->kvf.capacity + 1);
            tl_status_t st = tl_kv_get(&kv_obj, k, kl, val, s->kvf.capacity, &got);
            if (st != TL_OK || got != vl || memcmp(val, v, vl) != 0) {
                FAIL("kv %s: %s, %lu bytes, expected %lu", f[1], st == TL_OK ? "ok" : code_name(st),
                     (unsigned long)got, (unsigned long)vl);
            }
            free(k);
            free(v);
            free(val);
            entries++;
        } else if ((strcmp(f[0], "log_image") == 0 || strcmp(f[0], "kv_image") == 0) && n == 3) {
            const flash_t *fl = f[0][0] == 'l' ? &s->logf : &s->kvf;
            int has = f[0][0] == 'l' ? s->has_log : s->has_kv;
            char crc[16];
            sprintf(crc, "%08lx", has ? (unsigned long)crc32c(fl->mem, fl->capacity) : 0ul);
            if (!has || fl->capacity != num(f[1]) || strcmp(crc, f[2]) != 0) {
                FAIL("%s: %lu bytes, CRC-32C %s; the Rust runner wrote %s bytes, CRC-32C %s", f[0],
                     has ? (unsigned long)fl->capacity : 0ul, crc, f[1], f[2]);
            }
        } else {
            FAIL("unknown expect line %s", f[0]);
        }
    }
    /* Nothing more than the expected: every readable record, consumer and KV entry is listed. */
    if (s->has_log) {
        size_t readable = 0, got;
        uint64_t off;
        tl_status_t st;
        OK(tl_iter_init(&log_obj, &iter_obj, ls.first_offset));
        while ((st = tl_iter_next(&log_obj, &iter_obj, buf, s->logf.capacity, &got, &off)) == TL_OK) {
            readable++;
        }
        EXPECT(st, TL_END);
        if (readable != records) {
            FAIL("%lu readable records, .expect lists %lu", (unsigned long)readable, (unsigned long)records);
        }
        for (i = 0; i < s->n_names; i++) {
            uint64_t c;
            ops += tl_log_committed(&log_obj, s->names[i], &c) == TL_OK;
        }
        if (ops != consumers) {
            FAIL("%lu consumers, .expect lists %lu", (unsigned long)ops, (unsigned long)consumers);
        }
    }
    if (s->has_kv) {
        size_t live = 0, got;
        for (i = 0; i < s->n_keys; i++) {
            tl_status_t st = tl_kv_get(&kv_obj, s->keys[i], s->key_lens[i], NULL, 0, &got);
            live += st == TL_OK || st == TL_ERR_BUFFER_TOO_SMALL;
        }
        if (live != entries) {
            FAIL("%lu live KV entries, .expect lists %lu", (unsigned long)live, (unsigned long)entries);
        }
    }
    for (i = 0, ops = 0; i < s->lines; i++) {
        ops += s->results[i].done;
    }
    if (ops != results) {
        FAIL("%lu operations with a result, .expect has %lu", (unsigned long)ops, (unsigned long)results);
    }
    free(buf);
    return failures;
}

/* Replaces the scenario's flash contents by DIR/NAME.log.bin and DIR/NAME.kv.bin (written by
 * another language's runner) and mounts them again; returns the failures. */
static int load_other(scenario_t *s, const char *dir, const char *name) {
    char path[4096];
    int failures = 0;
    if (s->has_log) {
        OK(tl_log_unmount(&log_obj));
        sprintf(path, "%s/%s.log.bin", dir, name);
        if (flash_load_file(&s->logf, path) != 0) {
            FAIL("cannot load %s (missing, or not the scenario's flash size)", path);
            return failures;
        }
        EXPECT(tl_log_mount(&log_obj, &s->logs, &s->lcfg), TL_OK);
    }
    if (s->has_kv) {
        OK(tl_kv_unmount(&kv_obj));
        sprintf(path, "%s/%s.kv.bin", dir, name);
        if (flash_load_file(&s->kvf, path) != 0) {
            FAIL("cannot load %s (missing, or not the scenario's flash size)", path);
            return failures;
        }
        EXPECT(tl_kv_mount(&kv_obj, &s->kvs, &s->kcfg), TL_OK);
    }
    return failures;
}

static const char *read_dir;

static int run_scenario(const char *dir, const char *out, const char *name) {
    char path[1024], *script, *expect, *p, *line, *f[MAX_FIELDS];
    scenario_t s;
    size_t lineno = 0, i;
    int failures = 0, n;

    memset(&s, 0, sizeof s);
    sprintf(path, "%s/%s.tls", dir, name);
    script = read_text(path);
    sprintf(path, "%s/%s.expect", dir, name);
    expect = read_text(path);
    if (!script || !expect) {
        fprintf(stderr, "%s: cannot read %s/%s.tls and .expect\n", name, dir, name);
        free(script);
        free(expect);
        return 1;
    }
    s.lines = 2;
    for (p = script; *p; p++) {
        s.lines += *p == '\n';
    }
    s.results = calloc(s.lines, sizeof *s.results);
    memset(&log_obj, 0, sizeof log_obj);
    memset(&kv_obj, 0, sizeof kv_obj);
    for (p = script; (line = next_line(&p)) != NULL;) {
        lineno++;
        if (!*line || *line == '#') {
            continue;
        }
        n = fields(line, f);
        if (run_op(&s, lineno, f, n, name) != 0) {
            fprintf(stderr, "%s:%lu: cannot run this line\n", name, (unsigned long)lineno);
            failures++;
            break;
        }
    }
    if (!failures) {
        /* The images as they are now (the contents are checked after: reading writes nothing). */
        if (s.has_log) {
            sprintf(path, "%s/%s.log.bin", out, name);
            if (flash_save(&s.logf, path) != 0) {
                fprintf(stderr, "%s: cannot write %s\n", name, path);
                failures++;
            }
        }
        if (s.has_kv) {
            sprintf(path, "%s/%s.kv.bin", out, name);
            if (flash_save(&s.kvf, path) != 0) {
                fprintf(stderr, "%s: cannot write %s\n", name, path);
                failures++;
            }
        }
        /* Reading another runner's images (TIDELOG_CONFORMANCE_READ=DIR): they replace the
         * flash, are mounted again, and must read exactly as .expect says. */
        if (!failures && read_dir) {
            failures += load_other(&s, read_dir, name);
        }
        failures += check_expect(&s, expect, name);
        CHECK(s.logf.violations == 0 && s.kvf.violations == 0);
    }
    if (s.has_log) {
        tl_log_unmount(&log_obj);
        flash_free(&s.logf);
    }
    if (s.has_kv) {
        tl_kv_unmount(&kv_obj);
        flash_free(&s.kvf);
    }
    for (i = 0; i < s.n_keys; i++) {
        free(s.keys[i]);
    }
    free(s.results);
    free(script);
    free(expect);
    return failures;
}

int main(int argc, char **argv) {
    int i, failed = 0;
    if (argc < 4) {
        fprintf(stderr, "usage: %s SCENARIO_DIR OUT_DIR NAME...\n", argv[0]);
        return 2;
    }
    read_dir = getenv("TIDELOG_CONFORMANCE_READ");
    if (read_dir && !*read_dir) {
        read_dir = NULL;
    }
    for (i = 3; i < argc; i++) {
        int f = run_scenario(argv[1], argv[2], argv[i]);
        printf("  %-24s %s\n", argv[i], f ? "FAILED" : read_dir ? "ok: the other runner's images read as .expect says" : "ok: results, contents and image bytes as the Rust runner's");
        failed += f != 0;
    }
    failed += check_failures != 0;
    printf("conformance: %d passed, %d failed\n", argc - 3 - failed, failed);
    return failed ? 1 : 0;
}
