/* What the code-size probes share: a NOR flash stub in RAM (8 sectors of 4 KiB, 4-byte
 * program unit, as footprint/src/rt.rs) and inputs the compiler cannot predict. */
#ifndef TIDELOG_SIZE_STUB_H
#define TIDELOG_SIZE_STUB_H

#include <stdint.h>
#include <string.h>

#include "tidelog.h"

#define STUB_WRITE 4u
#define STUB_ERASE 4096u
#define STUB_CAPACITY (8u * STUB_ERASE)

static uint8_t stub_mem[STUB_CAPACITY];
static volatile int sink;
static volatile size_t opaque_n = 32;
static volatile uint64_t opaque_off = 0;
static const uint8_t stub_data[64] = {0x5A};

static size_t opaque_len(void) { return opaque_n % 65; }
static uint64_t opaque_u64(void) { return opaque_off; }

typedef struct { uint32_t base, size; } stub_region_t;
static stub_region_t stub_regions[2];

static int stub_check(const stub_region_t *r, uint32_t addr, uint32_t len, uint32_t align) {
    return (uint64_t)addr + len > r->size || addr % align || len % align;
}
static int stub_read(void *ctx, uint32_t addr, void *buf, uint32_t len) {
    const stub_region_t *r = ctx;
    if (stub_check(r, addr, len, 1)) return -1;
    memcpy(buf, stub_mem + r->base + addr, len);
    return 0;
}
static int stub_prog(void *ctx, uint32_t addr, const void *data, uint32_t len) {
    const stub_region_t *r = ctx;
    const uint8_t *d = data;
    uint32_t i;
    if (stub_check(r, addr, len, STUB_WRITE)) return -1;
    for (i = 0; i < len; i++) stub_mem[r->base + addr + i] &= d[i];
    return 0;
}
static int stub_erase(void *ctx, uint32_t addr) {
    const stub_region_t *r = ctx;
    if (stub_check(r, addr, STUB_ERASE, STUB_ERASE)) return -1;
    memset(stub_mem + r->base + addr, 0xFF, STUB_ERASE);
    return 0;
}
static tl_storage_t stub_storage(uint32_t base, uint32_t size) {
    tl_storage_t s;
    stub_region_t *r = &stub_regions[base != 0];
    r->base = base;
    r->size = size;
    memset(&s, 0, sizeof s);
    s.ctx = r;
    s.read_size = 1;
    s.write_size = STUB_WRITE;
    s.erase_size = STUB_ERASE;
    s.capacity = size;
    s.read = stub_read;
    s.prog = stub_prog;
    s.erase = stub_erase;
    return s;
}

#endif
