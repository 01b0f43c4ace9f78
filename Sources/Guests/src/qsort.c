/* qsort: recursive quicksort (median of three, insertion sort for short
 * runs) of pseudo-random integers; verifies the order and checksums it. */
#include "pg32.h"

#define COUNT 60000
static int32_t data[COUNT];

static void insertion(int32_t *v, int n) {
    for (int i = 1; i < n; i++) {
        int32_t t = v[i]; int j = i - 1;
        while (j >= 0 && v[j] > t) { v[j + 1] = v[j]; j--; }
        v[j + 1] = t;
    }
}

static void swap(int32_t *x, int32_t *y) { int32_t t = *x; *x = *y; *y = t; }

static void quicksort(int32_t *v, int n) {
    while (n > 16) {
        int m = n / 2;
        if (v[m] < v[0]) swap(&v[m], &v[0]);
        if (v[n - 1] < v[0]) swap(&v[n - 1], &v[0]);
        if (v[n - 1] < v[m]) swap(&v[n - 1], &v[m]);
        int32_t pivot = v[m];
        int i = 0, j = n - 1;
        for (;;) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i >= j) break;
            swap(&v[i], &v[j]); i++; j--;
        }
        /* recurse into the smaller side, loop on the larger: bounded stack */
        if (j + 1 < n - j - 1) { quicksort(v, j + 1); v += j + 1; n -= j + 1; }
        else { quicksort(v + j + 1, n - j - 1); n = j + 1; }
    }
    insertion(v, n);
}

int main(void) {
    uint32_t x = 2463534242u;
    for (int i = 0; i < COUNT; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        data[i] = (int32_t)(x % 1000003u) - 500000;
    }
    quicksort(data, COUNT);
    uint32_t sorted = 1, check = 0;
    for (int i = 0; i < COUNT; i++) {
        if (i && data[i - 1] > data[i]) sorted = 0;
        check = check * 16777619u ^ (uint32_t)data[i];
    }
    pg_puts(sorted ? "sorted " : "NOT sorted "); pg_putdec(COUNT); pg_puts(" integers, min ");
    pg_putint(data[0]); pg_puts(", max "); pg_putint(data[COUNT - 1]); pg_out('\n');
    pg_puts("qsort checksum "); pg_puthex(check); pg_out('\n');
    return (int)((check & 0xff) ^ (sorted ? 0 : 0xff));
}
