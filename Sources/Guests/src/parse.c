/* parse: byte-wise string work. Generates a 40 KiB text of records
 * ("item42: qty=17 price=3.25 tags=red,blue;"), then tokenises it byte by
 * byte (identifiers hashed with FNV-1a, decimal numbers and fixed-point prices
 * parsed), counts lines with a strchr-style scan, and searches it for five
 * patterns with a naive memcmp-style search and with Horspool's skip table. */
#include "pg32.h"

#define TEXT (40 * 1024)
static char text[TEXT + 1];
static uint32_t skip[256];

static const char *const words[] = { "red", "blue", "green", "amber", "violet", "teal", "ochre", "slate" };

static char *put(char *p, const char *s) { while (*s) *p++ = *s++; return p; }
static char *putnum(char *p, uint32_t v) {
    char digits[10];
    int n = 0;
    do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) *p++ = digits[--n];
    return p;
}
/* strchr */
static const char *find(const char *s, char c) {
    for (; *s; s++)
        if (*s == c) return s;
    return 0;
}
static uint32_t length(const char *s) { uint32_t n = 0; while (s[n]) n++; return n; }

static uint32_t naive(const char *hay, uint32_t n, const char *needle, uint32_t m) {
    uint32_t count = 0;
    for (uint32_t i = 0; i + m <= n; i++) {
        uint32_t j = 0;
        while (j < m && hay[i + j] == needle[j]) j++;
        if (j == m) count++;
    }
    return count;
}

static uint32_t horspool(const char *hay, uint32_t n, const char *needle, uint32_t m) {
    for (int c = 0; c < 256; c++) skip[c] = m;
    for (uint32_t j = 0; j + 1 < m; j++) skip[(unsigned char)needle[j]] = m - 1 - j;
    uint32_t count = 0;
    for (uint32_t i = 0; i + m <= n; i += skip[(unsigned char)hay[i + m - 1]]) {
        uint32_t j = m;
        while (j > 0 && hay[i + j - 1] == needle[j - 1]) j--;
        if (j == 0) count++;
    }
    return count;
}

int main(void) {
    uint32_t seed = 12345;
    char *p = text, *end = text + TEXT - 64;
    uint32_t records = 0;
    while (p < end) {
        seed = seed * 1103515245u + 12345u;
        uint32_t r = seed >> 8;
        p = put(p, "item"); p = putnum(p, r % 1000); p = put(p, ": qty="); p = putnum(p, (r >> 10) % 90);
        p = put(p, " price="); p = putnum(p, (r >> 4) % 50); *p++ = '.'; p = putnum(p, 10 + r % 90);
        p = put(p, " tags="); p = put(p, words[r & 7]); *p++ = ','; p = put(p, words[(r >> 3) & 7]);
        *p++ = (r & 0x300) ? ';' : '\n';
        *p++ = ' ';
        records++;
    }
    *p = 0;
    uint32_t n = (uint32_t)(p - text);
    // Tokenise: identifiers, integers, prices in hundredths.
    uint32_t hash = 2166136261u, identifiers = 0, numbers = 0, total = 0, cents = 0;
    for (uint32_t i = 0; i < n;) {
        unsigned char c = (unsigned char)text[i];
        if ((c | 32) >= 'a' && (c | 32) <= 'z') {
            while (i < n && (((unsigned char)text[i] | 32) >= 'a' && ((unsigned char)text[i] | 32) <= 'z')) {
                hash = (hash ^ (unsigned char)text[i]) * 16777619u;
                i++;
            }
            identifiers++;
        } else if (c >= '0' && c <= '9') {
            uint32_t v = 0;
            while (i < n && text[i] >= '0' && text[i] <= '9') v = v * 10 + (uint32_t)(text[i++] - '0');
            if (i < n && text[i] == '.') {
                i++;
                uint32_t f = 0;
                while (i < n && text[i] >= '0' && text[i] <= '9') f = f * 10 + (uint32_t)(text[i++] - '0');
                cents += v * 100 + f;
            } else {
                total += v;
            }
            numbers++;
        } else {
            i++;
        }
    }
    uint32_t lines = 0;
    for (const char *q = text; (q = find(q, '\n')) != 0; q++) lines++;
    static const char *const patterns[] = { "qty=1", "blue,red", "item99", "price=4", "violet;" };
    uint32_t found = 0, agree = 1;
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 5; k++) {
            uint32_t m = length(patterns[k]);
            uint32_t a = naive(text, n, patterns[k], m), b = horspool(text, n, patterns[k], m);
            agree &= a == b;
            found += a;
        }
    }
    uint32_t check = hash ^ (identifiers << 20) ^ (numbers << 8) ^ total ^ (cents * 3) ^ (lines << 12) ^ found;
    pg_puts("parse: "); pg_putdec(records); pg_puts(" records, "); pg_putdec(identifiers); pg_puts(" identifiers, ");
    pg_putdec(numbers); pg_puts(" numbers, "); pg_putdec(lines); pg_puts(" lines, "); pg_putdec(found);
    pg_puts(agree ? " matches (searches agree)\n" : " matches (SEARCHES DISAGREE)\n");
    pg_puts("parse checksum "); pg_puthex(check); pg_out('\n');
    return (int)(check & 0xff);
}
