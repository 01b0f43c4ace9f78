/* pg32.h: the PG32 guest runtime (../../SPEC: ../shared/SPEC.md).
 *
 * One wrapper per system instruction (SPEC section 5), each a single
 * `.insn r 0x0B, 0, FUNCT7, rd, rs1, rs2`, plus console helpers.
 * Built with -DPG_HOST, the same guest source compiles natively for the
 * host (x86-64): OUT goes to a buffer and HALT ends the run, so the speed
 * benchmark can time identical C on both sides.
 */
#ifndef PG32_H
#define PG32_H

#include <stdint.h>
#include <stddef.h>

/* A PSW as stored in low core and read by LPSW: mode, pc, l, b. */
typedef struct { uint32_t mode, pc, l, b; } pg_psw;

enum { PG_SUPERVISOR = 0, PG_USER = 1 };
enum { PG_TRAP_SVC = 1, PG_TRAP_BREAK = 2, PG_TRAP_PRIVILEGED = 3, PG_TRAP_MEMORY = 4, PG_TRAP_ILLEGAL = 5 };

/* VX (SPEC section 11): the 48-byte VM control block, exit reasons, exit controls. */
typedef struct {
    uint32_t mode, pc, l, b;   /* guest PSW: host fills it; hardware writes it at exit */
    uint32_t k, w;             /* the guest's storage E[k .. k+w) */
    uint32_t controls;         /* PG_EXIT_ON_* bits */
    uint32_t quota;            /* guest instructions this entry may run; 0 = no limit; what is left at exit */
    uint32_t reason, value, word; /* written at exit */
    uint32_t entry;            /* bit 0: G's next fetch is the first after a trap entry */
} pg_vmcb;

enum {
    PG_EXIT_REFUSED = 0, PG_EXIT_SVC = 1, PG_EXIT_BREAK = 2, PG_EXIT_PRIVILEGED = 3, PG_EXIT_MEMORY = 4,
    PG_EXIT_ILLEGAL = 5, PG_EXIT_HALT = 6, PG_EXIT_OUT = 7, PG_EXIT_SYSTEM = 8, PG_EXIT_QUOTA = 9,
    PG_EXIT_CHECKSTOP = 10, PG_EXIT_VMRUN = 11,
};
/* Exit controls: bit c exits on traps of cause c; bit 8 + funct7 on LPSW .. SETM. */
#define PG_EXIT_ON_TRAP(cause) (1u << (cause))
#define PG_EXIT_ON_LPSW  (1u << 9)
#define PG_EXIT_ON_SETR  (1u << 10)
#define PG_EXIT_ON_GETM  (1u << 11)
#define PG_EXIT_ON_GETL  (1u << 12)
#define PG_EXIT_ON_GETB  (1u << 13)
#define PG_EXIT_ON_JRSTU (1u << 14)
#define PG_EXIT_ON_SETM  (1u << 15)

/* A guest as a host keeps it: its control block, then its registers x0..x31
 * (saved by pg_vm_enter at each exit; x4, tp, carries the block's address). */
typedef struct {
    pg_vmcb cb;
    uint32_t x[32];
} pg_vm;

#ifndef PG_HOST
void pg_vm_enter(pg_vm *vm); /* hv-entry.S */
#endif

/* The HALT code of abort() and a failed assert in a guest built with
 * `bench build --libc` (runtime/libc/board.c): outside exit()'s 0..255, its
 * low byte 134 as a shell reports an aborted process (128 + SIGABRT). */
#define PG_ABORT_CODE 0x186u

/* Low core (physical, SPEC section 3); reached x0-relative while l = 0. */
#define PG_OLD_PSW   ((volatile pg_psw *)0x00)
#define PG_NEW_PSW   ((volatile pg_psw *)0x10)
#define PG_CAUSE     (*(volatile uint32_t *)0x20)
#define PG_VALUE     (*(volatile uint32_t *)0x24)

#ifndef PG_HOST

#define PG_INSN(f7) ".insn r 0x0B, 0, " #f7 ", "

static inline __attribute__((always_inline, noreturn)) void pg_halt(uint32_t code) {
    __asm__ volatile(PG_INSN(0) "x0, %0, x0" :: "r"(code) : "memory");
    __builtin_unreachable();
}
static inline __attribute__((always_inline)) void pg_lpsw(const volatile pg_psw *psw) {
    __asm__ volatile(PG_INSN(1) "x0, %0, x0" :: "r"(psw) : "memory");
}
static inline __attribute__((always_inline)) void pg_setr(uint32_t l, uint32_t b) {
    __asm__ volatile(PG_INSN(2) "x0, %0, %1" :: "r"(l), "r"(b) : "memory");
}
static inline __attribute__((always_inline)) uint32_t pg_getm(void) {
    uint32_t r; __asm__ volatile(PG_INSN(3) "%0, x0, x0" : "=r"(r)); return r;
}
static inline __attribute__((always_inline)) uint32_t pg_getl(void) {
    uint32_t r; __asm__ volatile(PG_INSN(4) "%0, x0, x0" : "=r"(r)); return r;
}
static inline __attribute__((always_inline)) uint32_t pg_getb(void) {
    uint32_t r; __asm__ volatile(PG_INSN(5) "%0, x0, x0" : "=r"(r)); return r;
}
static inline __attribute__((always_inline)) void pg_jrstu(uint32_t target) {
    __asm__ volatile(PG_INSN(6) "x0, %0, x0" :: "r"(target) : "memory");
}
static inline __attribute__((always_inline)) void pg_setm(uint32_t mode) {
    __asm__ volatile(PG_INSN(7) "x0, %0, x0" :: "r"(mode) : "memory");
}
static inline __attribute__((always_inline)) void pg_out(uint32_t c) {
    __asm__ volatile(PG_INSN(8) "x0, %0, x0" :: "r"(c) : "memory");
}
/* VMRUN (SPEC section 11): runs the guest of the control block at `cb` until
 * it exits. The registers are the guest's during guest mode: pg_vm_enter
 * (hv-entry.S) switches them; this bare form is for guests that share theirs. */
static inline __attribute__((always_inline)) void pg_vmrun(volatile void *cb) {
    __asm__ volatile(PG_INSN(9) "x0, %0, x0" :: "r"(cb) : "memory");
}
static inline __attribute__((always_inline)) void pg_svc(void) { __asm__ volatile("ecall" ::: "memory"); }
static inline __attribute__((always_inline)) void pg_break(void) { __asm__ volatile("ebreak" ::: "memory"); }

#else /* PG_HOST: the native build used by the speed benchmark */

void pg_out(uint32_t c);
__attribute__((noreturn)) void pg_halt(uint32_t code);
#define main pg_guest_main

#endif

/* Console helpers (rt.c). */
void pg_puts(const char *s);
void pg_puthex(uint32_t v);      /* 8 lowercase hex digits */
void pg_putdec(uint32_t v);
void pg_putint(int32_t v);      /* signed decimal */

#ifndef PG_HOST
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
#endif

#endif
