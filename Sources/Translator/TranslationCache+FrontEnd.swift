import Machine
import TrapVMM
#if canImport(Glibc)
import Glibc
#endif

/// The translator front end, shared by both backends (the portable
/// executor and the x86-64 JIT): guest words become blocks of micro-ops in
/// the cache; blocks are verified after unseen writes; stores into
/// translated words invalidate; the few instructions a whole block cannot
/// run are stepped by the reference interpreter.
extension TranslationCache {
    /// True if a block of at most `maximumBlock` ops fits without a flush.
    var hasRoomForBlock: Bool { hasRoom(forOps: TranslationCache.maximumBlock + 1) }

    /// Translates the block at virtual `pc` under relocation `l`; nil if its
    /// first instruction cannot be fetched (`limit` = min(b, w - l)).
    /// Flushes first if the cache is full. Adds its time to the counters
    /// unless `timed` is false (a caller that times the whole translation:
    /// a clock read costs tens of nanoseconds here, a block a few microseconds).
    func translate(pc: UInt32, l: UInt32, limit: Int, memory: UnsafeMutableRawPointer, timed: Bool = true) -> Int32? {
        guard pc & 3 == 0, Int(pc) + 4 <= limit else { return nil }
        let started = timed ? TranslationClock.now() : nil
        if !hasRoomForBlock { flush() }
        let first = opCount
        var p = pc, count = 0
        while true {
            // SAFETY: p + 4 <= limit <= w - l, so l + p + 4 is inside the VM's storage.
            let word = UInt32(littleEndian: memory.loadUnaligned(fromByteOffset: Int(l) + Int(p), as: UInt32.self))
            var op = MicroOp.translate(word, at: p)
            if op.kind == .jalr, let target = knownTarget(of: op, first: first, at: p, blockPC: pc) {
                op = MicroOp(.jal, rd: Int(op.rd), imm: target) // its target is known here: a direct jump
            }
            // jal's and jalr's unread rs2: their place in the block plus one (count < 64), which
            // the portable executor links with (P + 4 = block P + 4 * rs2) without the op index.
            if op.kind == .jal || op.kind == .jalr { op.rs2 = UInt8(count + 1) }
            append(op, word: word)
            count += 1
            p &+= 4
            if op.kind.endsBlock { break }
            // A block stays inside one physical page (the next instruction's last byte included:
            // under an l that is not a multiple of 4 an instruction can straddle two pages; only a
            // block's first instruction then does), one fetchable range, and is bounded in length.
            if (Int(l) + Int(p) + 3) >> 12 != (Int(l) + Int(pc)) >> 12 || count == TranslationCache.maximumBlock
                || Int(p) + 4 > limit {
                append(MicroOp(.continueAt, imm: p), word: 0)
                break
            }
        }
        let id = register(pc: pc, l: l, first: first, count: count, page: (Int(l) + Int(pc)) >> 12)
        counters.blocksTranslated += 1
        counters.instructionsTranslated += UInt64(count)
        if let started { counters.translationNanoseconds += TranslationClock.since(started) }
        return id
    }

    /// The target of jalr `op` at virtual `p`, the block's last op so far
    /// (its ops from `first` on, from `blockPC`), if every way to it gives x[rs1]
    /// one value: rs1 is x0, or its last write in the block is a constant
    /// (auipc or lui: a call or a jump the linker did not relax into jal, a
    /// `lui; jalr` to an absolute address) and no branch of the block lands
    /// after that write (a branch from before it would skip it). Nil as well
    /// for a target that is not a multiple of 4, which the jump's own path
    /// takes to the fetch trap.
    func knownTarget(of op: MicroOp, first: Int, at p: UInt32, blockPC: UInt32) -> UInt32? {
        if op.rs1 == 0 {
            let target = op.imm & ~1
            return target & 3 == 0 ? target : nil
        }
        guard let writer = stride(from: opCount - 1, through: first, by: -1).first(where: {
                  ops[$0].rd == op.rs1 && ops[$0].kind.registerUse.writes }),
              ops[writer].kind == .constant, case let target = (ops[writer].imm &+ op.imm) & ~1, target & 3 == 0
        else { return nil }
        // No branch lands on an op after the writer, up to this jalr (op `opCount`).
        let after = blockPC &+ UInt32(4 * (writer - first + 1))
        for i in first..<opCount where ops[i].kind.isDirectJump && ops[i].imm &- after <= p &- after {
            return nil
        }
        return target
    }

    /// Something other than translated code wrote guest physical bytes
    /// `range`, or anything if nil: the translations made from them go, or,
    /// when the range is unknown, every block verifies itself against storage
    /// before its next use. Returns true in that last case.
    @discardableResult
    func storageWritten(range: Range<Int>?) -> Bool {
        guard let range, !range.isEmpty else {
            epoch &+= 1
            return true
        }
        for page in (range.lowerBound >> 12)...((range.upperBound - 1) >> 12) { invalidate(page: page, overlapping: range) }
        return false
    }

    /// True if the guest words `b` was translated from are still in storage.
    func stillCurrent(_ b: Block, memory: UnsafeMutableRawPointer) -> Bool {
        for k in 0..<Int(b.count) {
            // SAFETY: the caller checked b.end <= limit, so every word of the block is inside storage.
            let now = UInt32(littleEndian: memory.loadUnaligned(fromByteOffset: Int(b.l) + Int(b.pc) + 4 * k, as: UInt32.self))
            if now != words[Int(b.first) + k] { return false }
        }
        return true
    }

    /// A translated store wrote guest physical bytes [phys, phys + n), some of
    /// which translations were made from: invalidate those translations. True
    /// if `current`, the block executing the store, was among them.
    @inline(never)
    func selfModified(phys: Int, size n: Int, current: Block) -> Bool {
        let written = phys..<phys + n
        invalidate(page: phys >> 12, overlapping: written)
        if (phys + n - 1) >> 12 != phys >> 12 { invalidate(page: (phys + n - 1) >> 12, overlapping: written) }
        let start = Int(current.l) + Int(current.pc)
        return written.overlaps(start..<start + 4 * Int(current.count))
    }

    /// What to do about a block that cannot simply run.
    enum SlowEntry {
        /// It was stale and is gone, or is verified now: look P up again.
        case retry
        /// The reference interpreter ran `ran` instructions from P, ending at
        /// `next`, with an event (trap, callout) or nil if it ran out of budget.
        case stepped(ran: Int, next: UInt32, event: EngineEvent?)
    }

    /// The block at (pc, l): found, or translated by `translate` (the
    /// backend's: the portable one translates, the JIT also compiles), a
    /// miss counted; nil if P cannot be fetched. Both executors' one way in.
    @inline(__always)
    func block(pc: UInt32, l: UInt32, orTranslate translate: () -> Int32?) -> Int32? {
        if let found = lookup(pc: pc, l: l) { return found }
        counters.misses += 1
        return translate()
    }

    /// True if the block cannot simply run: fewer than its ops left in the
    /// budget, past a bound that shrank, or possibly stale, its epoch not
    /// `epoch` (the cache's, which an executor may hold in a local): `slowEntry` then.
    @inline(__always)
    static func needsSlowEntry(_ bp: UnsafeMutablePointer<Block>, remaining: Int, limit: Int, epoch: UInt32) -> Bool {
        remaining < Int(bp.pointee.count) || Int(bp.pointee.end) > limit || bp.pointee.epoch != epoch
    }

    /// A block whose words may have changed behind the translator's back, or
    /// that the budget or a shrunken bound does not let run whole. `stepper`
    /// is a reference interpreter over the same storage and registers, trap
    /// policy `.report`; the block's own stores are checked for self-modification.
    @inline(never)
    func slowEntry(_ bp: UnsafeMutablePointer<Block>, psw: PSW, storageSize w: Int, remaining: Int,
                   memory: UnsafeMutableRawPointer, stepper s: Machine) -> SlowEntry {
        let b = bp.pointee
        let limit = psw.accessLimit(storageSize: w)
        if b.epoch != epoch, Int(b.end) <= limit {
            // Storage may have changed since this block was last checked.
            guard stillCurrent(b, memory: memory) else {
                invalidate(page: Int(b.page))
                return .retry
            }
            bp.pointee.epoch = epoch
            if remaining >= Int(b.count) { return .retry }
        }
        // The budget ends inside the block, or the bound shrank under it: step,
        // one instruction at a time so that a store into translated code is seen.
        s.psw = psw
        let x = s.unsafeRegisterFile
        var ran = 0
        for _ in 0..<min(remaining, Int(b.count)) {
            let k = Int(s.psw.pc &- b.pc) >> 2
            let op = ops[Int(b.first) + k]
            let address = x[Int(op.rs1)] &+ op.imm
            let before = s.instructionCount
            let exit = s.run(budget: 1)
            ran += Int(s.instructionCount - before)
            switch exit {
            case .budget:
                if let n = op.kind.storeSize {
                    let phys = Int(b.l) + Int(address)
                    if isCode(word: phys >> 2) || isCode(word: (phys + n - 1) >> 2) {
                        _ = selfModified(phys: phys, size: n, current: b)
                        return .stepped(ran: ran, next: s.psw.pc, event: nil)
                    }
                }
                // Stepping stays inside the block: it leaves at its end or at a taken transfer.
                if s.psw.pc &- b.pc >= UInt32(4 * Int(b.count)) { return .stepped(ran: ran, next: s.psw.pc, event: nil) }
            case .trap(let cause, let value): return .stepped(ran: ran, next: s.psw.pc, event: .trap(cause, value: value))
            case .system(let inst, let word): return .stepped(ran: ran, next: s.psw.pc, event: .system(inst, word: word))
            case .halted, .checkstop: preconditionFailure("a reporting interpreter stopped with \(exit)")
            }
        }
        return .stepped(ran: ran, next: s.psw.pc, event: nil)
    }
}

extension MicroOp.Kind {
    /// The memory access a load or store makes: its width in bytes, whether
    /// it writes, and (a load) whether it sign-extends; nil for every other
    /// kind. Every kind is listed, so a new one must say: the executors, the
    /// JIT and self-modifying-code detection read widths from here only.
    @inlinable var access: (size: Int, isStore: Bool, signed: Bool)? {
        switch self {
        case .lb: return (1, false, true)
        case .lh: return (2, false, true)
        case .lw: return (4, false, false)
        case .lbu: return (1, false, false)
        case .lhu: return (2, false, false)
        case .sb: return (1, true, false)
        case .sh: return (2, true, false)
        case .sw: return (4, true, false)
        case .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai, .constant, .nop,
             .beq, .bne, .blt, .bge, .bltu, .bgeu, .continueAt, .jal, .jalr, .system, .ecall, .ebreak, .illegal:
            return nil
        }
    }

    /// Bytes a store writes; nil for every other kind.
    @inlinable var storeSize: Int? {
        guard let a = access, a.isStore else { return nil }
        return a.size
    }
}

/// The host's monotonic clock in nanoseconds, for timing translation: one
/// `clock_gettime` (through the vDSO), where `ContinuousClock.now` and a
/// `Duration`'s components cost about 250 host instructions a block more.
enum TranslationClock {
    @inline(__always) static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    /// Nanoseconds since `start` (a `now()`).
    @inline(__always) static func since(_ start: UInt64) -> UInt64 { now() &- start }
}
