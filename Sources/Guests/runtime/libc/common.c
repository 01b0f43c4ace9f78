/* What both picolibc board files give the library alike (board.c for PG32,
 * linux-board.c for the riscv32 Linux build of the peer comparison):
 * - stdin, stdout, stderr: one stream; output goes to pg_out (the console
 *   by OUT on PG32, the harness's console buffer on Linux), input is always
 *   at end of file (the machine has no input device);
 * - _exit(n), so exit(n) and a return from main, halts with n (pg_halt);
 *   abort() and a failed assert (after its message) halt with PG_ABORT_CODE;
 * - no clock: time() and clock() return -1 as the C standard says when the
 *   time is unavailable, gettimeofday() and times() fail with ENOSYS. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include "../pg32.h"

static int pg_putc(char c, FILE *f) { (void)f; pg_out((unsigned char)c); return (unsigned char)c; }
static int pg_getc(FILE *f) { (void)f; return EOF; }
static FILE pg_stdio = FDEV_SETUP_STREAM(pg_putc, pg_getc, NULL, _FDEV_SETUP_RW);
FILE *const stdin = &pg_stdio;
FILE *const stdout = &pg_stdio;
FILE *const stderr = &pg_stdio;

__attribute__((noreturn)) void _exit(int status) { pg_halt((uint32_t)status); }

__attribute__((noreturn)) void abort(void) { pg_halt(PG_ABORT_CODE); }

time_t time(time_t *t) {
    if (t) *t = (time_t)-1;
    return (time_t)-1;
}
clock_t clock(void) { return (clock_t)-1; }
int gettimeofday(struct timeval *restrict tv, void *restrict tz) { (void)tv; (void)tz; errno = ENOSYS; return -1; }
clock_t times(struct tms *buf) { (void)buf; errno = ENOSYS; return (clock_t)-1; }
