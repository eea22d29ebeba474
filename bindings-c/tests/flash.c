/* The RAM NOR flash of the host tests (see flash.h). */
#include "flash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t next_rand(flash_t *f) {
    /* xorshift32 */
    uint32_t x = f->rng ? f->rng : 0x9E3779B9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    f->rng = x;
    return x;
}

int flash_init(flash_t *f, uint32_t write_size, uint32_t erase_size, uint32_t capacity) {
    memset(f, 0, sizeof *f);
    f->write_size = write_size;
    f->erase_size = erase_size;
    f->capacity = capacity;
    f->powered = 1;
    f->mem = malloc(capacity ? capacity : 1);
    f->programmed = calloc(write_size ? capacity / write_size + 1 : 1, 1);
    if (!f->mem || !f->programmed) {
        flash_free(f);
        return -1;
    }
    memset(f->mem, 0xFF, capacity);
    return 0;
}

void flash_free(flash_t *f) {
    free(f->mem);
    free(f->programmed);
    f->mem = NULL;
    f->programmed = NULL;
}

void flash_power_on(flash_t *f) {
    f->powered = 1;
    f->cut_at = 0;
}

void flash_clear_counters(flash_t *f) {
    f->reads = f->progs = f->erases = f->syncs = f->ops = 0;
}

void flash_copy(flash_t *dst, const flash_t *src) {
    memcpy(dst->mem, src->mem, src->capacity);
    memcpy(dst->programmed, src->programmed, src->capacity / src->write_size + 1);
}

void flash_load(flash_t *f, const uint8_t *image, size_t len) {
    uint32_t u, i;
    memset(f->mem, 0xFF, f->capacity);
    memcpy(f->mem, image, len < f->capacity ? len : f->capacity);
    for (u = 0; u < f->capacity / f->write_size; u++) {
        f->programmed[u] = 0;
        for (i = 0; i < f->write_size; i++) {
            if (f->mem[u * f->write_size + i] != 0xFF) {
                f->programmed[u] = 1;
            }
        }
    }
}

int flash_save(const flash_t *f, const char *path) {
    FILE *fp = fopen(path, "wb");
    int ok;
    if (!fp) {
        return -1;
    }
    ok = fwrite(f->mem, 1, f->capacity, fp) == f->capacity;
    ok &= fclose(fp) == 0;
    return ok ? 0 : -1;
}

int flash_load_file(flash_t *f, const char *path) {
    FILE *fp = fopen(path, "rb");
    uint8_t *image;
    size_t n;
    int extra;
    if (!fp) {
        return -1;
    }
    image = malloc(f->capacity ? f->capacity : 1);
    n = image ? fread(image, 1, f->capacity, fp) : 0;
    extra = fgetc(fp) != EOF;
    fclose(fp);
    if (!image || n != f->capacity || extra) {
        free(image);
        return -1;
    }
    flash_load(f, image, n);
    free(image);
    return 0;
}

/* Common entry of every callback: the power, an injected error, the re-entrancy hook. */
static int enter(flash_t *f) {
    int rc;
    if (f->hook) {
        f->hook(f);
    }
    if (!f->powered) {
        return FLASH_ERR_POWER;
    }
    if (f->fail_next) {
        rc = f->fail_next;
        f->fail_next = 0;
        return rc;
    }
    return 0;
}

/* Counts a program or erase; returns 1 when the power goes at this one. */
static int cut_now(flash_t *f) {
    f->ops++;
    return f->cut_at != 0 && f->ops == f->cut_at;
}

static int flash_read(void *ctx, uint32_t addr, void *buf, uint32_t len) {
    flash_t *f = ctx;
    int rc = enter(f);
    if (rc) {
        return rc;
    }
    f->reads++;
    if ((uint64_t)addr + len > f->capacity || buf == NULL) {
        f->violations++;
        return FLASH_ERR_RULE;
    }
    memcpy(buf, f->mem + addr, len);
    return 0;
}

static int flash_prog(void *ctx, uint32_t addr, const void *data, uint32_t len) {
    flash_t *f = ctx;
    const uint8_t *d = data;
    uint32_t i, n = len, ws = f->write_size;
    int rc = enter(f);
    if (rc) {
        return rc;
    }
    f->progs++;
    if ((uint64_t)addr + len > f->capacity || addr % ws || len % ws || len == 0 || !data) {
        f->violations++;
        return FLASH_ERR_RULE;
    }
    for (i = 0; i < len; i += ws) {
        if (f->programmed[(addr + i) / ws]) {
            f->violations++; /* write-once: a unit programmed twice between erases */
            return FLASH_ERR_RULE;
        }
    }
    if (cut_now(f)) {
        n = next_rand(f) % len; /* torn: a prefix of the bytes reaches the flash */
        f->powered = 0;
    }
    for (i = 0; i < n; i++) {
        f->mem[addr + i] &= d[i];
    }
    for (i = 0; i < len; i += ws) {
        uint32_t k, end = i + ws;
        int changed = 0;
        if (end <= n) {
            f->programmed[(addr + i) / ws] = 1; /* fully written */
            continue;
        }
        for (k = i; k < end && k < n; k++) {
            changed |= f->mem[addr + k] != 0xFF;
        }
        if (changed) {
            f->programmed[(addr + i) / ws] = 1; /* partly written and no longer erased */
        }
    }
    return f->powered ? 0 : FLASH_ERR_POWER;
}

static int flash_erase(void *ctx, uint32_t addr) {
    flash_t *f = ctx;
    uint32_t n = f->erase_size, u;
    int rc = enter(f);
    if (rc) {
        return rc;
    }
    f->erases++;
    if (addr % f->erase_size || (uint64_t)addr + f->erase_size > f->capacity) {
        f->violations++;
        return FLASH_ERR_RULE;
    }
    if (cut_now(f)) {
        n = next_rand(f) % f->erase_size; /* a prefix of the sector is erased */
        f->powered = 0;
    }
    memset(f->mem + addr, 0xFF, n);
    for (u = addr / f->write_size; u < (addr + n) / f->write_size; u++) {
        f->programmed[u] = 0;
    }
    if (n % f->write_size) { /* the unit the cut erase ended in: erased if it reads so */
        uint32_t k, start = addr + n - n % f->write_size;
        int erased = 1;
        for (k = start; k < start + f->write_size; k++) {
            erased &= f->mem[k] == 0xFF;
        }
        if (erased) {
            f->programmed[start / f->write_size] = 0;
        }
    }
    return f->powered ? 0 : FLASH_ERR_POWER;
}

static int flash_sync(void *ctx) {
    flash_t *f = ctx;
    int rc = enter(f);
    if (rc) {
        return rc;
    }
    f->syncs++;
    return 0;
}

tl_storage_t flash_storage(flash_t *f) {
    tl_storage_t s;
    memset(&s, 0, sizeof s);
    s.ctx = f;
    s.read_size = 1;
    s.write_size = f->write_size;
    s.erase_size = f->erase_size;
    s.capacity = f->capacity;
    s.read = flash_read;
    s.prog = flash_prog;
    s.erase = flash_erase;
    s.sync = flash_sync;
    return s;
}

uint32_t crc32c(const uint8_t *p, size_t len) {
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;
    int k;
    for (i = 0; i < len; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
        }
    }
    return crc ^ 0xFFFFFFFFu;
}
