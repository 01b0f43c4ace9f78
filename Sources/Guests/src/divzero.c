/* divzero: Adams and Agesen's divzero nanobenchmark, as PG32 expresses it.
 * RISC-V division by zero does not trap (SPEC section 4), so the exception
 * a user process raises into its kernel is BREAK (EBREAK): N of them, each
 * delivered to the guest kernel, whose handler counts it, skips the EBREAK
 * and returns with LPSW. Unlike syscall, BREAK carries no request: it is
 * the pure cost of delivering an exception to the guest kernel. */
#include "kernel.h"

enum { N = 4000 };
static uint8_t user_stack[1024] __attribute__((aligned(16)));
static uint32_t breaks;

static void user(void) {
    for (uint32_t i = 0; i < N; i++) pg_break();
    pg_syscall(1, 0);
}

void pg_trap(void) {
    if (PG_CAUSE == PG_TRAP_BREAK) { breaks++; pg_skip_trapping_instruction(); return; }
    if (PG_CAUSE == PG_TRAP_SVC) { pg_puts("divzero: "); pg_putdec(breaks); pg_puts(" exceptions delivered\n"); pg_halt(breaks & 0xff); }
    pg_puts("divzero: unexpected trap "); pg_putdec(PG_CAUSE); pg_out('\n');
    pg_halt(0xff);
}

int main(void) {
    pg_install_trap_handler();
    pg_enter_user(user, user_stack + sizeof user_stack);
}
