/* The start-up of the code-size probes (and of probe_baseline.c, so it cancels out): a vector
 * table and a reset handler that clears .bss, copies .data and calls main. No C library: the
 * stub's memcpy/memset come from libtidelog.a (Rust's compiler_builtins), as in footprint/. */
#include <stdint.h>

extern uint32_t _stack_top, _sidata, _sdata, _edata, __bss_start__, __bss_end__;
int main(void);
void Reset_Handler(void);
void Default_Handler(void);

void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst;
    for (dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0;
    }
    (void)main();
    for (;;) {
    }
}

void Default_Handler(void) {
    for (;;) {
    }
}

typedef void (*vector_t)(void);
typedef struct {
    uint32_t *stack;
    vector_t handlers[15];
} vectors_t;

__attribute__((section(".vectors"), used)) static const vectors_t vectors = {
    &_stack_top,
    {Reset_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
     Default_Handler, 0, 0, 0, 0, Default_Handler, Default_Handler, 0, Default_Handler,
     Default_Handler},
};
