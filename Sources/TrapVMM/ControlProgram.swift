import Machine

/// Why a monitor refuses to run a profile. The description is the message.
public struct UnconfinableProfile: Error, CustomStringConvertible {
    /// The message.
    public let description: String
}

/// Popek and Goldberg's control program CP = <D, A, {v_i}>: the dispatcher
/// (`dispatch`), the allocator (`allocator`) and the interpreter routines
/// (`interpret`), running one or more VMs on a real PG32 machine.
///
/// Guests run in real user mode under the standard VM map (SPEC section 9);
/// the monitor gets control only through real traps. Innocuous instructions,
/// in both virtual modes, run directly on the machine's interpreter with no
/// monitor in the loop: the efficiency property.
public final class ControlProgram {
    /// The real machine: the "hardware" the monitor runs on.
    public let machine: Machine
    /// A: where each VM lives.
    public let allocator: Allocator
    /// The VMs v_i, in the order given.
    public private(set) var vms: [VirtualMachine] = []
    /// Where the real new PSW leads: the dispatcher's entry in the monitor's page.
    public static let dispatcherEntry: UInt32 = 0x100

    /// Places one VM per image (each of `memorySize` bytes) on a real machine of
    /// profile `profile`. Refuses a configuration that does not fit, and a
    /// profile under which user mode could rewrite R or M without a trap (no
    /// trap-based monitor can confine such a guest).
    public init(images: [ELFImage], profile: Profile, memorySize: Int, budget: UInt64) throws {
        try ControlProgram.checkConfinable(profile)
        allocator = try Allocator(vmCount: images.count, size: memorySize)
        machine = Machine(memorySize: allocator.realMemorySize, profile: profile)
        machine.exitOnTrap = true
        allocator.plantCanaries(in: machine.storage)
        let monitorPSW = PSW(mode: .supervisor, pc: ControlProgram.dispatcherEntry, l: 0, b: UInt32(allocator.realMemorySize))
        for (i, word) in monitorPSW.words.enumerated() { machine.storage.store32(LowCore.newPSW + 4 * i, word) }
        for (i, image) in images.enumerated() {
            let region = allocator.regions[i]
            image.load(into: machine.storage, at: region.base)
            vms.append(VirtualMachine(id: i, region: region, entry: image.entry, budget: budget, hardware: machine))
        }
    }

    /// Refuses profiles where user mode can change R (SETR, LPSW) or enter
    /// supervisor mode (SETM) without trapping: the guest would take the real
    /// relocation register and reach storage outside its region.
    public static func checkConfinable(_ profile: Profile) throws {
        for inst: SystemInstruction in [.setr, .lpsw] where profile.action(for: inst) != .trap {
            throw UnconfinableProfile(description: "profile \(profile.name) lets user mode execute \(inst.rawValue) without a trap, so a guest could load the real relocation register and escape its region; no trap-based monitor can confine it (use bt)")
        }
        if profile.action(for: .setm) == .execute {
            throw UnconfinableProfile(description: "profile \(profile.name) lets user mode enter supervisor mode with SETM without a trap, so a guest could take the real machine; no trap-based monitor can confine it (use bt)")
        }
    }

    /// Runs every VM until it halts, checkstops or exhausts its budget,
    /// round-robin, switching after `quantum` guest instructions.
    public func run(quantum: UInt64 = .max) {
        precondition(quantum > 0, "a quantum of 0 would never run anything")
        var runnable = true
        while runnable {
            runnable = false
            for vm in vms where vm.state == .running {
                runnable = true
                runSlice(vm, quantum: quantum)
            }
        }
    }

    /// Switches `vm` in, runs it for up to `quantum` guest instructions, switches it out.
    func runSlice(_ vm: VirtualMachine, quantum: UInt64) {
        machine.registers = vm.savedRegisters
        vm.counters.switchesIn += 1
        defer { vm.savedRegisters = machine.registers }
        var slice = quantum
        while vm.state == .running {
            if vm.budgetLeft == 0 {
                vm.state = .outOfBudget
                return
            }
            if slice == 0 { return }
            if vm.trapEntryPending {
                // The first fetch of a trap the monitor reflected: unusable vector, checkstop (SPEC 9).
                guard vm.canFetch else {
                    vm.state = .checkstop
                    return
                }
                vm.trapEntryPending = false
            }
            machine.psw = vm.realPSW
            machine.trapEntryPending = false
            let before = machine.instructionCount
            let exit = machine.run(budget: min(slice, vm.budgetLeft))
            let ran = machine.instructionCount - before
            vm.instructions += ran
            slice -= ran
            switch exit {
            case .budget:
                vm.psw.pc = machine.psw.pc
                vm.counters.direct += ran
            case .trap(let cause, let value):
                // A fetch that traps was not counted; any other trap's instruction was, and did not complete.
                let fetchFault = cause == .memory && value == machine.storage.load32(LowCore.oldPSW + 4)
                    && !vm.canFetch(at: value)
                vm.counters.direct += ran - (fetchFault ? 0 : 1)
                if dispatch(vm, cause: cause, value: value) == .stop { return }
            case .halted(let code):
                // The profile let HALT execute in user mode: the bare machine halts too.
                vm.counters.direct += ran
                vm.psw.pc = machine.psw.pc
                vm.state = .halted(code)
                machine.status = .running
            case .checkstop:
                // Unreachable: the real trap entry is the dispatcher, which never fails to fetch.
                vm.state = .checkstop
                machine.status = .running
            }
        }
    }

    /// Real storage outside every VM that changed: must be empty (isolation).
    public var damagedCanaries: [Int] { allocator.damagedCanaries(in: machine.storage) }
}
