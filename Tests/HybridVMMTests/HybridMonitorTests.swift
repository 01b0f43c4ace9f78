import Guests
import HybridVMM
import Machine
import TrapVMM
import XCTest

/// What only the hybrid monitor does: interpret virtual supervisor mode.
final class HybridMonitorTests: XCTestCase {
    private func run(_ name: String, on profile: Profile) throws -> (vm: VirtualMachine, bare: Snapshot) {
        let image = try ELFImage(bytes: try Guests.image(of: Guests.named(name)!), memorySize: 1 << 20)
        let cp = try HybridVMM.controlProgram(images: [image], profile: profile, memorySize: 1 << 20, budget: 100_000_000)
        cp.run()
        let bare = Machine(booting: image, memorySize: 1 << 20, profile: profile).runToEnd(budget: 100_000_000)
        return (cp.vms[0], bare)
    }

    /// A guest whose kernel does most of the work is mostly interpreted.
    func testKernelHeavyGuestIsMostlyInterpreted() throws {
        let (vm, bare) = try run("syscall", on: .pg32v)
        XCTAssertEqual(Verdict(run: vm.snapshot(), reference: bare), .equivalent)
        XCTAssertGreaterThan(vm.counters.interpreted, 10 * vm.counters.direct)
        XCTAssertEqual(vm.counters.interpreted + vm.counters.direct + vm.counters.traps.reduce(0, +), vm.instructions,
                       "every instruction was interpreted, ran directly, or trapped from user mode")
    }

    /// User processes run directly: the kernel guest's user code is never interpreted.
    func testUserModeRunsDirectly() throws {
        let (vm, _) = try run("kernel", on: .pg32v)
        XCTAssertGreaterThan(vm.counters.direct, 50_000)
        XCTAssertEqual(vm.counters.reflected, 129)
    }

    /// The pg32h guest that enters user mode with JRSTU is equivalent under hybrid.
    func testJrstuGuestIsEquivalentOnPg32h() throws {
        let (vm, bare) = try run("jrstu", on: .pg32h)
        XCTAssertEqual(Verdict(run: vm.snapshot(), reference: bare), .equivalent)
        XCTAssertEqual(vm.counters.emulated[SystemInstruction.jrstu.index], 1, "JRSTU reached its interpreter routine")
        XCTAssertEqual(bare.outcome, .halted(TrapCause.privileged.rawValue))
    }

    /// System instructions in virtual supervisor mode reach the interpreter routines without a real trap.
    func testNoRealTrapsInSupervisorMode() throws {
        let (vm, _) = try run("privreg", on: .pg32v)
        XCTAssertEqual(vm.counters.traps.reduce(0, +), 0)
        XCTAssertEqual(vm.counters.emulated[SystemInstruction.setr.index], 4000)
        XCTAssertEqual(vm.counters.direct, 0)
    }
}
