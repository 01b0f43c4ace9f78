/* riscv_test.h: a PG32 environment for the integer tests of the official
 * RISC-V test suite (riscv-software-src/riscv-tests, isa/rv32ui and
 * isa/rv32um), in the place of their env/p. A test is `main` (crt0 gives it
 * a stack at the top of storage and calls it), runs in supervisor mode with
 * l = 0, and ends in HALT: code 0 when every case passed, else the number
 * of the case that failed (TESTNUM, as the suite's own environments report
 * it; cases are numbered from 2), or 1 if it failed with no case number set.
 * Build a test with the suite's macros:
 *
 *   bench build isa/rv32ui/add.S -I isa/macros/scalar -o add.elf
 *   bench run add.elf --strategy trap,hybrid,bt,jit,hw
 *
 * No test code of the suite is part of ThirdGen; this file is ours.
 */
#ifndef PG32_RISCV_TEST_H
#define PG32_RISCV_TEST_H

/* The register that holds the number of the case being run. */
#define TESTNUM gp

/* Every variant the suite names: PG32 is RV32IM in supervisor mode, nothing to set up. */
#define RVTEST_RV32U
#define RVTEST_RV64U
#define RVTEST_RV32M
#define RVTEST_RV64M

#define RVTEST_CODE_BEGIN \
    .text;                \
    .globl main;          \
    .type main, @function; \
main:

#define RVTEST_CODE_END

/* HALT (SPEC section 5: .insn r 0x0B, 0, 0, x0, rs1, x0) with the code in a0. */
#define RVTEST_PASS                        \
    li a0, 0;                              \
    .insn r 0x0B, 0, 0, x0, a0, x0;

#define RVTEST_FAIL                        \
    mv a0, TESTNUM;                        \
    bnez a0, 1729f;                        \
    li a0, 1;                              \
1729: .insn r 0x0B, 0, 0, x0, a0, x0;

#define RVTEST_DATA_BEGIN .align 4;
#define RVTEST_DATA_END

#endif
