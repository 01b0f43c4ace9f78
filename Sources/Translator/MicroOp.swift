import Machine

/// The translator's internal form of one guest instruction: 8 bytes,
/// pre-decoded, with everything known at translation time folded in
/// (`auipc`'s and `lui`'s results, branch targets, writes to x0 dropped; a
/// jalr whose target its block sets becomes a jal: `knownTarget`).
/// Made from the one decoder's output by an exhaustive switch, so a new
/// opcode makes the compiler point here.
@frozen public struct MicroOp: Sendable, Equatable {
    /// What to do.
    public var kind: Kind
    /// Destination register.
    public var rd: UInt8
    /// First source register.
    public var rs1: UInt8
    /// Second source register.
    public var rs2: UInt8
    /// Immediate, absolute branch target, constant, or instruction word.
    public var imm: UInt32

    /// Makes an op.
    public init(_ kind: Kind, rd: Int = 0, rs1: Int = 0, rs2: Int = 0, imm: UInt32 = 0) {
        self.kind = kind
        self.rd = UInt8(rd)
        self.rs1 = UInt8(rs1)
        self.rs2 = UInt8(rs2)
        self.imm = imm
    }

    /// The executor's operations. From `continueAt` on, each ends a block.
    public enum Kind: UInt8, Sendable {
        // register-register
        case add, sub, sll, slt, sltu, xor, srl, sra, or, and
        case mul, mulh, mulhsu, mulhu, div, divu, rem, remu
        // register-immediate
        case addi, slti, sltiu, xori, ori, andi, slli, srli, srai
        /// x[rd] = imm (lui, and auipc with its P folded in).
        case constant
        /// No effect (fences, and any instruction whose only effect is on x0).
        case nop
        // memory
        case lb, lh, lw, lbu, lhu, sb, sh, sw
        /// Conditional branches: imm = taken target (absolute virtual P). Not
        /// block terminators: a block runs on through a branch not taken
        /// (a superblock), and leaves through a side exit when it is taken.
        case beq, bne, blt, bge, bltu, bgeu
        // ---- block terminators ----
        /// The block ends before a page end or at the size limit: continue at the next P.
        case continueAt
        /// x[rd] = P + 4; P = imm.
        case jal
        /// x[rd] = P + 4; P = (x[rs1] + imm) & ~1.
        case jalr
        /// A callout: a system instruction (rd = its index, imm = the word).
        case system
        /// ECALL, EBREAK, or an illegal word (imm): a trap.
        case ecall, ebreak, illegal

        /// True for the kinds that end a block.
        @inlinable public var endsBlock: Bool { rawValue >= Kind.continueAt.rawValue }
    }
}

extension MicroOp {
    /// Register index 32 of the machine's register file: where writes to x0 go.
    static let writeSink = 32

    /// The op for guest instruction `word` at virtual `pc`. (jal and jalr do
    /// not read rs2: the front end puts there their place in the block plus
    /// one, from which the portable executor makes the link, block P + 4 *
    /// rs2.)
    static func translate(_ word: UInt32, at pc: UInt32) -> MicroOp {
        guard let inst = Instruction(decoding: word) else { return MicroOp(.illegal, imm: word) }
        let imm = UInt32(bitPattern: inst.imm)
        let rd = inst.rd, rs1 = inst.rs1, rs2 = inst.rs2
        // Loads and jumps into x0 still happen (a load may trap, a jump goes): aim their write at the sink.
        let sink = rd == 0 ? MicroOp.writeSink : rd
        func alu(_ k: Kind) -> MicroOp { rd == 0 ? MicroOp(.nop) : MicroOp(k, rd: rd, rs1: rs1, rs2: rs2, imm: imm) }
        switch inst.op {
        case .lui: return rd == 0 ? MicroOp(.nop) : MicroOp(.constant, rd: rd, imm: imm)
        case .auipc: return rd == 0 ? MicroOp(.nop) : MicroOp(.constant, rd: rd, imm: pc &+ imm)
        case .jal: return MicroOp(.jal, rd: sink, imm: pc &+ imm)
        case .jalr: return MicroOp(.jalr, rd: sink, rs1: rs1, imm: imm)
        case .beq: return MicroOp(.beq, rs1: rs1, rs2: rs2, imm: pc &+ imm)
        case .bne: return MicroOp(.bne, rs1: rs1, rs2: rs2, imm: pc &+ imm)
        case .blt: return MicroOp(.blt, rs1: rs1, rs2: rs2, imm: pc &+ imm)
        case .bge: return MicroOp(.bge, rs1: rs1, rs2: rs2, imm: pc &+ imm)
        case .bltu: return MicroOp(.bltu, rs1: rs1, rs2: rs2, imm: pc &+ imm)
        case .bgeu: return MicroOp(.bgeu, rs1: rs1, rs2: rs2, imm: pc &+ imm)
        case .lb: return MicroOp(.lb, rd: sink, rs1: rs1, imm: imm)
        case .lh: return MicroOp(.lh, rd: sink, rs1: rs1, imm: imm)
        case .lw: return MicroOp(.lw, rd: sink, rs1: rs1, imm: imm)
        case .lbu: return MicroOp(.lbu, rd: sink, rs1: rs1, imm: imm)
        case .lhu: return MicroOp(.lhu, rd: sink, rs1: rs1, imm: imm)
        case .sb: return MicroOp(.sb, rs1: rs1, rs2: rs2, imm: imm)
        case .sh: return MicroOp(.sh, rs1: rs1, rs2: rs2, imm: imm)
        case .sw: return MicroOp(.sw, rs1: rs1, rs2: rs2, imm: imm)
        case .addi: return alu(.addi)
        case .slti: return alu(.slti)
        case .sltiu: return alu(.sltiu)
        case .xori: return alu(.xori)
        case .ori: return alu(.ori)
        case .andi: return alu(.andi)
        case .slli: return alu(.slli)
        case .srli: return alu(.srli)
        case .srai: return alu(.srai)
        case .add: return alu(.add)
        case .sub: return alu(.sub)
        case .sll: return alu(.sll)
        case .slt: return alu(.slt)
        case .sltu: return alu(.sltu)
        case .xor: return alu(.xor)
        case .srl: return alu(.srl)
        case .sra: return alu(.sra)
        case .or: return alu(.or)
        case .and: return alu(.and)
        case .mul: return alu(.mul)
        case .mulh: return alu(.mulh)
        case .mulhsu: return alu(.mulhsu)
        case .mulhu: return alu(.mulhu)
        case .div: return alu(.div)
        case .divu: return alu(.divu)
        case .rem: return alu(.rem)
        case .remu: return alu(.remu)
        case .fence, .fenceI: return MicroOp(.nop)
        case .ecall: return MicroOp(.ecall)
        case .ebreak: return MicroOp(.ebreak)
        case .halt, .lpsw, .setr, .getm, .getl, .getb, .jrstu, .setm, .out, .vmrun:
            guard case .system(let s) = inst.op.group else { preconditionFailure("\(inst.op) is a system instruction") }
            return MicroOp(.system, rd: s.index, imm: word)
        }
    }
}

extension MicroOp.Kind {
    /// How many of rs1, rs2 the op reads (0, 1 or 2), and whether it writes rd.
    var registerUse: (reads: Int, writes: Bool) {
        switch self {
        case .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu: return (2, true)
        case .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai: return (1, true)
        case .constant: return (0, true)
        case .lb, .lh, .lw, .lbu, .lhu: return (1, true)
        case .sb, .sh, .sw: return (2, false)
        case .beq, .bne, .blt, .bge, .bltu, .bgeu: return (2, false)
        case .jal: return (0, true)
        case .jalr: return (1, true)
        case .nop, .continueAt, .system, .ecall, .ebreak, .illegal: return (0, false)
        }
    }

    /// True for the ops that may leave the block (a trap, a taken branch, a
    /// store into code, a transfer, a callout) or write memory; a write before
    /// the first of them cannot be seen from outside the block.
    var mayLeave: Bool {
        switch self {
        case .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai, .constant, .nop: return false
        case .lb, .lh, .lw, .lbu, .lhu, .sb, .sh, .sw, .beq, .bne, .blt, .bge, .bltu, .bgeu,
             .continueAt, .jal, .jalr, .system, .ecall, .ebreak, .illegal: return true
        }
    }

    /// True for the ops whose imm is a static jump target.
    var isDirectJump: Bool {
        switch self {
        case .beq, .bne, .blt, .bge, .bltu, .bgeu, .jal, .continueAt: return true
        case .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai, .constant, .nop,
             .lb, .lh, .lw, .lbu, .lhu, .sb, .sh, .sw, .jalr, .system, .ecall, .ebreak, .illegal: return false
        }
    }
}
