/* kernel.h: what a PG32 guest kernel needs beyond pg32.h.
 *
 * A trap enters pg_trap_entry (kernel.S) in supervisor mode with l = 0; it
 * saves x1..x31 at PG_SAVE[1..31] in low core, calls the kernel's
 * `void pg_trap(void)` on a kernel stack, restores x1..x31 from PG_SAVE and
 * returns with LPSW from the old PSW at 0x00. A handler resumes a different
 * process by rewriting PG_SAVE and *PG_OLD_PSW before it returns.
 *
 * Code that runs relocated in a user process lives in the .user sections
 * (PG_USERCODE, PG_USERDATA): the link script keeps them contiguous between
 * __user_start and __user_end, so the kernel can copy them to any process
 * region and jump to (function - __user_start). Such code may call only
 * PG_USERCODE functions and static inline helpers (no runtime calls), keeps its
 * strings in PG_USERDATA arrays, and has no `switch` (a jump table would
 * land in .rodata, outside the copied sections).
 */
#ifndef PG32_KERNEL_H
#define PG32_KERNEL_H

#include "pg32.h"

/* Saved registers: PG_SAVE[r] holds x[r] of the trapped code (r >= 1). */
#define PG_SAVE ((volatile uint32_t *)0x40)

#define PG_USERCODE  __attribute__((section(".user.text"), noinline))
#define PG_USERDATA __attribute__((section(".user.rodata")))

extern char pg_trap_entry[];
extern char __user_start[], __user_end[];

void pg_trap(void);   /* written by each kernel */

/* Restores x1..x31 from PG_SAVE and resumes at the old PSW: how a kernel
 * starts its first process, after filling PG_SAVE and *PG_OLD_PSW. */
__attribute__((noreturn)) void pg_trap_return(void);

/* Copies a PSW into low core or a process table, word by word (low core is volatile). */
static inline void pg_psw_store(volatile pg_psw *to, uint32_t mode, uint32_t pc, uint32_t l, uint32_t b) {
    to->mode = mode; to->pc = pc; to->l = l; to->b = b;
}

/* Makes every trap enter pg_trap_entry in supervisor mode with R = (0, w). */
static inline void pg_install_trap_handler(void) {
    PG_NEW_PSW->mode = PG_SUPERVISOR;
    PG_NEW_PSW->pc = (uint32_t)(uintptr_t)pg_trap_entry;
    PG_NEW_PSW->l = 0;
    PG_NEW_PSW->b = pg_getb();
}

/* A system call from user code: a0 = number, a1 = argument; returns a0. */
static inline __attribute__((always_inline)) uint32_t pg_syscall(uint32_t number, uint32_t arg) {
    register uint32_t a0 __asm__("a0") = number;
    register uint32_t a1 __asm__("a1") = arg;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1) : "memory");
    return a0;
}

/* Starts `entry` in user mode with R = (0, w) and the stack at `stack_top`
 * (all other registers as PG_SAVE holds them), as if returning from a trap. */
static inline __attribute__((noreturn)) void pg_enter_user(void (*entry)(void), void *stack_top) {
    PG_SAVE[2] = (uint32_t)(uintptr_t)stack_top;
    pg_psw_store(PG_OLD_PSW, PG_USER, (uint32_t)(uintptr_t)entry, 0, pg_getb());
    pg_trap_return();
}

/* Leaves the trap handler: the saved P (an ECALL or a faulting access) is skipped. */
static inline void pg_skip_trapping_instruction(void) { PG_OLD_PSW->pc += 4; }

#endif
