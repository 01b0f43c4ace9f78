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
