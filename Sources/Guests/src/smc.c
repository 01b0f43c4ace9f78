/* smc: self-modifying code, with no fences (SPEC section 2: a store is
 * visible to the next instruction fetch at once, as on x86).
 * 1. A code buffer is rewritten (a different constant each time) and called
 *    in a loop: every call must run the newest code.
 * 2. An instruction rewrites another two slots ahead of it, inside the same
 *    straight-line block: the rewritten one must be what executes. */
#include "pg32.h"

enum { ROUNDS = 300 };
static uint32_t codebuf[4] __attribute__((aligned(16)));

/* addi a0, a0, k */
static uint32_t addi_a0(uint32_t k) { return (k & 0xfff) << 20 | 10u << 15 | 10u << 7 | 0x13u; }
/* addi a1, x0, k */
static uint32_t li_a1(uint32_t k) { return (k & 0xfff) << 20 | 11u << 7 | 0x13u; }

/* Stores `word` over the instruction at label 1, two instructions ahead. */
__attribute__((noinline)) static uint32_t patch_ahead(uint32_t word) {
    uint32_t result;
    __asm__ volatile(
        "la t1, 1f\n\t"
        "sw %1, 0(t1)\n\t"
        "addi a1, x0, 1\n\t"
        "1: addi a1, x0, 7\n\t"
        "mv %0, a1"
        : "=r"(result) : "r"(word) : "t1", "a1", "memory");
    return result;
}

int main(void) {
    uint32_t sum = 0;
    uint32_t (*fn)(uint32_t) = (uint32_t (*)(uint32_t))(uintptr_t)codebuf;
    for (uint32_t i = 0; i < ROUNDS; i++) {
        codebuf[0] = addi_a0(i % 2000);
        codebuf[1] = 0x00008067u; /* ret */
        sum = sum * 3u + fn(i);
    }
    pg_puts("smc: code buffer rewritten "); pg_putdec(ROUNDS); pg_puts(" times, sum "); pg_puthex(sum); pg_out('\n');
    uint32_t a = patch_ahead(li_a1(42)), b = patch_ahead(li_a1(99));
    pg_puts("smc: patched ahead in the same block: "); pg_putdec(a); pg_out(' '); pg_putdec(b); pg_out('\n');
    uint32_t check = sum ^ a << 8 ^ b << 16;
    pg_puts("smc checksum "); pg_puthex(check); pg_out('\n');
    return (int)(check & 0xff);
}
