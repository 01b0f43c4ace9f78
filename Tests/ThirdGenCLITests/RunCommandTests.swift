import Foundation
import Guests
import XCTest

/// End-to-end tests of the `bench` command line (SPEC section 10).
final class RunCommandTests: XCTestCase {
    func testRunJSONHasEveryContractField() throws {
        let r = try BenchProcess.run(["run", "sieve", "--profile", "v", "--strategy", "native", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(object?["image"] as? String, "sieve")
        XCTAssertEqual(object?["profile"] as? String, "pg32v")
        let runs = try XCTUnwrap(object?["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.count, 1)
        let run = runs[0]
        XCTAssertEqual(run["strategy"] as? String, "native")
        XCTAssertEqual(run["status"] as? String, "halted")
        XCTAssertEqual(run["exitCode"] as? Int, Int(Guests.named("sieve")!.expectedExitCode))
        XCTAssertTrue((run["console"] as? String)?.contains(Guests.named("sieve")!.expectedLine) ?? false)
        XCTAssertTrue(run["equivalent"] is NSNull, "null for native")
        XCTAssertTrue(run["divergence"] is NSNull)
        XCTAssertGreaterThan(run["guestInstructions"] as? Int ?? 0, 1_000_000)
        XCTAssertNotNil(run["seconds"] as? Double)
        let psw = try XCTUnwrap(run["psw"] as? [String: Int])
        XCTAssertEqual(psw["mode"], 0)
        XCTAssertEqual(psw["l"], 0)
        XCTAssertEqual(psw["b"], 1 << 20)
        XCTAssertEqual(psw["pc"], 0x1014, "just past crt0's HALT")
        XCTAssertEqual((run["registers"] as? [Int])?.count, 32)
        XCTAssertEqual((run["registers"] as? [Int])?.first, 0)
        let sha = try XCTUnwrap(run["storageSha256"] as? String)
        XCTAssertEqual(sha.count, 64)
        XCTAssertTrue(sha.allSatisfy(\.isHexDigit))
        XCTAssertNotNil(run["stats"] as? [String: Any])
    }

    func testAllMeansEveryStrategyThisBuildHas() throws {
        let r = try BenchProcess.run(["run", "getl", "--profile", "x", "--strategy", "all", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let runs = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]])
        #if os(Linux) && arch(x86_64)
        XCTAssertEqual(runs.map { $0["strategy"] as? String }, ["native", "trap", "hybrid", "bt", "jit", "hw", "native-jit"])
        XCTAssertEqual(runs.map { $0["equivalent"] as? Bool }, [nil, false, false, true, true, true, true],
                       "pg32x: only the translators and VX virtualize getl; the JIT as hardware is the bare machine")
        #else
        XCTAssertEqual(runs.map { $0["strategy"] as? String }, ["native", "trap", "hybrid", "bt", "hw"])
        let jit = try BenchProcess.run(["run", "getl", "--strategy", "jit"])
        XCTAssertNotEqual(jit.status, 0)
        XCTAssertTrue(jit.stderr.contains("unavailable"), jit.stderr)
        #endif
    }

    /// What a host without the JIT sees (simulated with THIRDGEN_JIT=off): jit
    /// and native-jit say they are unavailable, and everything else runs.
    func testWithoutTheJITEverythingElseWorks() throws {
        let off = ["THIRDGEN_JIT": "off"]
        let all = try BenchProcess.run(["run", "getl", "--profile", "x", "--strategy", "all", "--json"], environment: off)
        XCTAssertEqual(all.status, 0, all.stderr)
        let runs = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]])
        XCTAssertEqual(runs.map { $0["strategy"] as? String }, ["native", "trap", "hybrid", "bt", "hw"])
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [String: Any])?["hardware"] as? String,
                       "interp", "without the JIT the real processor is the interpreter")
        for strategy in ["jit", "native-jit"] {
            let r = try BenchProcess.run(["run", "kernel", "--strategy", strategy], environment: off)
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("unavailable"), r.stderr)
        }
        let nest = try BenchProcess.run(["nest", "kernel", "--depth", "1", "--strategy", "jit"], environment: off)
        XCTAssertNotEqual(nest.status, 0)
        XCTAssertTrue(nest.stderr.contains("unavailable"), nest.stderr)
        let fuzz = try BenchProcess.run(["fuzz", "--count", "30", "--seed", "1", "--json"], environment: off)
        XCTAssertEqual(fuzz.status, 0, fuzz.stderr)
    }

    func testBudgetZeroIsInconclusiveNotACrash() throws {
        let r = try BenchProcess.run(["run", "crc32", "--budget", "0", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let run = try XCTUnwrap(((try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])?["runs"] as? [[String: Any]])?.first)
        XCTAssertEqual(run["status"] as? String, "budget")
        XCTAssertTrue(run["exitCode"] is NSNull)
        XCTAssertEqual(run["guestInstructions"] as? Int, 0)
    }

    func testTableOutputAndOtherCommands() throws {
        let table = try BenchProcess.run(["run", "coremark"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("halted(\(Guests.named("coremark")!.expectedExitCode))"), table.stdout)
        XCTAssertTrue(table.stdout.contains("coremark checksum"))

        let list = try BenchProcess.run(["list"])
        XCTAssertEqual(list.status, 0)
        for g in Guests.all { XCTAssertTrue(list.stdout.contains(g.name)) }

        let disasm = try BenchProcess.run(["disasm", "sieve"])
        XCTAssertEqual(disasm.status, 0)
        XCTAssertTrue(disasm.stdout.contains("getb    sp"), "crt0's first instruction")
        XCTAssertTrue(disasm.stdout.contains("halt    a0"))
    }

    /// Every kind of bad input: one line on stderr, non-zero exit, no crash.
    func testBadInputGivesOneClearLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = dir.appendingPathComponent("notes.txt").path
        try "hello".write(toFile: text, atomically: true, encoding: .utf8)
        let empty = dir.appendingPathComponent("empty.elf").path
        try (Data()).write(to: URL(fileURLWithPath: empty))
        var elf = try Guests.image(of: Guests.named("crc32")!)
        elf[4] = 2
        let elf64 = dir.appendingPathComponent("class64.elf").path
        try (Data(elf)).write(to: URL(fileURLWithPath: elf64))
        elf[4] = 1
        elf[18] = 62
        let x86 = dir.appendingPathComponent("x86.elf").path
        try (Data(elf)).write(to: URL(fileURLWithPath: x86))
        elf[18] = 243
        elf[5] = 2
        let bigEndian = dir.appendingPathComponent("big-endian.elf").path
        try (Data(elf)).write(to: URL(fileURLWithPath: bigEndian))
        let huge = dir.appendingPathComponent("huge.bin").path
        try Data(count: 48 << 20).write(to: URL(fileURLWithPath: huge))
        let truncated = dir.appendingPathComponent("truncated.elf").path
        try (Data(try Guests.image(of: Guests.named("crc32")!).prefix(200))).write(to: URL(fileURLWithPath: truncated))

        let cases: [([String], String)] = [
            (["run", dir.appendingPathComponent("missing.elf").path], "no such file"),
            (["run", text], "ELF magic"),
            (["run", empty], "too short"),
            (["run", elf64], "ELFCLASS32"),
            (["run", x86], "EM_RISCV"),
            (["run", bigEndian], "little-endian"),
            (["run", huge], "ELF magic"),
            (["run", truncated], "outside the file"),
            (["run", "sieve", "--memory", "64K"], "outside guest memory"),
            (["run", "sieve", "--profile", "z"], "profile"),
            (["run", "sieve", "--memory", "5000"], "multiple of 4096"),
            (["run", "sieve", "--memory", "0"], "4096"),
            (["run", "sieve", "--memory", "99999999999999999999"], "memory"),
            (["run", "sieve", "--memory", "8G"], "exceeds"),
            (["run", "sieve", "--strategy", "warp"], "strategy"),
            (["run", "sieve", "--budget", "-1"], "budget"),
            (["run", "sieve", "--frobnicate"], "frobnicate"),
            (["run", dir.path], "directory"),
            (["disasm", text], "ELF magic"),
            (["nonsense"], "nonsense"),
        ]
        for (args, needle) in cases {
            let r = try BenchProcess.run(args)
            XCTAssertNotEqual(r.status, 0, "\(args) should fail")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(args): one line, got: \(r.stderr)")
            XCTAssertTrue(r.stderr.lowercased().contains(needle.lowercased()), "\(args): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Fatal error"), "\(args) crashed: \(r.stderr)")
        }
    }
}

/// `bench run` with the trap strategy, one VM and several.
final class TrapStrategyCommandTests: XCTestCase {
    private func runs(_ args: [String]) throws -> [[String: Any]] {
        let r = try BenchProcess.run(args)
        XCTAssertEqual(r.status, 0, r.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return try XCTUnwrap(object?["runs"] as? [[String: Any]])
    }

    func testDivergenceIsReportedWithTheFirstDifference() throws {
        let result = try runs(["run", "jrstu", "--profile", "h", "--strategy", "native,trap", "--json"])
        XCTAssertEqual(result.map { $0["strategy"] as? String }, ["native", "trap"])
        XCTAssertEqual(result[1]["equivalent"] as? Bool, false)
        XCTAssertEqual(result[1]["divergence"] as? String, "status differs: halted(85) vs halted(3)")
        let stats = try XCTUnwrap(result[1]["stats"] as? [String: Any])
        XCTAssertNotNil(stats["traps"] as? [String: Int])
        XCTAssertNotNil(stats["emulated"] as? [String: Int])
    }

    func testEquivalentOnPg32v() throws {
        let result = try runs(["run", "kernel", "--profile", "v", "--strategy", "trap", "--json"])
        XCTAssertEqual(result.map { $0["strategy"] as? String }, ["trap"])
        XCTAssertEqual(result[0]["equivalent"] as? Bool, true)
        XCTAssertTrue(result[0]["divergence"] is NSNull)
        // A regression value, measured once: 128 system calls of the four processes and one memory fault.
        XCTAssertEqual((result[0]["stats"] as? [String: Any])?["reflected"] as? Int, 129)
    }

    func testSeveralVMs() throws {
        #if os(Linux) && arch(x86_64)
        let monitors = ["trap", "jit"]
        #else
        let monitors = ["trap"]
        #endif
        let result = try runs(["run", "kernel", "syscall", "smc", "--vms", "3", "--quantum", "500",
                               "--strategy", (["native"] + monitors).joined(separator: ","), "--json"])
        XCTAssertEqual(result.count, 3 * (1 + monitors.count))
        for r in result where r["strategy"] as? String != "native" {
            XCTAssertEqual(r["equivalent"] as? Bool, true, "\(r["image"] ?? "")")
            XCTAssertEqual((r["stats"] as? [String: Any])?["damagedCanaryBytes"] as? Int, 0)
        }
        let bad = try BenchProcess.run(["run", "kernel", "syscall", "--vms", "3", "--strategy", "trap"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--vms 3 with 2 images"), bad.stderr)
    }
}
