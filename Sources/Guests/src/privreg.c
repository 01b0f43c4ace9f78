/* privreg: Adams and Agesen's cr8wr analogue. The kernel loops over SETR
 * (rewriting its own relocation-bounds register to the same value) and
 * GETL: privileged register traffic with no guest trap at all. */
#include "pg32.h"

enum { N = 4000 };

int main(void) {
    uint32_t b = pg_getb(), acc = 0;
    for (uint32_t i = 0; i < N; i++) {
        pg_setr(0, b);
        acc = acc * 33u + pg_getl() + i;
    }
    pg_puts("privreg: "); pg_putdec(N); pg_puts(" SETR+GETL pairs, checksum "); pg_puthex(acc); pg_out('\n');
    return (int)(acc & 0xff);
}
