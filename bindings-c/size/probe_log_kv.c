/*
 * Code-size probe of the C binding, log and KV side by side on one device (two regions of
 * the flash stub): what footprint/src/bin/log_kv.rs does, through tidelog.h — everything of
 * probe_log.c, plus KV mount (formatting a blank device), set, get, delete, set_multiple, the
 * high-water flag, compaction and sync. Linked, never run (see probe_log.c).
 */
#include "stub.h"

static tl_log_t log_obj;
static tl_iter_t iter;
static tl_kv_t kv_obj;

int main(void) {
    static uint8_t buf[64];
    tl_storage_t dev = stub_storage(0, STUB_CAPACITY / 2);
    tl_storage_t kdev = stub_storage(STUB_CAPACITY / 2, STUB_CAPACITY / 2);
    tl_log_config_t cfg = {0, 256, 0, TL_FULL_OVERWRITE_OLDEST};
    tl_kv_config_t kcfg = {32, 0, 75};
    uint64_t off = 0;
    size_t len = 0;
    bool flag = false;
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
        st = tl_kv_mount(&kv_obj, &kdev, &kcfg);
        if (st == TL_ERR_NOT_FORMATTED) {
            st = tl_kv_format(&kv_obj, &kdev, &kcfg);
        }
        if (st == TL_OK) {
            break;
        }
        sink = st;
    }
    for (;;) {
        size_t n = opaque_len();
        tl_kv_pair_t pairs[2];
        /* The log. */
        sink = tl_log_append(&log_obj, stub_data, n, &off);
        sink = tl_log_read(&log_obj, off, buf, sizeof buf, &len);
        if (tl_iter_init(&log_obj, &iter, opaque_u64()) == TL_OK) {
            while (tl_iter_next(&log_obj, &iter, buf, sizeof buf, &len, &off) == TL_OK) {
                sink = buf[len / 2] + (int)off;
            }
        }
        sink = tl_log_trim_front(&log_obj, opaque_u64() + 1);
        sink = tl_log_sync(&log_obj);
        /* The KV. */
        sink = tl_kv_set(&kv_obj, stub_data, 8, stub_data, n);
        sink = tl_kv_get(&kv_obj, stub_data, 8, buf, sizeof buf, &len);
        sink = tl_kv_delete(&kv_obj, "gone", 4, &flag);
        pairs[0].key = "a";
        pairs[0].key_len = 1;
        pairs[0].value = stub_data;
        pairs[0].value_len = n;
        pairs[1].key = "b";
        pairs[1].key_len = 1;
        pairs[1].value = stub_data;
        pairs[1].value_len = 8;
        sink = tl_kv_set_multiple(&kv_obj, pairs, 2);
        if (tl_kv_high_water(&kv_obj, &flag) == TL_OK && flag) {
            sink = tl_kv_compact(&kv_obj);
        }
        sink = tl_kv_sync(&kv_obj);
    }
}
