/// VX, the virtualization extension (SPEC section 11): the control block,
/// exit reasons and exit controls. Guest mode itself is `Machine+GuestMode`.

/// Why guest mode ended: the exit reason at control block offset 0x20.
public enum ExitReason: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    /// The entry was refused (k, w out of range); no guest instruction ran.
    case refused = 0
    /// A trap of cause 1-5 whose exit-control bit is set (not taken in G).
    case svc = 1, breakpoint = 2, privileged = 3, memory = 4, illegal = 5
    /// HALT executed in G.
    case halt = 6
    /// OUT executed in G.
    case out = 7
    /// A system instruction G would execute, whose exit-control bit is set.
    case system = 8
    /// The quota ran out.
    case quota = 9
    /// G's first fetch after a trap entry failed.
    case checkstop = 10
    /// VMRUN in G's supervisor mode (the hardware does not nest).
    case vmrun = 11

    /// The exit for a trap of `cause`.
    @inlinable public init(_ cause: TrapCause) { self.init(rawValue: cause.rawValue)! }

    /// The trap cause of reasons 1-5, nil for the others.
    @inlinable public var trapCause: TrapCause? { (1...5).contains(rawValue) ? TrapCause(rawValue: rawValue) : nil }

    /// The name `bench` prints and counts under.
    public var description: String {
        switch self {
        case .refused: return "refused"
        case .svc, .breakpoint, .privileged, .memory, .illegal: return trapCause!.description
        case .halt: return "HALT"
        case .out: return "OUT"
        case .system: return "system"
        case .quota: return "quota"
        case .checkstop: return "checkstop"
        case .vmrun: return "VMRUN"
        }
    }
}

/// The exit controls word (control block 0x18): bit c (1...5) exits on
/// traps of cause c, bit 8 + f on the system instruction with funct7 f
/// (f = 1...7, LPSW to SETM). Other bits are kept but mean nothing: HALT, OUT
/// and VMRUN always exit.
public struct ExitControls: OptionSet, Sendable, Hashable {
    /// The word as the control block holds it.
    public var rawValue: UInt32

    /// The controls a word holds.
    @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Exit on traps of `cause`.
    public static func on(_ cause: TrapCause) -> ExitControls { ExitControls(rawValue: 1 << cause.rawValue) }

    /// Exit on `instruction`; only LPSW ... SETM have a bit that means something.
    public static func on(_ instruction: SystemInstruction) -> ExitControls {
        ExitControls(rawValue: 1 << (8 + UInt32(instruction.index)))
    }

    /// No exits but those that always happen (the default of the `hw` strategy).
    public static let none = ExitControls([])
    /// Every bit that means something: all five trap causes and LPSW ... SETM.
    public static let all = ExitControls(rawValue: 0x3E | 0xFE00)

    /// True if a trap of `cause` in G exits instead of being taken in G.
    @inlinable public func exits(on cause: TrapCause) -> Bool { rawValue & (1 << cause.rawValue) != 0 }

    /// True if `instruction` (one G would execute) exits instead of executing.
    @inlinable public func exits(on instruction: SystemInstruction) -> Bool {
        let f = instruction.index
        return (1...7).contains(f) && rawValue & (1 << (8 + UInt32(f))) != 0
    }
}

/// A 48-byte VM control block (SPEC section 11), as its words.
public struct ControlBlock: Sendable, Hashable {
    /// Its size, checked as one access by VMRUN.
    public static let size = 48

    /// Byte offsets of the fields.
    public enum Offset {
        /// Guest PSW: mode, pc, l, b.
        public static let mode = 0x00, pc = 0x04, l = 0x08, b = 0x0C
        /// The guest's storage E[k .. k+w).
        public static let k = 0x10, w = 0x14
        /// Exit controls and quota.
        public static let controls = 0x18, quota = 0x1C
        /// Written at exit: reason, value, word.
        public static let reason = 0x20, value = 0x24, word = 0x28
        /// Bit 0: G's next fetch is the first after a trap entry.
        public static let entryState = 0x2C
    }

    /// G's PSW <M_g, P, (l, b)>.
    public var psw: PSW
    /// Physical base of G's storage (need not be aligned).
    public var k: UInt32
    /// Size of G's storage.
    public var w: UInt32
    /// What exits.
    public var controls: ExitControls
    /// Guest instructions the entry may run; 0 means no limit.
    public var quota: UInt32
    /// Written at exit: why.
    public var reason: UInt32 = 0
    /// Written at exit: the exit value.
    public var value: UInt32 = 0
    /// Written at exit: the word of the instruction that exited or trapped (0 if its fetch failed, and for 0, 9, 10).
    public var word: UInt32 = 0
    /// Bit 0: G's next fetch is the first after a trap entry (the checkstop rule applies to it).
    public var entryState: UInt32 = 0

    /// A block as a host fills it.
    public init(psw: PSW, k: UInt32, w: UInt32, controls: ExitControls = .none, quota: UInt32 = 0,
                trapEntryPending: Bool = false) {
        self.psw = psw
        self.k = k
        self.w = w
        self.controls = controls
        self.quota = quota
        entryState = trapEntryPending ? 1 : 0
    }

    /// Reads the block at physical `address` (the caller checked the 48 bytes are in storage).
    public init(loadingFrom storage: Storage, at address: Int) {
        func word(_ offset: Int) -> UInt32 { storage.load32(address + offset) }
        self.init(psw: PSW(mode: Mode(word: word(Offset.mode)), pc: word(Offset.pc), l: word(Offset.l), b: word(Offset.b)),
                  k: word(Offset.k), w: word(Offset.w), controls: ExitControls(rawValue: word(Offset.controls)),
                  quota: word(Offset.quota))
        reason = word(Offset.reason)
        value = word(Offset.value)
        self.word = word(Offset.word)
        entryState = word(Offset.entryState) & 1
    }

    /// Sets what a refused entry writes: reason 0, value 0, word 0 (the rest stays as it was).
    public mutating func markRefused() {
        reason = ExitReason.refused.rawValue
        value = 0
        word = 0
    }

    /// The exit reason, if `reason` holds one.
    public var exitReason: ExitReason? { ExitReason(rawValue: reason) }

    /// True if bit 0 of the entry state is set.
    public var trapEntryPending: Bool { entryState & 1 != 0 }

    /// Writes what the hardware writes at an exit into the block at physical
    /// `address`: everything but k, w and the exit controls, or, for a
    /// refused entry, only the reason, value and word.
    public func storeExit(into storage: Storage, at address: Int) {
        if reason != ExitReason.refused.rawValue {
            storage.store32(address + Offset.mode, psw.mode.rawValue)
            storage.store32(address + Offset.pc, psw.pc)
            storage.store32(address + Offset.l, psw.l)
            storage.store32(address + Offset.b, psw.b)
            storage.store32(address + Offset.quota, quota)
            storage.store32(address + Offset.entryState, entryState & 1)
        }
        storage.store32(address + Offset.reason, reason)
        storage.store32(address + Offset.value, value)
        storage.store32(address + Offset.word, word)
    }

    /// The twelve words in storage order.
    public var words: [UInt32] {
        [psw.mode.rawValue, psw.pc, psw.l, psw.b, k, w, controls.rawValue, quota, reason, value, word, entryState & 1]
    }

    /// Writes every field (as a host fills a block before VMRUN).
    public func store(into storage: Storage, at address: Int) {
        for (i, word) in words.enumerated() { storage.store32(address + 4 * i, word) }
    }

    /// Why an entry with this k and w would be refused on storage of
    /// `storageSize` bytes, or nil if it is accepted: w a multiple of 4096,
    /// w >= 4096 and k + w <= q, without 32-bit overflow.
    public func refusal(storageSize: Int) -> String? {
        if w % 4096 != 0 { return "w = \(hex(w)) is not a multiple of 4096" }
        if w < 4096 { return "w = \(hex(w)) is less than 4096" }
        if Int(k) + Int(w) > storageSize { return "k + w = \(hex(UInt64(k) + UInt64(w))) exceeds the storage size \(hex(UInt64(storageSize)))" }
        return nil
    }
}

/// A real processor: what runs PG32 machines as the hardware does (SPEC
/// sections 1 to 8 and 11). The reference interpreter is one (`Interpreter`),
/// the JIT standing in for it the other; every strategy that runs guest code
/// directly runs it on the processor it is given, so `native` is the fastest
/// bare machine there is.
public protocol Processor: AnyObject {
    /// `interp` or `jit`, as `--hardware` names it and the JSON reports it.
    var name: String { get }

    /// Runs `machine` as `Machine.run(budget:)` does, under its trap policy,
    /// guest mode included.
    func run(_ machine: Machine, budget: UInt64) -> RunExit

    /// Runs innocuous instructions of `machine`, whose trap policy is
    /// `.report` and whose trap entry (if any) the caller has dealt with,
    /// until a trap, a system instruction or `budget` fetches. Keeps the
    /// machine's P and instruction count current.
    func runReporting(_ machine: Machine, budget: UInt64) -> RunExit

    /// Something other than this processor's own code wrote `machine`'s
    /// storage (`range`, or anything if nil): a processor that caches
    /// translations must not run stale ones.
    func storageWritten(_ machine: Machine, range: Range<Int>?)
}

/// The reference interpreter as a processor: `Machine.run(budget:)` itself.
public final class Interpreter: Processor, Sendable {
    /// The one instance (it keeps no state).
    public static let shared = Interpreter()

    /// `interp`.
    public let name = "interp"

    private init() {}

    /// See `Processor`.
    public func run(_ machine: Machine, budget: UInt64) -> RunExit { machine.run(budget: budget) }

    /// See `Processor`.
    public func runReporting(_ machine: Machine, budget: UInt64) -> RunExit { machine.run(budget: budget) }

    /// The interpreter caches nothing.
    public func storageWritten(_ machine: Machine, range: Range<Int>?) {}
}
