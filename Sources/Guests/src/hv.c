/* hv: a hardware-assisted hypervisor written as a PG32 guest, the first
 * user of VX (SPEC section 11). It runs two guest kernels, each in a region
 * of its own storage, under VMRUN, round-robin with the quota as the time
 * slice, and emulates the exits it asks for:
 * - SVC (exit 1) is a hypercall: a0 = 1 prints a1 in hex, a0 = 2 yields;
 * - GETL (exit 8) is emulated on the guest's own PSW;
 * - OUT and HALT always exit: OUT goes to this machine's console, HALT ends
 *   that guest; a quota exit switches to the other one.
 * Each guest also takes a trap of its own inside guest mode (a BREAK its
 * handler skips), which never reaches the hypervisor.
 *
 * The guests' code is this image's .user section (PG_USERCODE: position
 * independent), copied to each region at G address 0x1000. At the end the
 * hypervisor prints its exit counts and halts with the sum of the guests'
 * codes. Works on every profile: the guests run in supervisor mode. */
#include "kernel.h"

#define W 0x10000u                /* each guest's storage */
#define K0 0x40000u               /* first guest's region in this machine's storage */
#define GUEST_CODE 0x1000u        /* where the .user section goes in each guest */
#define SLICE 700u                /* quota per entry */

static pg_vm vms[2] __attribute__((aligned(16)));
static uint32_t exits[12];

/* --- The guest kernel (runs in guest mode, relocated: .user code only) --- */

PG_USERDATA static const char hello[] = "guest  up, l = ";

static inline void hypercall(uint32_t nr, uint32_t arg) {
    register uint32_t a0 __asm__("a0") = nr, a1 __asm__("a1") = arg;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1) : "memory");
}

/* Its trap handler: skips the trapping instruction and returns with LPSW of
 * the old PSW at 0. Entered by a trap, it must preserve every register: t0
 * is parked in G's low core at 0x30 (tp is left alone: hv-entry.S needs it). */
__attribute__((naked, section(".user.text"))) static void guest_trap(void) {
    __asm__ volatile(
        "sw t0, 0x30(x0)\n"
        "lw t0, 4(x0)\n"
        "addi t0, t0, 4\n"
        "sw t0, 4(x0)\n"
        "lw t0, 0x30(x0)\n"
        ".insn r 0x0B, 0, 1, x0, x0, x0\n"   /* lpsw 0(x0): back to the old PSW, now P + 4 */
    );
}

PG_USERCODE __attribute__((noreturn)) void guest_main(uint32_t id) {
    /* Our own trap vector, in our own low core: the handler runs on a small stack below 0x800. */
    volatile uint32_t *npsw = (volatile uint32_t *)0x10;
    npsw[0] = PG_SUPERVISOR;
    npsw[1] = GUEST_CODE + (uint32_t)((uintptr_t)guest_trap - (uintptr_t)__user_start);
    npsw[2] = 0;
    npsw[3] = W;
    for (const char *p = hello; *p; p++) pg_out(*p == ' ' && p == hello + 5 ? '0' + id : (uint32_t)*p);
    uint32_t l = pg_getl();
    pg_out('0' + l);
    pg_out('\n');
    uint32_t h = 2166136261u ^ id;
    for (uint32_t round = 0; round < 3; round++) {
        for (uint32_t i = 0; i < 400; i++) h = (h ^ i) * 16777619u;
        __asm__ volatile("ebreak" ::: "memory"); /* taken in G: our handler skips it */
        hypercall(1, h);
        hypercall(2, 0);
    }
    pg_halt(0x10 + id);
}

/* --- The hypervisor --- */

static void put_exit(uint32_t id, uint32_t v) {
    pg_puts("hv: guest ");
    pg_putdec(id);
    pg_puts(" says ");
    pg_puthex(v);
    pg_puts("\n");
}

int main(void) {
    uint32_t size = (uint32_t)(__user_end - __user_start);
    if (GUEST_CODE + size > W - 0x1000) {
        pg_puts("hv: guest code does not fit its region\n");
        return 0xEE;
    }
    for (uint32_t i = 0; i < 2; i++) {
        uint32_t k = K0 + i * 2 * W;
        memset((void *)(uintptr_t)k, 0, W);
        memcpy((void *)(uintptr_t)(k + GUEST_CODE), __user_start, size);
        pg_vm *vm = &vms[i];
        memset(vm, 0, sizeof *vm);
        vm->cb.mode = PG_SUPERVISOR;
        vm->cb.pc = GUEST_CODE + (uint32_t)((uintptr_t)guest_main - (uintptr_t)__user_start);
        vm->cb.l = 0;
        vm->cb.b = W;
        vm->cb.k = k;
        vm->cb.w = W;
        vm->cb.controls = PG_EXIT_ON_TRAP(PG_TRAP_SVC) | PG_EXIT_ON_GETL;
        vm->x[2] = W;          /* sp */
        vm->x[10] = i;         /* a0: the guest's id */
    }
    uint32_t running = 3, codes = 0, current = 0;
    while (running) {
        if (!(running & (1u << current))) { current ^= 1; continue; }
        pg_vm *vm = &vms[current];
        vm->cb.quota = SLICE;
        pg_vm_enter(vm);
        uint32_t reason = vm->cb.reason;
        if (reason < 12) exits[reason]++;
        switch (reason) {
        case PG_EXIT_OUT:
            pg_out(vm->cb.value);
            break;
        case PG_EXIT_HALT:
            codes += vm->cb.value;
            running &= ~(1u << current);
            current ^= 1;
            break;
        case PG_EXIT_QUOTA:
            current ^= 1;
            break;
        case PG_EXIT_SVC:
            vm->cb.pc += 4;
            if (vm->x[10] == 1) put_exit(current, vm->x[11]);
            else current ^= 1;
            break;
        case PG_EXIT_SYSTEM: {
            uint32_t rd = (vm->cb.word >> 7) & 31;   /* GETL: the guest's own l */
            if (rd) vm->x[rd] = vm->cb.l;
            vm->cb.pc += 4;
            break;
        }
        default:
            pg_puts("hv: unexpected exit ");
            pg_putdec(reason);
            pg_puts("\n");
            return 0xEF;
        }
    }
    pg_puts("hv: exits");
    for (uint32_t r = 0; r < 12; r++) {
        pg_puts(" ");
        pg_putdec(exits[r]);
    }
    pg_puts("\n");
    return codes;
}
