/// SplitMix64: a small, fast, seedable generator, so that classifications and
/// fuzz campaigns are reproducible from their seed on any host.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator that always produces the same sequence for `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension Instruction {
    /// `op` with random operands in their fields' ranges, rd and rs1/rs2 drawn
    /// from `registers` (so a caller can steer which registers are used).
    public static func random(_ op: Opcode, registers: ClosedRange<Int> = 0...31,
                              using rng: inout some RandomNumberGenerator) -> Instruction {
        func r() -> Int { Int.random(in: registers, using: &rng) }
        func imm12() -> Int32 { Int32.random(in: -2048...2047, using: &rng) }
        switch op.format {
        case .r: return Instruction(op, rd: r(), rs1: r(), rs2: r())
        case .i, .load: return Instruction(op, rd: r(), rs1: r(), imm: imm12())
        case .shift: return Instruction(op, rd: r(), rs1: r(), imm: Int32.random(in: 0...31, using: &rng))
        case .store: return Instruction(op, rs1: r(), rs2: r(), imm: imm12())
        case .branch: return Instruction(op, rs1: r(), rs2: r(), imm: imm12() * 2)
        case .u: return Instruction(op, rd: r(), imm: Int32(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng) & 0xFFFF_F000))
        case .jump: return Instruction(op, rd: r(), imm: Int32.random(in: -524_288...524_287, using: &rng) * 2)
        case .none: return Instruction(op)
        case .sysRs1: return Instruction(op, rs1: r())
        case .sysRs1Rs2: return Instruction(op, rs1: r(), rs2: r())
        case .sysRd: return Instruction(op, rd: r())
        }
    }

    /// The instruction's name as SPEC.md writes it: upper case (`ADD`, `FENCE.I`, `SETR`).
    public var name: String { op.name }
}

extension Opcode {
    /// The name as SPEC.md writes it: the mnemonic in upper case.
    public var name: String { mnemonic.uppercased() }
}
