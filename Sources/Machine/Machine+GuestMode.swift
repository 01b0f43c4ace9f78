/// Guest mode (SPEC section 11): the exit rules, written once. Which
/// processor runs G's innocuous instructions is a parameter, so the
/// reference interpreter and the JIT share every rule here and differ only
/// in how fast G's compute code runs.

/// A machine's guest mode while it lasts: G, and what the entry fixed.
public struct GuestMode {
    /// G: a machine of the host's profile over E[k .. k+w), using the host's
    /// registers, with trap policy `.report` (every trap and system
    /// instruction comes back here to be delivered in G or made an exit).
    public let machine: Machine
    /// The block as it was read at entry (k, w, exit controls, quota).
    public let entry: ControlBlock
    /// Guest instructions the quota still allows (meaningful when `limited`).
    public internal(set) var quotaLeft: UInt32
    /// False when the entry's quota was 0 (no limit).
    public let limited: Bool
    /// Where the host's VMRUN read the block (physical), to write the exit
    /// back; nil when a monitor entered from a block of its own.
    public let blockAddress: Int?
}

extension Machine {
    /// VX entry from `block` (SPEC section 11). Refused (the block's reason,
    /// value and word set to 0, returns false) unless w is a multiple of
    /// 4096, w >= 4096 and k + w <= q; otherwise the machine is in guest mode
    /// and `runGuest` runs it. `blockAddress` is where a VMRUN read the block.
    public func enterGuest(_ block: inout ControlBlock, blockAddress: Int? = nil) -> Bool {
        precondition(guestMode == nil, "the hardware does not nest: VMRUN in G is exit 11")
        guard block.refusal(storageSize: storage.size) == nil else {
            block.markRefused()
            return false
        }
        let range = Int(block.k)..<Int(block.k) + Int(block.w)
        let g: Machine
        if let i = recentGuests.lastIndex(where: { $0.storage.base == storage.base + range.lowerBound && $0.storage.size == range.count }) {
            g = recentGuests.remove(at: i) // a G seen before: keep what its processor cached
        } else {
            g = Machine.reportingInterpreter(over: range, of: self, retaining: false) // owned by self: no cycle
            if recentGuests.count == Machine.recentGuestLimit { recentGuests.removeFirst() }
        }
        recentGuests.append(g)
        g.psw = block.psw
        g.trapEntryPending = block.trapEntryPending
        g.entries &+= 1
        guestEntries &+= 1
        guestMode = GuestMode(machine: g, entry: block, quotaLeft: block.quota, limited: block.quota != 0,
                              blockAddress: blockAddress)
        return true
    }

    /// Abandons guest mode without an exit: a monitor whose VM's budget ran
    /// out while the VM's own guest was in guest mode (the run is over).
    public func leaveGuestMode() { guestMode = nil }

    /// G's PSW while the machine is in guest mode (a run that ended by budget there reports it).
    public var guestPSW: PSW? { guestMode?.machine.psw }

    /// Runs guest mode on `processor` until an exit, or until `left` (the
    /// run's budget, decremented by every guest instruction) is spent.
    /// Returns the block as the hardware writes it at the exit (the machine
    /// has left guest mode), or nil if the budget ran out first (the machine
    /// is still in guest mode). The budget is checked before the quota, and
    /// both before every fetch attempt (SPEC section 11).
    public func runGuest(budget left: inout UInt64, on processor: any Processor) -> ControlBlock? {
        guard var mode = guestMode else { preconditionFailure("runGuest needs guest mode") }
        let g = mode.machine
        defer { if guestMode != nil { guestMode = mode } }

        func exit(_ reason: ExitReason, value: UInt32 = 0, word: UInt32 = 0) -> ControlBlock {
            var block = mode.entry
            block.psw = g.psw
            block.quota = mode.limited ? mode.quotaLeft : 0
            block.reason = reason.rawValue
            block.value = value
            block.word = word
            block.entryState = g.trapEntryPending ? 1 : 0
            guestMode = nil
            return block
        }
        /// A trap in G: an exit if its control bit is set, else taken in G.
        func trap(_ cause: TrapCause, value: UInt32, word: UInt32) -> ControlBlock? {
            if mode.entry.controls.exits(on: cause) { return exit(ExitReason(cause), value: value, word: word) }
            g.trap(cause, value: value)
            guestTrapsDelivered &+= 1
            processor.storageWritten(g, range: 0..<LowCore.end)
            return nil
        }

        while true {
            if left == 0 { return nil }
            if mode.limited && mode.quotaLeft == 0 { return exit(.quota) }
            if g.trapEntryPending {
                // The checkstop rule comes first, whatever the exit controls say.
                guard g.canFetch else { return exit(.checkstop) }
                g.trapEntryPending = false
            }
            let slice = mode.limited ? min(left, UInt64(mode.quotaLeft)) : left
            let before = g.instructionCount
            let event = processor.runReporting(g, budget: slice)
            let ran = g.instructionCount - before
            left -= ran
            instructionCount += ran
            if mode.limited { mode.quotaLeft -= UInt32(ran) }

            switch event {
            case .budget:
                continue
            case .trap(let cause, let value):
                // The word of the instruction that trapped, or 0 if its fetch is what failed.
                let word = g.canFetch ? g.storage.load32(g.relocate(g.psw.pc, size: 4, under: g.psw)!) : 0
                if let done = trap(cause, value: value, word: word) { return done }
            case .system(let instruction, let word):
                guard case .execute(let keepMode) = g.profile.disposition(of: instruction, in: g.psw.mode) else {
                    if let done = trap(.privileged, value: word, word: word) { return done }
                    continue
                }
                let w = InstructionWord(word)
                switch instruction {
                case .halt:
                    g.psw.pc &+= 4
                    return exit(.halt, value: self[register: w.rs1], word: word)
                case .out:
                    g.psw.pc &+= 4
                    return exit(.out, value: self[register: w.rs1] & 0xFF, word: word)
                case .vmrun:
                    return exit(.vmrun, word: word)
                case .lpsw, .setr, .getm, .getl, .getb, .jrstu, .setm:
                    if mode.entry.controls.exits(on: instruction) { return exit(.system, word: word) }
                    switch instruction.execute(word: word, on: g, keepMode: keepMode) {
                    case .completed:
                        continue
                    case .memoryTrap(let address):
                        if let done = trap(.memory, value: address, word: word) { return done }
                    case .vmrun:
                        preconditionFailure("only VMRUN asks for VM entry")
                    }
                }
            case .halted, .checkstop:
                // Under .report, HALT comes back as a system instruction and no trap entry is made.
                preconditionFailure("G stopped with \(event) under trap policy .report")
            }
        }
    }

    /// VMRUN executed by this machine in supervisor mode, its block at
    /// virtual `address`: the block is read as one 48-byte access (a memory
    /// trap with value `address` if that fails, and nothing else happens),
    /// then the entry is made or refused. Returns the trap it raised.
    func vmrunInstruction(blockAt address: UInt32) -> TrapCause? {
        guard let p = relocate(address, size: ControlBlock.size, under: psw) else {
            trap(.memory, value: address)
            return .memory
        }
        var block = ControlBlock(loadingFrom: storage, at: p)
        if !enterGuest(&block, blockAddress: p) { finishVMRUN(block, at: p) }
        return nil
    }

    /// The host's side of an exit: the block written back where VMRUN read
    /// it, and the host continues after its VMRUN (same R, supervisor mode).
    func finishVMRUN(_ block: ControlBlock, at address: Int) {
        block.storeExit(into: storage, at: address)
        controlBlockWritten = address..<address + ControlBlock.size
        psw.pc &+= 4
    }

    /// Runs this machine's guest mode on `processor` and, at the exit,
    /// finishes the VMRUN that entered it. False if the budget ran out first.
    public func continueGuestMode(budget left: inout UInt64, on processor: any Processor) -> Bool {
        guard let address = guestMode?.blockAddress else { preconditionFailure("guest mode entered by a VMRUN") }
        guard let block = runGuest(budget: &left, on: processor) else { return false }
        finishVMRUN(block, at: address)
        // G wrote its storage, and the exit wrote the block: the host's cached code must see both.
        processor.storageWritten(self, range: Int(block.k)..<Int(block.k) + Int(block.w))
        processor.storageWritten(self, range: address..<address + ControlBlock.size)
        controlBlockWritten = nil
        return true
    }
}
