/*
 * A NOR flash in RAM for the host tests: the callbacks of a tl_storage_t, NOR semantics
 * enforced (programs only clear bits; a write unit is programmed at most once between erases,
 * as on ECC flash), counters, and injected faults — a power cut at the N-th program or erase
 * (that operation torn: a random prefix of its bytes programmed, or a random prefix of the
 * sector erased; every later call fails until flash_power_on), or a device error on the next
 * call.
 */
#ifndef TIDELOG_TEST_FLASH_H
#define TIDELOG_TEST_FLASH_H

#include <stddef.h>
#include <stdint.h>

#include "tidelog.h"

/* What a callback returns when the power is off. */
#define FLASH_ERR_POWER (-100)
/* What a callback returns for a NOR rule the log broke (the tests assert it never happens). */
#define FLASH_ERR_RULE (-101)

typedef struct flash {
    uint8_t *mem;
    uint8_t *programmed; /* one flag per write unit: programmed since its last erase */
    uint32_t write_size, erase_size, capacity;
    /* Counters. */
    unsigned long reads, progs, erases, syncs;
    unsigned long ops;      /* programs + erases since flash_init / flash_clear_counters */
    unsigned long cut_at;   /* cut the power at this op number (1-based); 0: never */
    int powered;            /* 0 after a cut, until flash_power_on */
    int fail_next;          /* non-zero: the next call returns this (once) */
    unsigned long violations; /* NOR rules the log broke */
    uint32_t rng;           /* for torn writes */
    /* Re-entrancy test: called from inside every callback when set. */
    void (*hook)(struct flash *f);
    void *hook_arg;
} flash_t;

/* Allocates an erased flash (all 0xFF). Returns 0, or -1 when out of memory. */
int flash_init(flash_t *f, uint32_t write_size, uint32_t erase_size, uint32_t capacity);
void flash_free(flash_t *f);
/* The tl_storage_t that drives `f`. */
tl_storage_t flash_storage(flash_t *f);
/* Power back on after a cut (the contents stay as the cut left them). */
void flash_power_on(flash_t *f);
void flash_clear_counters(flash_t *f);
/* Copies the contents (and the programmed flags) of `src` into `dst` (same geometry). */
void flash_copy(flash_t *dst, const flash_t *src);
/* Loads an image (capacity bytes; the programmed flags follow from the bytes). */
void flash_load(flash_t *f, const uint8_t *image, size_t len);

/* Writes the contents (capacity bytes: a tidelog image, as a host tool or another binding
 * reads it) to the file at `path`. Returns 0, or -1 when the file cannot be written. */
int flash_save(const flash_t *f, const char *path);
/* Loads the file at `path`, which must hold exactly capacity bytes (see flash_load). Returns
 * 0, or -1 when it cannot be read or has another size. */
int flash_load_file(flash_t *f, const char *path);

/* CRC-32C (Castagnoli) of `len` bytes, as FORMAT.md §1 defines it. */
uint32_t crc32c(const uint8_t *p, size_t len);

#endif
