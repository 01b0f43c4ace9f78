/* getl: the pg32x demonstration. The kernel reads GETM in supervisor mode,
 * then enters user mode, where the user code reads GETL and reports it by
 * system call. On pg32x both execute without a trap and reveal the real
 * machine's state, so under a trap-and-emulate monitor they show the
 * monitor's real mode and relocation instead of the guest's. */
#include "kernel.h"

static uint8_t user_stack[1024] __attribute__((aligned(16)));

static void user(void) { pg_syscall(1, pg_getl()); }

void pg_trap(void) {
    if (PG_CAUSE == PG_TRAP_SVC) {
        pg_puts("user-mode GETL = "); pg_puthex(PG_SAVE[11]); pg_out('\n');
        pg_halt(PG_SAVE[11] & 0xff);
    }
    pg_puts("user-mode GETL trapped: cause "); pg_putdec(PG_CAUSE); pg_out('\n');
    pg_halt(0x80 | PG_CAUSE);
}

int main(void) {
    pg_install_trap_handler();
    pg_puts("supervisor-mode GETM = "); pg_putdec(pg_getm()); pg_out('\n');
    pg_enter_user(user, user_stack + sizeof user_stack);
}
