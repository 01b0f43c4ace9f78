/* chase: pointer chasing. A singly linked list of 8192 nodes threaded through
 * a pool in random order, walked 48 times (every load's address comes from
 * the load before it); then a binary search tree of 4096 random keys, built
 * and searched 16384 times. Links are 32-bit indices rather than pointers so
 * that the nodes have the same size natively (x86-64) as on PG32 and QEMU. */
#include "pg32.h"

#define NODES 8192
#define PASSES 48
#define KEYS 4096
#define SEARCHES 16384
#define NIL 0xFFFFFFFFu

struct node { uint32_t next, value; };
struct tnode { uint32_t left, right, key, count; };

static struct node pool[NODES];
static uint32_t order[NODES];
static struct tnode tree[KEYS];

static uint32_t rnd(uint32_t *s) {
    uint32_t x = *s;
    x ^= x << 13; x ^= x >> 17; x ^= x << 5;
    return *s = x;
}

int main(void) {
    uint32_t seed = 0x2545F491u;
    for (uint32_t i = 0; i < NODES; i++) order[i] = i;
    for (uint32_t i = NODES - 1; i > 0; i--) { // Fisher-Yates
        uint32_t j = rnd(&seed) % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint32_t i = 0; i < NODES; i++) {
        pool[order[i]].next = i + 1 < NODES ? order[i + 1] : NIL;
        pool[order[i]].value = rnd(&seed);
    }
    uint32_t walk = 0, visited = 0;
    for (int pass = 0; pass < PASSES; pass++) {
        for (uint32_t p = order[0]; p != NIL; p = pool[p].next) {
            walk = (walk << 1 | walk >> 31) + pool[p].value;
            visited++;
        }
        pool[order[pass]].value ^= walk; // each pass sees the last one's effect
    }
    uint32_t root = NIL, used = 0, duplicates = 0;
    for (uint32_t i = 0; i < KEYS; i++) {
        uint32_t key = rnd(&seed) & 0xFFFF, *link = &root;
        while (*link != NIL && tree[*link].key != key) link = key < tree[*link].key ? &tree[*link].left : &tree[*link].right;
        if (*link != NIL) { tree[*link].count++; duplicates++; continue; }
        tree[used] = (struct tnode){ NIL, NIL, key, 1 };
        *link = used++;
    }
    uint32_t found = 0, depth = 0;
    for (uint32_t i = 0; i < SEARCHES; i++) {
        uint32_t key = rnd(&seed) & 0xFFFF, t = root;
        while (t != NIL && tree[t].key != key) {
            t = key < tree[t].key ? tree[t].left : tree[t].right;
            depth++;
        }
        if (t != NIL) found += tree[t].count;
    }
    uint32_t check = walk ^ (found << 16) ^ depth ^ (duplicates << 8);
    pg_puts("chase: "); pg_putdec(visited); pg_puts(" nodes visited, "); pg_putdec(used); pg_puts(" keys, ");
    pg_putdec(found); pg_puts(" found, depth "); pg_putdec(depth); pg_out('\n');
    pg_puts("chase checksum "); pg_puthex(check); pg_out('\n');
    return (int)(check & 0xff);
}
