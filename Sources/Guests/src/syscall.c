/* syscall: Adams and Agesen's syscall nanobenchmark. A user process makes
 * N null system calls; the guest kernel's handler skips the ECALL and
 * returns with LPSW. Each call is one round trip user -> kernel -> user. */
#include "kernel.h"

enum { N = 4000 };
static uint8_t user_stack[1024] __attribute__((aligned(16)));
static uint32_t calls;

static void user(void) {
    for (uint32_t i = 0; i < N; i++) pg_syscall(0, i);
    pg_syscall(1, 0);
}

void pg_trap(void) {
    if (PG_CAUSE == PG_TRAP_SVC && PG_SAVE[10] == 0) { calls++; pg_skip_trapping_instruction(); return; }
    if (PG_CAUSE == PG_TRAP_SVC) { pg_puts("syscall: "); pg_putdec(calls); pg_puts(" null system calls\n"); pg_halt(calls & 0xff); }
    pg_puts("syscall: unexpected trap "); pg_putdec(PG_CAUSE); pg_out('\n');
    pg_halt(0xff);
}

int main(void) {
    pg_install_trap_handler();
    pg_enter_user(user, user_stack + sizeof user_stack);
}
