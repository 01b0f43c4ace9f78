import Machine

/// Why an execution engine handed a VM back to the control program.
public enum EngineEvent: Sendable, Equatable {
    /// It ran the instructions it was allowed.
    case budget
    /// The guest trapped; the VM's virtual PSW has P at the trapping instruction
    /// (or the unfetchable address). The dispatcher decides what happens.
    case trap(TrapCause, value: UInt32)
    /// A system instruction at P, counted, not executed: an interpreter routine's job.
    case system(SystemInstruction, word: UInt32)
    /// HALT executed without a trap (a profile let user mode halt).
    case halted(UInt32)
    /// The first fetch after a trap entry failed, seen by the hardware
    /// itself (VX's exit 10); the virtual PSW is the unusable new PSW.
    case checkstop
}

/// How many guest instructions an engine ran, and why it stopped.
public struct EngineExit: Sendable, Equatable {
    /// Guest instructions counted (SPEC section 8).
    public var ran: UInt64
    /// Why it stopped.
    public var event: EngineEvent

    /// Makes an exit record.
    public init(ran: UInt64, event: EngineEvent) {
        self.ran = ran
        self.event = event
    }
}

/// A way of running a VM's instructions in one virtual mode. The control
/// program chooses an engine per virtual mode: trap-and-emulate runs both
/// modes directly; the hybrid monitor interprets virtual supervisor mode;
/// binary translation translates.
public protocol ExecutionEngine: AnyObject {
    /// Runs the switched-in `vm` in its current virtual mode for at most
    /// `budget` (> 0) guest instructions. Keeps `vm.psw` current and bumps the
    /// VM's counters at its exits.
    func run(_ vm: VirtualMachine, budget: UInt64, in monitor: ControlProgram) -> EngineExit

    /// Something other than this engine wrote the VM's storage: guest
    /// addresses `range` (relative to the VM's base), or anything if nil. An
    /// engine that caches translations of guest code must not use stale ones.
    func storageWritten(_ vm: VirtualMachine, range: Range<Int>?)

    /// True if the engine applies the checkstop rule to the first fetch after
    /// a reflected trap itself (VX does, through the entry-state bit); else
    /// the control program checks before running it.
    var checksTrapEntry: Bool { get }
}

extension ExecutionEngine {
    /// Engines that cache nothing ignore writes.
    public func storageWritten(_ vm: VirtualMachine, range: Range<Int>?) {}

    /// Software engines leave the checkstop rule to the control program.
    public var checksTrapEntry: Bool { false }
}

/// Direct execution: the guest's instructions run on the real machine (on
/// the control program's processor) in real user mode under the standard VM
/// map, with no monitor in the loop until a real trap. Trap-and-emulate uses
/// it for both virtual modes.
public final class DirectExecution: ExecutionEngine {
    /// Makes the engine (it holds no state of its own).
    public init() {}

    /// See `ExecutionEngine`.
    public func run(_ vm: VirtualMachine, budget: UInt64, in monitor: ControlProgram) -> EngineExit {
        let machine = monitor.machine
        machine.psw = vm.realPSW
        machine.trapEntryPending = false
        let before = machine.instructionCount
        let exit = monitor.processor.run(machine, budget: budget)
        let ran = machine.instructionCount - before
        switch exit {
        case .budget:
            vm.psw.pc = machine.psw.pc
            vm.counters.direct += ran
            return EngineExit(ran: ran, event: .budget)
        case .trap(let cause, let value):
            // The dispatcher's first act: read the real old PSW. Its P is the virtual P.
            let p = machine.storage.load32(LowCore.oldPSW + 4)
            vm.psw.pc = p
            // A fetch that traps was not counted; any other trapping instruction was, and did not complete.
            let fetchFault = cause == .memory && value == p && !vm.canFetch(at: p)
            vm.counters.direct += ran - (fetchFault ? 0 : 1)
            vm.counters.realTraps += 1
            return EngineExit(ran: ran, event: .trap(cause, value: value))
        case .halted(let code):
            vm.psw.pc = machine.psw.pc
            vm.counters.direct += ran
            machine.status = .running
            return EngineExit(ran: ran, event: .halted(code))
        case .checkstop, .system:
            // The real machine takes traps into the dispatcher (always fetchable)
            // and executes system instructions itself: neither can happen.
            preconditionFailure("the real machine stopped with \(exit) under policy \(machine.trapPolicy)")
        }
    }
}
