/// The PG32 instruction set, described once: one row per instruction
/// (SPEC sections 4, 5 and 11), in table order.
///
/// Machine's `Opcode` enum, its instruction table (`InstructionTable.rows`),
/// `SystemInstruction` and the decoder are generated from this description by
/// `swift run generate-instruction-set` into
/// `Sources/Machine/InstructionSet.generated.swift` (WasmKit generates its
/// instruction code from one description the same way). To add an instruction,
/// add its row here and run the generator: the new `Opcode` case then makes the
/// compiler point at every consumer that must say what it does (Machine's
/// "Add an instruction" article lists them).
///
/// This module depends on nothing, so the generator builds even while Machine
/// does not (which is the state a new row leaves Machine in).
public enum InstructionSet {
    /// The groups of rows, in table order; the system instructions are last.
    public static let groups: [InstructionGroupDescription] = [
        .init("RV32I: upper immediates and jumps", [
            .init("lui", format: "u", major: .lui),
            .init("auipc", format: "u", major: .auipc),
            .init("jal", format: "jump", major: .jal),
            // jalr is written like a load: rd, imm(rs1).
            .init("jalr", format: "load", major: .jalr, funct3: 0),
        ]),
        .init("RV32I: conditional branches", [
            .init("beq", format: "branch", major: .branch, funct3: 0),
            .init("bne", format: "branch", major: .branch, funct3: 1),
            .init("blt", format: "branch", major: .branch, funct3: 4),
            .init("bge", format: "branch", major: .branch, funct3: 5),
            .init("bltu", format: "branch", major: .branch, funct3: 6),
            .init("bgeu", format: "branch", major: .branch, funct3: 7),
        ]),
        .init("RV32I: loads and stores", [
            .init("lb", format: "load", major: .load, funct3: 0),
            .init("lh", format: "load", major: .load, funct3: 1),
            .init("lw", format: "load", major: .load, funct3: 2),
            .init("lbu", format: "load", major: .load, funct3: 4),
            .init("lhu", format: "load", major: .load, funct3: 5),
            .init("sb", format: "store", major: .store, funct3: 0),
            .init("sh", format: "store", major: .store, funct3: 1),
            .init("sw", format: "store", major: .store, funct3: 2),
        ]),
        .init("RV32I: register-immediate arithmetic", [
            .init("addi", format: "i", major: .opImm, funct3: 0),
            .init("slti", format: "i", major: .opImm, funct3: 2),
            .init("sltiu", format: "i", major: .opImm, funct3: 3),
            .init("xori", format: "i", major: .opImm, funct3: 4),
            .init("ori", format: "i", major: .opImm, funct3: 6),
            .init("andi", format: "i", major: .opImm, funct3: 7),
            // Immediate shifts: funct7 is imm[11:5].
            .init("slli", format: "shift", major: .opImm, funct3: 1, funct7: 0x00),
            .init("srli", format: "shift", major: .opImm, funct3: 5, funct7: 0x00),
            .init("srai", format: "shift", major: .opImm, funct3: 5, funct7: 0x20),
        ]),
        .init("RV32I: register-register arithmetic", [
            .init("add", format: "r", major: .op, funct3: 0, funct7: 0x00),
            .init("sub", format: "r", major: .op, funct3: 0, funct7: 0x20),
            .init("sll", format: "r", major: .op, funct3: 1, funct7: 0x00),
            .init("slt", format: "r", major: .op, funct3: 2, funct7: 0x00),
            .init("sltu", format: "r", major: .op, funct3: 3, funct7: 0x00),
            .init("xor", format: "r", major: .op, funct3: 4, funct7: 0x00),
            .init("srl", format: "r", major: .op, funct3: 5, funct7: 0x00),
            .init("sra", format: "r", major: .op, funct3: 5, funct7: 0x20),
            .init("or", format: "r", major: .op, funct3: 6, funct7: 0x00),
            .init("and", format: "r", major: .op, funct3: 7, funct7: 0x00),
        ]),
        .init("RV32I: ordering (no-ops on PG32) and environment", [
            .init("fence", format: "none", major: .miscMem, funct3: 0),
            .init("fenceI", mnemonic: "fence.i", format: "none", major: .miscMem, funct3: 1),
            // Recognised by their whole word (SPEC section 5).
            .init("ecall", format: "none", major: .system, exactWord: 0x0000_0073),
            .init("ebreak", format: "none", major: .system, exactWord: 0x0010_0073),
        ]),
        .init("M extension", [
            .init("mul", format: "r", major: .op, funct3: 0, funct7: 0x01),
            .init("mulh", format: "r", major: .op, funct3: 1, funct7: 0x01),
            .init("mulhsu", format: "r", major: .op, funct3: 2, funct7: 0x01),
            .init("mulhu", format: "r", major: .op, funct3: 3, funct7: 0x01),
            .init("div", format: "r", major: .op, funct3: 4, funct7: 0x01),
            .init("divu", format: "r", major: .op, funct3: 5, funct7: 0x01),
            .init("rem", format: "r", major: .op, funct3: 6, funct7: 0x01),
            .init("remu", format: "r", major: .op, funct3: 7, funct7: 0x01),
        ]),
        // funct7 is the system instruction's index (`SystemInstruction.index`): the
        // generator checks that row i of this group has funct7 i.
        .init("PG32 system instructions (custom-0, funct3 = 0), in funct7 order", system: true, [
            .init("halt", format: "sysRs1", major: .pg32, funct3: 0, funct7: 0x00),
            .init("lpsw", format: "sysRs1", major: .pg32, funct3: 0, funct7: 0x01),
            .init("setr", format: "sysRs1Rs2", major: .pg32, funct3: 0, funct7: 0x02),
            .init("getm", format: "sysRd", major: .pg32, funct3: 0, funct7: 0x03),
            .init("getl", format: "sysRd", major: .pg32, funct3: 0, funct7: 0x04),
            .init("getb", format: "sysRd", major: .pg32, funct3: 0, funct7: 0x05),
            .init("jrstu", format: "sysRs1", major: .pg32, funct3: 0, funct7: 0x06),
            .init("setm", format: "sysRs1", major: .pg32, funct3: 0, funct7: 0x07),
            .init("out", format: "sysRs1", major: .pg32, funct3: 0, funct7: 0x08),
            .init("vmrun", format: "sysRs1", major: .pg32, funct3: 0, funct7: 0x09,
                  doc: "VX's VM entry (SPEC section 11): privileged on every profile."),
        ]),
    ]

    /// Every row, in table order (`Opcode.rawValue` order).
    public static var rows: [InstructionRow] { groups.flatMap(\.rows) }
}

/// A major opcode (bits 6:0) of the formats PG32 uses.
public struct MajorOpcode: Sendable, Equatable {
    /// Its name in `InstructionTable.Major`.
    public let name: String
    /// Its value.
    public let value: UInt32
    /// What it holds, for the generated constant's comment.
    public let doc: String

    /// Every major PG32 uses, in the order `InstructionTable.Major` lists them.
    public static let all: [MajorOpcode] = [lui, auipc, jal, jalr, branch, load, store, opImm, op, miscMem, system, pg32]

    public static let lui = MajorOpcode(name: "lui", value: 0x37, doc: "LUI")
    public static let auipc = MajorOpcode(name: "auipc", value: 0x17, doc: "AUIPC")
    public static let jal = MajorOpcode(name: "jal", value: 0x6F, doc: "JAL")
    public static let jalr = MajorOpcode(name: "jalr", value: 0x67, doc: "JALR")
    public static let branch = MajorOpcode(name: "branch", value: 0x63, doc: "BRANCH: the conditional branches")
    public static let load = MajorOpcode(name: "load", value: 0x03, doc: "LOAD")
    public static let store = MajorOpcode(name: "store", value: 0x23, doc: "STORE")
    public static let opImm = MajorOpcode(name: "opImm", value: 0x13, doc: "OP-IMM: register-immediate arithmetic")
    public static let op = MajorOpcode(name: "op", value: 0x33, doc: "OP: register-register arithmetic and the M extension")
    public static let miscMem = MajorOpcode(name: "miscMem", value: 0x0F, doc: "MISC-MEM: the fences")
    public static let system = MajorOpcode(name: "system", value: 0x73, doc: "SYSTEM: ECALL and EBREAK (CSRs trap ILLEGAL)")
    public static let pg32 = MajorOpcode(name: "pg32", value: 0x0B, doc: "custom-0: PG32's system instructions (SPEC section 5)")
}

/// One instruction: everything about it that is a fact of the encoding.
/// Facts that follow from these (access width, registers read and written,
/// control transfer) are derived in Machine and Translator by exhaustive
/// switches, so a new row reaches them through the compiler.
public struct InstructionRow: Sendable {
    /// Its `Opcode` case.
    public let name: String
    /// Assembler mnemonic, as `llvm-objdump` prints it.
    public let mnemonic: String
    /// Its `OperandFormat` case.
    public let format: String
    /// Major opcode (bits 6:0).
    public let major: MajorOpcode
    /// funct3 (bits 14:12), when the instruction has one.
    public let funct3: UInt32?
    /// funct7 (bits 31:25) for R-type, or imm[11:5] for immediate shifts.
    public let funct7: UInt32?
    /// For instructions recognised by their whole word (ECALL, EBREAK).
    public let exactWord: UInt32?
    /// A documentation line for the generated case, if it needs one.
    public let doc: String?

    public init(_ name: String, mnemonic: String? = nil, format: String, major: MajorOpcode,
         funct3: UInt32? = nil, funct7: UInt32? = nil, exactWord: UInt32? = nil, doc: String? = nil) {
        self.name = name
        self.mnemonic = mnemonic ?? name
        self.format = format
        self.major = major
        self.funct3 = funct3
        self.funct7 = funct7
        self.exactWord = exactWord
        self.doc = doc
    }
}

/// Rows that share a line of the `Opcode` declaration.
public struct InstructionGroupDescription: Sendable {
    /// The comment above the group's cases.
    public let comment: String
    /// True for PG32's system instructions (`InstructionGroup.system`).
    public let system: Bool
    /// The rows.
    public let rows: [InstructionRow]

    public init(_ comment: String, system: Bool = false, _ rows: [InstructionRow]) {
        self.comment = comment
        self.system = system
        self.rows = rows
    }
}
