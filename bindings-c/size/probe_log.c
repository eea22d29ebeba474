/*
 * Code-size probe of the C binding, log only: what footprint/src/bin/log.rs does, through
 * tidelog.h — mount (formatting a blank device), append, read by offset, iterate, trim, sync —
 * over a flash stub in RAM. Linked for thumbv7em-none-eabihf (bindings-c/size/measure.sh),
 * never run. Inputs come from volatile variables and results go to one, so nothing is
 * optimised away.
 */
#include "stub.h"

static tl_log_t log_obj;
static tl_iter_t iter;

int main(void) {
    static uint8_t buf[64];
    tl_storage_t dev = stub_storage(0, STUB_CAPACITY);
    tl_log_config_t cfg = {0, 256, 0, TL_FULL_OVERWRITE_OLDEST};
    uint64_t off = 0;
    size_t len = 0;
    tl_status_t st;

    for (;;) {
        st = tl_log_mount(&log_obj, &dev, &cfg);
        if (st == TL_ERR_NOT_FORMATTED) {
            st = tl_log_format(&log_obj, &dev, &cfg);
        }
        if (st == TL_OK) {
            break;
        }
        sink = st;
    }
    for (;;) {
        sink = tl_log_append(&log_obj, stub_data, opaque_len(), &off);
        sink = tl_log_read(&log_obj, off, buf, sizeof buf, &len);
        if (tl_iter_init(&log_obj, &iter, opaque_u64()) == TL_OK) {
            while (tl_iter_next(&log_obj, &iter, buf, sizeof buf, &len, &off) == TL_OK) {
                sink = buf[len / 2] + (int)off;
            }
        }
        sink = tl_log_trim_front(&log_obj, opaque_u64() + 1);
        sink = tl_log_sync(&log_obj);
    }
}
