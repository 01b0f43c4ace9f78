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
    /// The real processor the machine runs on: direct execution and VX's
    /// guest mode run there (the reference interpreter, or the JIT).
    public let processor: any Processor
    /// A: where each VM lives.
    public let allocator: Allocator
    /// The VMs v_i, in the order given.
    public private(set) var vms: [VirtualMachine] = []
    /// Where the real new PSW leads: the dispatcher's entry in the monitor's page.
    public static let dispatcherEntry: UInt32 = 0x100
    /// Runs the guest while it is in virtual supervisor mode.
    public let supervisorEngine: ExecutionEngine
    /// Runs the guest while it is in virtual user mode.
    public let userEngine: ExecutionEngine
    /// Exit controls the monitor adds to those of its VMs' own guests when a
    /// VM executes VMRUN (none: the real VX virtualizes the nested guest
    /// whole; `hw` adds its own, to intercept at every level alike).
    public var nestedExitControls: ExitControls = .none
    /// True when the two modes run on different engines, which must then
    /// hear of each other's writes (decided once: it is asked on every exit).
    let enginesDiffer: Bool

    /// Places one VM per image (each of `memorySize` bytes) on a real machine of
    /// profile `profile`. Refuses a configuration that does not fit, and a
    /// profile under which user mode could rewrite R or M without a trap (no
    /// trap-based monitor can confine such a guest; engines that never run
    /// guest code on the real machine lift that restriction). By default both virtual
    /// modes run directly: classic trap-and-emulate.
    public init(images: [ELFImage], profile: Profile, memorySize: Int, budget: UInt64,
                processor: any Processor = Interpreter.shared,
                supervisorEngine: ExecutionEngine = DirectExecution(), userEngine: ExecutionEngine? = nil) throws {
        let userEngine = userEngine ?? supervisorEngine
        // Only code that runs on the real machine can take its relocation register.
        if supervisorEngine is DirectExecution || userEngine is DirectExecution {
            try ControlProgram.checkConfinable(profile)
        }
        self.processor = processor
        self.supervisorEngine = supervisorEngine
        self.userEngine = userEngine
        enginesDiffer = supervisorEngine !== userEngine
        allocator = try Allocator(vmCount: images.count, size: memorySize)
        machine = Machine(memorySize: allocator.realMemorySize, profile: profile)
        machine.trapPolicy = .takeAndExit
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
            let engine = vm.psw.mode == .user ? userEngine : supervisorEngine
            if vm.trapEntryPending && !engine.checksTrapEntry {
                // The first fetch of a trap the monitor reflected: unusable vector, checkstop (SPEC 9).
                guard vm.canFetch else {
                    vm.state = .checkstop
                    return
                }
                vm.trapEntryPending = false
            }
            let exit = engine.run(vm, budget: min(slice, vm.budgetLeft), in: self)
            if enginesDiffer {
                // The other engine, and the processor's translations for direct execution, may
                // cache code this one could have written.
                (engine === userEngine ? supervisorEngine : userEngine).storageWritten(vm, range: nil)
                if !(engine is DirectExecution) { processor.storageWritten(machine, range: vm.region.range) }
            }
            vm.instructions += exit.ran
            slice -= exit.ran
            switch exit.event {
            case .budget:
                continue
            case .trap(let cause, let value):
                vm.counters.monitorEntries += 1
                if dispatch(vm, cause: cause, value: value) == .stop { return }
            case .system(let instruction, let word):
                vm.counters.monitorEntries += 1
                if interpret(instruction, word: word, in: vm) == .stop { return }
            case .halted(let code):
                vm.state = .halted(code)
                return
            case .checkstop:
                vm.state = .checkstop
                return
            }
        }
    }

    /// Tells both engines, and the processor (whose JIT caches the real
    /// machine's code for direct execution), that the monitor or the hardware
    /// wrote `vm`'s storage `range` (VM-relative; nil: anywhere in the VM).
    func storageWritten(_ vm: VirtualMachine, range: Range<Int>?) {
        supervisorEngine.storageWritten(vm, range: range)
        if enginesDiffer { userEngine.storageWritten(vm, range: range) }
        let physical = range.map { vm.region.base + $0.lowerBound..<vm.region.base + $0.upperBound } ?? vm.region.range
        processor.storageWritten(machine, range: physical)
    }

    /// Real storage outside every VM that changed: must be empty (isolation).
    public var damagedCanaries: [Int] { allocator.damagedCanaries(in: machine.storage) }
}
