import Machine

extension ControlProgram {
    /// VMRUN's interpreter routine (SPEC section 9): the VM, in virtual
    /// supervisor mode, runs a guest of its own. The routine reads the VM's
    /// control block once, composes it with the VM's region (k' becomes
    /// k + k'; refused exactly as the VM's bare machine of size w would
    /// refuse it), runs the nested guest on the real VX with the guest's
    /// exit controls plus the monitor's own (`nestedExitControls`), handles
    /// the exits only the monitor asked for itself, and writes the block back
    /// once, at the exit it delivers to the VM.
    func runNestedGuest(word: UInt32, blockAt address: UInt32, in vm: VirtualMachine) -> ExitAction {
        let s = machine.storage
        guard let p = vm.region.physical(address, size: ControlBlock.size, under: vm.psw) else {
            reflect(.memory, value: address, into: vm) // as VMRUN traps on the bare machine
            return .resume
        }
        let blockRange = p - vm.region.base..<p - vm.region.base + ControlBlock.size
        var block = ControlBlock(loadingFrom: s, at: p)
        /// The one write-back: the exit fields, then the VM goes on after its VMRUN.
        func deliver(_ exit: ControlBlock) -> ExitAction {
            exit.storeExit(into: s, at: p)
            storageWritten(vm, range: blockRange)
            vm.psw.pc &+= 4
            return .resume
        }
        guard block.refusal(storageSize: vm.region.size) == nil else {
            block.markRefused()
            vm.counters.exits[Int(ExitReason.refused.rawValue)] += 1
            return deliver(block)
        }
        let guestControls = block.controls
        let guestLimited = block.quota != 0
        var real = block
        real.k = UInt32(vm.region.base) + block.k
        real.controls = ExitControls(rawValue: guestControls.rawValue | nestedExitControls.rawValue)
        let nested = Int(block.k)..<Int(block.k) + Int(block.w) // VM-relative
        while true {
            let entered = machine.enterGuest(&real)
            precondition(entered, "a block inside the VM's region fits the real machine")
            var left = vm.budgetLeft
            let trapsBefore = machine.guestTrapsDelivered
            let exit = machine.runGuest(budget: &left, on: processor)
            vm.counters.guestTraps += machine.guestTrapsDelivered - trapsBefore
            let ran = vm.budgetLeft - left
            vm.instructions += ran
            vm.counters.guestMode += ran
            // The nested guest wrote its storage, inside the VM's region.
            storageWritten(vm, range: nested)
            guard var done = exit else {
                // The VM's budget ran out with its guest in guest mode: the bare machine reports both PSWs.
                vm.guestPSW = machine.guestPSW
                machine.leaveGuestMode()
                vm.state = .outOfBudget
                return .stop
            }
            let reason = done.exitReason!
            vm.counters.exits[Int(reason.rawValue)] += 1
            if let handled = handleMonitorExit(&done, reason: reason, guestControls: guestControls) {
                if guestLimited && handled.quota == 0 {
                    // The guest's quota ran out at an exit the monitor handled: the guest gets exit 9.
                    done = handled
                    done.reason = ExitReason.quota.rawValue
                    done.value = 0
                    done.word = 0
                } else {
                    real = handled // the exit's block keeps the entry's k, w and composed controls
                    continue
                }
            }
            return deliver(done) // only its exit fields are written: the guest's own k and w stay

        }
    }

    /// An exit the monitor's own controls caused and the guest did not ask
    /// for: emulated here (a system instruction, as sections 5 and 6 say for
    /// G's mode) or taken in the nested guest (a trap, entry-state bit set).
    /// Returns the block to re-enter with, or nil if the exit is the guest's.
    private func handleMonitorExit(_ done: inout ControlBlock, reason: ExitReason,
                                   guestControls: ExitControls) -> ControlBlock? {
        guard let g = machine.guestMachine else { return nil }
        var next = done
        next.reason = 0
        next.value = 0
        next.word = 0
        if let cause = reason.trapCause {
            guard !guestControls.exits(on: cause) else { return nil }
            g.psw = done.psw
            g.trap(cause, value: done.value)
            next.psw = g.psw
            next.entryState = 1
            return next
        }
        guard reason == .system, let op = Opcode.decode(done.word), case .system(let instruction) = op.group,
              !guestControls.exits(on: instruction) else { return nil }
        // The hardware exits only on what G would execute: the profile says how.
        guard case .execute(let keepMode) = machine.profile.disposition(of: instruction, in: done.psw.mode) else { return nil }
        g.psw = done.psw
        switch instruction.execute(word: done.word, on: g, keepMode: keepMode) {
        case .completed:
            break
        case .memoryTrap(let a):
            // The emulated instruction trapped: the guest's controls decide where it goes.
            if guestControls.exits(on: .memory) {
                done.reason = ExitReason.memory.rawValue
                done.value = a
                return nil
            }
            g.trap(.memory, value: a)
            next.entryState = 1
        case .vmrun:
            return nil
        }
        next.psw = g.psw
        return next
    }
}
