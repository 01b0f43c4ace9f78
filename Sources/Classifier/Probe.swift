import Machine

/// One generated state for one instruction: everything the instruction can
/// see. The visible storage is a window of `Probe.window` bytes placed at l.
struct ProbeState {
    var word: UInt32
    var mode: Mode
    var pc: UInt32
    var l: UInt32
    var b: UInt32
    var registers: [UInt32]
    /// Storage as seen through the relocation: [l, l + window), the instruction at pc.
    var window: [UInt8]

    /// The same state relocated to `l` (its window moves along).
    func relocated(to l: UInt32) -> ProbeState {
        var s = self
        s.l = l
        return s
    }

    /// The same state in the other mode.
    func inMode(_ m: Mode) -> ProbeState {
        var s = self
        s.mode = m
        return s
    }
}

/// What one instruction did from a `ProbeState`.
struct ProbeOutcome {
    /// The trap it raised, or nil.
    var trap: TrapCause?
    /// HALT's code, if it halted.
    var halted: UInt32?
    var registers: [UInt32]
    var psw: PSW
    /// The window after execution (relative to the state's l).
    var window: [UInt8]
    var console: [UInt8]

    var trapped: Bool { trap != nil }
}

/// Executes single instructions on a small PG32 machine of the profile under
/// study: the "hardware" the classifier experiments on.
final class Probe {
    /// Storage: four windows' worth, so that r and r shifted by x both fit, up to the edge.
    static let memory = 4 * window
    /// Bytes visible through R in every probe (b <= window).
    static let window = 4096

    private let machine: Machine

    /// Storage outside the window starts random, so an access that escaped R
    /// would show; it is not rewritten per probe (b <= window keeps every
    /// access inside the window, which is rewritten).
    init(profile: Profile, rng: inout SplitMix64) {
        machine = Machine(memorySize: Probe.memory, profile: profile)
        machine.trapPolicy = .takeAndExit
        machine.storage.write(Probe.randomBytes(Probe.memory, rng: &rng), at: 0)
    }

    /// `count` random bytes, eight per draw.
    static func randomBytes(_ count: Int, rng: inout SplitMix64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            for i in stride(from: 0, to: count - 7, by: 8) { raw.storeBytes(of: rng.next(), toByteOffset: i, as: UInt64.self) }
        }
        return bytes
    }

    /// Runs the state's one instruction.
    func run(_ s: ProbeState) -> ProbeOutcome {
        let storage = machine.storage
        storage.write(s.window, at: Int(s.l))
        storage.store32(Int(s.l) + Int(s.pc), s.word)
        machine.registers = s.registers
        machine.psw = PSW(mode: s.mode, pc: s.pc, l: s.l, b: s.b)
        machine.status = .running
        machine.console = []
        machine.trapEntryPending = false
        var trap: TrapCause?, halted: UInt32?
        switch machine.run(budget: 1) {
        case .trap(let cause, _): trap = cause
        case .halted(let code): halted = code
        case .budget, .checkstop, .system: break
        }
        // After a VMRUN entry the processor runs under G's PSW (SPEC section 11): that is the
        // M and R the instruction put in force. Then back to the host, for the next probe.
        let psw = machine.guestPSW ?? machine.psw
        machine.leaveGuestMode()
        return ProbeOutcome(trap: trap, halted: halted, registers: machine.registers, psw: psw,
                            window: storage.bytes(Int(s.l)..<Int(s.l) + Probe.window), console: machine.console)
    }
}
