import Machine
import TrapVMM

/// Theorem 3's hybrid virtual machine monitor (Popek and Goldberg, 1974).
///
/// Virtual user mode runs directly on the real machine, as under
/// trap-and-emulate. Every instruction the guest executes in virtual
/// supervisor mode is interpreted, on a software machine whose system
/// instructions all come back to the monitor (`SoftwareInterpreter`), so an
/// instruction that is sensitive only in supervisor mode, like pg32h's JRSTU,
/// never runs on the real machine. Traps, privileged instructions and
/// reflection go through the same control program as TrapVMM: its
/// dispatcher, allocator and interpreter routines.
///
/// A hybrid monitor exists when every user-sensitive instruction is
/// privileged (Theorem 3): pg32v and pg32h, not pg32x, where GETL reveals the
/// real relocation in user mode.
public enum HybridVMM {
    /// A control program that runs `images` as hybrid-monitored VMs.
    public static func controlProgram(images: [ELFImage], profile: Profile, memorySize: Int,
                                      budget: UInt64, processor: any Processor = Interpreter.shared) throws -> ControlProgram {
        try ControlProgram(images: images, profile: profile, memorySize: memorySize, budget: budget, processor: processor,
                           supervisorEngine: SoftwareInterpreter(), userEngine: DirectExecution())
    }
}

/// The hybrid monitor's interpreter for virtual supervisor mode.
///
/// A software machine per VM, built from Machine's own interpreter: its
/// storage is a view of the VM's region (so the virtual R applies as on the
/// guest's bare machine of size w), its PSW is the virtual PSW, and its
/// register file is the real machine's (so moving between interpretation and
/// direct execution copies nothing). Its trap policy is `.report`: it
/// performs no trap sequence and executes no system instruction, but hands
/// each back to the control program, whose dispatcher reflects traps and
/// whose interpreter routines emulate system instructions against the
/// virtual PSW. So no instruction of virtual supervisor mode ever runs with
/// the real machine's mode or relocation, which is all Theorem 3 asks.
///
/// The software machine's innocuous instructions run on the control
/// program's real processor (`Processor.runReporting`): the reference
/// interpreter's loop on `--hardware interp`, JIT-compiled code on `jit`,
/// exactly as VX's guest machines do. That makes the interpreter's speed
/// the processor's: on the JIT, compute guests (which never leave
/// supervisor mode) run within a few percent of the bare machine. The
/// classic cost of interpretation is the interpreter against the JIT:
/// `bench suite --hardware interp,jit` shows both.
public final class SoftwareInterpreter: ExecutionEngine {
    /// One software machine per VM, made on first use.
    /// Per VM: its software machine, and the control program's real
    /// processor that runs the machine's innocuous code.
    private var machines = PerVM<(cpu: Machine, processor: any Processor)>()

    /// Makes the engine.
    public init() {}

    /// See `ExecutionEngine`.
    public func run(_ vm: VirtualMachine, budget: UInt64, in monitor: ControlProgram) -> EngineExit {
        let (cpu, processor) = machines.state(of: vm) {
            (Machine.reportingInterpreter(over: vm.region.range, of: monitor.machine), monitor.processor)
        }
        cpu.psw = vm.psw
        let before = cpu.instructionCount
        let exit = processor.runReporting(cpu, budget: budget)
        let ran = cpu.instructionCount - before
        vm.psw = cpu.psw
        vm.counters.interpreted += ran
        switch exit {
        case .budget: return EngineExit(ran: ran, event: .budget)
        case .trap(let cause, let value): return EngineExit(ran: ran, event: .trap(cause, value: value))
        case .system(let instruction, let word): return EngineExit(ran: ran, event: .system(instruction, word: word))
        case .halted, .checkstop:
            // Under .report, HALT comes back as a system instruction and no trap entry is made.
            preconditionFailure("the software interpreter stopped with \(exit)")
        }
    }

    /// The monitor wrote the VM's storage, or its user mode ran: the
    /// processor that runs this VM's software machine must not use code it
    /// translated from what was there before.
    public func storageWritten(_ vm: VirtualMachine, range: Range<Int>?) {
        guard let (cpu, processor) = machines[vm: vm] else { return }
        processor.storageWritten(cpu, range: range) // VM-relative, as the software machine's storage is
    }
}
