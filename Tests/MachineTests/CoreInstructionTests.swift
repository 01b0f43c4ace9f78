import Machine
import XCTest

/// One-instruction tests of the RV32IM core: operands in x5/x6, result in x7.
final class CoreInstructionTests: XCTestCase {
    private func result(_ op: Opcode, _ a: UInt32, _ b: UInt32, imm: Int32 = 0, file: StaticString = #filePath, line: UInt = #line) -> UInt32 {
        let inst: Instruction
        switch op.info.format {
        case .r: inst = Instruction(op, rd: 7, rs1: 5, rs2: 6)
        case .i, .shift: inst = Instruction(op, rd: 7, rs1: 5, imm: imm)
        default: fatalError("not an arithmetic format")
        }
        let m = runHalting(Asm.li(5, a) + Asm.li(6, b) + [inst], file: file, line: line)
        return m[register: 7]
    }

    func testRegisterRegisterArithmetic() {
        let cases: [(Opcode, UInt32, UInt32, UInt32)] = [
            (.add, 0xFFFF_FFFF, 1, 0), (.add, 0x7FFF_FFFF, 1, 0x8000_0000),
            (.sub, 0, 1, 0xFFFF_FFFF), (.sub, 0x8000_0000, 1, 0x7FFF_FFFF),
            (.sll, 1, 31, 0x8000_0000), (.sll, 1, 32, 1), (.sll, 3, 0xFFFF_FFE1, 6),
            (.srl, 0x8000_0000, 31, 1), (.srl, 0x8000_0000, 63, 1),
            (.sra, 0x8000_0000, 31, 0xFFFF_FFFF), (.sra, 0x4000_0000, 30, 1),
            (.slt, 0xFFFF_FFFF, 0, 1), (.slt, 0, 0xFFFF_FFFF, 0), (.slt, 5, 5, 0),
            (.sltu, 0xFFFF_FFFF, 0, 0), (.sltu, 0, 0xFFFF_FFFF, 1),
            (.xor, 0xF0F0_F0F0, 0xFF00_FF00, 0x0FF0_0FF0), (.or, 0xF0F0_0000, 0x0F0F, 0xF0F0_0F0F),
            (.and, 0xF0F0_F0F0, 0xFF00_FF00, 0xF000_F000),
            (.mul, 0xFFFF_FFFF, 0xFFFF_FFFF, 1), (.mul, 0x1_0001, 0x1_0001, 0x0002_0001),
            (.mulh, 0xFFFF_FFFF, 0xFFFF_FFFF, 0), (.mulh, 0x8000_0000, 0x8000_0000, 0x4000_0000),
            (.mulh, 0x8000_0000, 0x7FFF_FFFF, 0xC000_0000),
            (.mulhsu, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF), (.mulhsu, 0x8000_0000, 0xFFFF_FFFF, 0x8000_0000),
            (.mulhu, 0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFE), (.mulhu, 0x8000_0000, 2, 1),
            (.div, 7, 0, 0xFFFF_FFFF), (.div, 0x8000_0000, 0xFFFF_FFFF, 0x8000_0000),
            (.div, 0xFFFF_FFF9, 2, 0xFFFF_FFFD), (.div, 7, 0xFFFF_FFFE, 0xFFFF_FFFD),
            (.divu, 7, 0, 0xFFFF_FFFF), (.divu, 0xFFFF_FFFF, 2, 0x7FFF_FFFF),
            (.rem, 7, 0, 7), (.rem, 0x8000_0000, 0xFFFF_FFFF, 0), (.rem, 0xFFFF_FFF9, 2, 0xFFFF_FFFF),
            (.rem, 7, 0xFFFF_FFFE, 1),
            (.remu, 7, 0, 7), (.remu, 0xFFFF_FFFF, 10, 5),
        ]
        for (op, a, b, expected) in cases {
            XCTAssertEqual(result(op, a, b), expected, "\(op.mnemonic) \(hex(a)), \(hex(b))")
        }
    }

    func testRegisterImmediateArithmetic() {
        let cases: [(Opcode, UInt32, Int32, UInt32)] = [
            (.addi, 1, -2, 0xFFFF_FFFF), (.addi, 0xFFFF_FFFF, 1, 0), (.addi, 0, 2047, 2047), (.addi, 0, -2048, 0xFFFF_F800),
            (.slti, 0xFFFF_FFFF, 0, 1), (.slti, 0, -1, 0),
            (.sltiu, 0, -1, 1), (.sltiu, 0xFFFF_FFFE, -1, 1), (.sltiu, 0xFFFF_FFFF, -1, 0),
            (.xori, 0x0000_00FF, -1, 0xFFFF_FF00), (.ori, 0x1000, 0x0F, 0x100F), (.andi, 0xFFFF_FFFF, -16, 0xFFFF_FFF0),
            (.slli, 1, 31, 0x8000_0000), (.srli, 0x8000_0000, 4, 0x0800_0000), (.srai, 0x8000_0000, 4, 0xF800_0000),
        ]
        for (op, a, imm, expected) in cases {
            XCTAssertEqual(result(op, a, 0, imm: imm), expected, "\(op.mnemonic) \(hex(a)), \(imm)")
        }
    }

    func testX0ReadsZeroAndIgnoresWrites() {
        let m = runHalting(Asm.li(5, 123) + [Instruction(.addi, rd: 0, rs1: 5, imm: 1), Instruction(.add, rd: 6, rs1: 0, rs2: 0),
                                             Instruction(.lui, rd: 0, imm: 0x1000), Instruction(.jal, rd: 0, imm: 4)])
        XCTAssertEqual(m[register: 0], 0)
        XCTAssertEqual(m[register: 6], 0)
    }

    func testUpperImmediatesAndJumps() {
        let m = runHalting([
            Instruction(.auipc, rd: 5, imm: 0x2000),                         // 0x1000: x5 = 0x3000
            Instruction(.jal, rd: 6, imm: 8),                                // 0x1004: x6 = 0x1008, to 0x100c
            Instruction(.addi, rd: 7, rs1: 0, imm: 99),                      // 0x1008: skipped
            Instruction(.addi, rd: 8, rs1: 6, imm: 0x11),                    // 0x100c: x8 = 0x1019, an odd target
            Instruction(.jalr, rd: 9, rs1: 8, imm: 0),                       // 0x1010: to 0x1018 (bit 0 cleared), x9 = 0x1014
            Instruction(.addi, rd: 7, rs1: 0, imm: 98),                      // 0x1014: skipped
            Instruction(.lui, rd: 10, imm: Int32(bitPattern: 0xFFFF_F000)),  // 0x1018
            Instruction(.lui, rd: 11, imm: 0x1000),                          // 0x101c: x11 = 0x1000
            Instruction(.jalr, rd: 11, rs1: 11, imm: 0x2C),                  // 0x1020: rd == rs1: to 0x102c, x11 = 0x1024
            Instruction(.addi, rd: 7, rs1: 0, imm: 97),                      // 0x1024: skipped
            Instruction(.addi, rd: 7, rs1: 0, imm: 96),                      // 0x1028: skipped
        ])                                                                   // 0x102c: halt
        XCTAssertEqual(m[register: 5], 0x3000)
        XCTAssertEqual(m[register: 6], 0x1008)
        XCTAssertEqual(m[register: 7], 0)
        XCTAssertEqual(m[register: 8], 0x1019)
        XCTAssertEqual(m[register: 9], 0x1014)
        XCTAssertEqual(m[register: 10], 0xFFFF_F000)
        XCTAssertEqual(m[register: 11], 0x1024)
        XCTAssertEqual(m.psw.pc, 0x1030)
    }

    func testBranches() {
        let cases: [(Opcode, UInt32, UInt32, Bool)] = [
            (.beq, 5, 5, true), (.beq, 5, 6, false), (.bne, 5, 6, true), (.bne, 5, 5, false),
            (.blt, 0xFFFF_FFFF, 0, true), (.blt, 0, 0xFFFF_FFFF, false), (.blt, 3, 3, false),
            (.bge, 0, 0xFFFF_FFFF, true), (.bge, 3, 3, true), (.bge, 0xFFFF_FFFF, 0, false),
            (.bltu, 0, 0xFFFF_FFFF, true), (.bltu, 0xFFFF_FFFF, 0, false),
            (.bgeu, 0xFFFF_FFFF, 0, true), (.bgeu, 0, 1, false), (.bgeu, 1, 1, true),
        ]
        for (op, a, b, taken) in cases {
            let m = runHalting(Asm.li(5, a) + Asm.li(6, b) + [
                Instruction(op, rs1: 5, rs2: 6, imm: 8), Instruction(.addi, rd: 7, rs1: 0, imm: 1),
            ])
            XCTAssertEqual(m[register: 7], taken ? 0 : 1, "\(op.mnemonic) \(hex(a)), \(hex(b))")
        }
    }

    func testLoadsSignExtendAndMisalignedAccessesWork() {
        let m = machine(Asm.li(5, 0x8000) + Asm.li(6, 0x8081_F0FE) + [
            Instruction(.sw, rs1: 5, rs2: 6, imm: 1),     // misaligned word store at 0x8001
            Instruction(.lb, rd: 7, rs1: 5, imm: 1),      // 0xFE -> -2
            Instruction(.lbu, rd: 8, rs1: 5, imm: 1),
            Instruction(.lh, rd: 9, rs1: 5, imm: 3),      // misaligned half 0x8081 -> sign-extended
            Instruction(.lhu, rd: 10, rs1: 5, imm: 3),
            Instruction(.lw, rd: 11, rs1: 5, imm: 1),
            Instruction(.lw, rd: 12, rs1: 5, imm: 0),     // 0x81F0FE00 little-endian
            Instruction(.sh, rs1: 5, rs2: 6, imm: 7),     // half at 0x8007
            Instruction(.sb, rs1: 5, rs2: 6, imm: 9),     // byte at 0x8009
            Instruction(.lw, rd: 13, rs1: 5, imm: 6),
            Asm.halt(0),
        ])
        XCTAssertEqual(m.run(budget: 100), .halted(0))
        XCTAssertEqual(m[register: 7], 0xFFFF_FFFE)
        XCTAssertEqual(m[register: 8], 0xFE)
        XCTAssertEqual(m[register: 9], 0xFFFF_8081)
        XCTAssertEqual(m[register: 10], 0x8081)
        XCTAssertEqual(m[register: 11], 0x8081_F0FE)
        XCTAssertEqual(m[register: 12], 0x81F0_FE00)
        // 0x8006 = 0x00 (untouched), 0x8007..8 = sh's 0xF0FE, 0x8009 = sb's 0xFE
        XCTAssertEqual(m[register: 13], 0xFEF0_FE00)
        XCTAssertEqual(m.storage[0x8005], 0x00)
        XCTAssertEqual(m.storage[0x800A], 0x00)
    }

    func testFencesDoNothingAndSelfModifyingCodeIsSeenAtOnce() {
        // Overwrite the next instruction (addi x7, x0, 1) with addi x7, x0, 2 without any fence.
        let patched = Instruction(.addi, rd: 7, rs1: 0, imm: 2).encoded
        let m = runHalting(Asm.li(5, patched) + Asm.li(6, 0x1000) + [   // 0x1000..0x100c
            Instruction(.fence), Instruction(.fenceI),                       // 0x1010, 0x1014
            Instruction(.sw, rs1: 6, rs2: 5, imm: 0x1C),                     // 0x1018: patches 0x101c
            Instruction(.addi, rd: 7, rs1: 0, imm: 1),                       // 0x101c
        ])
        XCTAssertEqual(m[register: 7], 2)
    }

    func testInstructionCountIsExact() {
        let m = runHalting([Instruction(.addi, rd: 5, rs1: 0, imm: 1)])
        XCTAssertEqual(m.instructionCount, 2, "addi and the HALT both count")
    }
}
