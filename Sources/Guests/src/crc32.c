/* crc32: table-driven CRC-32 (IEEE 802.3, reflected) over a generated buffer,
 * checked first against the standard test vector "123456789" = cbf43926. */
#include "pg32.h"

#define SIZE (128 * 1024)
static uint32_t table[256];
static uint8_t buffer[SIZE];

static uint32_t crc32(const uint8_t *p, uint32_t n, uint32_t crc) {
    crc = ~crc;
    while (n--) crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int main(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t vector = crc32((const uint8_t *)"123456789", 9, 0);
    pg_puts("crc32(\"123456789\") = "); pg_puthex(vector); pg_out('\n');
    uint32_t x = 0x12345678;
    for (uint32_t i = 0; i < SIZE; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        buffer[i] = (uint8_t)(x >> 24);
    }
    uint32_t crc = 0;
    for (int pass = 0; pass < 6; pass++) {
        crc = crc32(buffer, SIZE, crc);
        buffer[pass * 977] ^= (uint8_t)crc;
    }
    uint32_t check = crc ^ vector;
    pg_puts("crc32 checksum "); pg_puthex(check); pg_out('\n');
    return (int)(check & 0xff);
}
