/* pg_vm_enter(pg_vm *vm): VMRUN with the guest's own registers.
 *
 * VMRUN neither saves nor switches registers (SPEC section 11), so a host
 * that wants its guest to have registers of its own switches them itself,
 * as a VT-x hypervisor does around VMLAUNCH: the host's callee-saved
 * registers, ra, sp and gp go to hv_host_save; the guest's x1..x31 come from
 * vm->x; VMRUN's operand is tp (x4), which compiled code never allocates, so
 * the guest's tp is the block's address and nothing the guest uses is lost.
 * At the exit tp still points at the block, so the guest's registers are
 * stored at tp + 48 before the host's come back. */
    .text
    .globl pg_vm_enter
pg_vm_enter:
    la t0, hv_host_save
    sw ra, 0(t0)
    sw sp, 4(t0)
    sw gp, 8(t0)
    sw s0, 12(t0)
    sw s1, 16(t0)
    sw s2, 20(t0)
    sw s3, 24(t0)
    sw s4, 28(t0)
    sw s5, 32(t0)
    sw s6, 36(t0)
    sw s7, 40(t0)
    sw s8, 44(t0)
    sw s9, 48(t0)
    sw s10, 52(t0)
    sw s11, 56(t0)
    mv tp, a0
    .irp r, 1,2,3,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    lw x\r, (48 + 4 * \r)(tp)
    .endr
    .insn r 0x0B, 0, 9, x0, tp, x0          /* vmrun tp */
    .irp r, 1,2,3,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    sw x\r, (48 + 4 * \r)(tp)
    .endr
    la t0, hv_host_save
    lw ra, 0(t0)
    lw sp, 4(t0)
    lw gp, 8(t0)
    lw s0, 12(t0)
    lw s1, 16(t0)
    lw s2, 20(t0)
    lw s3, 24(t0)
    lw s4, 28(t0)
    lw s5, 32(t0)
    lw s6, 36(t0)
    lw s7, 40(t0)
    lw s8, 44(t0)
    lw s9, 48(t0)
    lw s10, 52(t0)
    lw s11, 56(t0)
    ret

    .bss
    .align 4
hv_host_save:
    .space 64
