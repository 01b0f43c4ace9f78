import Foundation
import XCTest

/// `bench riscv-tests DIR` on a suite of the official layout (isa/rv32ui, isa/rv32um,
/// isa/macros/scalar) holding tests written here in the suite's shape: the suite's own
/// files are not ours to ship.
final class RiscvTestsCommandTests: XCTestCase {
    private var suite: URL!

    override func setUpWithError() throws {
        suite = FileManager.default.temporaryDirectory.appendingPathComponent("riscv-tests-\(UUID().uuidString)")
        for f in ["isa/rv32ui", "isa/rv32um", "isa/macros/scalar"] {
            try FileManager.default.createDirectory(at: suite.appendingPathComponent(f), withIntermediateDirectories: true)
        }
        try RiscvTestsShape.macros.write(to: suite.appendingPathComponent("isa/macros/scalar/test_macros.h"),
                                         atomically: true, encoding: .utf8)
        func test(_ path: String, _ cases: String) throws {
            try RiscvTestsShape.test(cases).write(to: suite.appendingPathComponent(path), atomically: true, encoding: .utf8)
        }
        try test("isa/rv32ui/add.S", "  TEST_CASE( 2, x5, 0x80000000, li x6, 0x7fffffff; li x8, 1; add x5, x6, x8; )")
        try test("isa/rv32um/mulhu.S", "  TEST_CASE( 2, x5, 0xfffffffe, li x6, -1; li x8, -1; mulhu x5, x6, x8; )")
        // Case 3 expects the wrong sum: the test halts with 3 under every strategy.
        try test("isa/rv32ui/wrong.S", "  TEST_CASE( 2, x5, 2, li x5, 2; )\n  TEST_CASE( 3, x5, 5, li x6, 2; add x5, x6, x6; )")
        try "not assembly\n".write(to: suite.appendingPathComponent("isa/rv32ui/broken.S"), atomically: true, encoding: .utf8)
        try test("isa/rv32ui/loops.S", "1: j 1b") // never halts: stopped by --budget
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: suite) }

    func testPassingFailingLoopingAndUnbuildableTestsAreReportedAndTheStatusSaysSo() throws {
        let quick = ["--profiles", "v", "x", "--strategies", "native,trap,jit"]
        let good = try BenchProcess.run(["riscv-tests", suite.path, "--tests", "add", "mulhu"] + quick)
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertTrue(good.stdout.contains("rv32ui/add") && good.stdout.contains("rv32um/mulhu"), good.stdout)
        XCTAssertTrue(good.stdout.contains("2 of 2 tests pass: 12 runs"), good.stdout)

        let all = try BenchProcess.run(["riscv-tests", suite.path, "--json", "--budget", "5000"] + quick)
        XCTAssertEqual(all.status, 1, "a failing test fails the command: \(all.stderr)")
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(o["passed"] as? Int, 2)
        XCTAssertEqual(o["failed"] as? Int, 3)
        let tests = try XCTUnwrap(o["tests"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: tests.map { ($0["name"] as? String ?? "", $0) })
        let wrong = try XCTUnwrap(byName["rv32ui/wrong"])
        let failures = try XCTUnwrap(wrong["failures"] as? [[String: Any]])
        XCTAssertEqual(failures.count, 6, "every run of it: \(failures)")
        XCTAssertTrue(failures.allSatisfy { $0["exitCode"] as? Int == 3 }, "the failing case's number: \(failures)")
        let broken = try XCTUnwrap(byName["rv32ui/broken"])
        XCTAssertTrue((broken["buildError"] as? String)?.contains("broken.S") ?? false, "\(broken)")
        XCTAssertEqual(broken["runs"] as? Int, 0)
        let loops = try XCTUnwrap((byName["rv32ui/loops"]?["failures"] as? [[String: Any]])?.first)
        XCTAssertEqual(loops["status"] as? String, "budget")
        XCTAssertTrue((loops["what"] as? String)?.contains("no HALT within --budget (5000 instructions)") ?? false, "\(loops)")
    }

    func testAFolderThatIsNoSuiteAndAnUnknownTestAreRefused() throws {
        let notSuite = try BenchProcess.run(["riscv-tests", suite.appendingPathComponent("isa").path])
        XCTAssertEqual(notSuite.status, 64)
        XCTAssertTrue(notSuite.stderr.contains("give a checkout of riscv-software-src/riscv-tests"), notSuite.stderr)
        let unknown = try BenchProcess.run(["riscv-tests", suite.path, "--tests", "nosuch"])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.stderr.contains("no test 'nosuch'"), unknown.stderr)
    }
}
