/* matmul: integer matrix multiply C = A x B, then C x A, with a checksum
 * over the results (wrapping 32-bit arithmetic, the same on every host). */
#include "pg32.h"

#define N 80
static uint32_t a[N][N], b[N][N], c[N][N], d[N][N];

static void multiply(uint32_t (*x)[N], uint32_t (*y)[N], uint32_t (*z)[N]) {
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            uint32_t s = 0;
            for (int k = 0; k < N; k++) s += x[i][k] * y[k][j];
            z[i][j] = s;
        }
}

int main(void) {
    uint32_t seed = 1;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            seed = seed * 1103515245u + 12345u;
            a[i][j] = (seed >> 16) & 0xff;
            b[i][j] = (uint32_t)(i * 7 + j * 3) & 0x3f;
        }
    multiply(a, b, c);
    multiply(c, a, d);
    uint32_t check = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) check = (check << 5 | check >> 27) ^ d[i][j];
    pg_puts("c[0][0] = "); pg_putdec(c[0][0]); pg_puts(", d[N-1][N-1] = "); pg_putdec(d[N - 1][N - 1]); pg_out('\n');
    pg_puts("matmul checksum "); pg_puthex(check); pg_out('\n');
    return (int)(check & 0xff);
}
