/* vxvmm: a virtual machine monitor on VX that runs as a PG32 guest, the
 * hardware-assisted counterpart of vmm.c, for towers (`bench nest --monitor
 * vxvmm`). Works on every profile: VX virtualizes every sensitive
 * instruction of its guest (SPEC section 11).
 *
 * Its guest is the same payload vmm.c takes at 0x20000 (a header {magic, ELF
 * size, VM size} followed by an ELF image, which may be this monitor with a
 * payload of its own). The VM lives at K = 0x40000 in this monitor's storage
 * and runs under VMRUN with no exit controls, so the hardware runs the
 * guest's system instructions and delivers its traps in guest mode; only
 * HALT, OUT, VMRUN and a checkstop come back to the exit handler:
 * - OUT goes to this machine's console;
 * - HALT (and a checkstop) ends this machine's run as the guest's own would:
 *   the monitor executes the guest's HALT with all the guest's registers
 *   restored and records the guest's PSW in the state block at 0x200 for
 *   `bench nest` to compare;
 * - VMRUN (exit 11) runs the guest's own guest (nested VX, SPEC section 9's
 *   rule for VMRUN): the guest's control block is read under the guest's R,
 *   refused as the hardware would refuse it, else entered with its storage
 *   composed with the VM's (k' + K, bounded by the VM's W) and exactly the
 *   exit controls, quota and entry state the guest asked for; every exit of
 *   that inner guest is the guest's, written back into its block.
 *
 * VMRUN neither saves nor switches registers, and the guest's registers
 * must be exactly its own at every entry, so the entry stub keeps no
 * register for itself: the guest's x1..x31 live at PG_SAVE (0x44..0xBF),
 * reached x0-relative, and the control block the stub enters is at physical
 * 0 (`vmrun x0`). The monitor takes no trap of its own, so nothing else
 * writes low core 0x00..0x2F. */
#include "kernel.h"
#include "payload.h"

/* The control block every VMRUN of this monitor uses (and, at the end, the PSW its LPSW loads). */
#define CB ((volatile pg_vmcb *)0)

/* The VM as the exit handler keeps it between entries (its PSW, quota and entry state). */
static pg_vmcb vm;
static uint32_t W, exits;
/* One instruction the monitor executes with the guest's registers restored. */
static volatile uint32_t slot[2] __attribute__((aligned(4)));
static uint8_t stack[4096] __attribute__((aligned(16)));

/* vx_run: VMRUN the block at 0 with the guest registers from PG_SAVE, and
 * store them back there at the exit. vx_finish: restore them and LPSW the
 * PSW at 0 (the slot holding the guest's last instruction). */
void vx_run(void);
__attribute__((noreturn)) void vx_finish(void);
__asm__(
    "    .text\n"
    "    .globl vx_run\n"
    "vx_run:\n"
    "    la t0, vx_host_save\n"
    "    sw ra, 0(t0)\n  sw sp, 4(t0)\n  sw gp, 8(t0)\n  sw s0, 12(t0)\n  sw s1, 16(t0)\n"
    "    sw s2, 20(t0)\n sw s3, 24(t0)\n sw s4, 28(t0)\n sw s5, 32(t0)\n  sw s6, 36(t0)\n"
    "    sw s7, 40(t0)\n sw s8, 44(t0)\n sw s9, 48(t0)\n sw s10, 52(t0)\n sw s11, 56(t0)\n"
    "    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "    lw x\\r, (0x40 + 4 * \\r)(x0)\n"
    "    .endr\n"
    "    .insn r 0x0B, 0, 9, x0, x0, x0\n"          /* vmrun x0 */
    "    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "    sw x\\r, (0x40 + 4 * \\r)(x0)\n"
    "    .endr\n"
    "    la t0, vx_host_save\n"
    "    lw ra, 0(t0)\n  lw sp, 4(t0)\n  lw gp, 8(t0)\n  lw s0, 12(t0)\n  lw s1, 16(t0)\n"
    "    lw s2, 20(t0)\n lw s3, 24(t0)\n lw s4, 28(t0)\n lw s5, 32(t0)\n  lw s6, 36(t0)\n"
    "    lw s7, 40(t0)\n lw s8, 44(t0)\n lw s9, 48(t0)\n lw s10, 52(t0)\n lw s11, 56(t0)\n"
    "    ret\n"
    "    .globl vx_finish\n"
    "vx_finish:\n"
    "    .irp r, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n"
    "    lw x\\r, (0x40 + 4 * \\r)(x0)\n"
    "    .endr\n"
    "    .insn r 0x0B, 0, 1, x0, x0, x0\n"          /* lpsw 0(x0) */
    "    .bss\n"
    "    .align 4\n"
    "vx_host_save:\n"
    "    .space 64\n"
    "    .text\n");

static void record_state(void) {
    STATE[0] = STATE_MAGIC; STATE[1] = vm.mode & 1; STATE[2] = vm.pc; STATE[3] = vm.l; STATE[4] = vm.b;
    STATE[5] = K; STATE[6] = W; STATE[7] = exits;
}

/* Ends this machine's run by executing `word` with every guest register restored. */
static __attribute__((noreturn)) void finish_with(uint32_t word) {
    record_state();
    slot[0] = word;
    pg_psw_store((volatile pg_psw *)CB, PG_SUPERVISOR, (uint32_t)(uintptr_t)slot, 0, K + W);
    vx_finish();
}

/* Enters the VM once: its block at 0, then what the hardware wrote back. */
static void enter_vm(void) {
    CB->mode = vm.mode; CB->pc = vm.pc; CB->l = vm.l; CB->b = vm.b; CB->k = vm.k; CB->w = vm.w;
    CB->controls = vm.controls; CB->quota = vm.quota; CB->entry = vm.entry;
    vx_run();
    vm.mode = CB->mode; vm.pc = CB->pc; vm.l = CB->l; vm.b = CB->b;
    vm.quota = CB->quota; vm.reason = CB->reason; vm.value = CB->value; vm.word = CB->word; vm.entry = CB->entry;
    exits++;
}

/* Reflects a trap into the VM as its bare machine would take it (section 3),
 * the next entry's first fetch being the first after a trap entry. */
static void reflect(uint32_t cause, uint32_t value) {
    volatile uint32_t *low = (volatile uint32_t *)(uintptr_t)K;
    low[0] = vm.mode & 1; low[1] = vm.pc; low[2] = vm.l; low[3] = vm.b; low[8] = cause; low[9] = value;
    vm.mode = low[4] & 1; vm.pc = low[5]; vm.l = low[6]; vm.b = low[7];
    vm.entry = 1;
}

/* Exit 11: the VM's VMRUN, run on the real VX with the inner guest's storage composed with the VM's. */
static void nested_vmrun(void) {
    uint32_t rs1 = (vm.word >> 15) & 31, a = rs1 ? PG_SAVE[rs1] : 0;
    if ((uint64_t)a + 48 > vm.b || (uint64_t)vm.l + a + 48 > W) { reflect(PG_TRAP_MEMORY, a); return; }
    volatile pg_vmcb *inner = (volatile pg_vmcb *)(uintptr_t)(K + vm.l + a);
    uint32_t k = inner->k, w = inner->w;
    vm.pc += 4;   /* the VM continues after its VMRUN whatever the inner guest does */
    if (w % 4096 || w < 4096 || (uint64_t)k + w > W) {
        inner->reason = PG_EXIT_REFUSED; inner->value = 0; inner->word = 0;
        return;
    }
    CB->mode = inner->mode; CB->pc = inner->pc; CB->l = inner->l; CB->b = inner->b;
    CB->k = K + k; CB->w = w; CB->controls = inner->controls; CB->quota = inner->quota; CB->entry = inner->entry;
    vx_run();
    inner->reason = CB->reason; inner->value = CB->value; inner->word = CB->word;
    if (CB->reason == PG_EXIT_REFUSED) return;
    inner->mode = CB->mode; inner->pc = CB->pc; inner->l = CB->l; inner->b = CB->b;
    inner->quota = CB->quota; inner->entry = CB->entry;
}

/* The exit handler: one case per exit reason the VM's controls (none) can give. */
__attribute__((noreturn, used)) void vx_main(void) {
    for (;;) {
        enter_vm();
        switch (vm.reason) {
        case PG_EXIT_OUT: pg_out(vm.value); break;
        case PG_EXIT_HALT: finish_with(vm.word);
        case PG_EXIT_VMRUN: nested_vmrun(); break;
        case PG_EXIT_QUOTA: break;   /* quota 0 is no limit; nothing to switch to */
        case PG_EXIT_CHECKSTOP:
            /* The guest checkstopped: checkstop this machine too (an EBREAK into an unusable vector). */
            pg_psw_store(PG_NEW_PSW, PG_SUPERVISOR, 2, 0, 0);
            finish_with(0x00100073u);
        default:
            pg_puts("vxvmm: unexpected exit, reason "); pg_putdec(vm.reason); pg_out('\n');
            pg_halt(0xED);
        }
    }
}

__attribute__((noreturn, used)) void vx_boot(void) {
    uint32_t entry;
    if (!pg_load_payload(&entry, &W)) { pg_puts("vxvmm: no guest image at 0x20000\n"); pg_halt(0xEE); }
    vm = (pg_vmcb){ .mode = PG_SUPERVISOR, .pc = entry, .l = 0, .b = W, .k = K, .w = W };
    record_state();
    for (int r = 1; r < 32; r++) PG_SAVE[r] = 0;   /* the guest boots with every register 0 */
    vx_main();
}

/* The monitor runs on a stack of its own from its first instruction: crt0's
 * is at the top of storage, inside the VM, whose storage must stay as the
 * guest's bare machine boots it (zero outside its image). */
__attribute__((naked)) int main(void) {
    __asm__ volatile("la sp, %0\n li t0, %1\n add sp, sp, t0\n j vx_boot" :: "i"(stack), "i"(sizeof stack));
}
