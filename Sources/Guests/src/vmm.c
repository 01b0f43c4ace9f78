/* vmm: a virtual machine monitor that runs as a PG32 guest (Popek and
 * Goldberg's Theorem 2: on a virtualizable machine, a VMM can run under
 * itself). For pg32v.
 *
 * Its guest is a payload at 0x20000: a header {magic, ELF size, VM size}
 * followed by an ELF image (which may itself be this monitor with a payload:
 * `bench nest` builds the tower). The allocator is fixed: the VM lives at
 * K = 0x40000 in this monitor's storage and has VM-size bytes. The guest
 * runs in real user mode under the standard VM map (SPEC section 9); the
 * dispatcher (pg_trap) emulates privileged instructions from virtual
 * supervisor mode with one interpreter routine each, and reflects every
 * other trap into the guest's low core at K, checkstopping when the guest's
 * vector is unusable.
 *
 * So that the run ends exactly as the guest's would, the guest's HALT (or
 * checkstop) is executed by the monitor with all the guest's registers
 * restored; the guest's virtual PSW at that moment is recorded in the state
 * block at 0x200 for `bench nest` to compare. */
#include "kernel.h"
#include "payload.h"

static uint32_t vmode, vpc, vl, vb, W, traps;
/* One instruction the monitor executes with the guest's registers restored. */
static volatile uint32_t slot[2] __attribute__((aligned(4)));

/* x[r] of the guest (saved by the trap stub), x0 reading 0. */
static uint32_t reg(uint32_t r) { return r ? PG_SAVE[r] : 0; }
static void set_reg(uint32_t r, uint32_t v) { if (r) PG_SAVE[r] = v; }

/* The VM map: guest physical address of an n-byte access at virtual a, or 0 if it traps. */
static int mapped(uint32_t a, uint32_t n, uint32_t *phys) {
    if ((uint64_t)a + n > vb || (uint64_t)vl + a + n > W) return 0;
    *phys = K + vl + a;
    return 1;
}

static void record_state(void) {
    STATE[0] = STATE_MAGIC; STATE[1] = vmode; STATE[2] = vpc; STATE[3] = vl; STATE[4] = vb;
    STATE[5] = K; STATE[6] = W; STATE[7] = traps;
}

/* Ends the monitor's own run by executing `word` at the slot with every guest register restored. */
static void finish_with(uint32_t word) {
    record_state();
    slot[0] = word;
    pg_psw_store(PG_OLD_PSW, PG_SUPERVISOR, (uint32_t)(uintptr_t)slot, 0, pg_getb());
}

/* The guest checkstopped: checkstop this machine too (an EBREAK into an unusable vector). */
static void checkstop(void) {
    pg_psw_store(PG_NEW_PSW, PG_SUPERVISOR, 2, 0, 0);
    finish_with(0x00100073u);
}

/* Reflects a trap into the guest exactly as its bare machine would take it. */
static void reflect(uint32_t cause, uint32_t value) {
    volatile uint32_t *low = (volatile uint32_t *)(uintptr_t)K;
    low[0] = vmode; low[1] = vpc; low[2] = vl; low[3] = vb; low[8] = cause; low[9] = value;
    vmode = low[4] & 1; vpc = low[5]; vl = low[6]; vb = low[7];
    uint32_t phys;
    if ((vpc & 3) || !mapped(vpc, 4, &phys)) checkstop();
}

/* One interpreter routine per privileged instruction, against the virtual PSW. */
static void interpret(uint32_t word) {
    uint32_t f7 = word >> 25, rd = (word >> 7) & 31, a = reg((word >> 15) & 31), c = reg((word >> 20) & 31);
    uint32_t phys;
    if (f7 == 0) { vpc += 4; finish_with(word); return; }                      /* HALT */
    if (f7 == 1) {                                                               /* LPSW */
        if (!mapped(a, 16, &phys)) { reflect(PG_TRAP_MEMORY, a); return; }
        vmode = rd32(phys) & 1; vpc = rd32(phys + 4); vl = rd32(phys + 8); vb = rd32(phys + 12);
        return;
    }
    if (f7 == 2) { vl = a; vb = c; vpc += 4; return; }                          /* SETR */
    if (f7 == 3) { set_reg(rd, vmode); vpc += 4; return; }                       /* GETM */
    if (f7 == 4) { set_reg(rd, vl); vpc += 4; return; }                          /* GETL */
    if (f7 == 5) { set_reg(rd, vb); vpc += 4; return; }                          /* GETB */
    if (f7 == 6) { vmode = PG_USER; vpc = a; return; }                           /* JRSTU */
    if (f7 == 7) { vmode = a & 1; vpc += 4; return; }                            /* SETM */
    if (f7 == 8) { pg_out(a); vpc += 4; return; }                                /* OUT */
    /* VMRUN (SPEC version 2, section 11): nesting VX is not implemented in this
     * guest-level monitor. Say so and stop, rather than emulate something else. */
    pg_puts("vmm: the guest executed VMRUN, which this guest-level monitor does not virtualize\n");
    pg_halt(0xEF);
}

/* The dispatcher: every trap of the guest comes here. */
void pg_trap(void) {
    if (PG_OLD_PSW->mode == PG_SUPERVISOR) {      /* the monitor itself trapped: a bug */
        pg_puts("vmm: trap in the monitor, cause "); pg_putdec(PG_CAUSE); pg_out('\n');
        pg_halt(0xDEAD);
    }
    traps++;
    vpc = PG_OLD_PSW->pc;
    uint32_t cause = PG_CAUSE, value = PG_VALUE;
    if (cause == PG_TRAP_PRIVILEGED && vmode == PG_SUPERVISOR) interpret(value);
    else reflect(cause, value);
    if (PG_OLD_PSW->mode == PG_SUPERVISOR) return;  /* finishing: the slot runs next */
    /* Resume the guest: real user mode, the standard VM map. */
    uint32_t real_l = vl < W ? K + vl : K, real_b = vl < W ? (vb < W - vl ? vb : W - vl) : 0;
    pg_psw_store(PG_OLD_PSW, PG_USER, vpc, real_l, real_b);
}

int main(void) {
    uint32_t entry;
    if (!pg_load_payload(&entry, &W)) { pg_puts("vmm: no guest image at 0x20000\n"); return 0xEE; }
    vmode = PG_SUPERVISOR; vpc = entry; vl = 0; vb = W;
    record_state();
    pg_install_trap_handler();
    for (int r = 1; r < 32; r++) PG_SAVE[r] = 0;   /* the guest boots with every register 0 */
    pg_psw_store(PG_OLD_PSW, PG_USER, vpc, K, W);
    pg_trap_return();
}
