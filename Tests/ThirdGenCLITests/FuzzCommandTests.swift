import Foundation
import Guests
import Machine
import XCTest

/// The bounded fuzz campaign CI runs, and bad input that must never crash the host.
final class FuzzCommandTests: XCTestCase {
    /// A fixed seed, 500 programs per profile, every promised strategy (hw with
    /// random exit controls, the monitors on both processors, native-jit
    /// against the interpreter): no divergence, and guest mode reached.
    func testBoundedFuzzFindsNoDivergence() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString)").path
        let r = try BenchProcess.run(["fuzz", "--count", "1500", "--seed", "42", "--out", out, "--json"])
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stderr)
        XCTAssertEqual((o["divergences"] as? [Any])?.count, 0, r.stdout)
        XCTAssertEqual(r.status, 0)
        #if os(Linux) && arch(x86_64)
        XCTAssertEqual(o["runs"] as? Int, 500 * 6 + 500 * 5 + 500 * 4,
                       "trap, hybrid, bt, jit, hw, native-jit on v; hybrid, bt, jit, hw, native-jit on h; bt, jit, hw, native-jit on x")
        #else
        XCTAssertEqual(o["runs"] as? Int, 500 * 4 + 500 * 3 + 500 * 2, "trap, hybrid, bt, hw on v; hybrid, bt, hw on h; bt, hw on x")
        #endif
        XCTAssertGreaterThan(o["programsEnteringGuestMode"] as? Int ?? 0, 100, "VMRUN with valid blocks is generated")
    }

    /// Guest images corrupted at random: each either runs or is refused in one line; the host never crashes.
    func testCorruptedImagesNeverCrashTheHost() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("corrupt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var rng = SplitMix64(seed: 7)
        let original = try Guests.image(of: Guests.named("kernel")!)
        for n in 0..<24 {
            var bytes = original
            switch n % 3 {
            case 0: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &rng)))   // truncated
            case 1: for _ in 0..<8 { bytes[Int.random(in: 0..<64, using: &rng)] = UInt8.random(in: 0...255, using: &rng) } // header
            default: for _ in 0..<64 { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            }
            let path = dir.appendingPathComponent("mutant-\(n).elf").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let r = try BenchProcess.run(["run", path, "--strategy", "native,trap,bt", "--budget", "200000", "--json"])
            XCTAssertTrue(r.status == 0 || r.status == 1 || r.status == 64, "mutant \(n) ended with status \(r.status): \(r.stderr)")
            if r.status == 0 {
                XCTAssertNotNil(try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)), "mutant \(n): JSON")
            } else {
                XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "mutant \(n): \(r.stderr)")
            }
        }
    }

    func testZeroBudgetAndImpossibleOptions() throws {
        for args in [["fuzz", "--count", "-1"], ["run", "kernel", "--tcache-ops", "3"], ["run", "kernel", "--quantum", "0"],
                     ["run", "kernel", "--vms", "0"], ["classify", "--profile", "v", "--trials", "0"],
                     ["check", "--profile", "x", "--trials", "0"]] {
            let r = try BenchProcess.run(args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(args): \(r.stderr)")
        }
    }

    /// A reproducer folder that cannot be made is refused before the campaign
    /// (its findings were lost at the end), and nothing is made for a good one without findings.
    func testUnwritableReproducerFolderIsRefusedFirst() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-out-\(UUID().uuidString)")
        try Data().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try BenchProcess.run(["fuzz", "--count", "300", "--out", file.path + "/reproducers"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("is a file, not a folder; choose another --out"), r.stderr)
        XCTAssertFalse(r.stderr.contains("/300"), "no program ran: \(r.stderr)")
        let fresh = file.path + "-none/reproducers"
        let ok = try BenchProcess.run(["fuzz", "--count", "2", "--out", fresh, "--json"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh), "made without findings")
    }
}

/// The loader fuzzer (`bench fuzz --images N`) at CI size: a few thousand mutants of every built-in guest.
final class LoaderFuzzTests: XCTestCase {
    func testMutatedImagesAreRefusedInOneLineOrRunEquivalently() throws {
        let r = try BenchProcess.run(["fuzz", "--images", "3000", "--seed", "16", "--json"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let refused = try XCTUnwrap(o["refused"] as? Int), ran = try XCTUnwrap(o["ran"] as? Int)
        XCTAssertEqual(refused + ran, 3000)
        XCTAssertGreaterThan(refused, 300, "the mutations reach the loader's checks")
        XCTAssertGreaterThan(ran, 300, "and some mutants still load and run")
        XCTAssertEqual(o["divergences"] as? [String], [])
        XCTAssertEqual(o["badMessages"] as? [String], [])
        XCTAssertGreaterThan((o["reasons"] as? [String: Any])?.count ?? 0, 5, "many different refusals")
    }
}
