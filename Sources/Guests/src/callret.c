/* callret: the innocuous baseline: N calls and returns, no traps at all. */
#include "pg32.h"

enum { N = 20000 };

__attribute__((noinline)) static uint32_t step(uint32_t x, uint32_t i) {
    __asm__ volatile("" : "+r"(x));   /* keep the call from being folded away */
    return x * 3u + i;
}

int main(void) {
    uint32_t x = 1;
    for (uint32_t i = 0; i < N; i++) x = step(x, i);
    pg_puts("callret: "); pg_putdec(N); pg_puts(" calls, checksum "); pg_puthex(x); pg_out('\n');
    return (int)(x & 0xff);
}
