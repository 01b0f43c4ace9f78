/* Native harness for the speed benchmark: runs the guest's main REPS times
 * (argv[1]) in-process and reports the fastest run, so the comparison with
 * the interpreter is not swamped by process start-up. Guests keep all
 * mutable state inside main, so every repetition does the same work.
 * stdout: the console bytes of the first run. stderr: "exit=N ns=T". */
#ifdef PG_HOST_LIBC
#define _GNU_SOURCE /* fopencookie */
#endif
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "pg32.h"
#undef main /* pg32.h renames the guest's main; this file has the real one */

int pg_guest_main(void);

static jmp_buf halt_env;
static unsigned char console[1 << 16];
static size_t console_len;
static int recording = 1;
volatile uint32_t pg_sink;

void pg_out(uint32_t c) {
    pg_sink ^= c;
    if (recording && console_len < sizeof console) console[console_len++] = (unsigned char)c;
}

void pg_halt(uint32_t code) { longjmp(halt_env, (int)(code + 1)); }

static uint32_t run_once(void) {
    int j = setjmp(halt_env);
    if (j) return (uint32_t)(j - 1);
    return (uint32_t)pg_guest_main();
}

#ifdef PG_HOST_LIBC
/* A --libc guest writes with stdio: its stdout is the console. */
static ssize_t console_write(void *cookie, const char *buf, size_t n) {
    (void)cookie;
    for (size_t i = 0; i < n; i++) pg_out((unsigned char)buf[i]);
    return (ssize_t)n;
}
#endif

int main(int argc, char **argv) {
    FILE *out = stdout, *err = stderr;
#ifdef PG_HOST_LIBC
    stdout = fopencookie(NULL, "w", (cookie_io_functions_t){ .write = console_write });
    stderr = stdout;
#endif
    int reps = argc > 1 ? atoi(argv[1]) : 1;
    if (reps < 1) reps = 1;
    uint32_t code = 0;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        code = run_once();
        fflush(stdout);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        recording = 0;
        double ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
        if (ns < best) best = ns;
    }
    fwrite(console, 1, console_len, out);
    fprintf(err, "exit=%u ns=%.0f\n", code, best);
    return 0;
}
