import Foundation
import InstructionSetGenerator
import Machine
import XCTest

final class InstructionTableTests: XCTestCase {
    func testTableHasOneRowPerOpcodeInOrder() {
        XCTAssertEqual(InstructionTable.rows.count, Opcode.allCases.count)
        XCTAssertEqual(Set(Opcode.allCases.map(\.mnemonic)).count, Opcode.allCases.count, "mnemonics are unique")
    }

    /// Machine's generated file is exactly what the description generates: a row
    /// changed without running the generator fails here (and a new row, which
    /// adds an `Opcode` case only through the generator, fails the build first
    /// at every exhaustive switch).
    func testGeneratedInstructionSetIsTheDescriptions() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = root.appendingPathComponent(InstructionSetGenerator.outputPath)
        let onDisk = try String(contentsOf: file, encoding: .utf8)
        XCTAssertTrue(try InstructionSetGenerator.render() == onDisk,
                      "\(InstructionSetGenerator.outputPath) is out of date: run `swift run generate-instruction-set`")
    }

    /// The generated table holds the description's facts, row for row.
    func testGeneratedRowsAreTheDescriptionsRows() {
        let described = InstructionSet.rows
        XCTAssertEqual(described.count, Opcode.allCases.count)
        for (op, row) in zip(Opcode.allCases, described) {
            XCTAssertEqual("\(op)", row.name)
            XCTAssertEqual(op.info.mnemonic, row.mnemonic)
            XCTAssertEqual("\(op.info.format)", row.format)
            XCTAssertEqual(op.format, op.info.format, "\(op): the switch and the row agree")
            XCTAssertEqual(op.info.major, row.major.value, "\(op)")
            XCTAssertEqual(op.info.funct3, row.funct3, "\(op)")
            XCTAssertEqual(op.info.funct7, row.funct7, "\(op)")
            XCTAssertEqual(op.info.exactWord, row.exactWord, "\(op)")
        }
    }

    /// Descriptions the decoder could not tell apart, or whose system
    /// instructions break the funct7-is-index rule, are refused with the reason.
    func testGeneratorRefusesAmbiguousDescriptions() {
        func refused(_ rows: [InstructionRow], system: [InstructionRow]? = nil) -> String? {
            let sys = system ?? InstructionSet.groups.filter(\.system).flatMap(\.rows)
            do {
                _ = try InstructionSetGenerator.render([.init("core", rows), .init("system", system: true, sys)])
                return nil
            } catch {
                return "\(error)"
            }
        }
        let add = InstructionRow("add", format: "r", major: .op, funct3: 0, funct7: 0)
        XCTAssertNil(refused([add]), "a plain description is accepted")
        XCTAssertEqual(refused([add, InstructionRow("andn", format: "r", major: .op, funct3: 0, funct7: 0)]),
                       "major op, funct3 0: rows not told apart by funct7")
        XCTAssertEqual(refused([add, InstructionRow("add2", mnemonic: "add", format: "r", major: .op, funct3: 1, funct7: 0)]),
                       "two rows have the mnemonic add")
        XCTAssertEqual(refused([InstructionRow("lui", format: "u", major: .lui),
                                InstructionRow("lui2", format: "u", major: .lui, funct3: 1)]),
                       "major lui has a row without funct3 beside others")
        XCTAssertEqual(refused([InstructionRow("ecall", format: "none", major: .system, exactWord: 0x0000_0013)]),
                       "ecall: its word is not in its major")
        let shifted = Array(InstructionSet.groups.filter(\.system).flatMap(\.rows).dropFirst())
        XCTAssertEqual(refused([add], system: shifted),
                       "system instruction 0 (lpsw) must be custom-0, funct3 0, funct7 0")
    }

    /// The ordering the decoder, `Opcode.group` and `SystemInstruction`
    /// derive system instructions from: the system opcodes are the last ones,
    /// in funct7 order, and system instruction i is opcode firstSystem + i.
    func testSystemInstructionsAreTheLastOpcodesInFunct7Order() {
        let system = Opcode.allCases.filter { if case .system = $0.group { return true } else { return false } }
        XCTAssertEqual(system, Array(Opcode.allCases[Int(Opcode.firstSystem.rawValue)...]))
        XCTAssertEqual(system.last, Opcode.lastSystem)
        for (i, op) in system.enumerated() {
            XCTAssertEqual(op.info.major, InstructionTable.Major.pg32, "\(op)")
            XCTAssertEqual(op.info.funct7, UInt32(i), "\(op): funct7 is its index")
            XCTAssertEqual(SystemInstruction(index: i).opcode, op)
            XCTAssertEqual(SystemInstruction(index: i).index, i)
            XCTAssertEqual(op.group, .system(SystemInstruction(index: i)))
            XCTAssertEqual(op.mnemonic.uppercased(), SystemInstruction(index: i).rawValue)
        }
    }

    /// Encode, decode and disassemble every opcode with random operands.
    func testEncodeDecodeRoundTripOverWholeTable() {
        var rng = SplitMix64(seed: 2026)
        for op in Opcode.allCases {
            for _ in 0..<200 {
                let inst = Instruction.random(op, using: &rng)
                let word = inst.encoded
                XCTAssertEqual(Opcode.decode(word), op, "\(inst) encodes to \(hex(word))")
                XCTAssertEqual(Instruction(decoding: word), inst, "\(op) round trip of \(hex(word))")
                XCTAssertTrue(disassemble(word).hasPrefix(op.mnemonic), disassemble(word))
            }
        }
    }

    /// Words checked against llvm-objdump's decoding of the same bytes.
    func testKnownEncodings() {
        let known: [(UInt32, String)] = [
            (0x0000_0073, "ecall"), (0x0010_0073, "ebreak"),
            (0xFF01_0113, "addi    sp, sp, -16"),
            (0x0211_2E23, "sw      ra, 60(sp)"),
            (0x0000_006F, "jal     zero, +0"),
            (0x0080_00E7, "jalr    ra, 8(zero)"),
            (0x02B5_0533, "mul     a0, a0, a1"),
            (0x40B5_0533, "sub     a0, a0, a1"),
            (0x4015_5513, "srai    a0, a0, 1"),
            (0x0005_000B, "halt    a0"),
            (0x0A00_010B, "getb    sp"),
            (0x04B5_000B, "setr    a0, a1"),
            (0x1005_000B, "out     a0"),
            (0x0000_100F, "fence.i"),
            (0x1234_5537, "lui     a0, 0x12345"),
            (0xFE05_8EE3, "beq     a1, zero, -4"),
        ]
        for (word, text) in known {
            XCTAssertEqual(disassemble(word), text, hex(word))
            XCTAssertEqual(Instruction(decoding: word)?.encoded, word, "canonical \(text) re-encodes")
        }
    }

    func testIllegalEncodings() {
        let illegal: [UInt32] = [
            0x0000_0000, 0xFFFF_FFFF,
            0x0000_0001,                 // a compressed encoding
            0x3400_2573,                 // csrr a0, mscratch
            0xC000_2573,                 // rdcycle a0
            0xC010_2573,                 // rdtime a0
            0xC020_2573,                 // rdinstret a0
            0x1050_0073,                 // wfi
            0x3020_0073,                 // mret
            0x0000_00F3,                 // ecall with rd = 1: not the exact encoding
            0x0020_0073,                 // SYSTEM imm 2
            0x0000_500F,                 // MISC-MEM funct3 5
            0x0000_3003,                 // ld (RV64)
            0x0000_3023,                 // sd (RV64)
            0x0200_1013,                 // slli with imm[5] set (RV64 shamt)
            0x0200_5013,                 // srli with shamt bit 5
            0x4200_5013,                 // srai with shamt bit 5
            0x2000_1013,                 // slli with funct7 0x10
            0x4000_1033,                 // sll with funct7 0x20
            0x0400_0033,                 // OP funct7 0x02
            0x0000_1067,                 // jalr funct3 1
            0x0000_2063,                 // branch funct3 2
            0x0000_3063,                 // branch funct3 3
            0x1400_000B,                 // PG32 funct7 10 (9 is VMRUN since SPEC version 2)
            0xFE00_000B,                 // PG32 funct7 127
            0x0000_100B,                 // PG32 funct3 1
            0x0000_700B,                 // PG32 funct3 7
            0x0000_0007,                 // LOAD-FP
        ]
        XCTAssertEqual(Opcode.decode(0x1200_000B), .vmrun, "funct7 9 is VMRUN (SPEC version 2, section 5)")
        for w in illegal {
            XCTAssertNil(Opcode.decode(w), "\(hex(w)) must trap ILLEGAL")
            XCTAssertTrue(disassemble(w).contains("illegal"))
        }
    }

    func testSpareFieldsAreIgnored() {
        // FENCE and FENCE.I ignore their spare fields; system instructions ignore unused registers.
        XCTAssertEqual(Opcode.decode(0x0FF0_000F), .fence)
        XCTAssertEqual(Opcode.decode(0xFFFF_8F8F), .fence, "every field but funct3 set")
        XCTAssertEqual(Opcode.decode(0xFFFF_9F8F), .fenceI, "every field but funct3 set")
        XCTAssertEqual(Opcode.decode(0xFFFF_F00F), nil, "funct3 = 7 is not a fence")
        let unusedRegisters: UInt32 = (31 << 7) | (31 << 20)
        XCTAssertEqual(Opcode.decode(Instruction(.halt, rs1: 5).encoded | unusedRegisters), .halt, "halt with rd and rs2 set")
        XCTAssertEqual(Opcode.decode(Instruction(.getm, rd: 5).encoded | (31 << 15) | (31 << 20)), .getm, "getm with rs1 and rs2 set")
    }

    func testEveryFieldView() {
        let w = InstructionWord(0xFE5A_8CA3) // sb t0, -7(s5)
        XCTAssertEqual(w.major, 0x23)
        XCTAssertEqual(w.rs1, 21)
        XCTAssertEqual(w.rs2, 5)
        XCTAssertEqual(Int32(bitPattern: w.sImm), -7)
        XCTAssertEqual(Int32(bitPattern: InstructionWord(Instruction(.jal, rd: 1, imm: -1_048_576).encoded).jImm), -1_048_576)
        XCTAssertEqual(Int32(bitPattern: InstructionWord(Instruction(.jal, rd: 1, imm: 1_048_574).encoded).jImm), 1_048_574)
        XCTAssertEqual(Int32(bitPattern: InstructionWord(Instruction(.bne, rs1: 1, rs2: 2, imm: -4096).encoded).bImm), -4096)
        XCTAssertEqual(Int32(bitPattern: InstructionWord(Instruction(.bne, rs1: 1, rs2: 2, imm: 4094).encoded).bImm), 4094)
        XCTAssertEqual(Int32(bitPattern: InstructionWord(Instruction(.addi, rd: 1, imm: -2048).encoded).iImm), -2048)
    }
}
