/* jrstu: the pg32h demonstration. The kernel enters user mode with JRSTU
 * (the PDP-10's JRST 1), and the user code then executes OUT, which is
 * privileged on every profile: the kernel's handler must see a PRIVILEGED
 * trap from user mode. On pg32h, JRSTU executes in user mode without a trap,
 * so a trap-and-emulate monitor never learns that its guest left virtual
 * supervisor mode, emulates the OUT instead, and diverges. */
#include "kernel.h"

static void user(void) {
    pg_out('U');      /* privileged: must trap */
    pg_halt(0x55);    /* reached only if OUT did not trap */
}

void pg_trap(void) {
    pg_puts("trap cause "); pg_putdec(PG_CAUSE); pg_puts(" from ");
    pg_puts(PG_OLD_PSW->mode == PG_USER ? "user" : "supervisor"); pg_puts(" mode\n");
    pg_halt(PG_CAUSE);
}

int main(void) {
    pg_install_trap_handler();
    pg_puts("entering user mode with JRSTU\n");
    pg_jrstu((uint32_t)(uintptr_t)user);
    return 0xEE; /* not reached: JRSTU does not return */
}
