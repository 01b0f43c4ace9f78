/* The picolibc board file for the riscv32 Linux build of a --libc guest
 * (the peer comparison under qemu-riscv32, linux.c's harness): the same
 * library as on PG32, tied to the harness instead of the machine. stdout
 * and stderr go to the harness's console (pg_out), exit(n) ends the
 * repetition (pg_halt), abort() halts with PG_ABORT_CODE, the heap is a
 * static arena, and there is no clock, as on PG32. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include "../pg32.h"

#ifndef PG_LINUX_HEAP
#define PG_LINUX_HEAP (16u << 20)
#endif

static int pg_putc(char c, FILE *f) { (void)f; pg_out((unsigned char)c); return (unsigned char)c; }
static int pg_getc(FILE *f) { (void)f; return EOF; }
static FILE pg_stdio = FDEV_SETUP_STREAM(pg_putc, pg_getc, NULL, _FDEV_SETUP_RW);
FILE *const stdin = &pg_stdio;
FILE *const stdout = &pg_stdio;
FILE *const stderr = &pg_stdio;

__attribute__((noreturn)) void _exit(int status) { pg_halt((uint32_t)status); }
__attribute__((noreturn)) void abort(void) { pg_halt(PG_ABORT_CODE); }

static char arena[PG_LINUX_HEAP] __attribute__((aligned(16)));
void *sbrk(ptrdiff_t increment) {
    static size_t used;
    if (increment < 0 ? (size_t)-increment > used : (size_t)increment > sizeof arena - used) {
        errno = ENOMEM;
        return (void *)-1;
    }
    void *old = arena + used;
    used += increment;
    return old;
}

time_t time(time_t *t) {
    if (t) *t = (time_t)-1;
    return (time_t)-1;
}
clock_t clock(void) { return (clock_t)-1; }
int gettimeofday(struct timeval *restrict tv, void *restrict tz) { (void)tv; (void)tz; errno = ENOSYS; return -1; }
clock_t times(struct tms *buf) { (void)buf; errno = ENOSYS; return (clock_t)-1; }
