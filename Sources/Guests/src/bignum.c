/* bignum: 64-bit arithmetic on a 32-bit machine, where every product is a
 * mul/mulhu (or mulh) pair and every sum a carry. Schoolbook multiplication
 * of 2048-bit numbers (32-bit limbs, 64-bit accumulators), a Q31 fixed-point
 * FIR filter (signed 32x32 -> 64 products, mulh), and modular exponentiation
 * modulo the Mersenne prime 2^61 - 1 (64x64 -> 128-bit products built from
 * 32-bit halves), with splitmix64 (a 64-bit multiply) generating the inputs. */
#include "pg32.h"

#define LIMBS 64
#define SQUARINGS 40
#define TAPS 96
#define SAMPLES 1024
#define POWERS 240

static uint32_t x[LIMBS], y[LIMBS], z[2 * LIMBS];
static int32_t taps[TAPS], signal[SAMPLES + TAPS];

static uint64_t splitmix(uint64_t *s) {
    uint64_t v = (*s += 0x9E3779B97F4A7C15ull);
    v = (v ^ (v >> 30)) * 0xBF58476D1CE4E5B9ull;
    v = (v ^ (v >> 27)) * 0x94D049BB133111EBull;
    return v ^ (v >> 31);
}

/* z = x * y, all LIMBS limbs each (2 * LIMBS in z). */
static void multiply(const uint32_t *a, const uint32_t *b, uint32_t *out) {
    for (int i = 0; i < 2 * LIMBS; i++) out[i] = 0;
    for (int i = 0; i < LIMBS; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < LIMBS; j++) {
            uint64_t t = (uint64_t)a[i] * b[j] + out[i + j] + carry;
            out[i + j] = (uint32_t)t;
            carry = t >> 32;
        }
        out[i + LIMBS] = (uint32_t)carry;
    }
}

#define P61 ((1ull << 61) - 1)

/* a * b mod 2^61 - 1, for a, b < 2^61: the 122-bit product from four 32x32 products. */
static uint64_t mulmod(uint64_t a, uint64_t b) {
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    uint64_t lo = (mid << 32) | (uint32_t)ll;
    uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    /* product = hi * 2^64 + lo, and 2^61 = 1 (mod p) */
    uint64_t r = (lo & P61) + ((lo >> 61) | (hi << 3));
    r = (r & P61) + (r >> 61);
    return r >= P61 ? r - P61 : r;
}

static uint64_t powmod(uint64_t base, uint64_t e) {
    uint64_t r = 1;
    if (base >= P61) base -= P61;
    while (e) {
        if (e & 1) r = mulmod(r, base);
        base = mulmod(base, base);
        e >>= 1;
    }
    return r;
}

int main(void) {
    uint64_t seed = 42;
    for (int i = 0; i < LIMBS; i++) { x[i] = (uint32_t)splitmix(&seed); y[i] = (uint32_t)(splitmix(&seed) >> 32); }
    /* Repeated: z = x * y; x = the low half, y = the high half. */
    for (int round = 0; round < SQUARINGS; round++) {
        multiply(x, y, z);
        for (int i = 0; i < LIMBS; i++) { x[i] = z[i] ^ (uint32_t)round; y[i] = z[i + LIMBS] | 1; }
    }
    uint32_t limbs = 0;
    for (int i = 0; i < 2 * LIMBS; i++) limbs = (limbs << 3 | limbs >> 29) ^ z[i];

    for (int i = 0; i < TAPS; i++) taps[i] = (int32_t)(splitmix(&seed) >> 33) - (1 << 30);
    for (int i = 0; i < SAMPLES + TAPS; i++) signal[i] = (int32_t)(uint32_t)splitmix(&seed);
    uint32_t filtered = 0;
    int64_t peak = 0;
    for (int n = 0; n < SAMPLES; n++) {
        int64_t acc = 0;
        for (int k = 0; k < TAPS; k++) acc += (int64_t)taps[k] * signal[n + k];
        int64_t out = acc >> 31;
        if (out > peak) peak = out;
        filtered = (filtered << 1 | filtered >> 31) ^ (uint32_t)out ^ (uint32_t)(out >> 32);
    }

    uint64_t powers = 0;
    for (int i = 0; i < POWERS; i++) {
        uint64_t b = splitmix(&seed) >> 3, e = splitmix(&seed);
        powers ^= powmod(b, e) + (uint64_t)i;
    }
    /* Fermat: a^(p-1) = 1 mod p for a prime p. */
    uint32_t fermat = powmod(0x123456789ull, P61 - 1) == 1;

    uint32_t check = limbs ^ filtered ^ (uint32_t)powers ^ (uint32_t)(powers >> 32) ^ (uint32_t)(peak >> 8) ^ fermat;
    pg_puts("bignum: limbs "); pg_puthex(limbs); pg_puts(", filter "); pg_puthex(filtered); pg_puts(", powers ");
    pg_puthex((uint32_t)(powers >> 32)); pg_puthex((uint32_t)powers); pg_puts(fermat ? ", Fermat holds\n" : ", FERMAT FAILS\n");
    pg_puts("bignum checksum "); pg_puthex(check); pg_out('\n');
    return (int)(check & 0xff);
}
