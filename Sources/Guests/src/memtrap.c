/* memtrap: Adams and Agesen's pgfault analogue. A user process touches an
 * address past its bound N times; the guest kernel takes each memory trap,
 * skips the access and returns. */
#include "kernel.h"

enum { N = 4000 };
static uint8_t user_stack[1024] __attribute__((aligned(16)));
static uint32_t faults, last;

static void user(void) {
    volatile uint32_t *far = (volatile uint32_t *)0xFFFFFF00u;
    uint32_t sink = 0;
    for (uint32_t i = 0; i < N; i++) sink += far[i & 15];
    pg_syscall(1, sink);
}

void pg_trap(void) {
    if (PG_CAUSE == PG_TRAP_MEMORY) { faults++; last = PG_VALUE; pg_skip_trapping_instruction(); return; }
    if (PG_CAUSE == PG_TRAP_SVC) {
        pg_puts("memtrap: "); pg_putdec(faults); pg_puts(" memory traps, last at "); pg_puthex(last); pg_out('\n');
        pg_halt(faults & 0xff);
    }
    pg_puts("memtrap: unexpected trap "); pg_putdec(PG_CAUSE); pg_out('\n');
    pg_halt(0xff);
}

int main(void) {
    pg_install_trap_handler();
    pg_enter_user(user, user_stack + sizeof user_stack);
}
