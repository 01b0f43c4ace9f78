/// Tests in the shape of the official RISC-V tests, written here (the suite's
/// own macros and tests are not ours to ship): a stand-in for its
/// test_macros.h with the two macros these tests use, and a test file around
/// some cases, for the runtime's riscv_test.h.
enum RiscvTestsShape {
    /// TEST_CASE and TEST_PASSFAIL as the suite's test_macros.h has them.
    static let macros = """
        #define TEST_CASE(n, reg, want, code...) test_ ## n: li TESTNUM, n; code; li x7, want; bne reg, x7, fail;
        #define TEST_PASSFAIL bne x0, TESTNUM, pass; fail: RVTEST_FAIL; pass: RVTEST_PASS
        """

    /// A test file of `cases`, including the macros as `macrosHeader`.
    static func test(_ cases: String, macrosHeader: String = "test_macros.h") -> String {
        """
        #include "riscv_test.h"
        #include "\(macrosHeader)"
        RVTEST_RV32U
        RVTEST_CODE_BEGIN
        \(cases)
          TEST_PASSFAIL
        RVTEST_CODE_END
          .data
        RVTEST_DATA_BEGIN
        RVTEST_DATA_END
        """
    }
}
