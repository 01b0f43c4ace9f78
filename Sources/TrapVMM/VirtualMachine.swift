import Machine

/// How a VM ended, or that it still runs.
public enum VMState: Sendable, Equatable {
    case running
    case halted(UInt32)
    case checkstop
    /// Its guest-instruction budget ran out.
    case outOfBudget
}

/// Counters of one VM under a monitor, bumped at the dispatcher's exits.
public struct MonitorCounters: Sendable {
    /// Guest instructions that completed on the real machine without a trap.
    public var direct: UInt64 = 0
    /// Real traps taken, by cause (index: `TrapCause.rawValue`).
    public var traps = [UInt64](repeating: 0, count: 6)
    /// Privileged instructions emulated by an interpreter routine, by `SystemInstruction.index`.
    public var emulated = [UInt64](repeating: 0, count: SystemInstruction.allCases.count)
    /// Traps reflected into the guest (its own handler took them).
    public var reflected: UInt64 = 0
    /// Guest instructions interpreted in software (the hybrid monitor; the translator's budget tails).
    public var interpreted: UInt64 = 0
    /// Guest instructions executed from binary translations.
    public var translated: UInt64 = 0
    /// Times the VM was switched in by the scheduler.
    public var switchesIn: UInt64 = 0
    /// Real traps of the hardware while the guest ran directly (each a trip into the monitor and back).
    public var realTraps: UInt64 = 0
    /// VX exits of the VM's guest mode under `hw`, or of its own guests', by
    /// reason (index: `ExitReason.rawValue`).
    public var exits = [UInt64](repeating: 0, count: ExitReason.allCases.count)
    /// Guest instructions run in VX guest mode: the VM's own under `hw`, its
    /// guests' (the VM executed VMRUN) under every monitor.
    public var guestMode: UInt64 = 0
    /// Traps the hardware delivered inside guest mode without an exit (VX; no monitor involved).
    public var guestTraps: UInt64 = 0
    /// Every entry into the control program for this VM: real traps, and the
    /// traps and system instructions an interpreter or translator handed over
    /// in software (callouts are `monitorEntries - realTraps`).
    public var monitorEntries: UInt64 = 0

    /// Makes zeroed counters.
    public init() {}
}

/// One virtual machine v_i: its region, the monitor's record of its virtual
/// PSW, its registers while it is switched out, its console and counters.
///
/// Like `Machine`, a VM belongs to one thread; its mutable state skips
/// Swift's dynamic exclusivity checks, which dominated the trap path.
///
/// While the VM is switched in, its registers live in the real machine's
/// register file; `subscript(register:)` reaches them there, which is what
/// the interpreter routines (always run for the current VM) need.
public final class VirtualMachine: SystemContext {
    /// Position in the control program's VM list.
    public let id: Int
    /// Where it lives in real storage.
    public let region: VMRegion
    /// The virtual PSW: the PSW a reflected trap would store (SPEC section 9).
    @exclusivity(unchecked) public var psw: PSW
    /// x0..x31, while switched out.
    @exclusivity(unchecked) public var savedRegisters = [UInt32](repeating: 0, count: 32)
    /// Bytes the guest wrote with OUT.
    @exclusivity(unchecked) public var console: [UInt8] = []
    /// Running, or how it ended.
    @exclusivity(unchecked) public var state: VMState = .running
    /// Guest instructions counted (SPEC section 8).
    @exclusivity(unchecked) public var instructions: UInt64 = 0
    /// Guest-instruction budget.
    public let budget: UInt64
    /// A trap was just reflected into the guest: if its first fetch fails, the VM checkstops.
    @exclusivity(unchecked) public var trapEntryPending = false
    /// Counters for `bench`.
    @exclusivity(unchecked) public var counters = MonitorCounters()
    /// The PSW of the VM's own guest, when the VM's budget ran out while it
    /// was in guest mode (the VM had executed VMRUN; `psw` is at that VMRUN).
    @exclusivity(unchecked) public var guestPSW: PSW?

    /// The real machine it runs on (strong: a VM may outlive its control program in a caller's hands;
    /// the machine holds no reference back, so there is no cycle).
    let hardware: Machine

    init(id: Int, region: VMRegion, entry: UInt32, budget: UInt64, hardware: Machine) {
        self.id = id
        self.region = region
        self.budget = budget
        self.hardware = hardware
        psw = PSW(mode: .supervisor, pc: entry, l: 0, b: UInt32(region.size))
    }

    /// Guest instructions left before the budget runs out.
    public var budgetLeft: UInt64 { budget &- instructions }

    /// The PSW the real machine runs this VM under: real user mode, the same
    /// P, and the standard VM map's R.
    public var realPSW: PSW {
        let r = region.realRelocation(l: psw.l, b: psw.b)
        return PSW(mode: .user, pc: psw.pc, l: r.l, b: r.b)
    }

    /// True if the guest's bare machine could fetch at the virtual P.
    public var canFetch: Bool { canFetch(at: psw.pc) }

    /// True if the guest's bare machine could fetch at `pc` under the virtual R.
    public func canFetch(at pc: UInt32) -> Bool {
        pc & 3 == 0 && region.physical(pc, size: 4, under: psw) != nil
    }

    // MARK: SystemContext: what the interpreter routines act on

    /// The guest's register, in the real register file (the VM is switched in).
    public subscript(register r: Int) -> UInt32 {
        get { hardware[register: r] }
        set { hardware[register: r] = newValue }
    }

    /// HALT's interpreter routine ends the VM.
    public func halt(code: UInt32) { state = .halted(code) }

    /// OUT's interpreter routine writes to the VM's own console.
    public func output(_ byte: UInt8) { console.append(byte) }

    /// LPSW's operand, read through the VM map under the virtual R.
    public func readPSWWords(at address: UInt32) -> (UInt32, UInt32, UInt32, UInt32)? {
        guard let p = region.physical(address, size: 16, under: psw) else { return nil }
        let s = hardware.storage
        return (s.load32(p), s.load32(p + 4), s.load32(p + 8), s.load32(p + 12))
    }

    /// SPEC section 8's comparable state: the virtual PSW, the VM's region as
    /// storage, its console and its registers (saved: call when switched out).
    public func snapshot() -> Snapshot {
        let outcome: Outcome
        switch state {
        case .halted(let code): outcome = .halted(code)
        case .checkstop: outcome = .checkstop
        case .running, .outOfBudget: outcome = .budget
        }
        return Snapshot(outcome: outcome, console: console, registers: savedRegisters, psw: psw,
                        storage: hardware.storage.image(region.range), instructions: instructions, guestPSW: guestPSW)
    }
}
