import Machine
import XCTest

/// Where test programs are placed (guests link at 0x1000).
let codeBase: UInt32 = 0x1000
/// Where the trap handler of `machine(...)` lives: it halts with code 0xEE.
let handlerBase: UInt32 = 0x800

/// A tiny assembler for tests: each helper returns the instructions for one line.
enum Asm {
    /// Loads any 32-bit constant into `rd` (lui + addi, as the assembler's `li`).
    static func li(_ rd: Int, _ value: UInt32) -> [Instruction] {
        let lo = Int32(bitPattern: value << 20) >> 20
        let hi = value &- UInt32(bitPattern: lo)
        return [Instruction(.lui, rd: rd, imm: Int32(bitPattern: hi)), Instruction(.addi, rd: rd, rs1: rd, imm: lo)]
    }
    static func halt(_ rs1: Int) -> Instruction { Instruction(.halt, rs1: rs1) }
}

/// A 64 KiB machine with `program` at 0x1000, P = 0x1000, R = (0, q), and a new
/// PSW leading to a supervisor handler at 0x800 that halts with 0xEE.
func machine(_ program: [Instruction], profile: Profile = .pg32v, memory: Int = 65536,
             mode: Mode = .supervisor) -> Machine {
    let m = Machine(memorySize: memory, profile: profile)
    place(program, in: m, at: codeBase)
    place(Asm.li(31, 0xEE) + [Asm.halt(31)], in: m, at: handlerBase)
    setNewPSW(m, PSW(mode: .supervisor, pc: handlerBase, l: 0, b: UInt32(memory)))
    m.psw = PSW(mode: mode, pc: codeBase, l: 0, b: UInt32(memory))
    return m
}

func place(_ program: [Instruction], in m: Machine, at address: UInt32) {
    for (i, inst) in program.enumerated() {
        // A test must not silently rely on a truncated immediate.
        precondition(Instruction(decoding: inst.encoded)?.imm == inst.imm, "\(inst): immediate does not fit its field")
        m.storage.store32(Int(address) + 4 * i, inst.encoded)
    }
}

func setNewPSW(_ m: Machine, _ psw: PSW) {
    for (i, w) in psw.words.enumerated() { m.storage.store32(LowCore.newPSW + 4 * i, w) }
}

func oldPSW(_ m: Machine) -> PSW {
    PSW(mode: Mode(word: m.storage.load32(0)), pc: m.storage.load32(4), l: m.storage.load32(8), b: m.storage.load32(12))
}

/// Runs `program` and returns the machine; fails the test unless it halts.
@discardableResult
func runHalting(_ program: [Instruction], profile: Profile = .pg32v, file: StaticString = #filePath, line: UInt = #line) -> Machine {
    let m = machine(program + [Asm.halt(0)], profile: profile)
    let exit = m.run(budget: 10_000)
    guard case .halted = exit else {
        XCTFail("expected a halt, got \(exit)", file: file, line: line)
        return m
    }
    return m
}
