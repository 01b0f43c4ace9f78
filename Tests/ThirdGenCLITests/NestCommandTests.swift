import Foundation
import XCTest

/// Recursive virtualization (Theorem 2) through `bench nest`.
final class NestCommandTests: XCTestCase {
    private func depths(_ args: [String]) throws -> [[String: Any]] {
        let r = try BenchProcess.run(["nest"] + args + ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        return try XCTUnwrap(o["depths"] as? [[String: Any]])
    }

    /// On pg32v the guest monitor runs a guest two levels deep, equivalent at every depth, under trap, bt and jit.
    func testDepthTwoIsEquivalentOnPg32v() throws {
        #if os(Linux) && arch(x86_64)
        let strategies = ["trap", "bt", "jit"]
        #else
        let strategies = ["trap", "bt"]
        #endif
        for strategy in strategies {
            for guest in ["kernel", "smc"] {
                let d = try depths([guest, "--depth", "2", "--strategy", strategy])
                XCTAssertEqual(d.map { $0["depth"] as? Int }, [0, 1, 2])
                XCTAssertEqual(d.map { $0["equivalent"] as? Bool }, [true, true, true], "\(guest) under \(strategy): \(d)")
                let instructions = d.compactMap { $0["guestInstructions"] as? Int }
                XCTAssertEqual(instructions, instructions.sorted(), "each level adds the monitor's own work")
            }
        }
        let traps = try depths(["syscall", "--depth", "2", "--strategy", "trap"]).compactMap { $0["traps"] as? Int }
        XCTAssertEqual(traps, traps.sorted())
        XCTAssertGreaterThan(traps[2], traps[0])
    }

    /// On pg32h the guest whose kernel enters user mode with JRSTU diverges under trap at every depth.
    func testJrstuDivergesUnderTrapAtEveryDepthOnPg32h() throws {
        let d = try depths(["jrstu", "--profile", "h", "--depth", "2", "--strategy", "trap"])
        XCTAssertEqual(d.map { $0["equivalent"] as? Bool }, [false, false, false])
        for level in d { XCTAssertEqual(level["divergence"] as? String, "status differs: halted(85) vs halted(3)") }
    }

    /// A tower of the VX monitor (src/vxvmm.c) works on every profile: below
    /// the outermost level every guest runs in guest mode under nested VX, so
    /// even trap-and-emulate on pg32x, which diverges on getl and jrstu when
    /// it runs them itself (depth 0), is equivalent one level down. The VX
    /// hypervisor guest (hv, itself a user of VMRUN) runs inside the tower.
    func testVXMonitorTowerIsEquivalentOnEveryProfile() throws {
        for (guest, profile) in [("getl", "x"), ("jrstu", "x"), ("jrstu", "h")] {
            let d = try depths([guest, "--monitor", "vxvmm", "--profile", profile, "--depth", "2", "--strategy", "trap"])
            XCTAssertEqual(d.map { $0["equivalent"] as? Bool }, [false, true, true], "\(guest) on pg32\(profile): \(d)")
        }
        for strategy in ["trap", "hw"] {
            let d = try depths(["hv", "--monitor", "vxvmm", "--profile", "x", "--depth", "2", "--strategy", strategy])
            XCTAssertEqual(d.map { $0["equivalent"] as? Bool }, [true, true, true], "hv under \(strategy): \(d)")
            let exits = d.compactMap { $0["traps"] as? Int }
            XCTAssertEqual(exits, exits.sorted(), "each level adds the monitor's exits: \(exits)")
        }
        let r = try BenchProcess.run(["nest", "sieve", "--monitor", "qemu"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("vmm") && r.stderr.contains("vxvmm"), r.stderr)
    }
}
