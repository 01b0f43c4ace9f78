/// An x86-64 assembler for the JIT backend: each method emits one
/// instruction, so a code generator reads like the assembly it produces,
/// `a.mov(.eax, .dword[.r12 + 8])`. Only the forms the JIT needs are here;
/// each is tested against known byte sequences (and llvm-objdump) in
/// `X86AssemblerTests`.
///
/// Registers come in the width they are used at: `Reg32` for the 32-bit
/// guest arithmetic, `Reg64` for host pointers, `Reg8`/`Reg16` for the low
/// parts a narrow store writes.
public struct X86Assembler {
    /// Where the bytes go: a buffer the assembler writes through a cached
    /// pointer (an array append per byte made translation several times slower).
    public final class Buffer {
        // Unchecked exclusivity: one assembler uses a buffer at a time, and the
        // runtime checks cost a tenth of translation time.
        @exclusivity(unchecked) fileprivate var base: UnsafeMutablePointer<UInt8>
        @exclusivity(unchecked) fileprivate var capacity: Int
        /// Per label: its offset, or -1; and the head of its chain of pending fixups, or -1.
        @exclusivity(unchecked) fileprivate var labels = PairList()
        /// Pending fixups: the rel32 field's offset, and the next fixup of the same label, or -1.
        @exclusivity(unchecked) fileprivate var fixups = PairList()
        /// A buffer of `capacity` bytes (it grows if needed).
        public init(capacity: Int = 4096) {
            self.capacity = max(capacity, 16)
            // SAFETY: owned here, freed in deinit.
            base = .allocate(capacity: self.capacity)
        }
        deinit {
            base.deallocate()
            labels.deallocate()
            fixups.deallocate()
        }
        fileprivate func grow() {
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity * 2)
            bigger.update(from: base, count: capacity)
            base.deallocate()
            base = bigger
            capacity *= 2
        }
    }

    private let buffer: Buffer
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Offset of the next byte.
    public private(set) var offset = 0
    /// The host address byte 0 will live at (for jumps to absolute targets).
    public let origin: UInt

    /// Makes an empty assembler for code that will be placed at `origin`,
    /// writing into `buffer` (reused from block to block by the JIT).
    public init(origin: UInt = 0, buffer: Buffer = Buffer()) {
        self.origin = origin
        self.buffer = buffer
        base = buffer.base
        capacity = buffer.capacity
        buffer.labels.removeAll()
        buffer.fixups.removeAll()
    }

    /// A new, unbound label.
    public mutating func newLabel() -> Label {
        buffer.labels.append(-1, -1)
        return Label(id: buffer.labels.count - 1)
    }

    /// True once `label` is bound.
    public func isBound(_ label: Label) -> Bool { buffer.labels[label.id].0 >= 0 }
    /// The offset `label` is bound at, or nil if it is not bound (yet).
    public func offset(of label: Label) -> Int? {
        let o = buffer.labels[label.id].0
        return o >= 0 ? o : nil
    }

    /// The bytes emitted so far.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: offset)) }
    /// The bytes emitted so far, without a copy (valid until the next emit).
    public var emitted: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: offset) }
    /// Host address of the next byte.
    public var address: UInt { origin + UInt(offset) }

    // MARK: - Operands

    /// A 64-bit general register.
    public struct Reg64: Equatable, Sendable {
        /// The hardware number, 0 to 15.
        public let n: UInt8
        public static let rax = Reg64(n: 0), rcx = Reg64(n: 1), rdx = Reg64(n: 2), rbx = Reg64(n: 3)
        public static let rsp = Reg64(n: 4), rbp = Reg64(n: 5), rsi = Reg64(n: 6), rdi = Reg64(n: 7)
        public static let r8 = Reg64(n: 8), r9 = Reg64(n: 9), r10 = Reg64(n: 10), r11 = Reg64(n: 11)
        public static let r12 = Reg64(n: 12), r13 = Reg64(n: 13), r14 = Reg64(n: 14), r15 = Reg64(n: 15)

        /// base + disp.
        public static func + (base: Reg64, disp: Int32) -> Address { Address(base: base, disp: disp) }
        /// base + index.
        public static func + (base: Reg64, index: Reg64) -> Address { Address(base: base, index: index) }
    }

    /// A 32-bit general register (writing one zero-extends into its 64-bit register).
    public struct Reg32: Equatable, Sendable {
        /// The hardware number, 0 to 15.
        public let n: UInt8
        public static let eax = Reg32(n: 0), ecx = Reg32(n: 1), edx = Reg32(n: 2), ebx = Reg32(n: 3)
        public static let ebp = Reg32(n: 5), esi = Reg32(n: 6), edi = Reg32(n: 7)
        public static let r8d = Reg32(n: 8), r9d = Reg32(n: 9), r10d = Reg32(n: 10), r11d = Reg32(n: 11)
        public static let r12d = Reg32(n: 12), r13d = Reg32(n: 13), r14d = Reg32(n: 14), r15d = Reg32(n: 15)
        /// The 64-bit register this is the low half of.
        public var q: Reg64 { Reg64(n: n) }
        /// Its low 16 bits.
        public var w: Reg16 { Reg16(n: n) }
        /// Its low 8 bits (spl, bpl, sil and dil are named with a REX prefix, which the encoders add).
        public var b: Reg8 { Reg8(n: n) }
    }

    /// The low 16 bits of rax, rcx or rdx.
    public struct Reg16: Equatable, Sendable {
        /// The hardware number.
        public let n: UInt8
        public static let ax = Reg16(n: 0), cx = Reg16(n: 1), dx = Reg16(n: 2)
    }

    /// The low 8 bits of a general register. Numbers 4 to 7 are spl, bpl, sil
    /// and dil only under a REX prefix (without one they would name ah, ch,
    /// dh and bh, which this assembler never uses): see `needsREX`.
    public struct Reg8: Equatable, Sendable {
        /// The hardware number.
        public let n: UInt8
        public static let al = Reg8(n: 0), cl = Reg8(n: 1), dl = Reg8(n: 2)
        /// True for spl, bpl, sil and dil, which only an instruction with a REX prefix names.
        var needsREX: Bool { n >= 4 && n < 8 }
    }

    /// An effective address: base + index * scale + displacement.
    public struct Address: Sendable {
        /// The base register.
        public var base: Reg64
        /// The index register (never rsp), if any.
        public var index: Reg64?
        /// 1, 2, 4 or 8.
        public var scale: UInt8 = 1
        /// The displacement.
        public var disp: Int32 = 0
        /// Set for `[rip + d]` naming this host address (base and index unused):
        /// only in instructions that end with their displacement (no immediate).
        public var absolute: UInt?

        /// The RIP-relative operand naming host address `target` (within 2 GiB of the code).
        public static func rip(_ target: UInt) -> Address {
            var a = Address(base: .rax)
            a.absolute = target
            return a
        }

        /// (base + index) + disp.
        public static func + (a: Address, disp: Int32) -> Address {
            var r = a
            r.disp &+= disp
            return r
        }
    }

    /// A memory operand: an address and the width accessed there.
    public struct Mem: Sendable {
        /// The address.
        public var address: Address
        /// Bytes accessed: 1, 2, 4 or 8.
        public var size: Int

        /// Builds `.dword[address]` and its kin.
        public struct Width: Sendable {
            let size: Int
            /// The operand of this width at `a`.
            public subscript(_ a: Address) -> Mem { Mem(address: a, size: size) }
            /// The operand of this width at `base` (no displacement).
            public subscript(_ base: Reg64) -> Mem { Mem(address: Address(base: base), size: size) }
        }
        public static let byte = Width(size: 1), word = Width(size: 2), dword = Width(size: 4), qword = Width(size: 8)
    }

    /// A condition code, as in `jcc` and `setcc`.
    public enum Condition: UInt8, Sendable {
        case o = 0, no, b, ae, e, ne, be, a, s, ns, p, np, l, ge, le, g
    }

    /// A jump target inside the code being assembled (from `newLabel()`).
    /// Jumps to it before it is bound are fixed up when it is.
    public struct Label: Sendable {
        fileprivate let id: Int
    }

    // MARK: - Encoding

    /// The longest x86-64 instruction, in bytes. An instruction's prefix, REX,
    /// opcode and operand bytes are written with `put` after one `reserve` of
    /// this much (a capacity check per byte was most of an encoder's work).
    private static let longest = 15

    /// Makes room for `n` more bytes.
    @inline(__always) private mutating func reserve(_ n: Int) {
        if offset + n > capacity { grow(toFit: n) }
    }
    private mutating func grow(toFit n: Int) {
        while offset + n > capacity { buffer.grow(); capacity = buffer.capacity }
        base = buffer.base
    }
    /// One byte, in room `reserve` made.
    @inline(__always) private mutating func put(_ b: UInt8) {
        // SAFETY: offset < capacity, reserved by the caller.
        base[offset] = b
        offset &+= 1 // offset < capacity: no overflow check needed
    }
    /// Four bytes, in room `reserve` made.
    @inline(__always) private mutating func put32(_ v: UInt32) {
        // SAFETY: offset + 4 <= capacity, reserved by the caller; the store may be unaligned.
        UnsafeMutableRawPointer(base + offset).storeBytes(of: v.littleEndian, as: UInt32.self)
        offset &+= 4
    }
    @inline(__always) private mutating func emit(_ b: UInt8) {
        reserve(1)
        put(b)
    }
    @inline(__always) private mutating func emit32(_ v: UInt32) {
        reserve(4)
        put32(v)
    }
    private mutating func emit32(_ v: Int32) { emit32(UInt32(bitPattern: v)) }

    /// A REX prefix if any of its bits is set (or `always`), in reserved room.
    private mutating func rex(w: Bool, reg: UInt8, index: UInt8 = 0, rm: UInt8, always: Bool = false) {
        let bits = (w ? 8 : 0) | (reg & 8) >> 1 | (index & 8) >> 2 | (rm & 8) >> 3
        if bits != 0 || always { put(0x40 | bits) }
    }

    /// Prefix (REX), opcode bytes and ModRM for `reg` with a memory operand.
    private mutating func op(_ opcode: Opcode, reg: UInt8, _ m: Address, w: Bool = false, prefix: UInt8? = nil,
                             rexAlways: Bool = false) {
        reserve(Self.longest)
        if let prefix { put(prefix) }
        rex(w: w, reg: reg, index: m.index?.n ?? 0, rm: m.base.n, always: rexAlways)
        putOpcode(opcode)
        modrm(reg: reg, m)
    }

    /// Prefix (REX), opcode bytes and ModRM for `reg` with register `rm`.
    private mutating func op(_ opcode: Opcode, reg: UInt8, rm: UInt8, w: Bool = false, prefix: UInt8? = nil,
                             rexAlways: Bool = false) {
        reserve(Self.longest)
        if let prefix { put(prefix) }
        rex(w: w, reg: reg, rm: rm, always: rexAlways)
        putOpcode(opcode)
        put(0xC0 | (reg & 7) << 3 | rm & 7)
    }

    /// One opcode byte, or 0F and a second (no array per instruction: this runs per emitted instruction).
    private struct Opcode: ExpressibleByIntegerLiteral {
        var first: UInt8
        var second: UInt8?
        init(integerLiteral b: UInt8) { first = b }
        init(_ b: UInt8) { first = b }
        /// A two-byte opcode, 0F `b`.
        static func twoByte(_ b: UInt8) -> Opcode {
            var o = Opcode(0x0F)
            o.second = b
            return o
        }
    }

    private mutating func putOpcode(_ o: Opcode) {
        put(o.first)
        if let s = o.second { put(s) }
    }

    /// ModRM, SIB and displacement, in reserved room.
    private mutating func modrm(reg: UInt8, _ m: Address) {
        let r = (reg & 7) << 3
        if let target = m.absolute {
            // mod 00, r/m 101: disp32 from the end of the instruction, which this field ends.
            put(r | 5)
            put32(UInt32(bitPattern: displacement(from: offset, to: target &+ UInt(bitPattern: Int(m.disp)))))
            return
        }
        let base = m.base.n & 7
        // mod 00 with base 101 means RIP-relative (or no base): rbp and r13 always carry a displacement.
        let mod: UInt8 = m.disp == 0 && base != 5 ? 0 : (Int8(exactly: m.disp) != nil ? 1 : 2)
        if let index = m.index {
            precondition(index.n != 4, "rsp cannot be an index")
            let ss: UInt8 = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0
            put(mod << 6 | r | 4)
            put(ss << 6 | (index.n & 7) << 3 | base)
        } else if base == 4 {
            // rsp and r12 as a base need a SIB byte with no index.
            put(mod << 6 | r | 4)
            put(0x24)
        } else {
            put(mod << 6 | r | base)
        }
        if mod == 1 { put(UInt8(truncatingIfNeeded: m.disp)) } else if mod == 2 { put32(UInt32(bitPattern: m.disp)) }
    }

    // MARK: - Moves

    /// mov r32, dword [m]
    public mutating func mov(_ d: Reg32, _ s: Mem) { op(Opcode(0x8B), reg: d.n, s.address) }
    /// mov dword [m], r32
    public mutating func mov(_ d: Mem, _ s: Reg32) { op(Opcode(0x89), reg: s.n, d.address) }
    /// mov r32, r32
    public mutating func mov(_ d: Reg32, _ s: Reg32) { op(Opcode(0x89), reg: s.n, rm: d.n) }
    /// mov r32, imm32
    public mutating func mov(_ d: Reg32, _ imm: UInt32) {
        reserve(Self.longest)
        rex(w: false, reg: 0, rm: d.n)
        put(0xB8 | d.n & 7)
        put32(imm)
    }
    /// mov dword [m], imm32
    public mutating func mov(_ d: Mem, _ imm: UInt32) {
        precondition(d.size == 4, "only dword immediates are stored")
        precondition(d.address.absolute == nil, "a RIP-relative operand takes no immediate after it")
        op(Opcode(0xC7), reg: 0, d.address)
        emit32(imm)
    }
    /// mov r64, qword [m]
    public mutating func mov(_ d: Reg64, _ s: Mem) { op(Opcode(0x8B), reg: d.n, s.address, w: true) }
    /// mov qword [m], r64
    public mutating func mov(_ d: Mem, _ s: Reg64) { op(Opcode(0x89), reg: s.n, d.address, w: true) }
    /// mov r64, r64
    public mutating func mov(_ d: Reg64, _ s: Reg64) { op(Opcode(0x89), reg: s.n, rm: d.n, w: true) }
    /// mov r64, imm64 (movabs)
    public mutating func mov(_ d: Reg64, _ imm: UInt64) {
        reserve(Self.longest)
        rex(w: true, reg: 0, rm: d.n)
        put(0xB8 | d.n & 7)
        put32(UInt32(truncatingIfNeeded: imm))
        put32(UInt32(truncatingIfNeeded: imm >> 32))
    }
    /// mov word [m], r16
    public mutating func mov(_ d: Mem, _ s: Reg16) { op(Opcode(0x89), reg: s.n, d.address, prefix: 0x66) }
    /// mov byte [m], r8
    public mutating func mov(_ d: Mem, _ s: Reg8) { op(Opcode(0x88), reg: s.n, d.address, rexAlways: s.needsREX) }

    /// movzx r32, byte or word [m]
    public mutating func movzx(_ d: Reg32, _ s: Mem) { op(.twoByte(s.size == 1 ? 0xB6 : 0xB7), reg: d.n, s.address) }
    /// movsx r32, byte or word [m]
    public mutating func movsx(_ d: Reg32, _ s: Mem) { op(.twoByte(s.size == 1 ? 0xBE : 0xBF), reg: d.n, s.address) }
    /// movzx r32, r8
    public mutating func movzx(_ d: Reg32, _ s: Reg8) { op(.twoByte(0xB6), reg: d.n, rm: s.n, rexAlways: s.needsREX) }
    /// movsxd r64, dword [m]
    public mutating func movsxd(_ d: Reg64, _ s: Mem) { op(Opcode(0x63), reg: d.n, s.address, w: true) }
    /// movsxd r64, r32
    public mutating func movsxd(_ d: Reg64, _ s: Reg32) { op(Opcode(0x63), reg: d.n, rm: s.n, w: true) }
    /// lea r32, [m] (the address computed in 64 bits, truncated)
    public mutating func lea(_ d: Reg32, _ a: Address) { op(Opcode(0x8D), reg: d.n, a) }
    /// lea r64, [m]
    public mutating func lea(_ d: Reg64, _ a: Address) { op(Opcode(0x8D), reg: d.n, a, w: true) }

    // MARK: - Arithmetic

    /// The eight classic ALU operations, by their /digit (and opcode base = digit * 8).
    public enum ALU: UInt8, Sendable { case add = 0, or = 1, and = 4, sub = 5, xor = 6, cmp = 7 }

    /// op r32, dword [m]
    public mutating func alu(_ k: ALU, _ d: Reg32, _ s: Mem) { op(Opcode(k.rawValue << 3 | 3), reg: d.n, s.address) }
    /// op r64, qword [m]
    public mutating func alu(_ k: ALU, _ d: Reg64, _ s: Mem) { op(Opcode(k.rawValue << 3 | 3), reg: d.n, s.address, w: true) }
    /// op r32, r32
    public mutating func alu(_ k: ALU, _ d: Reg32, _ s: Reg32) { op(Opcode(k.rawValue << 3 | 1), reg: s.n, rm: d.n) }
    /// op r64, r64
    public mutating func alu(_ k: ALU, _ d: Reg64, _ s: Reg64) { op(Opcode(k.rawValue << 3 | 1), reg: s.n, rm: d.n, w: true) }
    /// op dword [m], r32
    public mutating func alu(_ k: ALU, _ d: Mem, _ s: Reg32) { op(Opcode(k.rawValue << 3 | 1), reg: s.n, d.address) }
    /// op r32, imm (imm8 form when it fits)
    public mutating func alu(_ k: ALU, _ d: Reg32, _ imm: Int32) {
        if let i8 = Int8(exactly: imm) {
            op(Opcode(0x83), reg: k.rawValue, rm: d.n); emit(UInt8(bitPattern: i8))
        } else {
            op(Opcode(0x81), reg: k.rawValue, rm: d.n); emit32(imm)
        }
    }
    /// op r64, imm32 sign-extended (imm8 form when it fits)
    public mutating func alu(_ k: ALU, _ d: Reg64, _ imm: Int32) {
        if let i8 = Int8(exactly: imm) {
            op(Opcode(0x83), reg: k.rawValue, rm: d.n, w: true); emit(UInt8(bitPattern: i8))
        } else {
            op(Opcode(0x81), reg: k.rawValue, rm: d.n, w: true); emit32(imm)
        }
    }
    /// op byte, word, dword or qword [m], imm (sign-extended imm8 form when it fits)
    public mutating func alu(_ k: ALU, _ d: Mem, _ imm: Int32) {
        precondition(d.address.absolute == nil, "a RIP-relative operand takes no immediate after it")
        switch d.size {
        case 8:
            if let i8 = Int8(exactly: imm) {
                op(Opcode(0x83), reg: k.rawValue, d.address, w: true); emit(UInt8(bitPattern: i8))
            } else {
                op(Opcode(0x81), reg: k.rawValue, d.address, w: true); emit32(imm)
            }
        case 1:
            op(Opcode(0x80), reg: k.rawValue, d.address); emit(UInt8(truncatingIfNeeded: imm))
        case 2:
            precondition(Int8(exactly: imm) != nil, "word immediates are imm8 only")
            op(Opcode(0x83), reg: k.rawValue, d.address, prefix: 0x66); emit(UInt8(bitPattern: Int8(imm)))
        default:
            if let i8 = Int8(exactly: imm) {
                op(Opcode(0x83), reg: k.rawValue, d.address); emit(UInt8(bitPattern: i8))
            } else {
                op(Opcode(0x81), reg: k.rawValue, d.address); emit32(imm)
            }
        }
    }

    /// add (see `alu`).
    public mutating func add(_ d: Reg32, _ s: Mem) { alu(.add, d, s) }
    public mutating func add(_ d: Reg32, _ imm: Int32) { alu(.add, d, imm) }
    public mutating func add(_ d: Reg64, _ imm: Int32) { alu(.add, d, imm) }
    public mutating func add(_ d: Reg64, _ s: Mem) { alu(.add, d, s) }
    public mutating func add(_ d: Mem, _ imm: Int32) { alu(.add, d, imm) }
    /// sub (see `alu`).
    public mutating func sub(_ d: Reg32, _ s: Mem) { alu(.sub, d, s) }
    public mutating func sub(_ d: Reg64, _ imm: Int32) { alu(.sub, d, imm) }
    /// and (see `alu`).
    public mutating func and(_ d: Reg32, _ imm: Int32) { alu(.and, d, imm) }
    /// xor (see `alu`).
    public mutating func xor(_ d: Reg32, _ s: Reg32) { alu(.xor, d, s) }
    /// cmp (see `alu`).
    public mutating func cmp(_ d: Reg32, _ s: Mem) { alu(.cmp, d, s) }
    public mutating func cmp(_ d: Reg32, _ s: Reg32) { alu(.cmp, d, s) }
    public mutating func cmp(_ d: Reg32, _ imm: Int32) { alu(.cmp, d, imm) }
    public mutating func cmp(_ d: Reg64, _ s: Reg64) { alu(.cmp, d, s) }
    public mutating func cmp(_ d: Reg64, _ imm: Int32) { alu(.cmp, d, imm) }
    public mutating func cmp(_ d: Reg64, _ s: Mem) { alu(.cmp, d, s) }
    public mutating func cmp(_ d: Mem, _ imm: Int32) { alu(.cmp, d, imm) }

    /// test r32, r32
    public mutating func test(_ d: Reg32, _ s: Reg32) { op(Opcode(0x85), reg: s.n, rm: d.n) }
    /// test r64, r64
    public mutating func test(_ d: Reg64, _ s: Reg64) { op(Opcode(0x85), reg: s.n, rm: d.n, w: true) }
    /// test r32, imm32
    public mutating func test(_ d: Reg32, _ imm: UInt32) { op(Opcode(0xF7), reg: 0, rm: d.n); emit32(imm) }
    /// cmovcc r32, r32
    public mutating func cmov(_ c: Condition, _ d: Reg32, _ s: Reg32) { op(.twoByte(0x40 | c.rawValue), reg: d.n, rm: s.n) }
    /// cmovcc r32, dword [m]
    public mutating func cmov(_ c: Condition, _ d: Reg32, _ s: Mem) { op(.twoByte(0x40 | c.rawValue), reg: d.n, s.address) }

    /// The shift operations, by their /digit.
    public enum Shift: UInt8, Sendable { case shl = 4, shr = 5, sar = 7 }
    /// shift r32, cl
    public mutating func shift(_ k: Shift, _ d: Reg32) { op(Opcode(0xD3), reg: k.rawValue, rm: d.n) }
    /// shift r32, imm8
    public mutating func shift(_ k: Shift, _ d: Reg32, _ imm: UInt8) { op(Opcode(0xC1), reg: k.rawValue, rm: d.n); emit(imm) }
    /// shift r64, imm8
    public mutating func shift(_ k: Shift, _ d: Reg64, _ imm: UInt8) { op(Opcode(0xC1), reg: k.rawValue, rm: d.n, w: true); emit(imm) }

    /// imul r32, dword [m]
    public mutating func imul(_ d: Reg32, _ s: Mem) { op(.twoByte(0xAF), reg: d.n, s.address) }
    /// imul r32, r32
    public mutating func imul(_ d: Reg32, _ s: Reg32) { op(.twoByte(0xAF), reg: d.n, rm: s.n) }
    /// imul r64, r64
    public mutating func imul(_ d: Reg64, _ s: Reg64) { op(.twoByte(0xAF), reg: d.n, rm: s.n, w: true) }
    /// mul r32: unsigned edx:eax = eax * r.
    public mutating func mul(_ s: Reg32) { op(Opcode(0xF7), reg: 4, rm: s.n) }
    /// mul dword [m]: unsigned edx:eax = eax * [m].
    public mutating func mul(_ s: Mem) { op(Opcode(0xF7), reg: 4, s.address) }
    /// imul r32 (one operand): signed edx:eax = eax * r.
    public mutating func imul(_ s: Reg32) { op(Opcode(0xF7), reg: 5, rm: s.n) }
    /// imul dword [m] (one operand): signed edx:eax = eax * [m].
    public mutating func imul(_ s: Mem) { op(Opcode(0xF7), reg: 5, s.address) }
    /// cdq: sign-extend eax into edx.
    public mutating func cdq() { emit(0x99) }
    /// neg r32
    public mutating func neg(_ d: Reg32) { op(Opcode(0xF7), reg: 3, rm: d.n) }
    /// idiv r32: signed edx:eax / r, quotient in eax, remainder in edx.
    public mutating func idiv(_ s: Reg32) { op(Opcode(0xF7), reg: 7, rm: s.n) }
    /// div r32: unsigned edx:eax / r.
    public mutating func div(_ s: Reg32) { op(Opcode(0xF7), reg: 6, rm: s.n) }
    /// setcc r8
    public mutating func set(_ c: Condition, _ d: Reg8) { op(.twoByte(0x90 | c.rawValue), reg: 0, rm: d.n, rexAlways: d.needsREX) }

    // MARK: - Control

    /// Binds `label` here and fixes up the jumps already aimed at it.
    public mutating func bind(_ label: Label) {
        precondition(buffer.labels[label.id].0 < 0, "a label is bound once")
        var f = buffer.labels[label.id].1
        buffer.labels[label.id] = (offset, -1)
        while f >= 0 {
            let (field, next) = buffer.fixups[f]
            patch32(at: field, Int32(offset - (field + 4)))
            f = next
        }
    }

    private mutating func patch32(at i: Int, _ v: Int32) {
        let u = UInt32(bitPattern: v)
        precondition(i >= 0 && i + 4 <= offset, "patch outside the code")
        // SAFETY: inside the emitted bytes; the store may be unaligned.
        UnsafeMutableRawPointer(base + i).storeBytes(of: u.littleEndian, as: UInt32.self)
    }

    private mutating func rel32(to label: Label) {
        let (p, pending) = buffer.labels[label.id]
        if p >= 0 {
            emit32(Int32(p - (offset + 4)))
        } else {
            buffer.fixups.append(offset, pending)
            buffer.labels[label.id].1 = buffer.fixups.count - 1
            emit32(UInt32(0))
        }
    }

    /// The rel32 from the end of a field at offset `field` to host address `target`.
    private func displacement(from field: Int, to target: UInt) -> Int32 {
        let d = Int(bitPattern: target) - Int(bitPattern: origin + UInt(field + 4))
        guard let r = Int32(exactly: d) else { preconditionFailure("jump target out of rel32 range") }
        return r
    }

    /// jmp rel32 to a label.
    public mutating func jmp(_ l: Label) { emit(0xE9); rel32(to: l) }
    /// jmp rel32 to a host address; returns the offset of its rel32 field (for patching).
    @discardableResult
    public mutating func jmp(absolute target: UInt) -> Int {
        emit(0xE9)
        let field = offset
        emit32(displacement(from: field, to: target))
        return field
    }
    /// jcc rel32 to a label.
    public mutating func j(_ c: Condition, _ l: Label) { emit(0x0F); emit(0x80 | c.rawValue); rel32(to: l) }
    /// jcc rel32 to a host address.
    public mutating func j(_ c: Condition, absolute target: UInt) {
        emit(0x0F); emit(0x80 | c.rawValue)
        emit32(displacement(from: offset, to: target))
    }
    /// jmp r64
    public mutating func jmp(_ r: Reg64) { op(Opcode(0xFF), reg: 4, rm: r.n) }
    /// jmp qword [m]
    public mutating func jmp(_ m: Mem) { op(Opcode(0xFF), reg: 4, m.address) }
    /// call qword [m]
    public mutating func call(_ m: Mem) { op(Opcode(0xFF), reg: 2, m.address) }
    /// ret
    public mutating func ret() { emit(0xC3) }
    /// call rel32 to `l` (a routine inside the same code, which returns with `ret`).
    public mutating func call(_ l: Label) { emit(0xE8); rel32(to: l) }
    /// push r64
    public mutating func push(_ r: Reg64) { reserve(2); rex(w: false, reg: 0, rm: r.n); put(0x50 | r.n & 7) }
    /// pop r64
    public mutating func pop(_ r: Reg64) { reserve(2); rex(w: false, reg: 0, rm: r.n); put(0x58 | r.n & 7) }
    /// int3, a trap if execution ever falls where it must not.
    public mutating func int3() { emit(0xCC) }

    /// Emits again the bytes emitted at offsets `range`: code that does not depend on where it is
    /// (no rel32 or RIP-relative field, no label inside), such as a repeated sequence of stores.
    public mutating func repeatBytes(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= offset, "repeating bytes not emitted")
        reserve(range.count)
        // SAFETY: both ranges are inside the buffer (reserved above) and do not overlap (the copy is appended).
        (base + offset).update(from: base + range.lowerBound, count: range.count)
        offset += range.count
    }

    /// Overwrites the 4 bytes at `offset` (a rel32 or imm32 field emitted earlier).
    public mutating func patch(at offset: Int, _ value: UInt32) { patch32(at: offset, Int32(bitPattern: value)) }
}

extension X86Assembler {
    /// cmp r32, imm32 always in its 4-byte-immediate form (81 /7 id), for a
    /// field patched later; returns the offset of the imm32.
    public mutating func cmpImm32(_ d: Reg32, _ imm: UInt32) -> Int {
        if d.n >= 8 { emit(0x41) }
        emit(0x81)
        emit(0xC0 | 7 << 3 | d.n & 7)
        let field = offset
        emit32(imm)
        return field
    }
}

/// A growable list of pairs of Ints for the assembler's labels and fixups:
/// appends without an array's uniqueness and capacity checks through
/// `swift_isUniquelyReferenced` (label work was a seventh of translation).
/// Indices are checked against the count.
struct PairList {
    private var base: UnsafeMutablePointer<(Int, Int)>
    private var capacity = 64
    /// How many pairs there are.
    private(set) var count = 0

    init() {
        // SAFETY: owned by the Buffer holding this list, freed in its deinit.
        base = .allocate(capacity: capacity)
    }

    /// Frees the storage (the owner's deinit; the list is not used after).
    func deallocate() { base.deallocate() }

    /// Empties the list, keeping its storage.
    mutating func removeAll() { count = 0 }

    /// Appends the pair (a, b).
    @inline(__always) mutating func append(_ a: Int, _ b: Int) {
        if count == capacity { grow() }
        // SAFETY: count < capacity; pairs are trivial, so initializing over old ones is fine.
        (base + count).initialize(to: (a, b))
        count += 1
    }

    /// The pair at `i`.
    @inline(__always) subscript(i: Int) -> (Int, Int) {
        get {
            precondition(i >= 0 && i < count, "no such label or fixup")
            return base[i]
        }
        set {
            precondition(i >= 0 && i < count, "no such label or fixup")
            base[i] = newValue
        }
    }

    private mutating func grow() {
        let bigger = UnsafeMutablePointer<(Int, Int)>.allocate(capacity: capacity * 2)
        bigger.initialize(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity *= 2
    }
}
