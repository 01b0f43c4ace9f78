import Machine
import TrapVMM

/// A profiling monitor: trap-and-emulate, but the control program takes the
/// processor back every `interval` guest instructions and notes where the
/// guest was, a hot-spot profile of an unmodified guest that cannot tell
/// it is being watched.
///
/// Everything else is ThirdGen's control program, unchanged: its
/// dispatcher sees every real trap, its interpreter routines emulate the
/// privileged instructions the guest executes in virtual supervisor mode,
/// its allocator places the VMs. A monitor of your own is an
/// `ExecutionEngine`: how the guest's instructions run in one virtual mode.
public final class SamplingEngine: ExecutionEngine {
    /// Guest instructions between two samples.
    public let interval: UInt64
    /// Per VM id: how often each virtual P was sampled.
    public private(set) var samples: [Int: [UInt32: Int]] = [:]
    /// Per VM id: guest instructions left until its next sample (traps and
    /// the monitor's work in between do not restart the count).
    private var untilSample: [Int: UInt64] = [:]
    /// The guest runs directly on the real processor, as under trap-and-emulate.
    private let direct = DirectExecution()

    /// An engine that samples every `interval` (> 0) guest instructions.
    public init(interval: UInt64) {
        precondition(interval > 0, "a sampling interval of 0 would never run the guest")
        self.interval = interval
    }

    /// Runs `vm` directly up to its next sample point, within `budget`.
    /// When the slice ends there without a trap, the virtual PSW's P is the
    /// next instruction: a sample. The control program calls again while
    /// the VM runs, so slicing changes nothing the guest can see; the
    /// equivalence check in `own-monitor` holds it to that.
    public func run(_ vm: VirtualMachine, budget: UInt64, in monitor: ControlProgram) -> EngineExit {
        let due = untilSample[vm.id] ?? interval
        let exit = direct.run(vm, budget: min(budget, due), in: monitor)
        if exit.ran >= due {
            // Only a slice that ran to the sample point ends here (a trap at its last instruction included).
            samples[vm.id, default: [:]][vm.psw.pc, default: 0] += 1
            untilSample[vm.id] = interval
        } else {
            untilSample[vm.id] = due - exit.ran
        }
        return exit
    }

    /// The `count` most sampled addresses of VM `id`, most sampled first.
    public func hottest(vm id: Int, count: Int) -> [(pc: UInt32, samples: Int)] {
        let ranked = (samples[id] ?? [:]).sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        return ranked.prefix(count).map { (pc: $0.key, samples: $0.value) }
    }
}

/// Makes sampling monitors.
public enum SamplingMonitor {
    /// A control program running one VM per image under a `SamplingEngine`
    /// in both virtual modes. Throws as `ControlProgram` does: for VMs that
    /// do not fit, and for a profile no trap-based monitor can confine.
    public static func controlProgram(images: [ELFImage], profile: Profile, memorySize: Int, budget: UInt64,
                                      processor: any Processor, interval: UInt64) throws -> (ControlProgram, SamplingEngine) {
        let engine = SamplingEngine(interval: interval)
        let monitor = try ControlProgram(images: images, profile: profile, memorySize: memorySize, budget: budget,
                                         processor: processor, supervisorEngine: engine)
        return (monitor, engine)
    }
}
