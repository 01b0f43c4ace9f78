/* out: Adams and Agesen's `in` analogue: N console writes from the kernel. */
#include "pg32.h"

enum { N = 4000 };

int main(void) {
    uint32_t sum = 0;
    for (uint32_t i = 0; i < N; i++) {
        uint32_t c = (i % 64 == 63) ? '\n' : 'a' + i % 26;
        pg_out(c);
        sum = sum * 31u + c;
    }
    pg_puts("out: checksum "); pg_puthex(sum); pg_out('\n');
    return (int)(sum & 0xff);
}
