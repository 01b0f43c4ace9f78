import Machine

/// What the dispatcher decided about a real trap.
public enum ExitAction: Sendable, Equatable {
    /// The VM continues where its virtual PSW says.
    case resume
    /// The VM has stopped (halted or checkstop).
    case stop
}

extension ControlProgram {
    /// The dispatcher D: entered on every trap of `vm` (the real new PSW
    /// leads here; an engine has already put the trapping P in the virtual
    /// PSW). It either calls an interpreter routine (a privileged instruction
    /// the guest executed in virtual supervisor mode) or reflects the trap into
    /// the guest exactly as its bare machine would have taken it.
    public func dispatch(_ vm: VirtualMachine, cause: TrapCause, value: UInt32) -> ExitAction {
        vm.counters.traps[Int(cause.rawValue)] += 1
        if cause == .privileged, vm.psw.mode == .supervisor,
           let op = Opcode.decode(value), case .system(let instruction) = op.group {
            return interpret(instruction, word: value, in: vm)
        }
        reflect(cause, value: value, into: vm)
        return .resume
    }

    /// The interpreter routines, one per system instruction: the
    /// instruction's own semantics (Machine's `SystemInstruction.execute`)
    /// applied to the virtual PSW, through the VM map, with the VM's console.
    /// In virtual user mode (reached only from translated code) the profile
    /// decides first, as on the bare machine: trap, execute, or execute
    /// keeping the mode.
    public func interpret(_ instruction: SystemInstruction, word: UInt32, in vm: VirtualMachine) -> ExitAction {
        var keepMode = false
        if vm.psw.mode == .user { // supervisor mode always executes: skip the profile on the common path
            guard case .execute(let keep) = machine.profile.disposition(of: instruction, in: .user) else {
                vm.counters.traps[Int(TrapCause.privileged.rawValue)] += 1
                reflect(.privileged, value: word, into: vm)
                return .resume
            }
            keepMode = keep
        }
        vm.counters.emulated[instruction.index] += 1
        switch instruction.execute(word: word, on: vm, keepMode: keepMode) {
        case .completed:
            return vm.state == .running ? .resume : .stop
        case .memoryTrap(let address):
            // LPSW's operand is outside the guest's R: the bare machine traps, so the guest does.
            reflect(.memory, value: address, into: vm)
            return .resume
        case .vmrun(let address):
            return runNestedGuest(word: word, blockAt: address, in: vm)
        }
    }

    /// Reflects a trap into the guest (SPEC sections 3 and 9): the virtual old
    /// PSW, cause and value go to the guest's own low core at k + 0x00..0x27,
    /// and the virtual PSW becomes the guest's new PSW from k + 0x10.
    public func reflect(_ cause: TrapCause, value: UInt32, into vm: VirtualMachine) {
        // The monitor writes guest storage here (and in a nested guest's control block): tell the engines.
        storageWritten(vm, range: 0..<LowCore.end)
        vm.psw = LowCore.trapSequence(cause, value: value, from: vm.psw, in: machine.storage, at: vm.region.base)
        vm.trapEntryPending = true
        vm.counters.reflected += 1
    }
}
