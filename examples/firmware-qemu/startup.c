/*
 * Start-up for QEMU's mps2-an386 (Cortex-M4F): the vector table, a reset handler that enables
 * the FPU, copies .data and clears .bss, then enters newlib's _start (which sets up the C
 * library over semihosting and calls main; main's return value becomes QEMU's exit code),
 * and a fault handler that reports the fault and exits with code 70.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

extern uint32_t _stack_top, _sidata, _sdata, _edata, __bss_start__, __bss_end__;
extern void _start(void);
void Reset_Handler(void);
void Fault_Handler(void);

void Reset_Handler(void) {
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    uint32_t *src = &_sidata, *dst;
    *cpacr |= 0xFu << 20; /* CP10 and CP11: full access (the FPU) */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    for (dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0;
    }
    _start();
    for (;;) {
    }
}

void Fault_Handler(void) {
    uint32_t cfsr = *(volatile uint32_t *)0xE000ED28u;
    printf("FAULT: CFSR=0x%08lx\n", (unsigned long)cfsr);
    _Exit(70);
}

typedef void (*vector_t)(void);

/* The Cortex-M vector table: the initial stack pointer, then the handlers. */
typedef struct {
    uint32_t *stack;
    vector_t handlers[15];
} vectors_t;

__attribute__((section(".vectors"), used)) static const vectors_t vectors = {
    &_stack_top,
    {
        Reset_Handler,
        Fault_Handler, /* NMI */
        Fault_Handler, /* HardFault */
        Fault_Handler, /* MemManage */
        Fault_Handler, /* BusFault */
        Fault_Handler, /* UsageFault (a trapped panic of the library would land here) */
        0, 0, 0, 0,
        Fault_Handler, /* SVCall */
        Fault_Handler, /* DebugMonitor */
        0,
        Fault_Handler, /* PendSV */
        Fault_Handler, /* SysTick */
    },
};
