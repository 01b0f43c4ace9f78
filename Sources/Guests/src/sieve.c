/* sieve: the sieve of Eratosthenes over several limits; prints the prime
 * counts and a checksum of the primes found. */
#include "pg32.h"

#define LIMIT 400000
static uint8_t composite[LIMIT + 1];

static uint32_t sieve(uint32_t n, uint32_t *sum) {
    for (uint32_t i = 0; i <= n; i++) composite[i] = 0;
    uint32_t count = 0, s = 0;
    for (uint32_t i = 2; i <= n; i++) {
        if (composite[i]) continue;
        count++;
        s = s * 31 + i;
        for (uint32_t j = i * i; j <= n && i < 65536; j += i) composite[j] = 1;
    }
    *sum = s;
    return count;
}

int main(void) {
    uint32_t check = 0;
    static const uint32_t limits[] = { 1000, 50000, 250000, LIMIT };
    for (int k = 0; k < 4; k++) {
        uint32_t sum, c = sieve(limits[k], &sum);
        pg_puts("primes <= "); pg_putdec(limits[k]); pg_puts(": "); pg_putdec(c); pg_out('\n');
        check = (check ^ sum) * 2654435761u + c;
    }
    pg_puts("sieve checksum "); pg_puthex(check); pg_out('\n');
    return (int)(check & 0xff);
}
