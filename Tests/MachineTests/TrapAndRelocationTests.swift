import Machine
import XCTest

/// Relocation boundaries (SPEC 2), the trap sequence and checkstop (SPEC 3), budget counting (SPEC 8).
final class TrapAndRelocationTests: XCTestCase {
    /// Runs a load of `size` bytes at virtual `address` under R = (l, b) in a 64 KiB machine.
    private func load(size: Int, at address: UInt32, l: UInt32, b: UInt32) -> RunExit {
        let op: Opcode = size == 1 ? .lbu : size == 2 ? .lhu : .lw
        let m = machine([])
        // The code runs relocated: put it at physical l + 0x100 and start at P = 0x100.
        let code = Asm.li(5, address) + [Instruction(op, rd: 6, rs1: 5), Asm.halt(0)]
        m.psw = PSW(mode: .supervisor, pc: 0x100, l: l, b: b)
        place(code, in: m, at: l + 0x100)
        m.trapPolicy = .takeAndExit
        return m.run(budget: 100)
    }

    func testBoundEdgeAPlusNEqualsB() {
        for n in [1, 2, 4] {
            XCTAssertEqual(load(size: n, at: 0x2000 - UInt32(n), l: 0x1000, b: 0x2000), .halted(0), "a + n = b is valid")
            XCTAssertEqual(load(size: n, at: 0x2000 - UInt32(n) + 1, l: 0x1000, b: 0x2000),
                           .trap(.memory, value: 0x2000 - UInt32(n) + 1), "a + n = b + 1 traps")
        }
    }

    func testStorageEdgeLPlusAPlusNEqualsQ() {
        let q: UInt32 = 65536
        XCTAssertEqual(load(size: 4, at: q - 0x8000 - 4, l: 0x8000, b: 0xFFFF_FFFF), .halted(0), "l + a + n = q is valid")
        XCTAssertEqual(load(size: 4, at: q - 0x8000 - 3, l: 0x8000, b: 0xFFFF_FFFF), .trap(.memory, value: q - 0x8000 - 3))
    }

    func testNoThirtyTwoBitWrapAround() {
        // a + n and l + a + n must not wrap: a = 0xFFFFFFFE with n = 4 would wrap to 2.
        XCTAssertEqual(load(size: 4, at: 0xFFFF_FFFE, l: 0, b: 0xFFFF_FFFF), .trap(.memory, value: 0xFFFF_FFFE))
        // l + a wraps past 2^32 (l = 0x1000, a = 0xFFFFF000 -> 0 mod 2^32): must trap, not read physical 0.
        XCTAssertEqual(load(size: 4, at: 0xFFFF_F000, l: 0x1000, b: 0xFFFF_FFFF), .trap(.memory, value: 0xFFFF_F000))
    }

    func testFetchTrapsWhenMisalignedOrOutOfBounds() {
        let m = machine([Instruction(.jal, rd: 0, imm: 6)]) // to 0x1006
        m.trapPolicy = .takeAndExit
        XCTAssertEqual(m.run(budget: 10), .trap(.memory, value: 0x1006))
        XCTAssertEqual(oldPSW(m).pc, 0x1006, "old P is the unfetchable address")
        XCTAssertEqual(m.instructionCount, 1, "a fetch that traps is not counted")

        let e = machine([])
        e.psw = PSW(mode: .supervisor, pc: 0x1FFC, l: 0, b: 0x2000)
        place([Asm.halt(0)], in: e, at: 0x1FFC)
        XCTAssertEqual(e.run(budget: 10), .halted(0), "fetch with P + 4 = b is valid")
        let f = machine([])
        f.psw = PSW(mode: .supervisor, pc: 0x2000, l: 0, b: 0x2000)
        f.trapPolicy = .takeAndExit
        XCTAssertEqual(f.run(budget: 10), .trap(.memory, value: 0x2000))
    }

    func testTrapWritesExactlyLowCoreAndLoadsNewPSW() {
        let m = machine(Asm.li(5, 0xDEAD) + [Instruction(.ecall)], mode: .supervisor)
        m.psw = PSW(mode: .supervisor, pc: 0x1000, l: 0, b: 0xF000)
        // Fill all storage with a pattern, keep code and the new PSW.
        let before = m.storage.bytes(0..<65536)
        m.trapPolicy = .takeAndExit
        XCTAssertEqual(m.run(budget: 10), .trap(.svc, value: 0))
        let after = m.storage.bytes(0..<65536)
        for i in 0..<65536 where before[i] != after[i] {
            XCTAssertTrue(i < 0x10 || (0x20..<0x28).contains(i), "trap changed byte \(hex(i))")
        }
        XCTAssertEqual(oldPSW(m), PSW(mode: .supervisor, pc: 0x1008, l: 0, b: 0xF000), "P at the ECALL, not advanced")
        XCTAssertEqual(m.storage.load32(LowCore.cause), 1)
        XCTAssertEqual(m.storage.load32(LowCore.value), 0)
        XCTAssertEqual(m.psw, PSW(mode: .supervisor, pc: handlerBase, l: 0, b: 65536))
        XCTAssertEqual(m[register: 5], 0xDEAD, "registers unchanged")
    }

    func testEveryTrapCauseAndValue() {
        let cases: [([Instruction], TrapCause, UInt32)] = [
            ([Instruction(.ecall)], .svc, 0),
            ([Instruction(.ebreak)], .breakpoint, 0),
            ([Instruction(.lw, rd: 5, rs1: 0, imm: -4)], .memory, 0xFFFF_FFFC),
            ([Instruction(.sw, rs1: 0, rs2: 0, imm: -1)], .memory, 0xFFFF_FFFF),
        ]
        for (program, cause, value) in cases {
            let m = machine(program)
            m.trapPolicy = .takeAndExit
            XCTAssertEqual(m.run(budget: 10), .trap(cause, value: value), "\(program[0])")
            XCTAssertEqual(m.instructionCount, 1, "an instruction that traps counts")
        }
        let i = machine([])
        i.storage.store32(0x1000, 0xC000_2573) // rdcycle
        i.trapPolicy = .takeAndExit
        XCTAssertEqual(i.run(budget: 10), .trap(.illegal, value: 0xC000_2573))
    }

    func testStoreThatTrapsChangesNothing() {
        let m = machine(Asm.li(5, 65536 - 2) + [Instruction(.sw, rs1: 5, rs2: 5)])
        m.trapPolicy = .takeAndExit
        XCTAssertEqual(m.run(budget: 10), .trap(.memory, value: 65534))
        XCTAssertEqual(m.storage[65534], 0)
        XCTAssertEqual(m.storage[65535], 0)
    }

    func testCheckstopWhenTrapEntryIsUnfetchable() {
        let m = machine([Instruction(.ecall)])
        setNewPSW(m, PSW(mode: .supervisor, pc: 0x2, l: 0, b: 65536)) // misaligned vector
        XCTAssertEqual(m.run(budget: 10), .checkstop)
        XCTAssertEqual(m.status, .checkstop)
        XCTAssertEqual(m.psw, PSW(mode: .supervisor, pc: 0x2, l: 0, b: 65536), "PSW is the unusable new PSW")
        XCTAssertEqual(oldPSW(m).pc, 0x1000, "low core holds what the first trap stored")
        XCTAssertEqual(m.storage.load32(LowCore.cause), TrapCause.svc.rawValue)
        XCTAssertEqual(m.instructionCount, 1)
    }

    func testNoCheckstopWhenTheHandlersFirstInstructionTraps() {
        // The first fetch succeeds; the handler's first instruction traps again: an ordinary trap loop.
        let m = machine([Instruction(.ecall)])
        place([Instruction(.ebreak)], in: m, at: handlerBase)
        XCTAssertEqual(m.run(budget: 50), .budget)
        XCTAssertEqual(m.status, .running)
        XCTAssertEqual(m.storage.load32(LowCore.cause), TrapCause.breakpoint.rawValue)
    }

    func testUnfetchablePAfterLpswIsAnOrdinaryMemoryTrap() {
        let m = machine(Asm.li(5, 0x4000) + [Instruction(.lpsw, rs1: 5)])
        for (i, w) in [UInt32(0), 0x2, 0, 65536].enumerated() { m.storage.store32(0x4000 + 4 * i, w) }
        XCTAssertEqual(m.run(budget: 50), .halted(0xEE), "the handler runs: no checkstop")
        XCTAssertEqual(m.storage.load32(LowCore.value), 2)
    }

    func testBudgetStopsBeforeTheNextFetchAndResumes() {
        let m = machine([Instruction(.addi, rd: 5, rs1: 5, imm: 1), Instruction(.jal, rd: 0, imm: -4)])
        XCTAssertEqual(m.run(budget: 7), .budget)
        XCTAssertEqual(m.instructionCount, 7)
        XCTAssertEqual(m[register: 5], 4)
        XCTAssertEqual(m.run(budget: 0), .budget)
        XCTAssertEqual(m.instructionCount, 7)
        XCTAssertEqual(m.run(budget: 3), .budget)
        XCTAssertEqual(m.instructionCount, 10)
    }

    func testBudgetExactlyAtHalt() {
        let m = machine([Instruction(.addi, rd: 5, rs1: 0, imm: 1), Asm.halt(5)])
        XCTAssertEqual(m.run(budget: 1), .budget)
        XCTAssertEqual(m.run(budget: 1), .halted(1))
        XCTAssertEqual(m.instructionCount, 2)
    }

    func testRelocationBeyondStorageMakesEveryAccessTrap() {
        let m = machine([])
        m.psw = PSW(mode: .supervisor, pc: 0, l: 0xFFFF_0000, b: 0xFFFF_FFFF)
        m.trapPolicy = .takeAndExit
        XCTAssertEqual(m.run(budget: 10), .trap(.memory, value: 0))
    }
}
