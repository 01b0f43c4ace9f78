import Guests
import Machine
import Translator
import XCTest

/// The two real processors agree on VX guest mode (SPEC sections 8 and 11):
/// a run on one and the same run on the other end in identical state,
/// runs that end by budget (in guest mode too) included.
final class ProcessorTests: XCTestCase {
    override func setUpWithError() throws {
        if let why = JITTranslator.unavailableReason { throw XCTSkip(why) }
    }

    private func both(_ make: () throws -> Machine, budget: UInt64, _ message: String,
                      file: StaticString = #filePath, line: UInt = #line) throws {
        let interp = try make(), jit = try make()
        let a = interp.snapshot(outcome: Outcome(Interpreter.shared.run(interp, budget: budget)))
        let b = jit.snapshot(outcome: Outcome(try JITProcessor().run(jit, budget: budget)))
        XCTAssertEqual(a.outcome, b.outcome, message, file: file, line: line)
        XCTAssertNil(b.firstDifference(from: a), message, file: file, line: line)
        XCTAssertEqual(a.instructions, b.instructions, "\(message): counting", file: file, line: line)
    }

    /// The JIT's state lives in the machine it runs and holds a stepper over
    /// it: no cycle, so code memory goes with the machine (the fuzzer ran the
    /// host out of mappings before this held).
    func testTheJITsStateGoesWithItsMachine() throws {
        let image = try ELFImage(bytes: try Guests.image(of: try XCTUnwrap(Guests.named("hv"))), memorySize: 1 << 20)
        weak var machine: Machine?, g: Machine?, state: AnyObject?
        do {
            let m = Machine(booting: image, memorySize: 1 << 20, profile: .pg32v)
            XCTAssertEqual(try JITProcessor().run(m, budget: 5_000_000), .halted(0x21))
            machine = m
            g = m.guestMachine
            state = m.processorState
            XCTAssertNotNil(state)
            XCTAssertNotNil(g?.processorState, "G ran on the JIT too")
        }
        XCTAssertNil(machine)
        XCTAssertNil(g)
        XCTAssertNil(state)
    }

    func testTheHypervisorGuestAtEveryKindOfBudget() throws {
        let image = try ELFImage(bytes: try Guests.image(of: try XCTUnwrap(Guests.named("hv"))), memorySize: 1 << 20)
        var inGuestMode = 0
        for budget: UInt64 in [1, 2, 1_000, 300_000, 540_000, 540_001, 547_000, 547_003, 548_000, 549_629, 549_630, 5_000_000] {
            try both({ Machine(booting: image, memorySize: 1 << 20, profile: .pg32x) }, budget: budget, "budget \(budget)")
            let m = Machine(booting: image, memorySize: 1 << 20, profile: .pg32x)
            _ = m.run(budget: budget)
            if m.guestPSW != nil { inGuestMode += 1 }
        }
        XCTAssertGreaterThanOrEqual(inGuestMode, 3, "some budgets end in guest mode")
    }

    /// Random innocuous and system instructions in G, under random exit
    /// controls, quotas and entry states, on pg32v and pg32x.
    func testRandomProgramsInGuestMode() throws {
        let k = 0x10000, w = 0x8000, q = 0x20000
        let ops: [Opcode] = [.addi, .add, .sub, .lw, .sw, .lb, .sb, .beq, .bne, .mul, .div, .xor, .slli,
                             .getm, .getl, .getb, .setr, .setm, .jrstu, .lpsw, .out, .ecall, .ebreak, .vmrun]
        var rng = SplitMix64(seed: 0x5EED_0011)
        for trial in 0..<200 {
            let profile: Profile = trial % 2 == 0 ? .pg32v : .pg32x
            var code: [Instruction] = []
            for _ in 0..<40 {
                var inst = Instruction.random(ops[Int.random(in: 0..<ops.count, using: &rng)], registers: 1...12, using: &rng)
                if inst.op.info.format == .branch { inst = Instruction(inst.op, rs1: inst.rs1, rs2: inst.rs2, imm: 8) }
                if inst.op.info.format == .load || inst.op.info.format == .store {
                    inst = Instruction(inst.op, rd: inst.rd, rs1: 0, rs2: inst.rs2, imm: 0x3000 + (inst.imm & 0xFF))
                }
                code.append(inst)
            }
            code.append(Instruction(.halt, rs1: 1))
            let controls = UInt32.random(in: 0...UInt32.max, using: &rng)
            let quota = Bool.random(using: &rng) ? 0 : UInt32.random(in: 1...60, using: &rng)
            let gmode: Mode = Bool.random(using: &rng) ? .user : .supervisor
            let pending = Int.random(in: 0..<8, using: &rng) == 0
            let seeds = (1...12).map { _ in UInt32.random(in: 0...0x3FFF, using: &rng) }
            let make = { () -> Machine in
                let m = Machine(memorySize: q, profile: profile)
                // Host: li x5, 0x2000; vmrun x5; halt x0 (its own trap handler at 0x800 halts 0xEE).
                let host = [Instruction(.lui, rd: 5, imm: 0x2000), Instruction(.vmrun, rs1: 5), Instruction(.halt, rs1: 0)]
                for (i, inst) in host.enumerated() { m.storage.store32(0x1000 + 4 * i, inst.encoded) }
                m.storage.store32(0x800, Instruction(.halt, rs1: 0).encoded)
                for (i, word) in PSW(mode: .supervisor, pc: 0x800, l: 0, b: UInt32(q)).words.enumerated() {
                    m.storage.store32(LowCore.newPSW + 4 * i, word)
                }
                m.psw = PSW(mode: .supervisor, pc: 0x1000, l: 0, b: UInt32(q))
                ControlBlock(psw: PSW(mode: gmode, pc: 0x1000, l: 0, b: UInt32(w)), k: UInt32(k), w: UInt32(w),
                             controls: ExitControls(rawValue: controls), quota: quota, trapEntryPending: pending)
                    .store(into: m.storage, at: 0x2000)
                for (i, inst) in code.enumerated() { m.storage.store32(k + 0x1000 + 4 * i, inst.encoded) }
                // G's trap handler at G 0x800: HALT x0 (an exit); its new PSW in G's low core.
                m.storage.store32(k + 0x800, Instruction(.halt, rs1: 0).encoded)
                for (i, word) in PSW(mode: .supervisor, pc: 0x800, l: 0, b: UInt32(w)).words.enumerated() {
                    m.storage.store32(k + LowCore.newPSW + 4 * i, word)
                }
                for (r, v) in seeds.enumerated() { m[register: r + 1] = v }
                return m
            }
            for budget: UInt64 in [3, 17, 100_000] {
                try both(make, budget: budget, "trial \(trial), budget \(budget), controls \(hex(controls)), quota \(quota)")
            }
        }
    }
}

extension ProcessorTests {
    /// The JIT processor steps VMRUN on the reference machine; a refused
    /// block written over code it translated must invalidate that code
    /// (fuzz seed 2026, program 10036 on pg32h).
    func testARefusedVMRUNOverTranslatedCode() throws {
        var code = [Instruction(.lui, rd: 5, imm: 0x1000), Instruction(.addi, rd: 5, rs1: 5, imm: 0xE0)]
        code.append(Instruction(.jal, rd: 1, imm: Int32(0x1100 - 0x1008)))
        code += [Instruction(.vmrun, rs1: 5), Instruction(.jal, rd: 1, imm: Int32(0x1100 - 0x1010)), Instruction(.halt, rs1: 0)]
        let make = { () -> Machine in
            let m = Machine(memorySize: 0x8000, profile: .pg32h)
            for (i, inst) in code.enumerated() { m.storage.store32(0x1000 + 4 * i, inst.encoded) }
            m.storage.store32(0x1100, Instruction(.addi, rd: 6, rs1: 6, imm: 1).encoded)
            m.storage.store32(0x1104, Instruction(.jalr, rd: 0, rs1: 1, imm: 0).encoded)
            m.storage.store32(0x800, Instruction(.halt, rs1: 0).encoded)
            for (i, word) in PSW(mode: .supervisor, pc: 0x800, l: 0, b: 0x8000).words.enumerated() {
                m.storage.store32(LowCore.newPSW + 4 * i, word)
            }
            m.psw = PSW(mode: .supervisor, pc: 0x1000, l: 0, b: 0x8000)
            return m
        }
        try both(make, budget: 1_000, "refused block over code")
        let m = make()
        _ = try JITProcessor().run(m, budget: 1_000)
        XCTAssertEqual(m.storage.load32(LowCore.cause), TrapCause.illegal.rawValue, "the stale translation did not run")
    }
}
