/// The processor mode M (SPEC section 1).
public enum Mode: UInt32, Sendable, Hashable {
    case supervisor = 0
    case user = 1

    /// Bit 0 of a mode word is the mode; the other bits are ignored.
    @inlinable public init(word: UInt32) { self = (word & 1) == 0 ? .supervisor : .user }
}

/// The program status word <M, P, R> with R = (l, b), the relocation-bounds register.
public struct PSW: Sendable, Hashable, CustomStringConvertible {
    /// The mode M.
    public var mode: Mode
    /// The program counter P, a virtual address (relative to l).
    public var pc: UInt32
    /// Relocation base l.
    public var l: UInt32
    /// Bound b.
    public var b: UInt32

    /// Makes a PSW.
    public init(mode: Mode, pc: UInt32, l: UInt32, b: UInt32) {
        self.mode = mode
        self.pc = pc
        self.l = l
        self.b = b
    }

    /// `<S, P=0x1000, l=0x0, b=0x100000>`
    public var description: String {
        "<\(mode == .supervisor ? "S" : "U"), P=\(hex(pc)), l=\(hex(l)), b=\(hex(b))>"
    }

    /// The four words as stored in low core and read by LPSW: mode, pc, l, b.
    public var words: [UInt32] { [mode.rawValue, pc, l, b] }

    /// The access limit under this R on storage of `size` bytes: an access of
    /// n bytes at virtual a is valid iff a + n <= limit, which folds both
    /// conditions of SPEC section 2 (a + n <= b and l + a + n <= q) into one.
    @inlinable public func accessLimit(storageSize size: Int) -> Int {
        Int(l) >= size ? 0 : min(Int(b), size - Int(l))
    }

    /// SPEC section 2's relocation, the one place it is written: the
    /// physical address (from the start of storage of `size` bytes) of an
    /// n-byte access at virtual `address` under this R, or nil if the access
    /// raises a memory trap. Valid iff a + n <= b and l + a + n <= q,
    /// computed without 32-bit overflow.
    @inlinable public func relocate(_ address: UInt32, size n: Int, storageSize size: Int) -> Int? {
        Int(address) + n <= accessLimit(storageSize: size) ? Int(l) + Int(address) : nil
    }
}

/// Trap causes and their codes at low core 0x20 (SPEC section 3).
public enum TrapCause: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case svc = 1
    case breakpoint = 2
    case privileged = 3
    case memory = 4
    case illegal = 5

    /// The SPEC's name for the cause.
    public var description: String {
        switch self {
        case .svc: return "SVC"
        case .breakpoint: return "BREAK"
        case .privileged: return "PRIVILEGED"
        case .memory: return "MEMORY"
        case .illegal: return "ILLEGAL"
        }
    }
}

/// Where the machine stands: running, halted with a code, or checkstopped.
public enum Status: Sendable, Hashable, CustomStringConvertible {
    case running
    case halted(UInt32)
    case checkstop

    /// `halted(3)`, `checkstop`, `running`.
    public var description: String {
        switch self {
        case .running: return "running"
        case .halted(let c): return "halted(\(c))"
        case .checkstop: return "checkstop"
        }
    }
}

/// Fixed physical addresses of low core (SPEC section 3).
public enum LowCore {
    /// Old PSW: mode, pc, l, b.
    public static let oldPSW = 0x00
    /// New PSW: mode, pc, l, b.
    public static let newPSW = 0x10
    /// Trap cause.
    public static let cause = 0x20
    /// Trap value.
    public static let value = 0x24
    /// First byte after the architected low core.
    public static let end = 0x28
}
