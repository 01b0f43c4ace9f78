/// Every PG32 instruction: the RV32IM innocuous core (SPEC section 4) and the
/// ten system instructions (SPEC section 5; VMRUN is section 11's).
///
/// This enum and `InstructionTable` are the single source of truth. The decoder,
/// the encoder, the disassembler, the interpreter, the translator and the
/// classifier all switch over it exhaustively, so adding a case makes the
/// compiler point at every place that must handle it.
public enum Opcode: UInt8, CaseIterable, Sendable {
    // RV32I: upper immediates and jumps
    case lui, auipc, jal, jalr
    // RV32I: conditional branches
    case beq, bne, blt, bge, bltu, bgeu
    // RV32I: loads and stores
    case lb, lh, lw, lbu, lhu, sb, sh, sw
    // RV32I: register-immediate arithmetic
    case addi, slti, sltiu, xori, ori, andi, slli, srli, srai
    // RV32I: register-register arithmetic
    case add, sub, sll, slt, sltu, xor, srl, sra, or, and
    // RV32I: ordering (no-ops on PG32) and environment
    case fence, fenceI, ecall, ebreak
    // M extension
    case mul, mulh, mulhsu, mulhu, div, divu, rem, remu
    // PG32 system instructions (custom-0, funct3 = 0), in funct7 order
    case halt, lpsw, setr, getm, getl, getb, jrstu, setm, out, vmrun
}

/// The shape of an instruction's operands, as the assembler writes them.
public enum OperandFormat: Sendable {
    /// `rd, rs1, rs2`
    case r
    /// `rd, rs1, imm`
    case i
    /// `rd, imm(rs1)`
    case load
    /// `rs2, imm(rs1)`
    case store
    /// `rs1, rs2, target`
    case branch
    /// `rd, imm` (20-bit upper immediate)
    case u
    /// `rd, target`
    case jump
    /// `rd, rs1, shamt`
    case shift
    /// no operands
    case none
    /// system instruction with only rs1
    case sysRs1
    /// system instruction with rs1 and rs2
    case sysRs1Rs2
    /// system instruction with only rd
    case sysRd
}

/// What an instruction is, architecturally, before any profile is applied.
public enum InstructionGroup: Sendable, Hashable {
    /// RV32IM: the same in both modes on every profile.
    case core
    /// A PG32 system instruction, whose user-mode behaviour a `Profile` decides.
    case system(SystemInstruction)
}

/// One row of the instruction table: how an opcode is encoded and written.
public struct InstructionInfo: Sendable {
    /// Assembler mnemonic, as `llvm-objdump` prints it.
    public let mnemonic: String
    /// Operand shape, for the disassembler and encoder.
    public let format: OperandFormat
    /// Major opcode (bits 6:0).
    public let major: UInt32
    /// funct3 (bits 14:12), when the instruction has one.
    public let funct3: UInt32?
    /// funct7 (bits 31:25) for R-type, or imm[11:5] for immediate shifts.
    public let funct7: UInt32?
    /// For instructions recognised by their whole word (ECALL, EBREAK).
    public let exactWord: UInt32?
}

extension Opcode {
    /// The first system instruction. The system instructions are the last
    /// opcodes, in funct7 order, so system instruction i (its funct7, its
    /// `SystemInstruction.index`) is opcode `firstSystem + i`
    /// (`InstructionTableTests` checks the rows agree).
    @inlinable public static var firstSystem: Opcode { .halt }
    /// The last system instruction (the last opcode).
    @inlinable public static var lastSystem: Opcode { .vmrun }

    /// This opcode's row of the instruction table.
    @inlinable public var info: InstructionInfo { InstructionTable.rows[Int(rawValue)] }

    /// Assembler mnemonic.
    public var mnemonic: String { info.mnemonic }

    /// Core or system, and which system instruction.
    public var group: InstructionGroup {
        switch self {
        case .halt, .lpsw, .setr, .getm, .getl, .getb, .jrstu, .setm, .out, .vmrun:
            return .system(SystemInstruction(index: Int(rawValue &- Opcode.firstSystem.rawValue)))
        case .lui, .auipc, .jal, .jalr, .beq, .bne, .blt, .bge, .bltu, .bgeu,
             .lb, .lh, .lw, .lbu, .lhu, .sb, .sh, .sw,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai,
             .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .fence, .fenceI, .ecall, .ebreak,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu:
            return .core
        }
    }

    /// True for instructions that may change P other than to P + 4
    /// (a basic block ends after one of these).
    public var isControlTransfer: Bool {
        switch info.format {
        case .branch, .jump: return true
        case .load: return self == .jalr // jalr is written like a load: rd, imm(rs1)
        case .r, .i, .store, .u, .shift, .none, .sysRs1, .sysRs1Rs2, .sysRd: return false
        }
    }
}

/// The instruction table proper, indexed by `Opcode.rawValue`.
public enum InstructionTable {
    /// Major opcodes of the RV32IM formats used here.
    public enum Major {
        /// Upper-immediate and jump majors.
        public static let lui: UInt32 = 0x37, auipc: UInt32 = 0x17, jal: UInt32 = 0x6F
        /// Jump-register, branch and load majors.
        public static let jalr: UInt32 = 0x67, branch: UInt32 = 0x63, load: UInt32 = 0x03
        /// Store and arithmetic majors.
        public static let store: UInt32 = 0x23, opImm: UInt32 = 0x13, op: UInt32 = 0x33
        /// Fence and system majors.
        public static let miscMem: UInt32 = 0x0F, system: UInt32 = 0x73
        /// custom-0: PG32's system instructions (SPEC section 5).
        public static let pg32: UInt32 = 0x0B
    }

    /// Exact encodings of ECALL and EBREAK (SPEC section 5).
    public static let ecallWord: UInt32 = 0x0000_0073
    /// The one encoding of EBREAK.
    public static let ebreakWord: UInt32 = 0x0010_0073

    private static func row(_ m: String, _ f: OperandFormat, _ major: UInt32,
                            _ f3: UInt32? = nil, _ f7: UInt32? = nil, exact: UInt32? = nil) -> InstructionInfo {
        InstructionInfo(mnemonic: m, format: f, major: major, funct3: f3, funct7: f7, exactWord: exact)
    }

    /// One row per `Opcode`, in declaration order (checked by a test).
    public static let rows: [InstructionInfo] = Opcode.allCases.map { op in
        switch op {
        case .lui: return row("lui", .u, Major.lui)
        case .auipc: return row("auipc", .u, Major.auipc)
        case .jal: return row("jal", .jump, Major.jal)
        case .jalr: return row("jalr", .load, Major.jalr, 0)
        case .beq: return row("beq", .branch, Major.branch, 0)
        case .bne: return row("bne", .branch, Major.branch, 1)
        case .blt: return row("blt", .branch, Major.branch, 4)
        case .bge: return row("bge", .branch, Major.branch, 5)
        case .bltu: return row("bltu", .branch, Major.branch, 6)
        case .bgeu: return row("bgeu", .branch, Major.branch, 7)
        case .lb: return row("lb", .load, Major.load, 0)
        case .lh: return row("lh", .load, Major.load, 1)
        case .lw: return row("lw", .load, Major.load, 2)
        case .lbu: return row("lbu", .load, Major.load, 4)
        case .lhu: return row("lhu", .load, Major.load, 5)
        case .sb: return row("sb", .store, Major.store, 0)
        case .sh: return row("sh", .store, Major.store, 1)
        case .sw: return row("sw", .store, Major.store, 2)
        case .addi: return row("addi", .i, Major.opImm, 0)
        case .slti: return row("slti", .i, Major.opImm, 2)
        case .sltiu: return row("sltiu", .i, Major.opImm, 3)
        case .xori: return row("xori", .i, Major.opImm, 4)
        case .ori: return row("ori", .i, Major.opImm, 6)
        case .andi: return row("andi", .i, Major.opImm, 7)
        case .slli: return row("slli", .shift, Major.opImm, 1, 0x00)
        case .srli: return row("srli", .shift, Major.opImm, 5, 0x00)
        case .srai: return row("srai", .shift, Major.opImm, 5, 0x20)
        case .add: return row("add", .r, Major.op, 0, 0x00)
        case .sub: return row("sub", .r, Major.op, 0, 0x20)
        case .sll: return row("sll", .r, Major.op, 1, 0x00)
        case .slt: return row("slt", .r, Major.op, 2, 0x00)
        case .sltu: return row("sltu", .r, Major.op, 3, 0x00)
        case .xor: return row("xor", .r, Major.op, 4, 0x00)
        case .srl: return row("srl", .r, Major.op, 5, 0x00)
        case .sra: return row("sra", .r, Major.op, 5, 0x20)
        case .or: return row("or", .r, Major.op, 6, 0x00)
        case .and: return row("and", .r, Major.op, 7, 0x00)
        case .fence: return row("fence", .none, Major.miscMem, 0)
        case .fenceI: return row("fence.i", .none, Major.miscMem, 1)
        case .ecall: return row("ecall", .none, Major.system, exact: ecallWord)
        case .ebreak: return row("ebreak", .none, Major.system, exact: ebreakWord)
        case .mul: return row("mul", .r, Major.op, 0, 0x01)
        case .mulh: return row("mulh", .r, Major.op, 1, 0x01)
        case .mulhsu: return row("mulhsu", .r, Major.op, 2, 0x01)
        case .mulhu: return row("mulhu", .r, Major.op, 3, 0x01)
        case .div: return row("div", .r, Major.op, 4, 0x01)
        case .divu: return row("divu", .r, Major.op, 5, 0x01)
        case .rem: return row("rem", .r, Major.op, 6, 0x01)
        case .remu: return row("remu", .r, Major.op, 7, 0x01)
        case .halt: return row("halt", .sysRs1, Major.pg32, 0, 0x00)
        case .lpsw: return row("lpsw", .sysRs1, Major.pg32, 0, 0x01)
        case .setr: return row("setr", .sysRs1Rs2, Major.pg32, 0, 0x02)
        case .getm: return row("getm", .sysRd, Major.pg32, 0, 0x03)
        case .getl: return row("getl", .sysRd, Major.pg32, 0, 0x04)
        case .getb: return row("getb", .sysRd, Major.pg32, 0, 0x05)
        case .jrstu: return row("jrstu", .sysRs1, Major.pg32, 0, 0x06)
        case .setm: return row("setm", .sysRs1, Major.pg32, 0, 0x07)
        case .out: return row("out", .sysRs1, Major.pg32, 0, 0x08)
        case .vmrun: return row("vmrun", .sysRs1, Major.pg32, 0, 0x09)
        }
    }
}
