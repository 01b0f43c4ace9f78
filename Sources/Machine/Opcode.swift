// The hand-written half of the instruction table: the types a row is made of and
// the facts that follow from a row. The rows themselves, `Opcode`,
// `SystemInstruction` and the decoder are generated from one description
// (Sources/InstructionSetGenerator/InstructionSet.swift) into
// InstructionSet.generated.swift.

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
    /// This opcode's row of the instruction table.
    @inlinable public var info: InstructionInfo { InstructionTable.rows[Int(rawValue)] }

    /// Assembler mnemonic.
    public var mnemonic: String { info.mnemonic }

    /// True for instructions that may change P other than to P + 4
    /// (a basic block ends after one of these).
    public var isControlTransfer: Bool {
        switch format {
        case .branch, .jump: return true
        case .load: return self == .jalr // jalr is written like a load: rd, imm(rs1)
        case .r, .i, .store, .u, .shift, .none, .sysRs1, .sysRs1Rs2, .sysRd: return false
        }
    }
}

/// The instruction table proper, indexed by `Opcode.rawValue`: its rows, the major
/// opcodes and the exact words are generated (InstructionSet.generated.swift).
public enum InstructionTable {}
