import Foundation
import XCTest

/// `bench peer`: the JIT beside native code and QEMU, end to end.
final class PeerCommandTests: XCTestCase {
    func testPeerTableForOneGuest() throws {
        #if !(os(Linux) && arch(x86_64))
        throw XCTSkip("the JIT runs on x86-64 Linux only")
        #else
        let r = try BenchProcess.run(["peer", "--guests", "crc32", "--repeat", "1", "--json"])
        guard r.status == 0 else {
            if r.stderr.contains("clang") { throw XCTSkip("no guest toolchain: \(r.stderr)") }
            return XCTFail(r.stderr)
        }
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let row = try XCTUnwrap((o["rows"] as? [[String: Any]])?.first)
        XCTAssertEqual(row["guest"] as? String, "crc32")
        XCTAssertEqual(row["outputsAgree"] as? Bool, true, "native, QEMU and every PG32 strategy print the same and exit alike")
        XCTAssertGreaterThan(row["guestInstructions"] as? Int ?? 0, 1_000_000)
        for key in ["nativeSeconds", "jitSeconds", "nativeJitSeconds", "nativeJitWarmSeconds", "btSeconds",
                    "translateNanosecondsPerInstruction"] {
            XCTAssertGreaterThan(row[key] as? Double ?? 0, 0, key)
        }
        if o["qemu"] is String {
            XCTAssertGreaterThan(row["qemuSeconds"] as? Double ?? 0, 0)
            XCTAssertGreaterThanOrEqual(row["qemuColdSeconds"] as? Double ?? 0, row["qemuSeconds"] as? Double ?? 0)
        } else {
            XCTAssertTrue(row["qemuSeconds"] is NSNull)
        }
        let bad = try BenchProcess.run(["peer", "--qemu", "/nonexistent/qemu"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
        #endif
    }
}
