/* forkwait: Adams and Agesen's forkwait analogue. The kernel repeatedly
 * creates a process by copying its image into a fresh region, runs it under
 * its own relocation until it exits, and destroys it. */
#include "kernel.h"

enum { N = 200, REGION = 0x80000, SIZE = 0x4000, SYS_EXIT = 1 };
static uint32_t made, sum;

PG_USERCODE void child(uint32_t id) {
    uint32_t x = id;
    for (int i = 0; i < 16; i++) x = x * 5u + 1u;
    pg_syscall(SYS_EXIT, x);
}

static void spawn(uint32_t id) {
    uint32_t size = (uint32_t)(__user_end - __user_start);
    uint32_t base = REGION + (id & 1) * SIZE;    /* alternate two regions */
    memset((void *)(uintptr_t)base, 0, SIZE);
    memcpy((void *)(uintptr_t)base, __user_start, size);
    for (int r = 1; r < 32; r++) PG_SAVE[r] = 0;
    PG_SAVE[2] = SIZE;
    PG_SAVE[10] = id;
    pg_psw_store(PG_OLD_PSW, PG_USER, (uint32_t)((char *)child - __user_start), base, SIZE);
    made++;
}

void pg_trap(void) {
    if (PG_CAUSE != PG_TRAP_SVC || PG_SAVE[10] != SYS_EXIT) {
        pg_puts("forkwait: unexpected trap "); pg_putdec(PG_CAUSE); pg_out('\n');
        pg_halt(0xff);
    }
    sum = sum * 7u + PG_SAVE[11];
    if (made == N) {
        pg_puts("forkwait: "); pg_putdec(made); pg_puts(" processes, checksum "); pg_puthex(sum); pg_out('\n');
        pg_halt(sum & 0xff);
    }
    spawn(made);
}

int main(void) {
    pg_install_trap_handler();
    spawn(0);
    pg_trap_return();
}
