import Guests
import HybridVMM
import Machine
import TrapVMM
import XCTest

/// The verdicts the theorems predict, observed by running every built-in guest.
final class VerdictTests: XCTestCase {
    private func verdict(_ guest: BuiltinGuest, on profile: Profile, under monitor: Monitor = .trap) throws -> Verdict {
        let image = try ELFImage(bytes: try Guests.image(of: guest), memorySize: 1 << 20)
        let r = try bareAndMonitor(image, monitor: monitor, profile: profile, budget: 100_000_000, memory: 1 << 20)
        XCTAssertEqual(r.cp.damagedCanaries, [], "\(guest.name) on \(profile.name) under \(monitor)")
        return Verdict(run: r.run, reference: r.bare)
    }

    /// Binary translation virtualizes every guest on every profile, pg32x included.
    func testBinaryTranslationVirtualizesEveryProfile() throws {
        for profile in Profile.builtIn {
            for g in Guests.all where profile == .pg32v || g.kind != .compute {
                XCTAssertEqual(try verdict(g, on: profile, under: .bt), .equivalent, "\(g.name) on \(profile.name)")
            }
        }
    }

    /// VMware's choice, user mode direct, keeps Theorem 3's verdicts: fine on pg32h, not on pg32x's GETL.
    func testBinaryTranslationWithDirectUserMode() throws {
        XCTAssertEqual(try verdict(Guests.named("jrstu")!, on: .pg32h, under: .btDirectUser), .equivalent)
        XCTAssertEqual(try verdict(Guests.named("kernel")!, on: .pg32h, under: .btDirectUser), .equivalent)
        if case .equivalent = try verdict(Guests.named("getl")!, on: .pg32x, under: .btDirectUser) {
            XCTFail("user-mode GETL runs on the real machine, so it must reveal the real relocation")
        }
    }

    /// Theorem 1 (trap) and Theorem 3 (hybrid): on pg32v every guest is equivalent under both.
    func testEveryGuestIsEquivalentOnPg32v() throws {
        for g in Guests.all {
            for monitor in Monitor.available {
                XCTAssertEqual(try verdict(g, on: .pg32v, under: monitor), .equivalent, "\(g.name) under \(monitor)")
            }
        }
    }

    /// Theorem 3: on pg32h the hybrid monitor virtualizes every guest, the JRSTU demonstration included.
    func testHybridVirtualizesPg32h() throws {
        for g in Guests.all where g.kind != .compute {
            XCTAssertEqual(try verdict(g, on: .pg32h, under: .hybrid), .equivalent, g.name)
        }
    }

    /// pg32x breaks Theorem 3 too: GETL in user mode reveals the real relocation, even to the hybrid monitor.
    func testHybridDivergesOnTheGetlDemonstrationOnPg32x() throws {
        guard case .divergent(let why) = try verdict(Guests.named("getl")!, on: .pg32x, under: .hybrid) else {
            return XCTFail("getl must diverge under hybrid on pg32x")
        }
        // Supervisor-mode GETM is interpreted (correct); user-mode GETL shows l = 0x1000, the VM's real base.
        XCTAssertEqual(why, "console differs at byte 46: '1' vs '0'")
        XCTAssertEqual(try verdict(Guests.named("jrstu")!, on: .pg32x, under: .hybrid), .equivalent,
                       "JRSTU runs interpreted in supervisor mode, so pg32x's JRSTU is no problem for hybrid")
    }

    /// pg32h: JRSTU is control sensitive and unprivileged, so trap-and-emulate fails on the guest that uses it.
    func testJrstuDemonstrationDivergesOnPg32h() throws {
        guard case .divergent(let why) = try verdict(Guests.named("jrstu")!, on: .pg32h) else {
            return XCTFail("jrstu must diverge under trap on pg32h")
        }
        XCTAssertTrue(why.hasPrefix("status differs"), why)
        XCTAssertEqual(try verdict(Guests.named("kernel")!, on: .pg32h), .equivalent, "a guest that does not use JRSTU is fine")
    }

    /// pg32x: GETM and GETL reveal the real machine in both modes.
    func testGetlDemonstrationDivergesOnPg32x() throws {
        guard case .divergent(let why) = try verdict(Guests.named("getl")!, on: .pg32x) else {
            return XCTFail("getl must diverge under trap on pg32x")
        }
        // The first difference is GETM in supervisor mode: the real mode is user (1), the guest's is 0.
        XCTAssertEqual(why, "console differs at byte 23: '1' vs '0'")
        if case .equivalent = try verdict(Guests.named("jrstu")!, on: .pg32x) { XCTFail("jrstu must diverge on pg32x too") }
    }

    /// The monitor's counters tell what happened, and the efficiency property
    /// holds: a compute guest runs almost entirely directly.
    func testCountersOfTheSyscallNanobenchmark() throws {
        let image = try ELFImage(bytes: try Guests.image(of: Guests.named("syscall")!), memorySize: 1 << 20)
        let r = try bareAndMonitor(image, monitor: .trap, budget: 10_000_000, memory: 1 << 20)
        let c = r.vm.counters
        XCTAssertEqual(c.reflected, 4001, "4000 null calls and the exit call reach the guest kernel")
        XCTAssertEqual(c.traps[Int(TrapCause.svc.rawValue)], 4001)
        XCTAssertGreaterThanOrEqual(c.emulated[SystemInstruction.lpsw.index], 4001, "each return is an emulated LPSW")
        XCTAssertEqual(c.direct + c.traps.reduce(0, +), r.vm.instructions, "every counted instruction ran directly or trapped")

        let sieve = try ELFImage(bytes: try Guests.image(of: Guests.named("sieve")!), memorySize: 1 << 20)
        let s = try bareAndMonitor(sieve, monitor: .trap, budget: 100_000_000, memory: 1 << 20)
        XCTAssertGreaterThan(Double(s.vm.counters.direct) / Double(s.vm.instructions), 0.9999)
    }
}
