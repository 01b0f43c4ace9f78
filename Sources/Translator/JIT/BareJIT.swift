import Machine
import TrapVMM

/// The JIT as the "hardware" of a bare run (strategy `native-jit`): no
/// monitor, the real machine's innocuous instructions run as native code,
/// and each event the code leaves for (a system instruction, a trap) is
/// carried out by the reference machine itself, one instruction, with the
/// hardware's semantics (traps taken through low core, mode, HALT). Set
/// beside `native` and `jit`, it tells the cost of virtualization from the
/// speed of the engine.
public final class BareJIT {
    /// The machine it runs.
    public let machine: Machine
    private let code: NativeCode
    private let stepper: Machine

    /// Prepares to run `machine` (booted); `cacheOps` bounds the translation cache.
    public init(machine: Machine, cacheOps: Int = BinaryTranslator.defaultCacheOps) throws {
        if let why = JITTranslator.unavailableReason { throw JITTranslator.Unavailable(description: why) }
        self.machine = machine
        do {
            code = try NativeCode(storageSize: machine.storage.size, cacheOps: cacheOps)
        } catch {
            throw JITTranslator.Unavailable(description: "\(error)")
        }
        stepper = Machine.reportingInterpreter(over: 0..<machine.storage.size, of: machine)
    }

    /// Prepares to run `machine` with the translations `previous` made (a
    /// warm start: the same guest booted again, its blocks verified against
    /// storage on first use instead of translated). Storage sizes must match.
    public init(machine: Machine, reusingTranslationsOf previous: BareJIT) throws {
        guard machine.storage.size == previous.machine.storage.size else {
            throw JITTranslator.Unavailable(description: "a warm start needs the same storage size as the run it follows")
        }
        self.machine = machine
        code = previous.code
        code.storageWritten(range: nil) // everything was rewritten: verify each block, relink
        stepper = Machine.reportingInterpreter(over: 0..<machine.storage.size, of: machine)
    }

    /// The translation counters.
    public var counters: TranslationCounters { code.cache.counters }

    /// Runs at most `budget` instructions, as `Machine.run(budget:)` does.
    public func run(budget: UInt64) -> RunExit {
        var left = budget
        let m = machine
        while left > 0 {
            switch m.status {
            case .halted(let code): return .halted(code)
            case .checkstop: return .checkstop
            case .running: break
            }
            if m.trapEntryPending {
                // The first fetch after a trap (which may checkstop) is the hardware's to make.
                if let exit = step(&left) { return exit }
                continue
            }
            let psw = m.psw
            let r = code.run(registers: m.unsafeRegisterFile, memory: m.storage.base, storageSize: m.storage.size,
                             psw: psw, budget: left, stepper: stepper)
            m.instructionCount += UInt64(r.ran)
            left -= UInt64(r.ran)
            m.psw.pc = r.pc
            switch r.event {
            case .budget, .halted:
                continue
            case .trap(let cause, let value):
                // The trapping instruction was counted, unless its fetch was what failed.
                let limit = m.psw.accessLimit(storageSize: m.storage.size)
                let fetchFault = cause == .memory && value == r.pc && (r.pc & 3 != 0 || Int(r.pc) + 4 > limit)
                if !fetchFault { uncount(&left) }
            case .system:
                uncount(&left)
            }
            if let exit = step(&left) { return exit }
        }
        return .budget
    }

    /// Takes back the count of the instruction the hardware is about to execute again.
    private func uncount(_ left: inout UInt64) {
        machine.instructionCount -= 1
        left += 1
    }

    /// The reference machine executes one instruction (taking a trap, or a
    /// system instruction); the trap sequence's writes to low core are shown
    /// to the translator. Returns the machine's exit if it stopped.
    private func step(_ left: inout UInt64) -> RunExit? {
        let before = machine.instructionCount
        let exit = machine.run(budget: 1)
        left -= min(left, machine.instructionCount - before)
        code.storageWritten(range: 0..<LowCore.end)
        switch exit {
        case .halted, .checkstop: return exit
        case .budget, .trap, .system: return nil
        }
    }
}
