/* Guest entry: the stack starts at the top of guest memory (GETB gives the
 * bound, which is w at boot), then main's return value is the HALT code. */
    .section .text.start, "ax"
    .globl _start
_start:
    .insn r 0x0B, 0, 5, sp, x0, x0     /* getb sp */
    andi sp, sp, -16
    call main
    .insn r 0x0B, 0, 0, x0, a0, x0     /* halt a0 */
1:  j 1b
