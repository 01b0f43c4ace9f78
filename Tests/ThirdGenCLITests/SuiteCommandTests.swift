import Foundation
import ThirdGenCLI
import XCTest

/// `bench suite`, `bench merge` and the cost model.
final class SuiteCommandTests: XCTestCase {
    private let guests = ["kernel", "syscall", "jrstu", "getl"]
    /// Every strategy this host runs (the suite's default).
    #if os(Linux) && arch(x86_64)
    private let strategies = ["native", "trap", "hybrid", "bt", "jit", "hw", "native-jit"]
    private let nestStrategies = 5 // native, trap, bt, jit, hw
    #else
    private let strategies = ["native", "trap", "hybrid", "bt", "hw"]
    private let nestStrategies = 4 // native, trap, bt, hw
    #endif
    private let profiles = ["pg32v", "pg32h", "pg32x"]

    private func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    private func cells(in dir: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/results.json"))
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertNotNil(o["environment"] as? [String: Any])
        return try XCTUnwrap(o["cells"] as? [[String: Any]])
    }

    func testQuickSuiteWritesThreeFilesWithEveryCell() throws {
        let out = temporary("suite")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try BenchProcess.run(["suite", "--quick", "--out", out, "--guests"] + guests)
        XCTAssertEqual(r.status, 0, r.stderr)
        let list = try cells(in: out)
        // hw runs once per exit preset (none and shadow by default), each cell saying which.
        XCTAssertEqual(list.count, guests.count * profiles.count * (strategies.count + 1))
        for g in guests { for p in profiles { for s in strategies {
            let matching = list.filter { $0["guest"] as? String == g && $0["profile"] as? String == p && $0["strategy"] as? String == s }
            XCTAssertEqual(matching.compactMap { $0["hwExits"] as? String }, s == "hw" ? ["none", "shadow"] : [], "\(g) \(p) \(s)")
            XCTAssertEqual(matching.count, s == "hw" ? 2 : 1, "\(g) \(p) \(s)")
            for cell in matching { XCTAssertEqual((cell["seconds"] as? [Double])?.count, 1, "\(g) \(p) \(s)") }
        } } }
        let shadowSyscall = try XCTUnwrap(list.first { $0["guest"] as? String == "syscall" && $0["profile"] as? String == "pg32v"
            && $0["hwExits"] as? String == "shadow" })
        let noneSyscall = try XCTUnwrap(list.first { $0["guest"] as? String == "syscall" && $0["profile"] as? String == "pg32v"
            && $0["hwExits"] as? String == "none" })
        func exits(_ c: [String: Any]) -> Int { (c["counters"] as? [String: Any])?["exits"] as? Int ?? -1 }
        XCTAssertGreaterThan(exits(shadowSyscall), exits(noneSyscall) + 3000, "shadow exits on each LPSW of the 4000 system calls")
        // The verdicts the theorems predict, through the suite.
        let trapJrstuH = list.first { $0["guest"] as? String == "jrstu" && $0["profile"] as? String == "pg32h" && $0["strategy"] as? String == "trap" }
        XCTAssertEqual(trapJrstuH?["verdict"] as? String, "diverges")
        for s in strategies where s.hasSuffix("jit") {
            XCTAssertTrue(list.filter { $0["strategy"] as? String == s }.allSatisfy { $0["verdict"] as? String == "equivalent" },
                          "\(s) virtualizes every profile")
        }

        let csv = try String(contentsOfFile: out + "/results.csv", encoding: .utf8).split(separator: "\n")
        let header = csv[0].split(separator: ",").map(String.init)
        XCTAssertEqual(Array(header.prefix(4)), ["guest", "kind", "profile", "strategy"])
        XCTAssertEqual(csv.count - 1, list.count, "one row per measurement")
        XCTAssertTrue(csv.dropFirst().allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == header.count })

        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 3 + 3 + 1 + 1 + 1 + 1 + 1,
                       "overhead per profile, matrix per profile, nano, exit sweep, one per nanobenchmark (syscall), trap sweep, nesting")
        XCTAssertTrue(html.contains("hw (shadow)") && html.contains("hw (none)"), "the report names hw's presets")
        let nest = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/results.json")))
            as? [String: Any])?["nest"] as? [[String: Any]])
        XCTAssertEqual(nest.count, nestStrategies * 4, "depths 0 to 3 under native, trap, bt, hw (and jit)")
        XCTAssertTrue(nest.allSatisfy { $0["equivalent"] as? Bool == true }, "\(nest)")
        for g in guests { XCTAssertTrue(html.contains(">\(g)<"), g) }
        XCTAssertFalse(html.contains("http://") && html.contains("<script src"), "self-contained")
    }

    func testShardsMergeIntoTheWhole() throws {
        let a = temporary("shard0"), b = temporary("shard1"), merged = temporary("merged")
        defer { for d in [a, b, merged] { try? FileManager.default.removeItem(atPath: d) } }
        for (i, dir) in [a, b].enumerated() {
            let r = try BenchProcess.run(["suite", "--quick", "--out", dir, "--shard", "\(i)/2", "--profiles", "v", "h",
                                          "--strategies", "native,trap", "--guests", "syscall", "jrstu"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        XCTAssertEqual(try cells(in: a).count + cells(in: b).count, 2 * 2 * 2)
        let r = try BenchProcess.run(["merge", a, b, "--out", merged])
        XCTAssertEqual(r.status, 0, r.stderr)
        let all = try cells(in: merged)
        XCTAssertEqual(Set(all.map { "\($0["guest"]!)/\($0["profile"]!)/\($0["strategy"]!)" }).count, 8)
        let bad = try BenchProcess.run(["suite", "--shard", "2/2"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1)
    }

    /// `--hardware interp,jit`: every cell on both processors, each against the native run on its own processor.
    func testSuiteOnBothProcessorsSideBySide() throws {
        #if os(Linux) && arch(x86_64)
        let out = temporary("suite-hw")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let r = try BenchProcess.run(["suite", "--quick", "--out", out, "--hardware", "interp,jit", "--profiles", "v",
                                      "--nest-depth", "0", "--guests", "sieve", "syscall"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let list = try cells(in: out)
        XCTAssertEqual(list.count, 2 * 2 * (strategies.count + 1), "2 guests x 2 processors x every column")
        for h in ["interp", "jit"] {
            let mine = list.filter { $0["hardware"] as? String == h }
            XCTAssertEqual(mine.count, 2 * (strategies.count + 1))
            XCTAssertTrue(mine.allSatisfy { ($0["label"] as? String)?.hasSuffix(" on \(h)") ?? false }, "\(h): \(mine.map { $0["label"] ?? "" })")
            XCTAssertEqual(mine.filter { $0["strategy"] as? String == "native" }.count, 2, "a native reference per guest on \(h)")
            XCTAssertTrue(mine.allSatisfy { ["reference", "equivalent"].contains($0["verdict"] as? String ?? "") })
        }
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        XCTAssertTrue(html.contains("on the reference interpreter and the JIT"), "the report names both processors")
        XCTAssertTrue(html.contains("trap on interp") && html.contains("trap on jit"))
        #endif
        let bad = try BenchProcess.run(["suite", "--quick", "--hardware", "interp,quantum"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--hardware takes interp, jit or interp,jit"), bad.stderr)
    }

    /// The sweep's crossover, on synthetic counters whose answer is known.
    func testCrossoverOnSyntheticCounters() throws {
        var m = CostModel()
        try m.apply("direct=1,callout=50,translated=2,translation=0")
        // Trap-and-emulate: 1000 direct instructions and 10 traps. Translation: 1000 translated, 10 callouts.
        let trap = CellCounters(direct: 1000, traps: 10)
        let bt = CellCounters(translated: 1000, callouts: 10)
        // 1000 + 10 T = 2000 + 500  =>  T = 150.
        let x = try XCTUnwrap(m.crossoverTrapCost(trap, bt))
        XCTAssertEqual(x, 150, accuracy: 1e-9)
        XCTAssertLessThan(m.cycles(trap, trapCost: 149), m.cycles(bt))
        XCTAssertGreaterThan(m.cycles(trap, trapCost: 151), m.cycles(bt))
        XCTAssertNil(m.crossoverTrapCost(CellCounters(direct: 10), bt), "no traps: no crossover")
        XCTAssertNil(m.crossoverTrapCost(CellCounters(direct: 100_000, traps: 1), bt), "dearer even with free traps")
        // hw: 1000 direct and 4 exits; bt as above. 1000 + 4 E = 2500  =>  E = 375.
        let hw = CellCounters(direct: 1000, exits: 4)
        XCTAssertEqual(try XCTUnwrap(m.crossoverExitCost(hw, bt)), 375, accuracy: 1e-9)
        XCTAssertEqual(m.exitCrossover(hw: hw, bt: bt), "375 cycles")
        XCTAssertEqual(m.exitCrossover(hw: CellCounters(direct: 1000), bt: bt), "none: hw takes no exits and costs less")
        XCTAssertEqual(m.exitCrossover(hw: CellCounters(direct: 3000, exits: 1), bt: bt), "none: bt costs less even with free exits")
        XCTAssertThrowsError(try m.apply("trap=-1"))
        XCTAssertThrowsError(try m.apply("warp=3"))
    }
}
