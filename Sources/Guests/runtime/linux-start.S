/* Entry and setjmp/longjmp for the riscv32 Linux build (linux.c). */
    .text
    .globl _start
_start:
#ifdef PG_LIBC
    /* picolibc (libc/linux-board.c): tp at the TLS block the link script
     * placed, then the constructors. */
    la tp, __tls_base
    call __libc_init_array
#endif
    lw a0, 0(sp)            /* argc */
    addi a1, sp, 4          /* argv */
    andi sp, sp, -16
    call linux_main
    li a7, 94               /* exit_group */
    ecall

    /* int pg_setjmp(long env[16]): ra, sp, s0..s11 */
    .globl pg_setjmp
pg_setjmp:
    sw ra, 0(a0)
    sw sp, 4(a0)
    sw s0, 8(a0)
    sw s1, 12(a0)
    sw s2, 16(a0)
    sw s3, 20(a0)
    sw s4, 24(a0)
    sw s5, 28(a0)
    sw s6, 32(a0)
    sw s7, 36(a0)
    sw s8, 40(a0)
    sw s9, 44(a0)
    sw s10, 48(a0)
    sw s11, 52(a0)
    li a0, 0
    ret

    /* void pg_longjmp(long env[16], int value): returns value from pg_setjmp */
    .globl pg_longjmp
pg_longjmp:
    lw ra, 0(a0)
    lw sp, 4(a0)
    lw s0, 8(a0)
    lw s1, 12(a0)
    lw s2, 16(a0)
    lw s3, 20(a0)
    lw s4, 24(a0)
    lw s5, 28(a0)
    lw s6, 32(a0)
    lw s7, 36(a0)
    lw s8, 40(a0)
    lw s9, 44(a0)
    lw s10, 48(a0)
    lw s11, 52(a0)
    mv a0, a1
    ret
