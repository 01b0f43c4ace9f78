/* wordfreq: text processing with the C library. Generates a text of
 * pseudo-random words (sprintf into a growing malloc'd buffer), splits it
 * with strtok, counts the words in a chained hash table of malloc'd entries
 * (strdup), sorts them by count and then alphabetically with qsort, prints
 * the most frequent with printf and frees everything. A guest built with
 * `bench build --libc` (picolibc). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORDS 6000
#define BUCKETS 256

static const char *const syllables[] = { "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "qua", "bel", "dor" };
#define NSYL (sizeof syllables / sizeof syllables[0])

struct entry { char *word; unsigned count; struct entry *next; };

static uint32_t next(uint32_t *state) { *state = *state * 1103515245u + 12345u; return *state >> 16; }

static int by_count(const void *a, const void *b) {
    const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
    if (x->count != y->count) return x->count < y->count ? 1 : -1;
    return strcmp(x->word, y->word);
}

static unsigned hash(const char *s) {
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

int main(void) {
    uint32_t state = 2026;
    size_t cap = 1024, len = 0;
    char *text = malloc(cap);
    if (!text) { puts("wordfreq: out of memory"); return 1; }
    for (int i = 0; i < WORDS; i++) {
        char word[32];
        /* Zipf-like: short words (few syllables, small indices) are far more common. */
        int n = 1 + (int)(next(&state) % 3), k = 0;
        for (int j = 0; j < n; j++) {
            uint32_t r = next(&state) % (NSYL * NSYL);
            k += sprintf(word + k, "%s", syllables[(r * r) / (NSYL * NSYL * NSYL)]);
        }
        if (len + (size_t)k + 2 > cap) {
            char *bigger = realloc(text, cap * 2);
            if (!bigger) { free(text); puts("wordfreq: out of memory"); return 1; }
            text = bigger; cap *= 2;
        }
        len += (size_t)sprintf(text + len, "%s%c", word, i % 11 == 10 ? '\n' : ' ');
    }

    struct entry *table[BUCKETS] = { 0 };
    unsigned distinct = 0, total = 0;
    for (char *w = strtok(text, " \n"); w; w = strtok(NULL, " \n")) {
        unsigned h = hash(w) % BUCKETS;
        struct entry *e = table[h];
        while (e && strcmp(e->word, w) != 0) e = e->next;
        if (!e) {
            e = malloc(sizeof *e);
            if (!e || !(e->word = strdup(w))) { puts("wordfreq: out of memory"); return 1; }
            e->count = 0; e->next = table[h]; table[h] = e;
            distinct++;
        }
        e->count++;
        total++;
    }

    struct entry **all = malloc(distinct * sizeof *all);
    if (!all) { puts("wordfreq: out of memory"); return 1; }
    unsigned n = 0;
    for (int h = 0; h < BUCKETS; h++) for (struct entry *e = table[h]; e; e = e->next) all[n++] = e;
    qsort(all, n, sizeof *all, by_count);

    uint32_t sum = 0;
    for (unsigned i = 0; i < n; i++) sum = sum * 31 + all[i]->count + hash(all[i]->word);
    for (unsigned i = 0; i < 5 && i < n; i++) printf("%-12s %5u  %5.2f%%\n", all[i]->word, all[i]->count, 100.0 * all[i]->count / total);
    printf("wordfreq: %u words, %u distinct, checksum %08lx\n", total, distinct, (unsigned long)sum);

    for (unsigned i = 0; i < n; i++) { free(all[i]->word); free(all[i]); }
    free(all);
    free(text);
    return (int)(sum & 0xFF);
}
