import Guests
import HardwareVMM
import Translator
import Machine
import TrapVMM
import XCTest

/// Every monitor against the bare machine, on programs that exercise one
/// mechanism each. The monitors differ in how virtual supervisor mode runs;
/// on pg32v both must be indistinguishable from the bare machine.
final class DifferentialTests: XCTestCase {
    /// Each interpreter routine, used from virtual supervisor mode, does what the bare machine does.
    func testEveryInterpreterRoutine() throws {
        for monitor in Monitor.available { try checkEveryInterpreterRoutine(monitor) }
    }

    private func checkEveryInterpreterRoutine(_ monitor: Monitor) throws {
        let lpswBlock: [UInt32] = [1, 0x1040, 0, 0x8000] // at 0x2000: user mode, P = 0x1040
        let cases: [(SystemInstruction, [Instruction])] = [
            (.halt, Program.li(5, 77) + [Instruction(.halt, rs1: 5)]),
            (.out, Program.li(5, 0x41) + [Instruction(.out, rs1: 5), Instruction(.halt, rs1: 0)]),
            (.getm, [Instruction(.getm, rd: 6), Instruction(.halt, rs1: 6)]),
            (.getl, Program.li(5, 0x100) + Program.li(6, 0x8000) + [
                Instruction(.setr, rs1: 5, rs2: 6),            // 0x1010: R = (0x100, 0x8000), next fetch at 0x1014 under it
            ]),
            (.getb, [Instruction(.getb, rd: 6), Instruction(.halt, rs1: 6)]),
            (.setr, Program.li(5, 0) + Program.li(6, 0x1010) + [Instruction(.setr, rs1: 5, rs2: 6)]), // next fetch at b: memory trap
            (.lpsw, Program.li(5, 0x2000) + [Instruction(.lpsw, rs1: 5)]),
            (.jrstu, Program.li(5, 0x1010) + [Instruction(.jrstu, rs1: 5), Instruction(.halt, rs1: 0), Instruction(.getm, rd: 7)]),
            (.setm, Program.li(5, 1) + [Instruction(.setm, rs1: 5), Instruction(.getm, rd: 7)]),
        ]
        for (instruction, code) in cases {
            var program = code
            if instruction == .getl {
                // Continue at 0x1014 relocated by 0x100: physical 0x1114 holds GETL and HALT.
                program += [Instruction](repeating: Instruction(.addi), count: (0x1114 - 0x1014) / 4)
                program += [Instruction(.getl, rd: 6), Instruction(.halt, rs1: 6)]
            }
            if instruction == .lpsw {
                program += [Instruction](repeating: Instruction(.addi), count: (0x1040 - 0x100C) / 4)
                program += [Instruction(.ecall)] // user mode at 0x1040: SVC reflected to the handler
            }
            let (bare, vm) = try assertEquivalent(Program.image(program, data: lpswBlock), monitor: monitor, "\(instruction)")
            if monitor.intercepts(instruction) {
                XCTAssertGreaterThan(vm.counters.emulated[instruction.index], 0, "\(monitor): \(instruction) went through its interpreter routine")
            } else {
                XCTAssertEqual(vm.counters.emulated[instruction.index], 0, "\(monitor): VX executed \(instruction) in guest mode")
            }
            XCTAssertNotEqual(bare.outcome, .checkstop, "\(instruction)")
        }
    }

    /// Every trap cause, raised in virtual supervisor and in virtual user mode, is reflected into the guest.
    func testReflectionOfEveryCauseFromBothModes() throws {
        for monitor in Monitor.available { try checkReflectionOfEveryCauseFromBothModes(monitor) }
    }

    private func checkReflectionOfEveryCauseFromBothModes(_ monitor: Monitor) throws {
        let rdcycle: UInt32 = 0xC000_2573                             // a CSR read: ILLEGAL on PG32
        let raisers: [(TrapCause, [UInt32])] = [
            (.svc, [Instruction(.ecall).encoded]),
            (.breakpoint, [Instruction(.ebreak).encoded]),
            (.memory, [Instruction(.lw, rd: 5, rs1: 0, imm: -8).encoded]),
            (.memory, [Instruction(.jal, rd: 0, imm: 0x7FFFE).encoded]),  // fetch outside memory
            (.illegal, [rdcycle]),
            (.privileged, [Instruction(.out, rs1: 0).encoded]),           // user mode only: supervisor executes it
        ]
        for mode in [Mode.supervisor, .user] {
            for (cause, raiser) in raisers {
                if cause == .privileged && mode == .supervisor { continue }
                // Enter `mode` with LPSW at P = 0x1100, where the raiser sits.
                var program = (Program.li(5, 0x2000) + [Instruction(.lpsw, rs1: 5)]).map(\.encoded)
                program += [UInt32](repeating: Instruction(.addi).encoded, count: (0x1100 - 0x100C) / 4)
                program += raiser
                let data: [UInt32] = [mode.rawValue, 0x1100, 0, UInt32(Program.memory)]
                let (bare, vm) = try assertEquivalent(Program.image(words: program, data: data), monitor: monitor, "\(cause) from \(mode)")
                XCTAssertEqual(bare.outcome, .halted(cause.rawValue), "\(cause) from \(mode): the guest handler ran")
                XCTAssertEqual(bare.registers[22], mode.rawValue, "old PSW mode")
                XCTAssertEqual(vm.counters.reflected, monitor.intercepts(cause) ? 1 : 0,
                               "\(monitor): \(cause) from \(mode) reflected by the monitor, or delivered by VX")
            }
        }
    }

    /// A process whose bound runs past the end of the guest's memory traps
    /// exactly where a bare machine of size w traps (the VM map's clamp).
    func testBoundClamp() throws {
        for monitor in Monitor.available { try checkBoundClamp(monitor) }
    }

    private func checkBoundClamp(_ monitor: Monitor) throws {
        let w = UInt32(Program.memory)
        let l = w - 0x1000
        // Supervisor code at l = w - 0x1000 with b = 0x10000: only 0x1000 bytes really exist.
        for (address, shouldTrap) in [(UInt32(0xFFC), false), (0x1000, true), (0xFFE, true), (0xFFFF, true)] {
            // LPSW into supervisor mode at virtual 0 under R = (w - 0x1000, 0x10000), where
            // `lw x8, 0(x7); halt x0` sits at physical w - 0x1000.
            var words = (Program.li(7, address) + Program.li(5, 0x2000) + [Instruction(.lpsw, rs1: 5)]).map(\.encoded)
            words += [UInt32](repeating: 0, count: (Int(l) - 0x1000) / 4 - words.count)
            words += [Instruction(.lw, rd: 8, rs1: 7).encoded, Instruction(.halt, rs1: 0).encoded]
            let image = Program.image(words: words, data: [0, 0x0, l, 0x10000])
            let (bare, _) = try assertEquivalent(image, monitor: monitor, "load at \(hex(address)) under l = w - 0x1000")
            XCTAssertEqual(bare.outcome, shouldTrap ? .halted(TrapCause.memory.rawValue) : .halted(0), hex(address))
            if shouldTrap { XCTAssertEqual(bare.registers[21], address, "trap value is the virtual address") }
        }
    }

    func testCheckstopWhenTheGuestsVectorIsUnusable() throws {
        for monitor in Monitor.available { try checkCheckstopWhenTheGuestsVectorIsUnusable(monitor) }
    }

    private func checkCheckstopWhenTheGuestsVectorIsUnusable(_ monitor: Monitor) throws {
        let image = Program.image([Instruction(.ecall)], newPSW: PSW(mode: .supervisor, pc: 0x802, l: 0, b: 65536))
        let (bare, vm) = try assertEquivalent(image, monitor: monitor)
        XCTAssertEqual(bare.outcome, .checkstop)
        XCTAssertEqual(vm.snapshot().psw.pc, 0x802, "the virtual PSW is the unusable new PSW")
    }

    func testUnfetchablePAfterLpswIsAMemoryTrapNotCheckstop() throws {
        for monitor in Monitor.available { try checkUnfetchablePAfterLpswIsAMemoryTrapNotCheckstop(monitor) }
    }

    private func checkUnfetchablePAfterLpswIsAMemoryTrapNotCheckstop(_ monitor: Monitor) throws {
        let image = Program.image(Program.li(5, 0x2000) + [Instruction(.lpsw, rs1: 5)], data: [0, 0x3, 0, 65536])
        let (bare, _) = try assertEquivalent(image, monitor: monitor)
        XCTAssertEqual(bare.outcome, .halted(TrapCause.memory.rawValue))
        XCTAssertEqual(bare.registers[21], 3)
    }

    /// A guest that probes every page it can name, with relocations that try
    /// to reach past its storage, sees exactly what a bare machine of its size
    /// sees; canaries around it stay intact.
    func testProbingGuestSeesOnlyItsOwnStorage() throws {
        for monitor in Monitor.available { try checkProbingGuestSeesOnlyItsOwnStorage(monitor) }
    }

    private func checkProbingGuestSeesOnlyItsOwnStorage(_ monitor: Monitor) throws {
        // Handler that counts memory traps in x25 and skips the faulting load, then resumes.
        // Probe loop: for a in 0, 0x1000, ... up to 2^32 - 0x1000 step 0x01000000 and near edges.
        var code: [Instruction] = []
        code += Program.li(9, 0x1000)                                   // x9: probe address
        code += Program.li(10, 0x1000_0000)                             // x10: stride
        code += [
            Instruction(.lw, rd: 11, rs1: 9),                           // 0x1010: probe
            Instruction(.add, rd: 12, rs1: 12, rs2: 11),                // accumulate what was seen
            Instruction(.add, rd: 9, rs1: 9, rs2: 10),
            Instruction(.bne, rs1: 9, rs2: 14, imm: -12),               // until x9 wraps to x14 (0x1000 again... see below)
            Instruction(.halt, rs1: 25),
        ]
        // x14 = 0x1000: after 16 strides of 2^28 the address wraps back to 0x1000.
        code = Program.li(14, 0x1000) + code
        // The skipping handler at 0x900: x25 += 1; old P += 4; LPSW from 0.
        let skip = [
            Instruction(.addi, rd: 25, rs1: 25, imm: 1), Instruction(.lw, rd: 26, rs1: 0, imm: 4),
            Instruction(.addi, rd: 26, rs1: 26, imm: 4), Instruction(.sw, rs1: 0, rs2: 26, imm: 4),
            Instruction(.lpsw, rs1: 0),
        ]
        let image = Program.image(words: code.map(\.encoded), newPSW: PSW(mode: .supervisor, pc: 0x900, l: 0, b: 65536),
                                  extra: (0x900, skip.map(\.encoded)))
        let (bare, _) = try assertEquivalent(image, monitor: monitor, "probe")
        XCTAssertEqual(bare.outcome, .halted(15), "15 of the 16 probes are outside a 64 KiB machine")

        // Relocations at and past the end of the guest's storage. (65532, 8) still
        // reaches the last word, which holds 0: ILLEGAL. The rest trap on the fetch.
        let relocations: [(UInt32, UInt32, TrapCause)] = [
            (65536, .max, .memory), (65532, 8, .illegal), (65533, 8, .memory), (0xFFFF_F000, 0x2000, .memory),
        ]
        for (l, b, cause) in relocations {
            let code = Program.li(5, l) + Program.li(6, b) + Program.li(7, 0x2000) + [Instruction(.lpsw, rs1: 7)]
            let (bare, _) = try assertEquivalent(Program.image(code, data: [0, 0, l, b]), monitor: monitor, "l = \(hex(l)), b = \(hex(b))")
            XCTAssertEqual(bare.outcome, .halted(cause.rawValue), "l = \(hex(l)), b = \(hex(b))")
        }
    }

    /// Several VMs under one monitor, switched every few hundred instructions:
    /// each equivalent to its own bare run; nothing of one is visible to another.
    func testSeveralVMsAreIsolatedAndEachEquivalent() throws {
        for monitor in Monitor.available { try checkSeveralVMsAreIsolatedAndEachEquivalent(monitor) }
    }

    private func checkSeveralVMsAreIsolatedAndEachEquivalent(_ monitor: Monitor) throws {
        // VM i writes its id to every word of its storage it can reach (a scribbler), then halts with a sum.
        func scribbler(_ id: UInt32) -> ELFImage {
            let code = Program.li(5, id) + Program.li(6, 0x3000) + Program.li(7, UInt32(Program.memory)) + [
                Instruction(.sw, rs1: 6, rs2: 5),
                Instruction(.addi, rd: 6, rs1: 6, imm: 4),
                Instruction(.bne, rs1: 6, rs2: 7, imm: -8),
                Instruction(.lui, rd: 9, imm: 0x3000),
                Instruction(.lw, rd: 8, rs1: 9),
                Instruction(.out, rs1: 8),
                Instruction(.halt, rs1: 8),
            ]
            return Program.image(code)
        }
        let images = (0..<3).map { scribbler(UInt32(0x41 + $0)) }
        let cp = try monitor.make(images, profile: .pg32v, memory: Program.memory, budget: 10_000_000)
        cp.run(quantum: 333)
        XCTAssertEqual(cp.damagedCanaries, [])
        for (i, image) in images.enumerated() {
            let bare = Machine(booting: image, memorySize: Program.memory, profile: .pg32v).runToEnd(budget: 10_000_000)
            XCTAssertEqual(Verdict(run: cp.vms[i].snapshot(), reference: bare), .equivalent, "\(monitor) VM \(i)")
            XCTAssertEqual(cp.vms[i].console, [UInt8(0x41 + i)])
            XCTAssertGreaterThan(cp.vms[i].counters.switchesIn, 10, "the scheduler really interleaved them")
        }
    }

    /// The budget stops a VM at exactly the instruction a bare machine stops at.
    func testBudgetIsExactUnderTheMonitor() throws {
        for monitor in Monitor.available { try checkBudgetIsExactUnderTheMonitor(monitor) }
    }

    private func checkBudgetIsExactUnderTheMonitor(_ monitor: Monitor) throws {
        let image = try ELFImage(bytes: try Guests.image(of: Guests.named("kernel")!), memorySize: 1 << 20)
        for budget: UInt64 in [1, 17, 4_321, 50_000] {
            let bare = Machine(booting: image, memorySize: 1 << 20, profile: .pg32v)
            _ = bare.run(budget: budget)
            let cp = try monitor.make([image], profile: .pg32v, memory: 1 << 20, budget: budget)
            cp.run(quantum: 1000)
            let vm = cp.vms[0]
            XCTAssertEqual(vm.state, .outOfBudget)
            XCTAssertEqual(vm.instructions, budget)
            XCTAssertEqual(vm.snapshot().registers, bare.registers, "same state after \(budget) instructions")
            XCTAssertEqual(vm.psw.pc, bare.psw.pc)
            XCTAssertEqual(vm.console, bare.console)
        }
    }
}

/// The VX hypervisor guest (hv) under every monitor: each runs the guest's
/// own guests on the real VX through its VMRUN routine (SPEC section 9).
final class NestedVXTests: XCTestCase {
    func testTheHypervisorGuestIsEquivalentUnderEveryMonitorOnEveryProfile() throws {
        let guest = try XCTUnwrap(Guests.named("hv"))
        let image = try ELFImage(bytes: try Guests.image(of: guest), memorySize: 1 << 20)
        for profile in Profile.builtIn {
            let bare = Machine(booting: image, memorySize: 1 << 20, profile: profile).runToEnd(budget: 5_000_000)
            XCTAssertEqual(bare.outcome, .halted(guest.expectedExitCode), profile.name)
            for monitor in Monitor.available {
                let cp = try monitor.make([image], profile: profile, memory: 1 << 20, budget: 5_000_000)
                cp.run(quantum: 50_000)
                let vm = cp.vms[0]
                XCTAssertEqual(Verdict(run: vm.snapshot(), reference: bare), .equivalent, "\(monitor) on \(profile.name)")
                XCTAssertEqual(cp.damagedCanaries, [], "\(monitor) on \(profile.name)")
                XCTAssertEqual(vm.counters.emulated[SystemInstruction.vmrun.index], 62,
                               "\(monitor): every VMRUN of the hypervisor went through the routine")
                XCTAssertGreaterThan(vm.counters.guestMode, 9_000, "\(monitor): the nested guests ran in guest mode")
            }
        }
    }

    /// A run that ends by budget while the VM's own guest is in guest mode
    /// reports both PSWs as the bare machine does.
    func testBudgetEndingInsideTheNestedGuest() throws {
        let guest = try XCTUnwrap(Guests.named("hv"))
        let image = try ELFImage(bytes: try Guests.image(of: guest), memorySize: 1 << 20)
        let budget: UInt64 = 547_000 // inside a guest's hash loop (the hypervisor's memsets come first)
        let bare = Machine(booting: image, memorySize: 1 << 20, profile: .pg32v).runToEnd(budget: budget)
        XCTAssertEqual(bare.outcome, .budget)
        let guestPSW = try XCTUnwrap(bare.guestPSW, "the bare machine stopped in guest mode")
        for monitor in Monitor.available {
            let cp = try monitor.make([image], profile: .pg32v, memory: 1 << 20, budget: budget)
            cp.run()
            let run = cp.vms[0].snapshot()
            XCTAssertEqual(run.guestPSW, guestPSW, "\(monitor)")
            XCTAssertNil(run.firstDifference(from: bare), "\(monitor): a budget run still compares exactly")
        }
    }
}

/// The fuzzer's findings of seed 2026, as programs of their own.
final class VXWriteBackTests: XCTestCase {
    /// A subroutine at 0x1100 runs (and is translated), then a VMRUN whose
    /// block at 0x10E0 is refused (w = 0) writes reason, value and word over
    /// it: the next call must fetch those zeros and trap ILLEGAL.
    static func refusedBlockOverCode() -> ELFImage {
        var code = Program.li(5, 0x10E0) + [Instruction(.jal, rd: 1, imm: 0)]
        code[code.count - 1] = Instruction(.jal, rd: 1, imm: Int32(0x1100 - (0x1000 + 4 * (code.count - 1))))
        code += [Instruction(.vmrun, rs1: 5)]
        code += [Instruction(.jal, rd: 1, imm: Int32(0x1100 - (0x1000 + 4 * code.count)))]
        code += [Instruction(.halt, rs1: 0)]
        code += [Instruction](repeating: Instruction(.addi), count: (0x1100 - 0x1000) / 4 - code.count)
        code += [Instruction(.addi, rd: 6, rs1: 6, imm: 1), Instruction(.jalr, rd: 0, rs1: 1, imm: 0)]
        return Program.image(code)
    }

    func testARefusedBlockOverTranslatedCodeIsSeenByTheNextFetch() throws {
        let image = VXWriteBackTests.refusedBlockOverCode()
        let bare = Machine(booting: image, memorySize: Program.memory, profile: .pg32v).runToEnd(budget: 10_000)
        XCTAssertEqual(bare.outcome, .halted(TrapCause.illegal.rawValue), "the second call fetches the block's zeros")
        for monitor in Monitor.available { try assertEquivalent(image, monitor: monitor, budget: 10_000) }
    }
}

/// Issue 19's matrix: hw is equivalent to native for every built-in guest,
/// every profile and every exit preset, on both processors. On the
/// interpreter the compute guests are left out (a debug build interprets
/// them about thirty times slower; `bench run G --strategy hw --hardware
/// interp` covers them in release); on the JIT every guest runs.
final class HardwareMatrixTests: XCTestCase {
    static let presets: [(String, ExitControls)] = [("none", .none), ("shadow", [.on(.lpsw), .on(.setr), .on(.memory)]), ("all", .all)]

    func check(processor make: () throws -> any Processor, guests: [BuiltinGuest]) throws {
        for g in guests {
            let image = try ELFImage(bytes: try Guests.image(of: g), memorySize: 1 << 20)
            for profile in Profile.builtIn {
                let bareMachine = Machine(booting: image, memorySize: 1 << 20, profile: profile)
                let bare = bareMachine.snapshot(outcome: Outcome(try make().run(bareMachine, budget: 100_000_000)))
                XCTAssertNotEqual(bare.outcome, .budget, "\(g.name) on \(profile.name) must finish")
                for (name, exits) in HardwareMatrixTests.presets {
                    let processor = try make()
                    let cp = try HardwareVMM.controlProgram(images: [image], profile: profile, memorySize: 1 << 20,
                                                            budget: 100_000_000, processor: processor, exits: exits)
                    cp.run(quantum: 100_000)
                    XCTAssertEqual(Verdict(run: cp.vms[0].snapshot(), reference: bare), .equivalent,
                                   "\(g.name) on \(profile.name), hw-exits \(name), \(processor.name)")
                    XCTAssertEqual(cp.damagedCanaries, [], "\(g.name) \(profile.name) \(name)")
                }
            }
        }
    }

    func testOnTheInterpreter() throws {
        try check(processor: { Interpreter.shared }, guests: Guests.all.filter { $0.kind != .compute })
    }

    func testOnTheJIT() throws {
        if let why = JITTranslator.unavailableReason { throw XCTSkip(why) }
        try check(processor: { try JITProcessor() }, guests: Guests.all)
    }
}
