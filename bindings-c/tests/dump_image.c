/*
 * Mounts a log image file (a flash dump, or an image another language wrote) through the C
 * library on the RAM flash and prints what it holds, one line each, in a form a script can
 * compare with another language's reading of the same file:
 *
 *   first OFFSET
 *   next OFFSET
 *   record OFFSET HEX        (every readable record, in order; "-" for an empty one)
 *   consumer NAME OFFSET     (for each NAME given on the command line that exists)
 *
 * The mount may repair (a torn tail, say) — it does so on the RAM copy, never on the file.
 *
 * Usage: dump_image IMAGE WRITE_SIZE ERASE_SIZE [CONSUMER...]
 * Exit status: 0 printed, 1 the library refused the image (its status printed), 2 bad usage.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flash.h"
#include "tidelog.h"

static tl_log_t log_obj;
static tl_iter_t iter_obj;

int main(int argc, char **argv) {
    flash_t flash;
    tl_storage_t dev;
    tl_log_stats_t st;
    tl_status_t rc;
    FILE *fp;
    long size;
    uint8_t *buf;
    size_t len, i;
    uint64_t off;
    int a;

    if (argc < 4) {
        fprintf(stderr, "usage: %s IMAGE WRITE_SIZE ERASE_SIZE [CONSUMER...]\n", argv[0]);
        return 2;
    }
    fp = fopen(argv[1], "rb");
    if (!fp || fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) <= 0) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        return 2;
    }
    fclose(fp);
    if (flash_init(&flash, (uint32_t)strtoul(argv[2], NULL, 0), (uint32_t)strtoul(argv[3], NULL, 0),
                   (uint32_t)size) != 0 ||
        flash_load_file(&flash, argv[1]) != 0) {
        fprintf(stderr, "%s: cannot load onto a %s / %s B flash\n", argv[1], argv[2], argv[3]);
        return 2;
    }
    dev = flash_storage(&flash);
    rc = tl_log_mount(&log_obj, &dev, NULL);
    if (rc != TL_OK) {
        fprintf(stderr, "%s: tl_log_mount: %d (%s)\n", argv[1], (int)rc, tl_strerror(rc));
        flash_free(&flash);
        return 1;
    }
    if ((rc = tl_log_stats(&log_obj, &st)) != TL_OK) {
        fprintf(stderr, "tl_log_stats: %s\n", tl_strerror(rc));
        return 1;
    }
    printf("first %llu\nnext %llu\n", (unsigned long long)st.first_offset,
           (unsigned long long)st.next_offset);
    buf = malloc((size_t)size);
    if (!buf || (rc = tl_iter_init(&log_obj, &iter_obj, st.first_offset)) != TL_OK) {
        fprintf(stderr, "tl_iter_init: %s\n", buf ? tl_strerror(rc) : "out of memory");
        return 1;
    }
    while ((rc = tl_iter_next(&log_obj, &iter_obj, buf, (size_t)size, &len, &off)) == TL_OK) {
        printf("record %llu ", (unsigned long long)off);
        if (len == 0) {
            putchar('-');
        }
        for (i = 0; i < len; i++) {
            printf("%02x", buf[i]);
        }
        putchar('\n');
    }
    if (rc != TL_END) {
        fprintf(stderr, "tl_iter_next: %d (%s)\n", (int)rc, tl_strerror(rc));
        return 1;
    }
    for (a = 4; a < argc; a++) {
        rc = tl_log_committed(&log_obj, argv[a], &off);
        if (rc == TL_OK) {
            printf("consumer %s %llu\n", argv[a], (unsigned long long)off);
        } else if (rc != TL_ERR_NO_SUCH_CONSUMER) {
            fprintf(stderr, "tl_log_committed %s: %s\n", argv[a], tl_strerror(rc));
            return 1;
        }
    }
    tl_iter_done(&iter_obj);
    tl_log_unmount(&log_obj);
    free(buf);
    flash_free(&flash);
    return 0;
}
