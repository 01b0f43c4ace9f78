import Machine
import TrapVMM

/// The JIT as the real processor (`--hardware jit`): a PG32 machine's
/// innocuous instructions run as native x86-64 code, and each event the
/// code leaves for (a system instruction, a trap, a trap entry's first
/// fetch) is carried out by the reference machine itself, one instruction,
/// with the hardware's semantics. VX's guest mode runs G's code natively too,
/// under the exit rules `Machine.runGuest` defines for both processors.
///
/// Each machine it runs keeps its translations in `processorState`, so
/// direct execution under a monitor, a bare run and a G all keep theirs.
public final class JITProcessor: Processor {
    /// `jit`.
    public let name = "jit"
    /// Ops each machine's translation cache holds before it (and its code) is flushed.
    public let cacheOps: Int
    /// See `JITTranslator.guardedViews`.
    public let guardedViews: Bool

    /// What the processor keeps for one machine.
    final class State {
        let code: NativeCode
        /// A reference interpreter (trap policy `.report`) over the same storage and registers;
        /// it does not retain the machine, which owns this state (no cycle).
        let stepper: Machine
        /// The machine's guest-mode entries when its code was last told of them.
        var entriesSeen: UInt64

        init(code: NativeCode, stepper: Machine, entriesSeen: UInt64) {
            self.code = code
            self.stepper = stepper
            self.entriesSeen = entriesSeen
        }

        convenience init(for machine: Machine, cacheOps: Int, guardedViews: Bool) throws {
            self.init(code: try NativeCode(storageSize: machine.storage.size, cacheOps: cacheOps,
                                           guarded: guardedViews && machine.storage.file != nil),
                      stepper: Machine.reportingInterpreter(over: 0..<machine.storage.size, of: machine, retaining: false),
                      entriesSeen: machine.entries)
        }
    }

    /// Makes the processor, or says why the JIT cannot run here.
    public init(cacheOps: Int = BinaryTranslator.defaultCacheOps, guardedViews: Bool = JITTranslator.guardedViewsByDefault) throws {
        if let why = JITTranslator.unavailableReason { throw JITTranslator.Unavailable(description: why) }
        // Probe once for executable memory, so that a host that refuses it is told here, not mid-run.
        do { _ = try CodeMemory(capacity: 4096) } catch { throw JITTranslator.Unavailable(description: "\(error)") }
        self.cacheOps = cacheOps
        self.guardedViews = guardedViews
    }

    func state(for machine: Machine) -> State {
        if let s = machine.processorState { return unsafeDowncast(s, to: State.self) }
        do {
            let s = try State(for: machine, cacheOps: cacheOps, guardedViews: guardedViews)
            machine.processorState = s
            return s
        } catch {
            // The probe at init mapped code memory; failing now is a host resource failure, not bad input.
            fatalError("the JIT could not map code memory: \(error)")
        }
    }

    /// The translation counters of `machine` (zero if it never ran here).
    public func counters(for machine: Machine) -> TranslationCounters {
        (machine.processorState as? State)?.code.cache.counters ?? TranslationCounters()
    }

    /// See `Processor`: invalidates translations of written words.
    public func storageWritten(_ machine: Machine, range: Range<Int>?) {
        (machine.processorState as? State)?.code.storageWritten(range: range)
    }

    /// See `Processor`: runs `machine` as `Machine.run(budget:)` does (trap
    /// policy `.take` or `.takeAndExit`), guest mode included.
    public func run(_ machine: Machine, budget: UInt64) -> RunExit {
        let m = machine
        let s = state(for: m)
        var left = budget
        while left > 0 {
            switch m.status {
            case .halted(let code): return .halted(code)
            case .checkstop: return .checkstop
            case .running: break
            }
            if m.guestMode != nil {
                guard m.continueGuestMode(budget: &left, on: self) else { return .budget }
                continue
            }
            if m.trapEntryPending {
                // The first fetch after a trap (which may checkstop) is the hardware's to make.
                if let exit = step(m, s, &left) { return exit }
                continue
            }
            let psw = m.psw
            let r = s.code.run(registers: m.unsafeRegisterFile, memory: m.storage.base, file: m.storage.file,
                               storageSize: m.storage.size, psw: psw, budget: left, stepper: s.stepper)
            m.instructionCount += UInt64(r.ran)
            left -= UInt64(r.ran)
            m.psw.pc = r.pc
            switch r.event {
            case .budget, .halted, .checkstop:
                continue
            case .trap(let cause, let value):
                // The trapping instruction was counted, unless its fetch was what failed.
                let limit = m.psw.accessLimit(storageSize: m.storage.size)
                let fetchFault = cause == .memory && value == r.pc && (r.pc & 3 != 0 || Int(r.pc) + 4 > limit)
                if !fetchFault { uncount(m, &left) }
            case .system:
                uncount(m, &left)
            }
            if let exit = step(m, s, &left) { return exit }
        }
        // The budget is spent; an entry the last step made is left for the next call, as the interpreter leaves it.
        return .budget
    }

    /// See `Processor`: G's (or any reporting machine's) innocuous code, natively.
    public func runReporting(_ machine: Machine, budget: UInt64) -> RunExit {
        let s = state(for: machine)
        if s.entriesSeen != machine.entries {
            // A new entry into this G: its host may have written anything since the last one (a
            // hypervisor guest's stores, or a monitor's reflection into the VM that G is under hw,
            // which is shown to the real machine's state only): every block is verified on next use.
            s.code.storageWritten(range: nil)
            s.entriesSeen = machine.entries
        }
        let r = s.code.run(registers: machine.unsafeRegisterFile, memory: machine.storage.base, file: machine.storage.file,
                           storageSize: machine.storage.size, psw: machine.psw, budget: budget, stepper: s.stepper)
        machine.instructionCount += UInt64(r.ran)
        machine.psw.pc = r.pc
        switch r.event {
        case .budget: return .budget
        case .trap(let cause, let value): return .trap(cause, value: value)
        case .system(let instruction, let word): return .system(instruction, word: word)
        case .halted, .checkstop: preconditionFailure("native code reports \(r.event) only under a monitor")
        }
    }

    /// Takes back the count of the instruction the hardware is about to execute again.
    private func uncount(_ m: Machine, _ left: inout UInt64) {
        m.instructionCount -= 1
        left += 1
    }

    /// The reference machine executes one instruction (taking a trap, or a
    /// system instruction); the trap sequence's writes to low core are shown
    /// to the translations. Returns the machine's exit if it stopped, or (trap
    /// policy `.takeAndExit`) took a trap.
    private func step(_ m: Machine, _ s: State, _ left: inout UInt64) -> RunExit? {
        let before = m.instructionCount
        let exit = m.run(budget: 1)
        left -= min(left, m.instructionCount - before)
        s.code.storageWritten(range: 0..<LowCore.end)
        if let block = m.controlBlockWritten {
            // A refused VMRUN wrote its block's exit fields, which may lie over translated code.
            s.code.storageWritten(range: block)
            m.controlBlockWritten = nil
        }
        switch exit {
        case .halted, .checkstop, .trap: return exit
        case .budget, .system: return nil
        }
    }
}

/// A machine bound to a JIT processor: the bare run of `native --hardware
/// jit` (strategy `native-jit`), and warm starts for `bench peer`.
public final class BareJIT {
    /// The machine it runs.
    public let machine: Machine
    /// The processor.
    public let processor: JITProcessor

    /// Prepares to run `machine` (booted); `cacheOps` bounds the translation cache.
    public init(machine: Machine, cacheOps: Int = BinaryTranslator.defaultCacheOps,
                guardedViews: Bool = JITTranslator.guardedViewsByDefault) throws {
        self.machine = machine
        processor = try JITProcessor(cacheOps: cacheOps, guardedViews: guardedViews)
    }

    /// Prepares to run `machine` with the translations `previous` made (a
    /// warm start: the same guest booted again, its blocks verified against
    /// storage on first use instead of translated). Storage sizes must match.
    public init(machine: Machine, reusingTranslationsOf previous: BareJIT) throws {
        guard machine.storage.size == previous.machine.storage.size else {
            throw JITTranslator.Unavailable(description: "a warm start needs the same storage size as the run it follows")
        }
        let old = previous.processor.state(for: previous.machine)
        guard !old.code.guarded || machine.storage.file != nil else {
            throw JITTranslator.Unavailable(description: "a warm start of code made for guarded views needs storage that is a memory file")
        }
        self.machine = machine
        processor = previous.processor
        let s = try JITProcessor.State(for: machine, reusing: old)
        machine.processorState = s
        s.code.storageWritten(range: nil) // everything was rewritten: verify each block, relink
    }

    /// The translation counters.
    public var counters: TranslationCounters { processor.counters(for: machine) }

    /// Runs at most `budget` instructions, as `Machine.run(budget:)` does.
    public func run(budget: UInt64) -> RunExit { processor.run(machine, budget: budget) }
}

extension JITProcessor.State {
    /// The state of a new machine that takes over `previous`'s translations.
    convenience init(for machine: Machine, reusing previous: JITProcessor.State) throws {
        self.init(code: previous.code,
                  stepper: Machine.reportingInterpreter(over: 0..<machine.storage.size, of: machine, retaining: false),
                  entriesSeen: machine.entries)
    }
}
