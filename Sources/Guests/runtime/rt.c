/* The guest C runtime: console helpers and the four functions clang may call
 * on its own (compiled with -fno-builtin so they do not call themselves). */
#include "pg32.h"

void pg_puts(const char *s) { while (*s) pg_out((uint8_t)*s++); }

void pg_puthex(uint32_t v) {
    for (int i = 28; i >= 0; i -= 4) pg_out("0123456789abcdef"[(v >> i) & 15]);
}

void pg_putdec(uint32_t v) {
    char buf[10]; int n = 0;
    do { buf[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) pg_out((uint8_t)buf[--n]);
}

void pg_putint(int32_t v) {
    if (v < 0) { pg_out('-'); pg_putdec(0u - (uint32_t)v); }
    else pg_putdec((uint32_t)v);
}

#if (!defined(PG_HOST) || defined(PG_LINUX)) && !defined(PG_LIBC) /* the Linux build has no libc either; a --libc build has picolibc's */
void *memcpy(void *d, const void *s, size_t n) {
    uint8_t *dd = d; const uint8_t *ss = s;
    while (n--) *dd++ = *ss++;
    return d;
}
void *memmove(void *d, const void *s, size_t n) {
    uint8_t *dd = d; const uint8_t *ss = s;
    if (dd < ss) { while (n--) *dd++ = *ss++; }
    else { while (n--) dd[n] = ss[n]; }
    return d;
}
void *memset(void *d, int c, size_t n) {
    uint8_t *dd = d;
    while (n--) *dd++ = (uint8_t)c;
    return d;
}
int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
    return 0;
}
#endif
