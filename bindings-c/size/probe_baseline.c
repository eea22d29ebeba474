/* The empty code-size probe: start-up, the flash stub (its memcpy/memset) and nothing of
 * tidelog — subtracted from the other probes, as footprint/'s baseline is from its own. */
#include "stub.h"

int main(void) {
    static uint8_t buf[64];
    tl_storage_t dev = stub_storage(0, STUB_CAPACITY);
    int (*volatile read)(void *, uint32_t, void *, uint32_t) = dev.read;
    int (*volatile prog)(void *, uint32_t, const void *, uint32_t) = dev.prog;
    int (*volatile erase)(void *, uint32_t) = dev.erase;
    for (;;) {
        sink = read(dev.ctx, (uint32_t)opaque_len(), buf, sizeof buf);
        sink = prog(dev.ctx, (uint32_t)opaque_len(), stub_data, 8);
        sink = erase(dev.ctx, (uint32_t)opaque_u64());
    }
}
