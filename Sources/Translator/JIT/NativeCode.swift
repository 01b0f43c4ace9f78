import CodeMemorySupport
import Machine
import TrapVMM

/// One VM's native code: the front end's translation cache, the code memory
/// its blocks were compiled into, the chain sites that lead into each block
/// (so that invalidating a block unchains it), and the context block the
/// code runs with. The executor (`run`) enters the code through a small
/// trampoline and handles whatever made it leave.
final class NativeCode {
    /// The front end's cache: blocks of micro-ops, their keys, the code map.
    let cache: TranslationCache
    private let code: CodeMemory
    // Mutable state is `@exclusivity(unchecked)`: one thread runs an engine, and the
    // runtime's access checks were a measurable part of every callout's round trip.

    /// The context block (`JITContext`), in code memory's data page, which generated code reaches RIP-relatively.
    private let context: UnsafeMutableRawPointer
    /// Per block id: the host address of its code.
    @exclusivity(unchecked) private var entries: [UInt] = []
    /// Per block id: the chain sites patched to jump to it.
    @exclusivity(unchecked) private var incoming: [[ChainSite]] = []
    /// The jump cache (`JumpCache`), and the relocation its entries were made under.
    private let jumpCache: UnsafeMutableRawPointer
    @exclusivity(unchecked) private var jumpCacheL: UInt32 = 0
    /// The largest end of a block some jump (or jump cache entry) leads to:
    /// the links hold while the limit is at least this. Blocks do not check
    /// their bound themselves.
    @exclusivity(unchecked) private var linkedEnd = 0
    @exclusivity(unchecked) private var trampolineBytes = 0
    /// The assembler's buffer, reused for every block.
    private let assembly = X86Assembler.Buffer(capacity: JITCodeGenerator.maximumBlockBytes)
    private let scratch = JITCodeGenerator.Scratch()
    @exclusivity(unchecked) private var exitAddress: UInt = 0
    private typealias Enter = @convention(c) (UnsafeMutableRawPointer) -> Void
    @exclusivity(unchecked) private var enter: Enter
    /// Chain sites patched so far (links made).
    @exclusivity(unchecked) private(set) var linksPatched: UInt64 = 0
    /// Computed jumps whose target missed both ways of the jump cache (for tests).
    @exclusivity(unchecked) private(set) var jumpCacheMisses: UInt64 = 0
    /// Code bytes generated (across flushes).
    @exclusivity(unchecked) private(set) var bytesGenerated: UInt64 = 0

    /// The context's `limitLess` entries hold limit - k for k = 1 ... `limitEntries`
    /// (the largest any block compares with) and limit `tableLimit`, rewritten
    /// when a run's limit differs (only the entries in use: a bound that changes
    /// at every trap of a trap-and-emulate guest rewrites a few).
    @exclusivity(unchecked) private var limitEntries = 4
    @exclusivity(unchecked) private var tableLimit = -1

    private func writeLimitEntries(_ ks: ClosedRange<Int>) {
        // SAFETY: entries of the context's limit table, inside JITContext.size.
        for k in ks { context.storeBytes(of: Int64(limit) - Int64(k), toByteOffset: Int(JITContext.limitLess(k)), as: Int64.self) }
    }

    /// Guarded views (`GuardedView`): where blocks are generated without bounds
    /// checks. Nil when the storage is not a memory file or the host refuses
    /// the fault handler: then every access is checked.
    private let faults: UnsafeMutablePointer<thirdgen_fault_table>?
    /// True if blocks are generated for guarded views (`faults` is there).
    var guarded: Bool { faults != nil }
    /// Blocks (P and l) whose access faulted in a guarded view: made again with
    /// every access checked, so that a guest that traps there often (a
    /// monitor's demand paging, `bench nano`'s memtrap) takes the trap
    /// through the block's own stub, not a signal each time (a fault and
    /// its handler cost microseconds).
    @exclusivity(unchecked) private var checkedBlocks = Set<UInt64>()
    private static func key(_ b: Block) -> UInt64 { UInt64(b.pc) << 32 | UInt64(b.l) }

    /// The views made so far, the one in use last; a few, for guests that
    /// switch between relocations (a monitor's virtual supervisor and user modes).
    @exclusivity(unchecked) private var views: [GuardedView] = []
    private static let maximumViews = 4

    /// The view of `limit` bytes at `file`, made if new (the oldest dropped past `maximumViews`).
    private func view(file: StorageFile, limit: Int) -> GuardedView? {
        if let i = views.lastIndex(where: { $0.file == file && $0.limit == limit }) {
            if i != views.count - 1 { views.append(views.remove(at: i)) }
            return views[views.count - 1]
        }
        guard let v = GuardedView(file: file, limit: limit) else { return nil }
        if views.count == NativeCode.maximumViews { views.removeFirst() }
        views.append(v)
        return v
    }

    /// The low reservation (`LowReservation`), if this engine holds it, and the
    /// one relocation l it serves: the view for l lies there (made again there
    /// when l's window is another: a new storage, a new limit), and blocks of
    /// l are generated with the view's address in their displacements
    /// (`lowBase`). Blocks of other relocations use the other views, with r13.
    /// Asked for once, at the engine's first guarded run.
    @exclusivity(unchecked) private var low: (reservation: LowReservation, l: UInt32)?
    @exclusivity(unchecked) private var lowAsked = false
    @exclusivity(unchecked) private var lowView: GuardedView?
    /// Guest address 0's host address in the low view, while the current run
    /// uses it: what blocks translated now name in their displacements.
    @exclusivity(unchecked) private var lowBase: Int32?
    /// The address the cache's blocks name, if some do: a view at another
    /// (a relocation l inside a page, whose file offset moved within it) needs them gone.
    @exclusivity(unchecked) private var lowBaseInBlocks: Int32?

    /// True if this engine holds the low reservation (for tests).
    var holdsLowReservation: Bool { low != nil }

    /// The view for relocation `l` in the low reservation, if this engine holds it for l
    /// (asking for it first, at its first run); nil to use `view`.
    private func lowView(file: StorageFile, l: UInt32, limit: Int) -> GuardedView? {
        if !lowAsked {
            lowAsked = true
            if let r = LowReservation.acquire() { low = (r, l) }
        }
        guard let low, low.l == l else { return nil }
        let window = file.advanced(by: Int(l))
        if let v = lowView, v.file == window, v.limit == limit { return v }
        lowView = nil // the new view replaces it there
        guard let v = GuardedView(file: window, limit: limit, in: low.reservation) else {
            // Blocks naming the low view must not run over another: they go, and so does the reservation.
            cache.flush()
            self.low = nil
            return nil
        }
        if let named = lowBaseInBlocks, named != v.displacement { cache.flush() }
        lowView = v
        return v
    }

    /// The guest storage the current run is over: what `resolve` translates from.
    @exclusivity(unchecked) private var memory: UnsafeMutableRawPointer?
    @exclusivity(unchecked) private var l: UInt32 = 0
    @exclusivity(unchecked) private var limit = 0

    /// Makes the code memory for a VM of `storageSize` bytes whose cache holds
    /// `cacheOps` ops. With `guarded` (the VM's storage is a memory file), blocks are generated for
    /// guarded views if the host allows the fault handler (`GuardedView`).
    init(storageSize: Int, cacheOps: Int, guarded: Bool = false) throws {
        cache = TranslationCache(storageSize: storageSize, opCapacity: cacheOps)
        faults = guarded && thirdgen_install_fault_handler() == 0 ? thirdgen_fault_table_create() : nil
        // Room for the ops' code (about 40 bytes per guest instruction), and never less than a few blocks.
        let capacity = CodeMemory.rounded(max(cache.opCapacity * 48, 4 * JITCodeGenerator.maximumBlockBytes + 4096))
        if let kept = NativeCode.recycledCode.take(where: { $0.capacity == capacity }) {
            code = kept
            code.reset(keeping: 0) // what it holds is no engine's code any more: nothing leads there
        } else {
            code = try CodeMemory(capacity: capacity)
        }
        // SAFETY: the code memory's data page (page-aligned, JITContext.size <= its size), unmapped with the
        // code memory; only this object and its generated code use it. Zeroed here (a kept one held another context).
        precondition(JITContext.size <= CodeMemory.dataBytes, "the JIT context outgrew its page")
        context = code.data
        context.initializeMemory(as: UInt8.self, repeating: 0, count: JITContext.size)
        // SAFETY: allocated here, freed in deinit; entries are (u32 P, u32, u64 address), 16-aligned.
        jumpCache = .allocate(byteCount: JumpCache.entries * JumpCache.entryBytes, alignment: 16)
        jumpCache.initializeMemory(as: UInt8.self, repeating: 0, count: JumpCache.entries * JumpCache.entryBytes)
        enter = { _ in }
        (trampolineBytes, exitAddress, enter) = emitTrampoline()
        // SAFETY (the stores below): offsets from JITContext, all inside the JITContext.size bytes allocated above.
        for h in JITHelper.allCases {
            context.storeBytes(of: JITHelpers.table[h.rawValue], toByteOffset: Int(JITContext.helpers) + 8 * h.rawValue,
                               as: UnsafeRawPointer.self)
        }
        context.storeBytes(of: Unmanaged.passUnretained(self).toOpaque(), toByteOffset: Int(JITContext.owner), as: UnsafeMutableRawPointer.self)
        context.storeBytes(of: cache.codeMap, toByteOffset: Int(JITContext.codeMap), as: UnsafeMutablePointer<UInt8>.self)
        context.storeBytes(of: jumpCache, toByteOffset: Int(JITContext.jumpCache), as: UnsafeMutableRawPointer.self)
        clearJumpCache()
        cache.blockInvalidated = { [unowned self] id in self.unchain(id) }
        cache.flushed = { [unowned self] in self.codeFlushed() }
    }

    deinit {
        jumpCache.deallocate()
        thirdgen_fault_table_destroy(faults)
        if NativeCode.recycledCode.wants(code.capacity) { NativeCode.recycledCode.keep(code) } // else unmapped with it
    }

    /// Code memory of engines that are gone, for the next engine of the same
    /// capacity: making it (a memory file, its mappings, seven system calls, and
    /// as many to undo) was most of what a JIT engine cost to make once the
    /// translation cache's tables were recycled too.
    private static let recycledCode = Recycler<CodeMemory>(keepingAtMost: 2)
    /// How many engines have been made with code memory an earlier one had (for tests).
    static var codeMemoriesReused: Int { recycledCode.taken }

    private func clearJumpCache() {
        // SAFETY: entry i's P field, inside the JumpCache.entries * entryBytes allocated in init.
        for i in 0..<JumpCache.entries {
            jumpCache.storeBytes(of: JumpCache.empty, toByteOffset: i * JumpCache.entryBytes, as: UInt32.self)
        }
    }

    /// The host address of the start of code memory.
    var codeAddress: UInt { code.address(0) }

    /// Bytes of code memory reserved, and in use.
    var codeBytes: (reserved: Int, used: Int) { (code.capacity, code.used) }

    /// The entry trampoline (save callee-saved registers, load the fixed
    /// roles from the context, jump to the target) and the exit path (store
    /// the budget back, restore, return), at the start of code memory.
    private func emitTrampoline() -> (Int, UInt, Enter) {
        typealias R = X86Assembler.Reg64
        var a = X86Assembler(origin: code.address(0))
        let saved: [R] = [.rbx, .rbp, .r12, .r13, .r14, .r15]
        for r in saved { a.push(r) }
        a.sub(.rsp, 8) // 8 (return address) + 48 (pushes) + 8 = 64: calls to helpers see a 16-byte aligned stack
        // rdi: the context (the one the code reaches RIP-relatively).
        a.mov(HostRegister.registers, .qword[.rdi + JITContext.registers])
        a.mov(HostRegister.memory, .qword[.rdi + JITContext.memory])
        a.mov(HostRegister.budget, .qword[.rdi + JITContext.budget])
        a.jmp(.qword[.rdi + JITContext.target])
        let exitOffset = a.offset
        a.mov(.qword[JITContext.field(JITContext.budget, of: UInt(bitPattern: context))], HostRegister.budget)
        a.add(.rsp, 8)
        for r in saved.reversed() { a.pop(r) }
        a.ret()
        let at = code.append(a.emitted)
        // SAFETY: the bytes just written are a complete function with the C calling convention, now read+execute.
        let f = unsafeBitCast(code.base + at, to: Enter.self)
        return (a.bytes.count, code.address(exitOffset), f)
    }

    // MARK: - Translation and chaining

    /// True if one more block fits in both the op cache and code memory.
    private var hasRoomForBlock: Bool {
        cache.hasRoomForBlock && code.free >= JITCodeGenerator.maximumBlockBytes + NativeCode.blockAlignment
    }

    /// Every block starts on a 64-byte boundary, the host's fetch line, so
    /// where its loops fall in those lines depends on its own code only, not
    /// on what was translated before it. Unaligned, coremark under trap ran
    /// 0.91-1.15x its bare time from one process to the next with the same
    /// code; at 32 bytes, 0.96-1.04x, but a block still had two places: when
    /// the blocks before it grew by 32 bytes (6d5fce4), matmul's loops (the
    /// same code) ran 0.44 -> 0.49 ms and forkwait's memset loop, now across
    /// a line, 6.6 -> 10 us a process. At 64, three runs of each: matmul
    /// 0.434-0.437 against 0.480-0.497 at 32, forkwait 6.4-6.6 against
    /// 9.7-10.1, the other guests within the noise.
    static let blockAlignment = 64

    /// Translates and compiles the block at `pc` (flushing first if full); nil if P cannot be fetched.
    func translate(pc: UInt32) -> Int32? {
        guard let memory else { return nil }
        if !hasRoomForBlock { cache.flush() }
        return translateWithoutFlush(pc: pc, memory: memory)
    }

    private func translateWithoutFlush(pc: UInt32, memory: UnsafeMutableRawPointer) -> Int32? {
        let started = TranslationClock.now() // the front end's part too: one pair of clock reads per block
        guard let id = cache.translate(pc: pc, l: l, limit: limit, memory: memory, timed: false) else { return nil }
        let b = cache.blocks[Int(id)]
        code.align(to: NativeCode.blockAlignment)
        let unchecked = guarded && !checkedBlocks.contains(NativeCode.key(b))
        if let lowBase { lowBaseInBlocks = lowBase }
        let bytes = JITCodeGenerator.generate(b, id: id, ops: cache.ops, origin: code.address(code.used), exit: exitAddress,
                                              context: UInt(bitPattern: context), guarded: unchecked,
                                              viewAddress: lowBase,
                                              listingFaults: guarded, buffer: assembly, scratch: scratch)
        let at = code.append(bytes), size = bytes.count
        if let faults {
            let origin = code.address(at)
            for s in scratch.faultSites {
                guard thirdgen_fault_table_append(faults, origin + UInt(s.site), origin + UInt(s.target), s.op) == 0 else {
                    fatalError("out of memory for the JIT's fault table")
                }
            }
        }
        cache.counters.loopAllocations += UInt64(scratch.takeLoopAllocations())
        if scratch.limitEntries > limitEntries { // entries no block compared with before: for the current limit
            writeLimitEntries(limitEntries + 1 ... scratch.limitEntries)
            limitEntries = scratch.limitEntries
        }
        bytesGenerated += UInt64(size)
        while entries.count <= Int(id) {
            entries.append(0)
            incoming.append([])
        }
        entries[Int(id)] = code.address(at)
        incoming[Int(id)] = []
        if PerfMap.isOn { PerfMap.record(bytes, address: code.address(at), pc: b.pc, l: b.l) }
        cache.counters.translationNanoseconds += TranslationClock.since(started)
        return id
    }

    /// The helper `resolve`: the entry of the current block for `pc`, with
    /// `site` patched to jump there; 0 (and a `lookup` exit recorded) if the
    /// executor must handle it (no block yet and no room, a block to verify,
    /// an unfetchable P).
    fileprivate func resolve(pc: UInt32, site: UInt, indirect: Bool) -> UInt {
        if indirect { jumpCacheMisses += 1 }
        var found = cache.lookup(pc: pc, l: l)
        if found == nil, hasRoomForBlock, let memory { found = translateWithoutFlush(pc: pc, memory: memory) }
        // The target must be current and inside the bound: blocks do not check it on entry.
        guard let id = found, cache.blocks[Int(id)].epoch == cache.epoch, Int(cache.blocks[Int(id)].end) <= limit else {
            record(.lookup, pc: pc)
            return 0
        }
        linkedEnd = max(linkedEnd, Int(cache.blocks[Int(id)].end))
        let entry = entries[Int(id)]
        if indirect {
            // SAFETY (the loads and stores): both ways of P's set lie inside the jump cache (set(pc) < sets).
            let set = JumpCache.set(pc), second = set + JumpCache.entryBytes
            if jumpCache.load(fromByteOffset: set, as: UInt32.self) != pc { // the first way's target becomes the second's
                jumpCache.storeBytes(of: jumpCache.load(fromByteOffset: set + 8, as: UInt.self), toByteOffset: second + 8, as: UInt.self)
                jumpCache.storeBytes(of: jumpCache.load(fromByteOffset: set, as: UInt32.self), toByteOffset: second, as: UInt32.self)
            }
            jumpCache.storeBytes(of: pc, toByteOffset: set, as: UInt32.self)
            jumpCache.storeBytes(of: entry, toByteOffset: set + 8, as: UInt.self)
            return entry
        }
        // SAFETY: `site` is a chain site of a block in the used part of code memory.
        let unchained = code.load32(atAddress: site)
        code.patch32(atAddress: site, rel32(from: site, to: entry))
        incoming[Int(id)].append(ChainSite(address: site, unchained: unchained))
        linksPatched += 1
        return entry
    }

    private func rel32(from field: UInt, to target: UInt) -> UInt32 {
        UInt32(truncatingIfNeeded: Int(bitPattern: target) - Int(bitPattern: field + 4))
    }

    /// Block `id` was invalidated: every site patched to jump to it goes back to its stub, and its jump cache entry goes.
    private func unchain(_ id: Int32) {
        guard Int(id) < incoming.count else { return }
        let set = JumpCache.set(cache.blocks[Int(id)].pc)
        for way in 0..<JumpCache.ways {
            let slot = set + way * JumpCache.entryBytes
            // SAFETY: both ways of the set lie inside the jump cache.
            if jumpCache.load(fromByteOffset: slot + 8, as: UInt.self) == entries[Int(id)] {
                jumpCache.storeBytes(of: JumpCache.empty, toByteOffset: slot, as: UInt32.self)
            }
        }
        for site in incoming[Int(id)] { code.patch32(atAddress: site.address, site.unchained) }
        incoming[Int(id)] = []
    }

    /// Unchains every block: after writes the translator did not see, each
    /// transition must go through the executor, which verifies blocks.
    func unchainAll() {
        for id in incoming.indices { unchain(Int32(id)) }
        clearJumpCache()
    }

    /// The cache was flushed: every block's code goes with it.
    private func codeFlushed() {
        linkedEnd = 0
        lowBaseInBlocks = nil
        if let faults { thirdgen_fault_table_reset(faults) }
        code.reset(keeping: trampolineBytes)
        entries = []
        incoming = []
        clearJumpCache()
    }

    // MARK: - Exits

    /// Records why generated code is leaving.
    fileprivate func record(_ reason: JITExit, pc: UInt32, value: UInt32 = 0, detail: UInt32 = 0) {
        JITHelpers.record(context, reason, pc: pc, value: value, detail: detail)
    }

    /// The helper `storeHitCode`.
    fileprivate func storeHitCode(phys: Int, size n: Int, block id: Int32) -> Bool {
        let current = cache.blocks[Int(id)]
        let codeWords = cache.isCode(word: phys >> 2) || cache.isCode(word: (phys + n - 1) >> 2)
        return codeWords && cache.selfModified(phys: phys, size: n, current: current)
    }

    // MARK: - The executor

    /// What one `run` did.
    struct RunResult {
        /// Guest instructions run (by native code and by the stepper).
        var ran: Int
        /// Of those, stepped by the reference interpreter.
        var stepped: Int
        var event: EngineEvent
        /// P after the run (at the trapping or system instruction for those events).
        var pc: UInt32
    }

    /// Runs native code for the guest whose registers are `registers` and
    /// whose storage of `storageSize` bytes starts at `memory`, from `psw`,
    /// for at most `budget` instructions. `stepper` is a reference
    /// interpreter (trap policy `.report`) over the same storage and registers.
    /// `file` is where `memory` lies in the storage's memory file (`Storage.file`), which a guarded engine needs.
    func run(registers: UnsafeMutablePointer<UInt32>, memory: UnsafeMutableRawPointer, file: StorageFile?,
             storageSize w: Int, psw: PSW, budget: UInt64, stepper: Machine) -> RunResult {
        let l = psw.l
        let limit = psw.accessLimit(storageSize: w)
        self.memory = memory
        self.l = l
        self.limit = limit
        if l != jumpCacheL {
            clearJumpCache() // its entries are blocks of the previous relocation
            jumpCacheL = l
        }
        if limit < linkedEnd {
            // The bound shrank under linked blocks: no jump may lead past it unchecked.
            unchainAll()
            linkedEnd = 0
        }
        defer { self.memory = nil }
        // SAFETY (context stores and loads in this function): offsets from JITContext, inside the block.
        // Generated code reads guest storage only below memory + l + limit, which lies inside [memory, memory + w)
        // (with guarded views, only the view's mapped bytes: those of that window).
        context.storeBytes(of: registers, toByteOffset: Int(JITContext.registers), as: UnsafeMutablePointer<UInt32>.self)
        if let faults {
            // Guest address 0 is the view's first byte: generated code checks no access.
            guard let file else { preconditionFailure("a guarded engine runs over a memory file") }
            guard let v = lowView(file: file, l: l, limit: limit) ?? view(file: file.advanced(by: Int(l)), limit: limit) else {
                fatalError("the JIT could not map a view of guest storage (\(limit) bytes)")
            }
            lowBase = v.displacement
            context.storeBytes(of: v.base, toByteOffset: Int(JITContext.memory), as: UnsafeMutableRawPointer.self)
            (faults.pointee.guard_lo, faults.pointee.guard_hi) = v.guardRange
            thirdgen_set_current_fault_table(faults)
        } else {
            context.storeBytes(of: memory + Int(l), toByteOffset: Int(JITContext.memory), as: UnsafeMutableRawPointer.self)
        }
        defer {
            if faults != nil { thirdgen_set_current_fault_table(nil) }
            lowBase = nil
        }
        if limit != tableLimit {
            writeLimitEntries(1...limitEntries)
            tableLimit = limit
        }
        var remaining = Int(clamping: budget)
        var pc = psw.pc, stepped = 0
        var event = EngineEvent.budget
        // A block left through `.step`: the reference interpreter steps from P (an access faulted
        // in a guarded view, or a check for several accesses failed; the first out of bounds must
        // trap exactly).
        var mustStep = false
        while remaining > 0 {
            guard let id = cache.block(pc: pc, l: l, orTranslate: { translate(pc: pc) }) else {
                event = .trap(.memory, value: pc) // the fetch traps; it is not counted
                break
            }
            let bp = cache.blocks + Int(id)
            if mustStep || TranslationCache.needsSlowEntry(bp, remaining: remaining, limit: limit, epoch: cache.epoch) {
                mustStep = false
                var at = psw
                at.pc = pc
                switch cache.slowEntry(bp, psw: at, storageSize: w, remaining: remaining, memory: memory, stepper: stepper) {
                case .retry:
                    continue
                case .stepped(let ran, let next, let exitEvent):
                    stepped += ran
                    remaining -= ran
                    pc = next
                    guard let exitEvent else { continue }
                    event = exitEvent
                }
                break
            }
            context.storeBytes(of: Int64(remaining), toByteOffset: Int(JITContext.budget), as: Int64.self)
            context.storeBytes(of: entries[Int(id)], toByteOffset: Int(JITContext.target), as: UInt.self)
            // SAFETY: the trampoline saves and restores every callee-saved register and the stack;
            // the target is the entry of a block generated for this cache, current and inside the bound.
            enter(context)
            remaining = Int(context.load(fromByteOffset: Int(JITContext.budget), as: Int64.self))
            pc = context.load(fromByteOffset: Int(JITContext.pc), as: UInt32.self)
            let value = context.load(fromByteOffset: Int(JITContext.value), as: UInt32.self)
            let detail = context.load(fromByteOffset: Int(JITContext.detail), as: UInt32.self)
            switch JITExit(rawValue: context.load(fromByteOffset: Int(JITContext.reason), as: UInt32.self))! {
            case .slow, .lookup, .rewritten:
                continue
            case .step:
                mustStep = true
                // The block that left (`value`): if its accesses are unchecked, one faulted.
                if guarded, Int(value) < cache.blockCount, cache.blocks[Int(value)].valid,
                   checkedBlocks.insert(NativeCode.key(cache.blocks[Int(value)])).inserted {
                    let b = cache.blocks[Int(value)]
                    cache.invalidate(page: Int(b.page), overlapping: TranslationCache.bytes(of: b))
                }
                continue
            case .trap:
                event = .trap(TrapCause(rawValue: detail)!, value: value)
            case .system:
                event = .system(SystemInstruction(index: Int(detail)), word: value)
            }
            break
        }
        let ran = Int(clamping: budget) - remaining
        cache.counters.instructionsExecuted += UInt64(ran - stepped)
        cache.counters.instructionsStepped += UInt64(stepped)
        return RunResult(ran: ran, stepped: stepped, event: event, pc: pc)
    }
}

/// The helper table: plain C functions, so generated code can call them.
enum JITHelpers {
    private static func owner(_ ctx: UnsafeMutableRawPointer) -> NativeCode {
        // SAFETY: the context's owner slot holds the unretained NativeCode that is running it.
        Unmanaged<NativeCode>.fromOpaque(ctx.load(fromByteOffset: Int(JITContext.owner), as: UnsafeRawPointer.self))
            .takeUnretainedValue()
    }

    /// Writes an exit record into the context (no object is touched: leaving is on every callout's path).
    @inline(__always)
    static func record(_ ctx: UnsafeMutableRawPointer, _ reason: JITExit, pc: UInt32, value: UInt32 = 0, detail: UInt32 = 0) {
        // SAFETY: ctx is a context block of JITContext.size bytes.
        ctx.storeBytes(of: reason.rawValue, toByteOffset: Int(JITContext.reason), as: UInt32.self)
        ctx.storeBytes(of: pc, toByteOffset: Int(JITContext.pc), as: UInt32.self)
        ctx.storeBytes(of: value, toByteOffset: Int(JITContext.value), as: UInt32.self)
        ctx.storeBytes(of: detail, toByteOffset: Int(JITContext.detail), as: UInt32.self)
    }

    private static let leaveSystem: @convention(c) (UnsafeMutableRawPointer, UInt32, UInt32, UInt32) -> Void = { ctx, pc, word, index in
        record(ctx, .system, pc: pc, value: word, detail: index)
    }
    private static let leaveTrap: @convention(c) (UnsafeMutableRawPointer, UInt32, UInt32, UInt32) -> Void = { ctx, pc, value, cause in
        record(ctx, .trap, pc: pc, value: value, detail: cause)
    }
    private static let leaveSlow: @convention(c) (UnsafeMutableRawPointer, UInt32, UInt32, UInt32) -> Void = { ctx, pc, _, _ in
        record(ctx, .slow, pc: pc)
    }
    private static let leaveStep: @convention(c) (UnsafeMutableRawPointer, UInt32, UInt32, UInt32) -> Void = { ctx, pc, block, _ in
        record(ctx, .step, pc: pc, value: block)
    }
    private static let leaveRewritten: @convention(c) (UnsafeMutableRawPointer, UInt32, UInt32, UInt32) -> Void = { ctx, pc, _, _ in
        record(ctx, .rewritten, pc: pc)
    }
    private static let resolve: @convention(c) (UnsafeMutableRawPointer, UInt32, UInt, UInt32) -> UInt = { ctx, pc, site, kind in
        owner(ctx).resolve(pc: pc, site: site, indirect: kind != 0)
    }
    private static let storeHitCode: @convention(c) (UnsafeMutableRawPointer, UInt32, UInt32, UInt32) -> UInt32 = { ctx, phys, n, block in
        owner(ctx).storeHitCode(phys: Int(phys), size: Int(n), block: Int32(bitPattern: block)) ? 1 : 0
    }

    /// Indexed by `JITHelper.rawValue`.
    static var table: [UnsafeRawPointer] {
        // SAFETY: each is a @convention(c) closure without captures, a plain C function;
        // generated code calls it with the System V argument registers its type names.
        JITHelper.allCases.map { h in
            switch h {
            case .leaveSystem: return unsafeBitCast(leaveSystem, to: UnsafeRawPointer.self)
            case .leaveTrap: return unsafeBitCast(leaveTrap, to: UnsafeRawPointer.self)
            case .leaveSlow: return unsafeBitCast(leaveSlow, to: UnsafeRawPointer.self)
            case .leaveRewritten: return unsafeBitCast(leaveRewritten, to: UnsafeRawPointer.self)
            case .resolve: return unsafeBitCast(resolve, to: UnsafeRawPointer.self)
            case .storeHitCode: return unsafeBitCast(storeHitCode, to: UnsafeRawPointer.self)
            case .leaveStep: return unsafeBitCast(leaveStep, to: UnsafeRawPointer.self)
            }
        }
    }
}
