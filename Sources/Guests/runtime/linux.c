/* Harness for the peer comparison: the guest's C source as a static
 * riscv32 Linux program, for QEMU's user-mode translator (qemu-riscv32).
 * Like host.c, it runs the guest's main REPS times (argv[1]) in-process and
 * reports the fastest, so QEMU's start-up is not measured. No libc: system
 * calls by ECALL, setjmp in linux-start.S, time as 64-bit hex (rv32im has
 * no 64-bit division without a runtime library).
 * stdout: the console bytes of the first run. stderr: "exit=N ns=0xT
 * first=0xF": the fastest run, and the first (which includes translating). */
#include "pg32.h"
#undef main

int pg_guest_main(void);
int pg_setjmp(long *env);
__attribute__((noreturn)) void pg_longjmp(long *env, int value);

static long halt_env[16];
static unsigned char console[1 << 16];
static unsigned console_len;
static int recording = 1;
volatile uint32_t pg_sink;

static long syscall3(long n, long a, long b, long c) {
    register long a0 __asm__("a0") = a;
    register long a1 __asm__("a1") = b;
    register long a2 __asm__("a2") = c;
    register long a7 __asm__("a7") = n;
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
    return a0;
}

enum { SYS_write = 64, SYS_clock_gettime64 = 403, CLOCK_MONOTONIC = 1 };

void pg_out(uint32_t c) {
    pg_sink ^= c;
    if (recording && console_len < sizeof console) console[console_len++] = (unsigned char)c;
}

void pg_halt(uint32_t code) { pg_longjmp(halt_env, (int)code + 1); }

static uint64_t now_ns(void) {
    struct { int64_t sec, nsec; } t;
    syscall3(SYS_clock_gettime64, CLOCK_MONOTONIC, (long)&t, 0);
    return (uint64_t)t.sec * 1000000000u + (uint64_t)t.nsec;
}

static unsigned report_len;
static char report[64];
static void put(char c) { if (report_len < sizeof report) report[report_len++] = c; }
static void put_dec(uint32_t v) {
    char b[10]; int n = 0;
    do { b[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) put(b[--n]);
}
static void put_hex64(uint64_t v) {
    for (int i = 60; i >= 0; i -= 4) put("0123456789abcdef"[(v >> i) & 15]);
}

static uint32_t run_once(void) {
    int j = pg_setjmp(halt_env);
    if (j) return (uint32_t)(j - 1);
    return (uint32_t)pg_guest_main();
}

int linux_main(int argc, char **argv) {
    int reps = 0;
    if (argc > 1) for (const char *p = argv[1]; *p >= '0' && *p <= '9'; p++) reps = reps * 10 + (*p - '0');
    if (reps < 1) reps = 1;
    uint32_t code = 0;
    uint64_t best = ~(uint64_t)0, first = 0;
    for (int r = 0; r < reps; r++) {
        uint64_t t0 = now_ns();
        code = run_once();
        uint64_t t = now_ns() - t0;
        if (recording) first = t;
        recording = 0;
        if (t < best) best = t;
    }
    syscall3(SYS_write, 1, (long)console, console_len);
    for (const char *s = "exit="; *s; s++) put(*s);
    put_dec(code);
    for (const char *s = " ns=0x"; *s; s++) put(*s);
    put_hex64(best);
    for (const char *s = " first=0x"; *s; s++) put(*s);
    put_hex64(first);
    put('\n');
    syscall3(SYS_write, 2, (long)report, report_len);
    return 0;
}
