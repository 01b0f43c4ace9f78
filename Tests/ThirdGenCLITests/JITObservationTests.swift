import Foundation
import XCTest

/// What a researcher profiling generated code gets: perf's map of the JIT's
/// blocks (`THIRDGEN_PERF_MAP=1`) and each block's code (`THIRDGEN_JIT_DUMP`).
final class JITObservationTests: XCTestCase {
    func testPerfMapAndCodeDumpNameEveryBlock() throws {
        #if !(os(Linux) && arch(x86_64))
        throw XCTSkip("the JIT runs on x86-64 Linux only")
        #else
        let dump = FileManager.default.temporaryDirectory.appendingPathComponent("jit-dump-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dump, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dump) }
        let r = try BenchProcess.run(["run", "crc32", "--strategy", "native-jit"],
                                     environment: ["THIRDGEN_PERF_MAP": "1", "THIRDGEN_JIT_DUMP": dump.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let mapURL = URL(fileURLWithPath: "/tmp/perf-\(r.pid).map")
        defer { try? FileManager.default.removeItem(at: mapURL) }
        let lines = try String(contentsOf: mapURL, encoding: .utf8).split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 5, "one line per block compiled")
        var sizes: [String: Int] = [:]
        for line in lines {
            let fields = line.split(separator: " ")
            XCTAssertEqual(fields.count, 3, String(line))
            guard fields.count == 3, let size = Int(fields[1], radix: 16), UInt(fields[0], radix: 16) != nil else { continue }
            XCTAssertTrue(fields[2].hasPrefix("pg32:") && fields[2].contains("@"), String(line))
            XCTAssertGreaterThan(size, 0)
            sizes[String(fields[2].dropFirst(5))] = size // the last compilation of a block is the one dumped
        }
        XCTAssertNotNil(sizes["00001000@00000000"], "crc32's entry block")
        for (name, size) in sizes {
            let file = dump.appendingPathComponent("pg32-\(name).bin")
            let bytes = try Data(contentsOf: file)
            XCTAssertEqual(bytes.count, size, name)
        }
        let off = try BenchProcess.run(["run", "crc32", "--strategy", "native-jit"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/perf-\(off.pid).map"), "no map unless asked for")
        #endif
    }
}
