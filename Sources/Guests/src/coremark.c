/* coremark: a mixed workload in the spirit of EEMBC CoreMark (written
 * fresh, not CoreMark itself): linked-list search and reversal, small
 * matrix arithmetic, and a byte-driven state machine, folded into CRC-16s. */
#include "pg32.h"

static uint16_t crc16(uint32_t v, uint16_t crc) {
    for (int i = 0; i < 32; i++) {
        uint16_t bit = (uint16_t)((v ^ crc) & 1);
        crc >>= 1;
        if (bit) crc ^= 0xA001;
        v >>= 1;
    }
    return crc;
}

/* --- linked list --- */
typedef struct node { struct node *next; int16_t key; int16_t value; } node;
#define NODES 200
static node pool[NODES];

static node *list_build(uint32_t seed) {
    node *head = 0;
    for (int i = 0; i < NODES; i++) {
        seed = seed * 1664525u + 1013904223u;
        pool[i].key = (int16_t)(i ^ (seed >> 20));
        pool[i].value = (int16_t)(seed >> 16);
        pool[i].next = head;
        head = &pool[i];
    }
    return head;
}
static node *list_reverse(node *h) {
    node *prev = 0;
    while (h) { node *n = h->next; h->next = prev; prev = h; h = n; }
    return prev;
}
static node *list_find(node *h, int16_t key) {
    while (h && h->key != key) h = h->next;
    return h;
}
/* insertion sort of the list by value */
static node *list_sort(node *h) {
    node *sorted = 0;
    while (h) {
        node *n = h->next, **p = &sorted;
        while (*p && (*p)->value < h->value) p = &(*p)->next;
        h->next = *p; *p = h; h = n;
    }
    return sorted;
}

/* --- matrix --- */
#define M 12
static int32_t ma[M][M], mb[M][M], mc[M][M];
static uint32_t matrix_work(int32_t k) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) { ma[i][j] = (i * M + j + k) & 0xff; mb[i][j] = ((i ^ j) + k) & 0x7f; }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            int32_t s = 0;
            for (int x = 0; x < M; x++) s += ma[i][x] * mb[x][j];
            mc[i][j] = s;
        }
    uint32_t acc = 0;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) acc += (uint32_t)(mc[i][j] > 10000 ? mc[i][j] >> 3 : mc[i][j] ^ k);
    return acc;
}

/* --- state machine: classifies tokens of a generated text --- */
enum { START, INT, FLOAT, EXP, SCI, INVALID, NSTATES };
static uint32_t state_machine(uint32_t seed, uint32_t counts[NSTATES]) {
    static const char alphabet[] = "0123456789.eE+-,x 5";
    char text[256];
    for (int i = 0; i < 255; i++) { seed = seed * 1103515245u + 12345u; text[i] = alphabet[(seed >> 16) % 19]; }
    text[255] = 0;
    int state = START;
    uint32_t transitions = 0;
    for (const char *p = text; *p; p++) {
        char c = *p;
        int next = state;
        if (c == ',' || c == ' ') { counts[state]++; next = START; }
        else switch (state) {
            case START: next = (c >= '0' && c <= '9') ? INT : (c == '+' || c == '-') ? INT : c == '.' ? FLOAT : INVALID; break;
            case INT: next = (c >= '0' && c <= '9') ? INT : c == '.' ? FLOAT : (c == 'e' || c == 'E') ? EXP : INVALID; break;
            case FLOAT: next = (c >= '0' && c <= '9') ? FLOAT : (c == 'e' || c == 'E') ? EXP : INVALID; break;
            case EXP: next = (c >= '0' && c <= '9') || c == '+' || c == '-' ? SCI : INVALID; break;
            case SCI: next = (c >= '0' && c <= '9') ? SCI : INVALID; break;
            default: next = INVALID; break;
        }
        if (next != state) transitions++;
        state = next;
    }
    return transitions;
}

int main(void) {
    uint16_t crc = 0;
    uint32_t counts[NSTATES] = { 0 };
    for (uint32_t iter = 0; iter < 120; iter++) {
        node *h = list_build(iter * 7919u + 1);
        node *f = list_find(h, (int16_t)(iter & 0x7f));
        crc = crc16(f ? (uint32_t)f->value : 0xffffu, crc);
        h = list_reverse(h);
        h = list_sort(h);
        crc = crc16((uint32_t)h->value, crc);
        crc = crc16(matrix_work((int32_t)iter), crc);
        crc = crc16(state_machine(iter, counts), crc);
    }
    uint32_t check = crc;
    for (int i = 0; i < NSTATES; i++) check = check * 31u + counts[i];
    pg_puts("tokens: ");
    for (int i = 0; i < NSTATES; i++) { pg_putdec(counts[i]); pg_out(i + 1 < NSTATES ? ' ' : '\n'); }
    pg_puts("coremark checksum "); pg_puthex(check); pg_out('\n');
    return (int)(check & 0xff);
}
