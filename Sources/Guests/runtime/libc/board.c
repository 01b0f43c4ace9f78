/* The PG32 board file for picolibc: what the C library needs from the
 * machine, and nothing else (SPEC sections 4 and 5).
 * - stdin, stdout, stderr: one stream; output goes to the console by OUT,
 *   input is always at end of file (the machine has no input device);
 * - exit(n) and a return from main halt with n (HALT n); abort() and a
 *   failed assert (after its message) halt with PG_ABORT_CODE;
 * - the heap (sbrk, so malloc) runs from the end of the image to the stack's
 *   limit, PG_STACK_SIZE below the top of storage; past it sbrk fails with
 *   ENOMEM and malloc returns NULL;
 * - no clock: time() and clock() return -1 as the C standard says when the
 *   time is unavailable, gettimeofday() and times() fail with ENOSYS. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include "../pg32.h"

#ifndef PG_STACK_SIZE
#define PG_STACK_SIZE (64 * 1024)
#endif

/* The top of storage, recorded by start.S before anything else runs. */
uint32_t __pg_storage_top;
extern char __heap_start[];

static int pg_putc(char c, FILE *f) { (void)f; pg_out((unsigned char)c); return (unsigned char)c; }
static int pg_getc(FILE *f) { (void)f; return EOF; }
static FILE pg_stdio = FDEV_SETUP_STREAM(pg_putc, pg_getc, NULL, _FDEV_SETUP_RW);
FILE *const stdin = &pg_stdio;
FILE *const stdout = &pg_stdio;
FILE *const stderr = &pg_stdio;

__attribute__((noreturn)) void _exit(int status) { pg_halt((uint32_t)status); }

__attribute__((noreturn)) void abort(void) { pg_halt(PG_ABORT_CODE); }

void *sbrk(ptrdiff_t increment) {
    static uintptr_t brk;
    uintptr_t start = (uintptr_t)__heap_start;
    uintptr_t limit = __pg_storage_top > start + PG_STACK_SIZE ? __pg_storage_top - PG_STACK_SIZE : start;
    if (!brk) brk = start;
    if (increment < 0 ? (uintptr_t)-increment > brk - start : (uintptr_t)increment > limit - brk) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uintptr_t old = brk;
    brk += increment;
    return (void *)old;
}

time_t time(time_t *t) {
    if (t) *t = (time_t)-1;
    return (time_t)-1;
}
clock_t clock(void) { return (clock_t)-1; }
int gettimeofday(struct timeval *restrict tv, void *restrict tz) { (void)tv; (void)tz; errno = ENOSYS; return -1; }
clock_t times(struct tms *buf) { (void)buf; errno = ENOSYS; return (clock_t)-1; }

extern void __libc_init_array(void);
extern int main(int argc, char **argv);

static char program_name[] = "guest";
static char *arguments[] = { program_name, NULL };

/* Called by start.S: constructors, then main, whose return value exit() gets. */
__attribute__((noreturn)) void __pg_libc_start(void) {
    __libc_init_array();
    exit(main(1, arguments));
}
