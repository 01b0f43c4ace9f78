/// A decoded instruction: the opcode and its operands, in the form the
/// assembler writes. Built by the decoder, turned back into a word by the
/// encoder (`encoded`), printed by the disassembler. The interpreter does not
/// need this form; the translator, the classifier and the fuzzer do.
public struct Instruction: Hashable, Sendable, CustomStringConvertible {
    /// What the instruction is.
    public var op: Opcode
    /// Destination register (0 when unused).
    public var rd: Int
    /// First source register (0 when unused).
    public var rs1: Int
    /// Second source register (0 when unused).
    public var rs2: Int
    /// The immediate, sign-extended (U-type: the value of bits 31:12 already shifted; shifts: shamt).
    public var imm: Int32

    /// Makes an instruction; unused operands should be 0 so that encode and decode round-trip.
    public init(_ op: Opcode, rd: Int = 0, rs1: Int = 0, rs2: Int = 0, imm: Int32 = 0) {
        self.op = op
        self.rd = rd
        self.rs1 = rs1
        self.rs2 = rs2
        self.imm = imm
    }

    /// Decodes `raw` through `Opcode.decode`; nil if the word traps ILLEGAL.
    /// Fields an instruction does not use are dropped (they are ignored by the machine).
    @inlinable public init?(decoding raw: UInt32) {
        let w = InstructionWord(raw)
        guard let op = Opcode.decode(w) else { return nil }
        self.op = op
        rd = 0; rs1 = 0; rs2 = 0; imm = 0
        switch op.format {
        case .r: rd = w.rd; rs1 = w.rs1; rs2 = w.rs2
        case .i, .load: rd = w.rd; rs1 = w.rs1; imm = Int32(bitPattern: w.iImm)
        case .shift: rd = w.rd; rs1 = w.rs1; imm = Int32(w.shamt)
        case .store: rs1 = w.rs1; rs2 = w.rs2; imm = Int32(bitPattern: w.sImm)
        case .branch: rs1 = w.rs1; rs2 = w.rs2; imm = Int32(bitPattern: w.bImm)
        case .u: rd = w.rd; imm = Int32(bitPattern: w.uImm)
        case .jump: rd = w.rd; imm = Int32(bitPattern: w.jImm)
        case .none: break
        case .sysRs1: rs1 = w.rs1
        case .sysRs1Rs2: rs1 = w.rs1; rs2 = w.rs2
        case .sysRd: rd = w.rd
        }
    }

    /// The encoder: the canonical 32-bit word for this instruction.
    /// Immediates are truncated to their field (a branch offset's bit 0 is dropped).
    public var encoded: UInt32 {
        let info = op.info
        if let exact = info.exactWord { return exact }
        let rdF = UInt32(rd & 31) << 7, rs1F = UInt32(rs1 & 31) << 15, rs2F = UInt32(rs2 & 31) << 20
        let f3 = (info.funct3 ?? 0) << 12, f7 = (info.funct7 ?? 0) << 25
        let u = UInt32(bitPattern: imm)
        switch info.format {
        case .r, .sysRs1, .sysRs1Rs2, .sysRd:
            return f7 | rs2F | rs1F | f3 | rdF | info.major
        case .i, .load:
            return (u & 0xFFF) << 20 | rs1F | f3 | rdF | info.major
        case .shift:
            return f7 | (u & 31) << 20 | rs1F | f3 | rdF | info.major
        case .store:
            return ((u >> 5) & 0x7F) << 25 | rs2F | rs1F | f3 | (u & 0x1F) << 7 | info.major
        case .branch:
            return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3F) << 25 | rs2F | rs1F | f3
                | ((u >> 1) & 0xF) << 8 | ((u >> 11) & 1) << 7 | info.major
        case .u:
            return (u & 0xFFFF_F000) | rdF | info.major
        case .jump:
            return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3FF) << 21 | ((u >> 11) & 1) << 20
                | ((u >> 12) & 0xFF) << 12 | rdF | info.major
        case .none:
            return f3 | info.major
        }
    }

    /// The disassembly, without an address (branch and jump targets are offsets).
    public var description: String { disassembly(at: nil) }

    /// The disassembly; with `pc`, branch and jump targets are absolute addresses.
    public func disassembly(at pc: UInt32?) -> String {
        let m = op.mnemonic.padding(toLength: 8)
        func target() -> String {
            if let pc { return hex(pc &+ UInt32(bitPattern: imm)) }
            return imm >= 0 ? "+\(imm)" : "\(imm)"
        }
        switch op.format {
        case .r: return "\(m)\(reg(rd)), \(reg(rs1)), \(reg(rs2))"
        case .i, .shift: return "\(m)\(reg(rd)), \(reg(rs1)), \(imm)"
        case .load: return "\(m)\(reg(rd)), \(imm)(\(reg(rs1)))"
        case .store: return "\(m)\(reg(rs2)), \(imm)(\(reg(rs1)))"
        case .branch: return "\(m)\(reg(rs1)), \(reg(rs2)), \(target())"
        case .u: return "\(m)\(reg(rd)), \(hex(UInt32(bitPattern: imm) >> 12))"
        case .jump: return "\(m)\(reg(rd)), \(target())"
        case .none: return op.mnemonic
        case .sysRs1: return "\(m)\(reg(rs1))"
        case .sysRs1Rs2: return "\(m)\(reg(rs1)), \(reg(rs2))"
        case .sysRd: return "\(m)\(reg(rd))"
        }
    }
}

/// ABI names of the 32 general registers, as disassemblers print them.
public let registerNames: [String] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
]

@inline(__always) func reg(_ r: Int) -> String { registerNames[r & 31] }

/// `0x` followed by lowercase hex digits.
public func hex<T: BinaryInteger>(_ v: T) -> String { "0x" + String(v, radix: 16) }

extension String {
    /// Pads with spaces on the right to at least `n` characters.
    func padding(toLength n: Int) -> String {
        count >= n ? self + " " : self + String(repeating: " ", count: n - count)
    }
}

/// Disassembles one word: the instruction, or `.word 0x...  (illegal)`.
public func disassemble(_ raw: UInt32, at pc: UInt32? = nil) -> String {
    guard let inst = Instruction(decoding: raw) else {
        return ".word   " + hex(raw) + "  (illegal)"
    }
    return inst.disassembly(at: pc)
}
