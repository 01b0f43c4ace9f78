/* Entry of a guest built with `bench build --libc` (picolibc, SPEC section 7
 * boot: supervisor mode, R = (0, w), every register 0). The stack starts at
 * the top of storage (GETB gives the bound, which is w at boot); tp points
 * at the TLS block, which the loader has already placed (the link script
 * keeps .tdata at its run address and reserves .tbss, zero at boot). */
    .section .text.start, "ax"
    .globl _start
_start:
    .insn r 0x0B, 0, 5, sp, x0, x0     /* getb sp */
    andi sp, sp, -16
    la t0, __pg_storage_top
    sw sp, 0(t0)
    la tp, __tls_base
    call __pg_libc_start
1:  j 1b
