/// A 32-bit instruction word with views of its fields (libriscv's format
/// helpers): `word.rd`, `word.iImm`, `word.bImm`. Every consumer reads fields
/// through these, so the bit layout is written down exactly once.
@frozen public struct InstructionWord: Hashable, Sendable {
    /// The raw little-endian word as fetched.
    public let raw: UInt32

    /// Views `raw`.
    @inlinable @inline(__always) public init(_ raw: UInt32) { self.raw = raw }

    /// The major opcode (bits 6:0).
    @inlinable public var major: UInt32 { @inline(__always) get { raw & 0x7F } }
    /// The destination register (bits 11:7).
    @inlinable public var rd: Int { @inline(__always) get { Int((raw >> 7) & 31) } }
    /// funct3 (bits 14:12).
    @inlinable public var funct3: UInt32 { @inline(__always) get { (raw >> 12) & 7 } }
    /// The first source register (bits 19:15).
    @inlinable public var rs1: Int { @inline(__always) get { Int((raw >> 15) & 31) } }
    /// The second source register (bits 24:20).
    @inlinable public var rs2: Int { @inline(__always) get { Int((raw >> 20) & 31) } }
    /// funct7 (bits 31:25).
    @inlinable public var funct7: UInt32 { @inline(__always) get { raw >> 25 } }
    /// Shift amount of an immediate shift (bits 24:20).
    @inlinable public var shamt: UInt32 { @inline(__always) get { (raw >> 20) & 31 } }

    /// I-type immediate, sign-extended.
    @inlinable public var iImm: UInt32 {
        @inline(__always) get { UInt32(bitPattern: Int32(bitPattern: raw) >> 20) }
    }
    /// S-type immediate, sign-extended.
    @inlinable public var sImm: UInt32 {
        @inline(__always) get {
            UInt32(bitPattern: (Int32(bitPattern: raw & 0xFE00_0000) >> 20)) | ((raw >> 7) & 0x1F)
        }
    }
    /// B-type immediate (branch offset), sign-extended.
    @inlinable public var bImm: UInt32 {
        @inline(__always) get {
            UInt32(bitPattern: Int32(bitPattern: raw & 0x8000_0000) >> 19)
                | ((raw << 4) & 0x800) | ((raw >> 20) & 0x7E0) | ((raw >> 7) & 0x1E)
        }
    }
    /// U-type immediate (already shifted into bits 31:12).
    @inlinable public var uImm: UInt32 { @inline(__always) get { raw & 0xFFFF_F000 } }
    /// J-type immediate (jump offset), sign-extended.
    @inlinable public var jImm: UInt32 {
        @inline(__always) get {
            UInt32(bitPattern: Int32(bitPattern: raw & 0x8000_0000) >> 11)
                | (raw & 0xFF000) | ((raw >> 9) & 0x800) | ((raw >> 20) & 0x7FE)
        }
    }
}

extension Opcode {
    // The decoder itself, `decode(_: InstructionWord)`, is generated from the
    // instruction-set description (InstructionSet.generated.swift).

    /// Decodes a raw word; nil means the word traps ILLEGAL.
    @inlinable @inline(__always)
    public static func decode(_ raw: UInt32) -> Opcode? { decode(InstructionWord(raw)) }
}
