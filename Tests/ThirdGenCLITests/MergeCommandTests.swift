import Foundation
import XCTest

/// `bench merge` checks what it joins, and orders what it writes as an unsharded run does.
final class MergeCommandTests: XCTestCase {
    private static let suite = ["suite", "--quick", "--guests", "getl", "jrstu", "syscall", "out",
                                "--strategies", "native,trap,bt,hw", "--hardware", "interp"]
    private var root = ""

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("merge-\(UUID().uuidString)").path
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    /// Runs the suite (sharded if `shard` is given) into root/name.
    @discardableResult
    private func run(_ name: String, shard: String? = nil, extra: [String] = [], nest: Int = 0) throws -> String {
        let out = root + "/" + name
        let r = try BenchProcess.run(MergeCommandTests.suite + extra + ["--nest-depth", "\(nest)", "--out", out]
                                     + (shard.map { ["--shard", $0] } ?? []))
        XCTAssertEqual(r.status, 0, r.stderr)
        return out
    }

    private func merge(_ folders: [String], _ extra: [String] = []) throws -> BenchProcess.Result {
        try BenchProcess.run(["merge"] + folders + ["--out", root + "/merged-\(UUID().uuidString)"] + extra)
    }

    /// The cells of a results.json without their times, as JSON text: byte for byte apart from times.
    private func cellsWithoutTimes(_ folder: String) throws -> [String] {
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/results.json"))) as? [String: Any])
        return try XCTUnwrap(o["cells"] as? [[String: Any]]).map { cell in
            var c = cell
            c["seconds"] = nil
            return String(decoding: try! JSONSerialization.data(withJSONObject: c, options: [.sortedKeys]), as: UTF8.self)
        }
    }

    private func assertRefused(_ r: BenchProcess.Result, saying words: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(r.status, 0, "refused", file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(words), r.stderr, file: file, line: line)
    }

    func testRefusalsAndPartialMerges() throws {
        let shards = try (0..<3).map { try run("shard-\($0)", shard: "\($0)/3", nest: 1) } // only shard 0 runs the nesting
        assertRefused(try merge([shards[0], shards[1]]), saying: "shards 2/3 are missing")
        assertRefused(try merge([shards[0], shards[1], shards[1], shards[2]]), saying: "given twice")
        let whole = try run("whole", nest: 1)
        assertRefused(try merge(shards + [whole]), saying: "not a shard")
        let other = try run("other-count", shard: "1/4", nest: 1)
        assertRefused(try merge(shards + [other]), saying: "shards of different suites")
        let quicker = try run("other-options", shard: "1/3", extra: ["--cost", "trap=9999"], nest: 1)
        assertRefused(try merge([shards[0], quicker, shards[2]]), saying: "other options")
        // A shard from another commit: the same shard with its commit rewritten.
        let moved = root + "/other-commit"
        try FileManager.default.copyItem(atPath: shards[1], toPath: moved)
        let url = URL(fileURLWithPath: moved + "/results.json")
        var o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var environment = try XCTUnwrap(o["environment"] as? [String: Any])
        environment["commit"] = "0ther"
        o["environment"] = environment
        try JSONSerialization.data(withJSONObject: o).write(to: url)
        assertRefused(try merge([shards[0], moved, shards[2]]), saying: "from commit")
        // A merged folder among the inputs.
        let all = root + "/all"
        XCTAssertEqual(try BenchProcess.run(["merge"] + shards + ["--out", all]).status, 0)
        assertRefused(try merge(shards + [all]), saying: "merged result")
        // --allow-partial merges, and says what is missing; the nesting comes from whichever shard ran it.
        let partialOut = root + "/partial"
        let p = try BenchProcess.run(["merge", shards[1], shards[0], "--allow-partial", "--out", partialOut])
        XCTAssertEqual(p.status, 0, p.stderr)
        let merged = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: partialOut + "/results.json"))) as? [String: Any])
        XCTAssertEqual(merged["missingShards"] as? [Int], [2])
        XCTAssertEqual((merged["nest"] as? [Any])?.count, 4 * 2, "depths 0 and 1 under native, trap, bt, hw, from shard 0")
        XCTAssertEqual((merged["sources"] as? [[String: Any]])?.map { $0["index"] as? Int }, [0, 1])
        XCTAssertTrue(try String(contentsOfFile: partialOut + "/report.html", encoding: .utf8).contains("Incomplete: shards 2"))
    }

    func testAnyShardOrderMergesToTheUnshardedCells() throws {
        let whole = try run("whole")
        // 4 guests x 3 profiles = 12 pairs: 12 shards of one pair each, so glob order (shard-10 before shard-2) differs from index order.
        let shards = try (0..<12).map { try run("shard-\($0)", shard: "\($0)/12") }
        let reference = try cellsWithoutTimes(whole)
        for (name, order) in [("reversed", Array(shards.reversed())), ("glob", shards.sorted())] {
            let out = root + "/merged-" + name
            let r = try BenchProcess.run(["merge"] + order + ["--out", out])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try cellsWithoutTimes(out).map { $0.replacingOccurrences(of: "\"seconds\"", with: "") },
                           reference, "\(name) order merges to the unsharded run's cells")
        }
    }
}
