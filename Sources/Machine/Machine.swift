/// A PG32 machine: state S = <E, M, P, R>, the general registers, the console
/// and the status (SPEC section 1), with the profile that decides what system
/// instructions do in user mode.
///
/// `run(budget:)` is the reference interpreter, the "hardware" every other
/// strategy is measured against. Guest traps are architectural events (old and
/// new PSW in low core), never Swift errors.
///
/// A machine belongs to one thread. Its mutable state is marked
/// `@exclusivity(unchecked)`: the dynamic exclusivity checks Swift would
/// otherwise make on every access dominated a monitor's trap path.
public final class Machine {
    /// What each system instruction does in user mode.
    public let profile: Profile
    /// Physical storage E.
    public let storage: Storage
    /// The current PSW <M, P, R>.
    @exclusivity(unchecked) public var psw: PSW
    /// The console: every byte OUT wrote, in order.
    @exclusivity(unchecked) public var console: [UInt8] = []
    /// Running, halted or checkstop.
    @exclusivity(unchecked) public var status: Status = .running
    /// Instructions fetched successfully so far (SPEC section 8's count).
    @exclusivity(unchecked) public var instructionCount: UInt64 = 0
    /// Set by the trap sequence: the next fetch is the first of a trap entry,
    /// and if it fails the machine checkstops (SPEC section 3).
    @exclusivity(unchecked) public var trapEntryPending = false
    /// What the machine does on a trap: take it (bare hardware), take it and
    /// return to a monitor, or only report it to a monitor's interpreter.
    @exclusivity(unchecked) public var trapPolicy: TrapPolicy = .take
    /// VX guest mode, while the machine is in it (SPEC section 11); the PSW
    /// is then the host's, with P at its VMRUN.
    @exclusivity(unchecked) public internal(set) var guestMode: GuestMode?
    /// The last G this machine ran. It uses this machine's registers and
    /// storage without keeping it alive: valid while this machine lives.
    public var guestMachine: Machine? { recentGuests.last }
    /// The few Gs this machine ran most recently, newest last (kept so that a
    /// processor's translations of each survive between entries): a hypervisor
    /// (or a monitor of one) alternates between several, and each keeps the
    /// translations its processor made of it.
    @exclusivity(unchecked) var recentGuests: [Machine] = []
    /// How many Gs `recentGuests` keeps.
    static let recentGuestLimit = 8
    /// Entries into guest mode on this machine, as G: bumped at each entry,
    /// so that a processor caching G's code knows the host may have written it.
    @exclusivity(unchecked) public internal(set) var entries: UInt64 = 0
    /// Trap sequences this machine performed (SPEC section 3), not counting G's.
    @exclusivity(unchecked) public internal(set) var trapsTaken: UInt64 = 0
    /// Traps the hardware delivered inside G (no exit) while this machine was host.
    @exclusivity(unchecked) public internal(set) var guestTrapsDelivered: UInt64 = 0
    /// Successful VX entries this machine made, as host (refused ones not counted).
    @exclusivity(unchecked) public internal(set) var guestEntries: UInt64 = 0
    /// Physical storage the last VMRUN's write-back (an exit, or a refusal)
    /// stored into: a processor that caches code reads and clears it after
    /// stepping a VMRUN, since the block may lie over code.
    @exclusivity(unchecked) public var controlBlockWritten: Range<Int>?
    /// What a processor keeps for this machine (the JIT's translations); nil for the interpreter.
    @exclusivity(unchecked) public var processorState: AnyObject?

    /// x0..x31. x0 is kept 0 by the interpreter.
    let registerFile: UnsafeMutablePointer<UInt32>
    /// The machine whose register file this one uses, kept alive; nil if it owns its own.
    private let registerOwner: Machine?
    /// True if this machine allocated its register file (and frees it).
    private let ownsRegisters: Bool

    /// A machine with `memorySize` bytes of zeroed storage, in supervisor mode at
    /// P = 0 with R = (0, memorySize). `memorySize` must pass `Storage.validate`.
    public convenience init(memorySize: Int, profile: Profile) {
        self.init(storage: Storage(size: memorySize), profile: profile)
    }

    /// A machine over `storage` (which may be a view of another machine's), in
    /// supervisor mode at P = 0 with R = (0, storage.size). With
    /// `sharingRegistersOf`, both machines use one register file, so a monitor
    /// can move a guest between them without copying registers; the new
    /// machine keeps `other` alive unless `retaining` is false, which is for
    /// machines `other` itself owns (its G, a processor's stepper): they must
    /// not outlive it, and retaining it would make a cycle.
    public init(storage: Storage, profile: Profile, sharingRegistersOf other: Machine? = nil, retaining: Bool = true) {
        self.profile = profile
        self.storage = storage
        psw = PSW(mode: .supervisor, pc: 0, l: 0, b: UInt32(storage.size))
        registerOwner = retaining ? other : nil
        ownsRegisters = other == nil
        if let other {
            registerFile = other.registerFile
        } else {
            // SAFETY: 33 words owned by this machine, zeroed here, freed in deinit:
            // x0..x31, then a write sink translated code uses for writes to x0.
            registerFile = .allocate(capacity: 33)
            registerFile.initialize(repeating: 0, count: 33)
        }
    }

    /// A reporting interpreter over `range` of `machine`'s storage: same
    /// profile, same register file, trap policy `.report` (every trap and
    /// system instruction comes back to the caller). What a monitor's engines
    /// step a VM's region with, and the bare JIT steps its machine with.
    /// With `retaining` false it is owned by `machine` and must not outlive it.
    public static func reportingInterpreter(over range: Range<Int>, of machine: Machine, retaining: Bool = true) -> Machine {
        let m = Machine(storage: Storage(viewing: machine.storage, range: range), profile: machine.profile,
                        sharingRegistersOf: machine, retaining: retaining)
        m.trapPolicy = .report
        return m
    }

    deinit {
        if ownsRegisters { registerFile.deallocate() }
    }

    /// Reads or writes general register `r` (writes to x0 are dropped).
    public subscript(register r: Int) -> UInt32 {
        get {
            precondition((0..<32).contains(r), "register x\(r) does not exist")
            return registerFile[r]
        }
        set {
            precondition((0..<32).contains(r), "register x\(r) does not exist")
            if r != 0 { registerFile[r] = newValue }
        }
    }

    /// The register file itself, for translated code: x0..x31, then at index
    /// 32 a write sink (writes to x0 are aimed there, so x0 stays 0).
    /// SAFETY: valid for 33 words while this machine (or the one it shares
    /// registers with) lives; only one thread runs a machine.
    public var unsafeRegisterFile: UnsafeMutablePointer<UInt32> { registerFile }

    /// All 32 registers, x0 first.
    public var registers: [UInt32] {
        get { Array(UnsafeBufferPointer(start: registerFile, count: 32)) }
        set {
            precondition(newValue.count == 32, "a register file has 32 registers")
            for r in 1..<32 { registerFile[r] = newValue[r] }
        }
    }
}

// MARK: - Relocation (SPEC section 2)

extension Machine {
    /// The physical address of an n-byte access at virtual `address` under
    /// `psw`'s relocation on this machine's storage, or nil if the access
    /// raises a memory trap (`PSW.relocate`).
    @inlinable
    public func relocate(_ address: UInt32, size n: Int, under psw: PSW) -> Int? {
        psw.relocate(address, size: n, storageSize: storage.size)
    }
}

// MARK: - The trap sequence (SPEC section 3)

extension LowCore {
    /// SPEC section 3's trap sequence, the one place it is written, on the
    /// low core at physical `base` of `storage`: 0 on a bare machine (and on
    /// VX's guest machine G, whose storage starts at k), a VM's k when a
    /// monitor reflects a trap into its guest. Stores `old` (P at the
    /// trapping instruction), `cause` and `value`, and returns the new PSW
    /// loaded from there (bit 0 of the mode word is the mode). Nothing else
    /// is touched.
    public static func trapSequence(_ cause: TrapCause, value: UInt32, from old: PSW, in storage: Storage,
                                    at base: Int = 0) -> PSW {
        storage.store32(base + oldPSW + 0, old.mode.rawValue)
        storage.store32(base + oldPSW + 4, old.pc)
        storage.store32(base + oldPSW + 8, old.l)
        storage.store32(base + oldPSW + 12, old.b)
        storage.store32(base + self.cause, cause.rawValue)
        storage.store32(base + self.value, value)
        return PSW(mode: Mode(word: storage.load32(base + newPSW + 0)), pc: storage.load32(base + newPSW + 4),
                   l: storage.load32(base + newPSW + 8), b: storage.load32(base + newPSW + 12))
    }
}

extension Machine {
    /// Performs the trap sequence, and nothing else: stores the current PSW
    /// (with P at the trapping instruction) and cause/value in low core, then
    /// loads the new PSW. Registers and other storage are unchanged.
    public func trap(_ cause: TrapCause, value: UInt32) {
        trapsTaken &+= 1
        psw = LowCore.trapSequence(cause, value: value, from: psw, in: storage)
        trapEntryPending = true
    }

    /// True if a 4-byte instruction fetch at `psw.pc` would succeed now.
    public var canFetch: Bool {
        psw.pc & 3 == 0 && relocate(psw.pc, size: 4, under: psw) != nil
    }
}

// MARK: - System instructions (SPEC sections 5 and 6)

extension Machine {
    /// Executes system instruction `word` (already decoded as `op`) at `psw.pc`,
    /// applying the profile in user mode. Returns the trap it raised, if any;
    /// the trap sequence has then been performed. VMRUN enters guest mode,
    /// which the caller's run loop then runs.
    @discardableResult
    func executeSystem(_ inst: SystemInstruction, word: UInt32) -> TrapCause? {
        guard case .execute(let keepMode) = profile.disposition(of: inst, in: psw.mode) else {
            trap(.privileged, value: word)
            return .privileged
        }
        switch inst.execute(word: word, on: self, keepMode: keepMode) {
        case .completed:
            return nil
        case .memoryTrap(let address):
            trap(.memory, value: address)
            return .memory
        case .vmrun(let address):
            return vmrunInstruction(blockAt: address)
        }
    }
}
