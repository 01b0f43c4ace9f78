/* pg_trap_entry: the trap handler stub of PG32 guest kernels (see kernel.h).
 * Entered through the new PSW in supervisor mode with l = 0, so x0-relative
 * addresses reach low core. Linked into every guest; dropped by
 * --gc-sections where nothing refers to it. */
    .section .text.pg_trap_entry, "ax"
    .globl pg_trap_entry
    .p2align 2
pg_trap_entry:
    sw x1, 0x44(x0)
    sw x2, 0x48(x0)
    sw x3, 0x4c(x0)
    sw x4, 0x50(x0)
    sw x5, 0x54(x0)
    sw x6, 0x58(x0)
    sw x7, 0x5c(x0)
    sw x8, 0x60(x0)
    sw x9, 0x64(x0)
    sw x10, 0x68(x0)
    sw x11, 0x6c(x0)
    sw x12, 0x70(x0)
    sw x13, 0x74(x0)
    sw x14, 0x78(x0)
    sw x15, 0x7c(x0)
    sw x16, 0x80(x0)
    sw x17, 0x84(x0)
    sw x18, 0x88(x0)
    sw x19, 0x8c(x0)
    sw x20, 0x90(x0)
    sw x21, 0x94(x0)
    sw x22, 0x98(x0)
    sw x23, 0x9c(x0)
    sw x24, 0xa0(x0)
    sw x25, 0xa4(x0)
    sw x26, 0xa8(x0)
    sw x27, 0xac(x0)
    sw x28, 0xb0(x0)
    sw x29, 0xb4(x0)
    sw x30, 0xb8(x0)
    sw x31, 0xbc(x0)
    la sp, pg_kstack_top
    call pg_trap
    .globl pg_trap_return
pg_trap_return:
    lw x1, 0x44(x0)
    lw x3, 0x4c(x0)
    lw x4, 0x50(x0)
    lw x5, 0x54(x0)
    lw x6, 0x58(x0)
    lw x7, 0x5c(x0)
    lw x8, 0x60(x0)
    lw x9, 0x64(x0)
    lw x10, 0x68(x0)
    lw x11, 0x6c(x0)
    lw x12, 0x70(x0)
    lw x13, 0x74(x0)
    lw x14, 0x78(x0)
    lw x15, 0x7c(x0)
    lw x16, 0x80(x0)
    lw x17, 0x84(x0)
    lw x18, 0x88(x0)
    lw x19, 0x8c(x0)
    lw x20, 0x90(x0)
    lw x21, 0x94(x0)
    lw x22, 0x98(x0)
    lw x23, 0x9c(x0)
    lw x24, 0xa0(x0)
    lw x25, 0xa4(x0)
    lw x26, 0xa8(x0)
    lw x27, 0xac(x0)
    lw x28, 0xb0(x0)
    lw x29, 0xb4(x0)
    lw x30, 0xb8(x0)
    lw x31, 0xbc(x0)
    lw x2, 0x48(x0)
    .insn r 0x0B, 0, 1, x0, x0, x0     /* lpsw 0(x0): resume from the old PSW */

    .section .bss.pg_kstack, "aw", @nobits
    .p2align 4
pg_kstack:
    .space 8192
pg_kstack_top:
