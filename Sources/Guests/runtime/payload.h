/* payload.h: what the guest-level monitors `bench nest` stacks (src/vmm.c,
 * trap-and-emulate; src/vxvmm.c, on VX) share: where the payload is, where
 * the VM goes, the state block `bench nest` reads, and the allocator's one
 * job, loading the payload's ELF segments into the VM's region. */
#ifndef PG32_PAYLOAD_H
#define PG32_PAYLOAD_H

#include "pg32.h"

#define K 0x40000u                  /* the VM's region in the monitor's storage */
#define PAYLOAD 0x20000u            /* header {magic, ELF size, VM size, 0}, then the ELF */
#define PAYLOAD_MAGIC 0x4D565750u   /* "PWVM" */
#define STATE_MAGIC 0x53565750u     /* "PWVS" */
/* The state block: magic, the guest's mode, P, l, b, then K, W and a count. */
#define STATE ((volatile uint32_t *)0x200)

static uint32_t rd32(uint32_t a) {
    const volatile uint8_t *p = (const volatile uint8_t *)(uintptr_t)a;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint32_t rd16(uint32_t a) { return rd32(a) & 0xffff; }

/* Loads the payload's PT_LOAD segments at K (the rest of the region stays
 * as the monitor's boot left it: zero), sets *entry to the guest's entry
 * point and *w to the VM's size; returns 0 if there is no payload. */
static int pg_load_payload(uint32_t *entry, uint32_t *w) {
    if (rd32(PAYLOAD) != PAYLOAD_MAGIC) return 0;
    uint32_t elf = PAYLOAD + 16;
    *w = rd32(PAYLOAD + 8);
    uint32_t phoff = rd32(elf + 28), phentsize = rd16(elf + 42), phnum = rd16(elf + 44);
    for (uint32_t i = 0; i < phnum; i++) {
        uint32_t ph = elf + phoff + i * phentsize;
        if (rd32(ph) != 1) continue;
        uint32_t off = rd32(ph + 4), paddr = rd32(ph + 12), filesz = rd32(ph + 16), memsz = rd32(ph + 20);
        for (uint32_t j = 0; j < memsz; j++)
            *(volatile uint8_t *)(uintptr_t)(K + paddr + j) = j < filesz ? *(const volatile uint8_t *)(uintptr_t)(elf + off + j) : 0;
    }
    *entry = rd32(elf + 24);
    return 1;
}

#endif
