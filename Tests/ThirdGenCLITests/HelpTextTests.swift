import XCTest

/// Every help text reads right in an 80-column terminal, as a user would type the defaults.
final class HelpTextTests: XCTestCase {
    static let subcommands = ["", "run", "suite", "merge", "nest", "nano", "fuzz", "check", "perf", "peer",
                              "classify", "build", "disasm", "list"]

    func testEveryHelpFitsEightyColumnsWithoutArtefacts() throws {
        for command in HelpTextTests.subcommands {
            let r = try BenchProcess.run((command.isEmpty ? [] : [command]) + ["--help"])
            XCTAssertEqual(r.status, 0, "\(command): \(r.stderr)")
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertGreaterThan(lines.count, 3, "\(command) printed a help text")
            for line in lines {
                XCTAssertLessThanOrEqual(line.count, 80, "bench \(command) --help: \(line)")
                XCTAssertFalse(line.contains("ByteCount("), "bench \(command) --help: \(line)")
                XCTAssertFalse(line.hasSuffix("\\") || line.contains(" \\ ") || line == "\\", "a stray backslash: bench \(command) --help: \(line)")
            }
        }
        let run = try BenchProcess.run(["run", "--help"])
        XCTAssertTrue(run.stdout.contains("(default: 1M)"), "the memory default as a user types it")
        XCTAssertTrue(run.stdout.contains("(default: 2000000000)"), run.stdout)
    }
}
