import Machine
import TrapVMM

/// The hardware-assisted monitor (strategy `hw`, SPEC section 11): the
/// shared control program on VX, Adams and Agesen's "hardware VMM".
///
/// Each VM runs in guest mode over its region of the standard VM map, in
/// both virtual modes: the hardware applies the VM map, runs the guest's
/// system instructions on the guest's own PSW and delivers its traps into
/// its own low core. The monitor sees only exits, which `HardwareAssist`
/// turns into the control program's usual events (a trap to reflect, a
/// system instruction for an interpreter routine, a VMRUN for the nested-VX
/// routine), so dispatcher, reflection and interpreter routines are the
/// ones every other monitor uses. Because guest mode virtualizes every
/// sensitive instruction, `hw` is equivalent to `native` on every profile,
/// pg32x included, whatever the exit controls.
public enum HardwareVMM {
    /// A control program running `images` under VX with `exits` as the exit
    /// controls of every VM (and of their own guests', should they run any).
    public static func controlProgram(images: [ELFImage], profile: Profile, memorySize: Int, budget: UInt64,
                                      processor: any Processor = Interpreter.shared,
                                      exits: ExitControls = .none) throws -> ControlProgram {
        let engine = HardwareAssist(exits: exits)
        let cp = try ControlProgram(images: images, profile: profile, memorySize: memorySize, budget: budget,
                                    processor: processor, supervisorEngine: engine, userEngine: engine)
        cp.nestedExitControls = exits
        return cp
    }
}

/// The execution engine of `hw`: one VMRUN per call, the quota as the
/// slice, and one exit handler that maps the exit to an engine event.
public final class HardwareAssist: ExecutionEngine {
    /// The exit controls every entry carries.
    public let exits: ExitControls

    /// An engine whose entries carry `exits`.
    public init(exits: ExitControls) { self.exits = exits }

    /// VX applies the checkstop rule itself: a reflected trap sets the entry-state bit.
    public var checksTrapEntry: Bool { true }

    /// See `ExecutionEngine`: enters the VM with a quota of `budget` and handles the exit.
    public func run(_ vm: VirtualMachine, budget: UInt64, in monitor: ControlProgram) -> EngineExit {
        let machine = monitor.machine
        var block = ControlBlock(psw: vm.psw, k: UInt32(vm.region.base), w: UInt32(vm.region.size), controls: exits,
                                 quota: UInt32(clamping: budget), trapEntryPending: vm.trapEntryPending)
        let entered = machine.enterGuest(&block)
        precondition(entered, "the allocator's regions are valid VX regions")
        // The quota is the limit; the real machine has no budget of its own.
        var unlimited = UInt64.max
        let trapsBefore = machine.guestTrapsDelivered
        defer { vm.counters.guestTraps += machine.guestTrapsDelivered - trapsBefore }
        guard let exit = machine.runGuest(budget: &unlimited, on: monitor.processor) else {
            preconditionFailure("an unlimited budget cannot run out")
        }
        let ran = UInt64.max - unlimited
        let reason = exit.exitReason!
        vm.psw = exit.psw
        // HALT and OUT exits store P + 4; their interpreter routines (shared
        // with every monitor) act at the instruction and advance P themselves.
        if reason == .halt || reason == .out { vm.psw.pc &-= 4 }
        vm.trapEntryPending = exit.trapEntryPending
        vm.counters.guestMode += ran
        vm.counters.exits[Int(reason.rawValue)] += 1
        return EngineExit(ran: ran, event: HardwareAssist.event(for: reason, exit: exit))
    }

    /// The exit handler: what the control program does with each exit.
    static func event(for reason: ExitReason, exit: ControlBlock) -> EngineEvent {
        switch reason {
        case .quota:
            return .budget // the slice is over: the scheduler decides
        case .svc, .breakpoint, .privileged, .memory, .illegal:
            return .trap(reason.trapCause!, value: exit.value) // the dispatcher reflects it
        case .halt, .out, .system, .vmrun:
            // Counted by the hardware, emulated by the interpreter routine.
            guard let op = Opcode.decode(exit.word), case .system(let instruction) = op.group else {
                preconditionFailure("exit \(reason) with a word that is no system instruction")
            }
            return .system(instruction, word: exit.word)
        case .checkstop:
            return .checkstop
        case .refused:
            preconditionFailure("the allocator's regions are valid VX regions")
        }
    }
}
