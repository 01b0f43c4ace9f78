import Machine

/// Emits x86-64 code for one translated block.
///
/// Layout: the entry charges the budget for the whole block (its bound was
/// checked by whoever entered it), then loads the block's hottest guest registers into host
/// registers (a block-local register cache, as QEMU's TCG does with its
/// globals); the body follows op by op; every exit writes the cached
/// registers that the block writes back to the register file. Every rare
/// path (a trap, the budget, a store into code, a taken branch) is a stub
/// after the body, so the hot path falls through. Exits to other blocks are
/// `jmp rel32` chain sites that first lead to a stub calling `resolve`,
/// which patches them (it receives the site's address) to jump straight to
/// the target. A jump to an instruction of the block itself stays inside
/// it, registers cached: backwards, a loop that charges the budget for its
/// next turn; forwards, a skip that gives back the budget of what it skips.
struct JITCodeGenerator {
    typealias A = X86Assembler
    /// An upper bound on the bytes one block's code takes.
    static let maximumBlockBytes = (TranslationCache.maximumBlock + 1) * 200 + 512

    /// Generates block `id`, to live at host address `origin`, in `buffer`;
    /// `exit` is the trampoline's exit path. Returns the code (in `buffer`, valid until its next use).
    /// `scratch` lends the generator its lists, so that a block allocates nothing.
    /// With `guarded`, accesses are not checked: the code runs with a guarded
    /// view as guest storage, and each access instruction is a fault site,
    /// listed in `scratch.faultSites` (offsets in the code, until the next block).
    /// With `viewAddress` (guest address 0 in a view below 2^31: `LowReservation`), accesses,
    /// checked or not, name it in their displacement instead of adding r13, which caches a guest register.
    static func generate(_ b: Block, id: Int32, ops: UnsafePointer<MicroOp>, origin: UInt, exit: UInt, context: UInt,
                         guarded: Bool = false, viewAddress: Int32? = nil, listingFaults: Bool = false, buffer: A.Buffer,
                         scratch: Scratch) -> UnsafeRawBufferPointer {
        var g = JITCodeGenerator(block: b, id: id, origin: origin, exit: exit, context: context, buffer: buffer, scratch: scratch)
        g.guarded = guarded
        g.viewAddress = viewAddress
        if viewAddress != nil { g.hostRegisters = JITCodeGenerator.cacheRegistersWithR13 }
        g.listsFaults = listingFaults || guarded
        g.emitBlock(ops: ops)
        precondition(g.a.offset <= maximumBlockBytes, "a block's code outgrew its bound")
        scratch.faultSites.removeAll(keepingCapacity: true)
        for site in g.faultSites {
            scratch.faultSites.append((site.offset, g.a.offset(of: site.tail)!, site.op)) // every tail is emitted
        }
        scratch.keep(&g)
        return g.a.emitted
    }

    /// The generator's lists, kept from block to block with their capacity
    /// (moved into each generator and back, so each stays uniquely referenced
    /// and grows in place): translation allocated a dozen arrays per block.
    final class Scratch {
        fileprivate var cold: [(stub: Stub, allocation: Int)] = []
        /// Sized once for the longest block (its ops and two more): each block sets its own
        /// entries (`emitBlock`) instead of appending and removing them.
        fileprivate var inside = [A.Label?](repeating: nil, count: TranslationCache.maximumBlock + 3)
        fileprivate var depth = [Int32](repeating: 0, count: TranslationCache.maximumBlock + 3)
        fileprivate var verified: [VerifiedRange] = []
        fileprivate var allocation = Allocation(), parked: [Allocation] = []
        fileprivate var regions: [ClosedRange<Int>] = [], regionLoops: [A.Label] = []
        fileprivate var pendingFaultSites: [(offset: Int, tail: A.Label, op: UInt32)] = []
        /// The last block's fault sites: the access's offset in its code, where to resume instead (an offset
        /// in its code), the op's index.
        var faultSites: [(site: Int, target: Int, op: UInt32)] = []
        /// Loops given registers of their own by the blocks generated since the last `takeLoopAllocations`.
        private var loopAllocations = 0
        /// The largest k of a `JITContext.limitLess(k)` entry any block generated with this scratch compares with.
        private(set) var limitEntries = 4

        /// The loops given registers of their own since the last call.
        func takeLoopAllocations() -> Int {
            defer { loopAllocations = 0 }
            return loopAllocations
        }

        fileprivate func lend(to g: inout JITCodeGenerator) {
            swap(&cold, &g.cold)
            swap(&inside, &g.inside)
            swap(&depth, &g.depth)
            swap(&verified, &g.verified)
            swap(&allocation, &g.allocation)
            swap(&parked, &g.parked)
            swap(&regions, &g.regions)
            swap(&regionLoops, &g.regionLoops)
            swap(&pendingFaultSites, &g.faultSites)
        }

        fileprivate func keep(_ g: inout JITCodeGenerator) {
            // Only lists with something in them: `removeAll` costs even on an empty one.
            if !g.cold.isEmpty { g.cold.removeAll(keepingCapacity: true) }
            if !g.verified.isEmpty { g.verified.removeAll(keepingCapacity: true) }
            if !g.faultSites.isEmpty { g.faultSites.removeAll(keepingCapacity: true) }
            // The allocations are cleared where they are next used (`emitBlock`, `parkedAllocation`).
            loopAllocations += g.regions.count
            limitEntries = max(limitEntries, g.limitEntries)
            if !g.regions.isEmpty {
                g.regions.removeAll(keepingCapacity: true)
                g.regionLoops.removeAll(keepingCapacity: true)
            }
            lend(to: &g)
        }
    }

    /// Host registers that may cache guest registers: the ones the code uses
    /// for nothing else. A helper call clobbers some of them, so the stubs
    /// that call one and come back reload. The last, ebp, only in blocks
    /// without stores (in the others rbp holds the code map).
    static let cacheRegisters: [A.Reg32] = [.esi, .edi, .r8d, .r9d, .r10d, .r11d, .r14d, .ebx, .ebp]
    /// The same and r13, for blocks whose accesses name their view's address (`viewAddress`):
    /// r13 holds guest storage's address for the others only.
    static let cacheRegistersWithR13: [A.Reg32] = [.esi, .edi, .r8d, .r9d, .r10d, .r11d, .r14d, .ebx, .r13d, .ebp]
    /// This block's: `cacheRegistersWithR13` where it has a `viewAddress`, else `cacheRegisters`.
    var hostRegisters = JITCodeGenerator.cacheRegisters
    /// The largest k of a `JITContext.limitLess(k)` entry this block compares with (`limit(less:)`).
    var limitEntries = 0
    /// True if the block runs with a guarded view as storage: no access is checked (`guardedAddress`).
    var guarded = false
    /// The view's guest address 0 if it lies low enough to be named in a displacement
    /// (`LowReservation`): accesses are at [x + viewAddress + imm]; else at [r13 + x + imm].
    var viewAddress: Int32?
    /// True if the engine runs with guarded views: every access instruction is a fault site
    /// (those of a block with checks, too: bytes of a partial page at either end of the window fault).
    var listsFaults = false
    /// The guarded accesses: the access instruction's offset, its allocation's step tail, its op.
    var faultSites: [(offset: Int, tail: A.Label, op: UInt32)] = []
    /// True if rbp holds the code map (and one register fewer caches): the
    /// block stores, inside its loop if it has one. Other stores load the map's address.
    var mapInRBP = false

    var a: A
    let block: Block
    let id: Int32
    let exit: UInt
    /// Host address of the context block (`JITContext`), reached RIP-relatively.
    let context: UInt
    let entry: A.Label
    /// Where a loop on the block's start re-enters: after the loads.
    let body: A.Label
    /// Per op of the block: its label if some jump of the block leads to it
    /// (op 0's is `body`), bound where the op's code starts. Entries 0 ..< count
    /// are this block's (the array is longer: see `Scratch`).
    var inside: [A.Label?] = []
    /// Offsets from a guest register's current value whose bytes an access
    /// already checked against the limit, on every path to here (see `address`).
    var verified: [VerifiedRange] = []
    /// The block's ops (op k at `blockOps[k]`), for looking ahead.
    var blockOps: UnsafePointer<MicroOp>?

    /// Bytes x[register] + low ..< x[register] + high, known inside the limit;
    /// `wide` if known without 32-bit wrapping (x[register] + low >= 0 and
    /// x[register] + high <= limit as integers, from a check for several
    /// accesses: see `address`).
    struct VerifiedRange {
        var register: UInt8
        var low: Int32
        var high: Int32
        var wide = false
    }
    /// Per op: how many of the block's loops (ops i...k for each jump at k back to op i) hold it.
    /// Entries 0 ... count + 1 are this block's.
    var depth: [Int32] = []
    /// The guest registers cached where code is being emitted: number
    /// `current` of the block's allocations, 0 the block's (or with regions,
    /// the rest's), n > 0 region n - 1's. The others are `parked` at their
    /// numbers (the one in use leaves an empty one in its place).
    var allocation = Allocation()
    var parked: [Allocation] = []
    var current = 0
    /// Loops of the block (ops i...k) with a choice of registers of their own
    /// where the block's serves them badly (see `chooseRegions`): each is
    /// entered only at op i, through a switch of the cached registers, and
    /// left through a switch back to the rest's (`switchAllocation`).
    var regions: [ClosedRange<Int>] = []
    /// Per region: where its jumps back to its first op land, after the switch into it.
    var regionLoops: [A.Label] = []
    /// The most regions a block gets (each costs an allocation pass to consider).
    static let maximumRegions = 4

    /// One choice of guest registers to cache, with what goes with it.
    struct Allocation {
        /// Per guest register (and the write sink): its host register's index in `cacheRegisters`, or -1.
        var cached: [Int8] = []
        /// The cached guest registers, which of them the ops covered write, and which must be loaded at entry.
        var cachedList: [UInt8] = []
        var writtenList: [UInt8] = []
        var loadList: [UInt8] = []
        /// Where the first write-back under it was emitted (stores through r12, position-independent).
        var writeBackCode: Range<Int>?
        /// The memory-trap, store-hit and step tails of the stubs emitted under it.
        var memoryTrapTail: A.Label?
        var storeHitTail: A.Label?
        var stepTail: A.Label?

        /// Nothing cached (for 32 registers and the write sink), capacity kept.
        /// In place, and empty lists left alone: `removeAll` and `append` were
        /// a twentieth of translation when each block cleared five of these.
        mutating func clear() {
            if cached.count == MicroOp.writeSink + 1 {
                cached.withUnsafeMutableBufferPointer { $0.update(repeating: -1) }
            } else {
                cached = Array(repeating: -1, count: MicroOp.writeSink + 1)
            }
            if !cachedList.isEmpty { cachedList.removeAll(keepingCapacity: true) }
            if !writtenList.isEmpty { writtenList.removeAll(keepingCapacity: true) }
            if !loadList.isEmpty { loadList.removeAll(keepingCapacity: true) }
            writeBackCode = nil
            memoryTrapTail = nil
            storeHitTail = nil
            stepTail = nil
        }

        /// The cached guest registers as a bit set.
        var registers: UInt64 { cachedList.reduce(0) { $0 | 1 &<< UInt64($1) } }
    }

    /// Stubs emitted after the body, each with the allocation it was made
    /// under: values, not closures (translation allocates per block, not per instruction).
    var cold: [(stub: Stub, allocation: Int)] = []
    /// The block's shared tails, emitted after the stubs if some stub jumps
    /// there: every chain site's first resolve, and per allocation every
    /// memory trap's and every store-into-code hit's (`Allocation`).
    /// Each stub only places its op's index and address and goes there, so
    /// the write-back of the cached registers (and after a store hit the
    /// reload) is emitted once per block instead of once per access: the
    /// stubs were most of a block's code.
    var resolveTail: A.Label?

    /// A rare path, emitted after the body at its label.
    enum Stub {
        /// The budget charged for the block's ops from op `at` on (at entry, or
        /// a loop's next turn) was not there: give it back, write back what is
        /// cached (only a loop has anything cached), leave at op `at` for the slow entry.
        case slow(A.Label, at: Int, writeBack: Bool)
        /// A chain site's first target: resolve guest P `target`, patch the site at `site`, go there.
        case resolve(A.Label, target: UInt32, site: UInt)
        /// A memory trap at op `at`, the address a in `address`: on to the block's memory-trap tail.
        case memoryTrap(A.Label, at: Int, address: A.Reg32)
        /// A store at op `at` to physical a + l (a in `address`, l the relocation plus the access's displacement) of n bytes hit
        /// a code word: through the block's store-hit tail, which resumes or leaves.
        case storeHit(A.Label, resume: A.Label, address: A.Reg32, l: Int32, size: Int, at: Int)
        /// A check made for the accesses from op `at` on failed: on to the
        /// block's step tail, which gives back the budget of ops `at`..., writes
        /// back and leaves for the reference interpreter to step from op `at`
        /// (it traps at the first access out of bounds, if one is).
        case step(A.Label, at: Int)
        /// A loop's branch (`op`, taken on `condition`) found the budget short
        /// of its next turn's `turn` ops: compare; taken, on to `taken` (a `slow`
        /// stub); not taken, give the turn's charge back and go on at `notTaken`.
        case shortTurn(A.Label, MicroOp, A.Condition, turn: Int32, notTaken: A.Label, taken: A.Label)
        /// A taken branch at op `from`: jump to `target`.
        case taken(A.Label, from: Int, target: UInt32)
        /// A jalr whose target (eax) missed the jump cache's first way: the second, then `resolve`.
        case indirectMiss(A.Label)
    }

    init(block: Block, id: Int32, origin: UInt, exit: UInt, context: UInt, buffer: A.Buffer, scratch: Scratch) {
        a = A(origin: origin, buffer: buffer)
        entry = a.newLabel()
        body = a.newLabel()
        self.block = block
        self.id = id
        self.exit = exit
        self.context = context
        scratch.lend(to: &self)
    }

    // MARK: - Shapes

    static func x(_ r: UInt8) -> A.Mem { .dword[HostRegister.registers + Int32(r) * 4] }
    var count: Int32 { block.count }
    /// P of op k.
    func pc(_ k: Int) -> UInt32 { block.pc &+ UInt32(4 * k) }
    /// Budget to give back when leaving at op k: the ops after it were charged but do not run.
    func refund(_ k: Int) -> Int32 { max(0, count - Int32(k) - 1) }
    /// The op of this block at guest P `target`, if there is one (a jump there can stay inside).
    func opIndex(_ target: UInt32) -> Int? {
        let offset = target &- block.pc
        guard offset & 3 == 0, offset < UInt32(count) * 4 else { return nil }
        return Int(offset / 4)
    }

    mutating func giveBack(_ n: Int32) { if n > 0 { a.add(HostRegister.budget, n) } }

    /// The context's field at `offset`.
    func field(_ offset: Int32) -> A.Address { JITContext.field(offset, of: context) }

    /// Calls helper `h` with the context in rdi (the other arguments already placed).
    mutating func call(_ h: JITHelper) {
        a.lea(.rdi, field(0))
        a.call(JITContext.slot(h, of: context))
    }

    /// Leaves through helper `h` with (esi, edx, ecx) = (p, value, detail), then returns to the executor.
    /// The caller wrote the cached registers back.
    mutating func leave(_ h: JITHelper, pc p: UInt32, value: UInt32 = 0, detail: UInt32 = 0) {
        a.mov(.esi, p)
        a.mov(.edx, value)
        a.mov(.ecx, detail)
        call(h)
        a.jmp(absolute: exit)
    }

    /// A jump from op `k` to guest P `target`. To an op of this block it
    /// stays inside: backwards, a loop (the refund of the ops after k and the
    /// charge for the ops from the target on, in one subtraction of the ops
    /// the turn runs); forwards, the budget of the skipped ops given back.
    /// Elsewhere it gives back the refund of op k and leaves (registers
    /// written back) through a chain site.
    ///
    /// The budget's invariant, on every path: at op k, the ops k..<count are
    /// charged and not yet run (so `refund(k)` is right at every exit).
    mutating func jump(to target: UInt32, from k: Int) {
        if current > 0, let i = opIndex(target), inside[i] != nil, !regions[current - 1].contains(i) {
            // Out of the region to another op of the block: the rest's registers first.
            let n = current
            switchAllocation(to: 0)
            jump(to: target, from: k)
            select(n) // what follows this jump's code is still the region's
            return
        }
        if let i = opIndex(target), let label = landing(i) {
            if i <= k {
                let spent = a.newLabel()
                a.sub(HostRegister.budget, Int32(k - i + 1))
                a.j(.l, spent)
                a.jmp(label)
                later(.slow(spent, at: i, writeBack: true))
            } else {
                giveBack(Int32(i - k - 1))
                a.jmp(label)
            }
            return
        }
        giveBack(refund(k))
        writeBack()
        let stub = a.newLabel()
        let field = a.offset + 1
        a.jmp(stub)
        later(.resolve(stub, target: target, site: a.origin + UInt(field)))
    }

    // MARK: - The register cache

    func host(_ r: UInt8) -> A.Reg32? {
        let i = allocation.cached[Int(r)]
        return i < 0 ? nil : hostRegisters[Int(i)]
    }

    /// How much more a use inside one of the block's loops counts than one
    /// outside it when choosing registers, times the depth of nesting (up to
    /// three): the loop's ops run once per turn, the rest once. Linear in the
    /// depth, not a power: measured with callgrind on the compute guests,
    /// 16^d gave matmul's inner loop every register (20.0M -> 14.8M host
    /// instructions) but cost sieve, whose outer loop is the hotter (37.4M ->
    /// 39.9M); 16d: 15.9M and 36.7M.
    static let loopWeight = 16

    /// The weight of a use at loop depth d (see `loopWeight`).
    static func weight(depth d: Int32) -> Int { d == 0 ? 1 : Int(min(3, d)) * loopWeight }

    /// Which ops an allocation is chosen for: the whole block, one loop of
    /// it, or the rest of the block around its `regions`.
    enum Coverage {
        case block, inside(ClosedRange<Int>), outsideRegions
    }

    /// Chooses the guest registers to cache, into `allocation` (clear): the
    /// most used ones over the ops `covered`, if used often enough to repay a
    /// load and a store. A use inside d > 0 of the block's loops counts
    /// `weight(depth: d)` times. Given the registers of `other` choice,
    /// returns how many more weighted uses over those ops this one caches (else 0).
    @discardableResult
    mutating func allocate(ops: UnsafePointer<MicroOp>, loop: Bool, covering covered: Coverage = .block,
                           against other: UInt64? = nil) -> Int {
        // Per register (and the write sink): its weighted uses, counted in a buffer of this call's
        // (an array member's every `+=` checked its uniqueness); whether the block writes it, whether
        // it must be loaded at entry, whether seen.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: MicroOp.writeSink + 1) { uses -> Int in
            uses.initialize(repeating: 0)
            var written = 0 as UInt64, needsLoad = ~0 as UInt64, seen = 0 as UInt64
            // A register whose first use is a write made before any way out of the block needs no load:
            // no exit can see its host register before that write (in a loop's later turns neither).
            // The switch into a region writes back like an exit.
            var exitSeen = false
            depth.withUnsafeBufferPointer { depth in
                var ops = UnsafePointer(ops + Int(block.first)), first = 0, last = Int(count), outside = false
                switch covered {
                case .block: break
                case .inside(let r): (first, last) = (r.lowerBound, r.upperBound) // a loop's ops never end the block early
                case .outsideRegions: outside = true
                }
                ops += first
                for k in first...last {
                    let op = ops.pointee
                    ops += 1
                    if outside, regions.contains(where: { $0.contains(k) }) {
                        exitSeen = true
                        if op.kind.endsBlock { break }
                        continue
                    }
                    let (reads, writes) = op.kind.registerUse
                    let weight = JITCodeGenerator.weight(depth: depth[k])
                    // Wrapping arithmetic: registers are below 64 and the counts small (no overflow or shift-range checks).
                    if reads >= 1 { uses[Int(op.rs1)] &+= weight; seen |= 1 &<< op.rs1 }
                    if reads >= 2 { uses[Int(op.rs2)] &+= weight; seen |= 1 &<< op.rs2 }
                    exitSeen = exitSeen || op.kind.mayLeave
                    if writes {
                        let bit = 1 &<< UInt64(op.rd)
                        uses[Int(op.rd)] &+= weight
                        written |= bit
                        if seen & bit == 0, !exitSeen { needsLoad &= ~bit }
                        seen |= bit
                    }
                    if op.kind.endsBlock { break }
                }
            }
            uses[0] = 0
            uses[MicroOp.writeSink] = 0
            // The most used registers first (the lower number on a tie), while used often enough.
            let threshold = loop ? 2 : 3
            var candidates: UInt32 = 0
            for r in 1..<32 where uses[r] >= threshold { candidates |= 1 << r }
            for i in 0..<hostRegisters.count - (mapInRBP ? 1 : 0) {
                var best = 0, rest = candidates
                while rest != 0 { // the candidates from the lowest number up
                    let r = rest.trailingZeroBitCount
                    rest &= rest - 1
                    if uses[r] > uses[best] { best = r }
                }
                guard best != 0 else { break }
                candidates &= ~(1 << best)
                allocation.cached[best] = Int8(i)
                allocation.cachedList.append(UInt8(best))
                if written & 1 << best != 0 { allocation.writtenList.append(UInt8(best)) }
                if needsLoad & 1 << best != 0 { allocation.loadList.append(UInt8(best)) }
            }
            guard let other else { return 0 }
            var gain = 0
            for r in allocation.cachedList { gain += uses[Int(r)] }
            var rest = other
            while rest != 0 { // other's registers (never x0 or the write sink)
                gain -= uses[rest.trailingZeroBitCount]
                rest &= rest - 1
            }
            return gain
        }
    }

    /// The loops to give registers of their own: the block's innermost loops
    /// (ops i...k, k the last jump back to i, holding no other loop's first
    /// op), in order, up to `maximumRegions`, each when it lies inside
    /// another loop of the block (depth 2 or more), no jump from outside it
    /// leads past op i into it, and the registers chosen for it alone cache
    /// at least two more of its uses per turn than the block's choice
    /// (`allocation`, made before) does. The switches in and out cost a store
    /// and a load per cached register, each time the loop is entered: a loop
    /// the block's choice already serves keeps it (and its code), and so does
    /// a loop at depth 1, which may turn only a few times per entry (measured
    /// with callgrind: with them, parse's scanning loops cost it 0.5% more
    /// host instructions, sha256 1.7% fewer; nested ones only, matmul -4.2%,
    /// bignum -0.7%, every other compute guest within 0.2%).
    /// Leaves `allocation` the one in use at entry.
    mutating func chooseRegions(ops: UnsafePointer<MicroOp>) {
        let blockChoice = allocation.registers
        withUnsafeTemporaryAllocation(of: Int.self, capacity: Int(count) + 1) { end in
            end.initialize(repeating: -1) // per op: the last jump back to it, or -1
            var last = 0
            for k in 0...Int(count) {
                let op = ops[Int(block.first) + k]
                last = k
                if op.kind.isDirectJump, let i = opIndex(op.imm), i <= k { end[i] = k }
                if op.kind.endsBlock { break }
            }
            var i = 0
            while i <= last, regions.count < JITCodeGenerator.maximumRegions {
                guard end[i] >= 0 else { i += 1; continue }
                if let inner = (i + 1 ..< end[i] + 1).first(where: { end[$0] >= 0 }) { i = inner; continue } // not innermost
                let loop = i...end[i]
                i = end[i] + 1
                guard depth[loop.lowerBound] >= 2, loop.lowerBound > 0 || loop.upperBound < last else { continue }
                let enteredInside = (0...last).contains { k in
                    let op = ops[Int(block.first) + k]
                    guard !loop.contains(k), op.kind.isDirectJump, let t = opIndex(op.imm) else { return false }
                    return t > loop.lowerBound && loop.contains(t)
                }
                if enteredInside { continue }
                var own = parkedAllocation(regions.count + 1)
                swap(&allocation, &own)
                let gain = allocate(ops: ops, loop: true, covering: .inside(loop), against: blockChoice)
                swap(&allocation, &own)
                if gain >= 2 * JITCodeGenerator.weight(depth: depth[loop.lowerBound]) { // two uses per turn
                    parked[regions.count + 1] = own
                    regions.append(loop)
                    regionLoops.append(loop.lowerBound == 0 ? body : a.newLabel())
                } else {
                    own.clear()
                    parked[regions.count + 1] = own // its lists' capacity, for the next try
                }
            }
        }
        guard !regions.isEmpty else { return }
        // The rest of the block's choice replaces the block's; a region at op 0 is in use at entry.
        allocation.clear()
        allocate(ops: ops, loop: true, covering: .outsideRegions)
        if regions[0].lowerBound == 0 { select(1) }
    }

    /// A cleared allocation from `parked[n]` (made if there is none yet), an empty one left there.
    mutating func parkedAllocation(_ n: Int) -> Allocation {
        while parked.count <= n { parked.append(Allocation()) }
        var a = Allocation()
        swap(&a, &parked[n])
        a.clear()
        return a
    }

    /// Makes allocation n the one in use, emitting nothing.
    mutating func select(_ n: Int) {
        guard n != current else { return }
        swap(&allocation, &parked[current])
        swap(&allocation, &parked[n])
        current = n
    }

    /// Code that moves from the allocation in use to allocation n: the
    /// registers the one in use writes go back to the register file, then n's come from it.
    mutating func switchAllocation(to n: Int) {
        writeBack()
        select(n)
        reload(all: true)
    }

    /// A stub to emit after the body, under the allocation in use now.
    mutating func later(_ stub: Stub) { cold.append((stub, current)) }

    /// Where a jump from the code being emitted to op i of the block lands:
    /// inside the region back to its first op, after the switch into it.
    func landing(_ i: Int) -> A.Label? { current > 0 && i == regions[current - 1].lowerBound ? regionLoops[current - 1] : inside[i] }

    /// True if a jump to op i stays under the allocation in use: not out of a region.
    func staysInAllocation(_ i: Int) -> Bool { current == 0 || regions[current - 1].contains(i) }

    /// Loads the cached registers from the register file: at entry the ones
    /// read before written (`all` false), after a helper call or a switch of allocation all of them.
    mutating func reload(all: Bool = false) {
        for r in all ? allocation.cachedList : allocation.loadList { a.mov(host(r)!, JITCodeGenerator.x(r)) }
    }

    /// Stores the cached registers the block writes to the register file (harmless where unchanged).
    /// Every exit writes back the same registers: the first emits the stores, the others copy their bytes.
    mutating func writeBack() {
        if let code = allocation.writeBackCode {
            a.repeatBytes(code)
            return
        }
        let start = a.offset
        for r in allocation.writtenList { a.mov(JITCodeGenerator.x(r), host(r)!) }
        allocation.writeBackCode = start..<a.offset
    }

    /// dst = x[r]
    mutating func read(_ dst: A.Reg32, _ r: UInt8) {
        if let h = host(r) {
            if h != dst { a.mov(dst, h) }
        } else if r == 0 {
            a.mov(dst, 0 as UInt32) // x0 is 0 (a mov, not xor: flags may be live)
        } else {
            a.mov(dst, JITCodeGenerator.x(r))
        }
    }

    /// x[r] = src
    mutating func write(_ r: UInt8, _ src: A.Reg32) {
        if let h = host(r) { a.mov(h, src) } else { a.mov(JITCodeGenerator.x(r), src) }
    }

    /// x[r] = imm
    mutating func write(_ r: UInt8, _ imm: UInt32) {
        if let h = host(r) { a.mov(h, imm) } else { a.mov(JITCodeGenerator.x(r), imm) }
    }

    /// dst = dst op x[r]
    mutating func alu(_ k: A.ALU, _ dst: A.Reg32, _ r: UInt8) {
        if let h = host(r) { a.alu(k, dst, h) } else { a.alu(k, dst, JITCodeGenerator.x(r)) }
    }

    /// x[r] = x[r] op imm
    mutating func alu(_ k: A.ALU, _ r: UInt8, _ imm: Int32) {
        if let h = host(r) { a.alu(k, h, imm) } else { a.alu(k, JITCodeGenerator.x(r), imm) }
    }

    // MARK: - The block

    mutating func emitBlock(ops: UnsafePointer<MicroOp>) {
        blockOps = ops + Int(block.first)
        // The jump targets inside the block, and each op's loop depth (from
        // +1 at a loop's first op and -1 after its last).
        allocation.clear()
        let n = Int(count)
        precondition(n + 2 <= inside.count && n + 2 <= depth.count, "a block longer than the scratch's tables")
        inside.withUnsafeMutableBufferPointer { UnsafeMutableBufferPointer(rebasing: $0[..<n]).update(repeating: nil) }
        depth.withUnsafeMutableBufferPointer { UnsafeMutableBufferPointer(rebasing: $0[..<(n + 2)]).update(repeating: 0) }
        var loop = false
        for k in 0...Int(count) {
            let op = ops[Int(block.first) + k]
            if op.kind.isDirectJump, let i = opIndex(op.imm) {
                if inside[i] == nil { inside[i] = i == 0 ? body : a.newLabel() }
                if i <= k {
                    loop = true
                    depth[i] += 1
                    depth[k + 1] -= 1
                }
            }
            if op.kind.endsBlock { break }
        }
        // rbp holds the code map if the block stores, inside a loop if it has one.
        var level: Int32 = 0, storesOutside = false, storesInside = false, nested = false
        for k in 0...Int(count) {
            level += depth[k]
            depth[k] = level
            nested = nested || level >= 2
            let op = ops[Int(block.first) + k]
            if op.kind.storeSize != nil {
                if level > 0 { storesInside = true } else { storesOutside = true }
            }
            if op.kind.endsBlock { break }
        }
        mapInRBP = storesInside || (!loop && storesOutside)
        allocate(ops: ops, loop: loop)
        if nested { chooseRegions(ops: ops) }
        let slow = a.newLabel()
        a.bind(entry)
        // The budget may not cover the block. (Its bound was checked by whoever
        // entered it: the executor, or `resolve` when it linked a jump here; a
        // bound that shrinks unlinks every jump, see `NativeCode.run`.)
        a.sub(HostRegister.budget, count)
        a.j(.l, slow)
        later(.slow(slow, at: 0, writeBack: false))
        if mapInRBP { a.mov(HostRegister.codeMap, .qword[field(JITContext.codeMap)]) }
        reload()
        a.bind(body)
        var k = 0
        while true {
            let op = ops[Int(block.first) + k]
            if k > 0, k < Int(count), let label = inside[k] {
                a.bind(label)
                verified.removeAll(keepingCapacity: true) // more than one way in: nothing known
            }
            if k > 0, current == 0, !regions.isEmpty, let n = regions.firstIndex(where: { $0.lowerBound == k }) {
                switchAllocation(to: n + 1) // into a loop with registers of its own
                a.bind(regionLoops[n])
            }
            if !op.kind.endsBlock, !joined(k + 1), !joined(k + 2), case let second = ops[Int(block.first) + k + 1],
               !second.kind.endsBlock, // so op k + 2 is the block's
               case let third = ops[Int(block.first) + k + 2], triple(op, second, third, at: k) {
                forget(op.rd) // the triple writes the three ops' rd
                forget(second.rd)
                forget(third.rd)
                k += 3 // three guest instructions (all still counted)
                continue
            }
            if !op.kind.endsBlock, !joined(k + 1), pair(op, ops[Int(block.first) + k + 1]) {
                forget(op.rd) // the pair writes the two ops' rd
                forget(ops[Int(block.first) + k + 1].rd)
                k += 2 // two guest instructions (both still counted)
                continue
            }
            emit(op, at: k)
            if op.kind.registerUse.writes { forget(op.rd) }
            if op.kind.endsBlock { break }
            if current > 0, k == regions[current - 1].upperBound { switchAllocation(to: 0) } // out of the loop, on to the rest
            k += 1
        }
        var next = 0
        while next < cold.count { // a taken branch's stub may add a resolve or loop stub
            select(cold[next].allocation)
            emit(cold[next].stub)
            next += 1
        }
        if let tail = resolveTail { emitResolveTail(tail) }
        for n in 0...regions.count { // each allocation's tails, under it
            select(n)
            if let tail = allocation.memoryTrapTail { emitMemoryTrapTail(tail) }
            if let tail = allocation.storeHitTail { emitStoreHitTail(tail) }
            if let tail = allocation.stepTail { emitStepTail(tail) }
        }
    }

    /// True if some jump of the block leads to op k: code emitted for the ops before it cannot run on into it.
    func joined(_ k: Int) -> Bool { k < Int(count) && inside[k] != nil }

    /// Ops k to k + 2 (no jump leads to k + 1 or k + 2) as one shape, if they
    /// make one (`scaledLoad`, `bitMask`, `spreadCarry`): true if emitted.
    mutating func triple(_ first: MicroOp, _ second: MicroOp, _ third: MicroOp, at k: Int) -> Bool {
        switch first.kind { // as in `pair`: only the matchers whose first op this can be
        case .slli: return scaledLoad(first, second, third, at: k) || bitMask(first, second, third)
        case .add: return spreadCarry(first, second, third, at: k)
        default: return false
        }
    }

    /// Ops k and k + 1 (no jump leads to k + 1) as one shape, if they make
    /// one (`scaledIndex`, `carry`, `negatedLess`, `wideProduct`): true if emitted.
    mutating func pair(_ first: MicroOp, _ second: MicroOp) -> Bool {
        switch first.kind { // only the matcher whose first op this can be (they ran for every op: a twentieth of translation)
        case .slli: return scaledIndex(first, second)
        case .add: return carry(first, second)
        case .slt, .sltu, .slti, .sltiu: return negatedLess(first, second)
        case .mul, .mulh, .mulhu: return wideProduct(first, second)
        default: return false
        }
    }

    /// A chain site's first use (target P in esi, the site's address in rdx): resolve, patch, go there.
    mutating func emitResolveTail(_ tail: A.Label) {
        a.bind(tail)
        a.mov(.ecx, 0)
        call(.resolve)
        a.test(.rax, .rax)
        a.j(.e, absolute: exit)
        a.jmp(.rax)
    }

    /// Puts P of op k (k in ecx) in esi, and gives back the budget of the
    /// ops after it (and of op k itself if `unrun`: it is left before it runs).
    mutating func placeOp(unrun: Bool = false) {
        a.mov(.esi, block.pc)
        a.lea(.esi, A.Address(base: .rsi, index: .rcx, scale: 4))
        a.add(HostRegister.budget, unrun ? count : count - 1)
        a.alu(.sub, HostRegister.budget, .rcx)
    }

    /// The memory trap of op k (ecx) at address a (edx): registers written back, the budget of the ops after k given back.
    mutating func emitMemoryTrapTail(_ tail: A.Label) {
        a.bind(tail)
        writeBack()
        placeOp()
        a.mov(.ecx, TrapCause.memory.rawValue)
        call(.leaveTrap)
        a.jmp(absolute: exit)
    }

    /// A failed check for op k (ecx) and maybe accesses after it: registers
    /// written back, the budget of ops k... given back (op k does not run
    /// here), leave for the reference interpreter to step from op k.
    mutating func emitStepTail(_ tail: A.Label) {
        a.bind(tail)
        writeBack()
        placeOp(unrun: true)
        a.mov(.edx, UInt32(bitPattern: id)) // which block: one that faulted is made again with checks
        call(.leaveStep)
        a.jmp(absolute: exit)
    }

    /// Called by op k's store-hit stub (k in ecx) with the physical address
    /// in eax and the size in edx: invalidates what the store touched and
    /// returns to resume, cached registers reloaded (the helper clobbers
    /// them); or, if the store rewrote this very block, leaves at op k + 1
    /// so that the next instruction is the new one.
    mutating func emitStoreHitTail(_ tail: A.Label) {
        a.bind(tail)
        a.push(.rcx) // k; and the helper call sees a 16-byte aligned stack again
        writeBack()
        a.mov(.esi, .eax)
        a.mov(.ecx, UInt32(bitPattern: id))
        call(.storeHitCode)
        a.pop(.rcx)
        a.test(.eax, .eax)
        let rewritten = a.newLabel()
        a.j(.ne, rewritten)
        reload(all: true) // everything was written back before the call
        a.ret()
        a.bind(rewritten)
        a.add(.rsp, 8) // the stub's return address: this path does not return
        a.add(.ecx, 1)
        placeOp() // P of op k + 1, and the budget of the ops after k: count - 1 - k
        a.add(HostRegister.budget, 1)
        a.xor(.edx, .edx)
        a.xor(.ecx, .ecx)
        call(.leaveRewritten)
        a.jmp(absolute: exit)
    }

    /// At `label`: gives back the budget of ops i... (charged, not run), writes
    /// back what is cached if `writeBack`, leaves at op i through helper `h`.
    mutating func leave(at i: Int, from label: A.Label, writeBack cached: Bool, through h: JITHelper) {
        a.bind(label)
        a.add(HostRegister.budget, count - Int32(i))
        if cached { writeBack() }
        leave(h, pc: pc(i))
    }

    mutating func emit(_ stub: Stub) {
        switch stub {
        case .slow(let label, let i, let cached):
            leave(at: i, from: label, writeBack: cached, through: .leaveSlow)
        case .shortTurn(let label, let op, let c, let turn, let notTaken, let taken):
            a.bind(label)
            compare(op)
            a.j(c, taken) // charged for ops i... (the turn too), as the slow stub gives back
            a.add(HostRegister.budget, turn)
            a.jmp(notTaken)
        case .step(let label, let k):
            a.bind(label)
            a.mov(.ecx, UInt32(k))
            if allocation.stepTail == nil { allocation.stepTail = a.newLabel() }
            a.jmp(allocation.stepTail!)
        case .resolve(let label, let target, let site):
            a.bind(label)
            a.mov(.esi, target)
            a.mov(.rdx, UInt64(site))
            if resolveTail == nil { resolveTail = a.newLabel() }
            a.jmp(resolveTail!)
        case .memoryTrap(let label, let k, let address):
            a.bind(label)
            if address != .edx { a.mov(.edx, address) }
            a.mov(.ecx, UInt32(k))
            if allocation.memoryTrapTail == nil { allocation.memoryTrapTail = a.newLabel() }
            a.jmp(allocation.memoryTrapTail!)
        case .storeHit(let label, let resume, let address, let l, let n, let k):
            a.bind(label)
            a.lea(.eax, address.q + l) // physical = a + l, wrapping at 32 bits (it is below 2^32)
            a.mov(.edx, UInt32(n))
            a.mov(.ecx, UInt32(k))
            if allocation.storeHitTail == nil { allocation.storeHitTail = a.newLabel() }
            a.call(allocation.storeHitTail!)
            a.jmp(resume)
        case .taken(let label, let k, let target):
            a.bind(label)
            jump(to: target, from: k)
        case .indirectMiss(let label):
            a.bind(label)
            let second = JITCodeGenerator.firstWay + Int32(JumpCache.entryBytes), miss = a.newLabel()
            a.cmp(.eax, .dword[second])
            a.j(.ne, miss)
            a.jmp(.qword[second + 8])
            a.bind(miss)
            a.mov(.esi, .eax)
            a.xor(.edx, .edx)
            a.mov(.ecx, 1)
            call(.resolve)
            a.test(.rax, .rax)
            a.j(.e, absolute: exit)
            a.jmp(.rax)
        }
    }

    mutating func emit(_ op: MicroOp, at k: Int) {
        let rd = op.rd, rs1 = op.rs1, rs2 = op.rs2
        let imm = Int32(bitPattern: op.imm)
        switch op.kind {
        case .add: binary(.add, rd, rs1, rs2)
        case .sub: binary(.sub, rd, rs1, rs2)
        case .xor: binary(.xor, rd, rs1, rs2)
        case .or: binary(.or, rd, rs1, rs2)
        case .and: binary(.and, rd, rs1, rs2)
        case .sll: shift(.shl, rd, rs1, rs2)
        case .srl: shift(.shr, rd, rs1, rs2)
        case .sra: shift(.sar, rd, rs1, rs2)
        case .slt, .sltu, .slti, .sltiu: setLess(op)
        case .mul:
            let d: A.Reg32
            var other = rs2
            if let hd = host(rd), rd == rs1 || rd != rs2 {
                d = hd
                read(d, rs1)
            } else if let hd = host(rd) { // rd = rs2: multiplication commutes
                d = hd
                other = rs1
            } else {
                d = .eax
                read(d, rs1)
            }
            if let h = host(other) { a.imul(d, h) } else { a.imul(d, JITCodeGenerator.x(other)) }
            if d == .eax { write(rd, .eax) }
        case .mulh, .mulhsu, .mulhu:
            // The 64-bit product of the (sign- or zero-) extended operands; its high half.
            read(.eax, rs1)
            read(.ecx, rs2)
            if op.kind != .mulhu { a.movsxd(.rax, .eax) }
            if op.kind == .mulh { a.movsxd(.rcx, .ecx) }
            a.imul(.rax, .rcx)
            a.shift(.shr, .rax, 32)
            write(rd, .eax)
        case .div, .rem: signedDivide(rd, rs1, rs2, remainder: op.kind == .rem)
        case .divu, .remu: unsignedDivide(rd, rs1, rs2, remainder: op.kind == .remu)
        case .addi:
            if rs1 == 0 {
                write(rd, op.imm)
            } else if rd == rs1 {
                if imm != 0 { alu(.add, rd, imm) }
            } else if imm == 0 { // mv
                if let hd = host(rd) { read(hd, rs1) } else if let hs = host(rs1) { a.mov(JITCodeGenerator.x(rd), hs) } else {
                    read(.eax, rs1)
                    write(rd, .eax)
                }
            } else if let hd = host(rd), let hs = host(rs1) {
                a.lea(hd, hs.q + imm)
            } else if let hd = host(rd) {
                read(hd, rs1)
                a.add(hd, imm)
            } else {
                read(.eax, rs1)
                a.add(.eax, imm)
                write(rd, .eax)
            }
        case .xori: immediate(.xor, rd, rs1, imm)
        case .ori: immediate(.or, rd, rs1, imm)
        case .andi: immediate(.and, rd, rs1, imm)
        case .slli, .srli, .srai:
            let d = host(rd) ?? .eax
            read(d, rs1)
            a.shift(op.kind == .slli ? .shl : op.kind == .srli ? .shr : .sar, d, UInt8(op.imm & 31))
            if d == .eax { write(rd, .eax) }
        case .constant: write(rd, op.imm)
        case .nop: break
        case .lb, .lbu, .lh, .lhu, .lw: load(op, at: k)
        case .sb, .sh, .sw: store(op, at: k)
        case .beq: branch(.e, op, at: k)
        case .bne: branch(.ne, op, at: k)
        case .blt: branch(.l, op, at: k)
        case .bge: branch(.ge, op, at: k)
        case .bltu: branch(.b, op, at: k)
        case .bgeu: branch(.ae, op, at: k)
        case .continueAt: jump(to: op.imm, from: k)
        case .jal:
            if Int(rd) != MicroOp.writeSink { write(rd, pc(k) &+ 4) }
            jump(to: op.imm, from: k)
        case .jalr: indirectJump(op, at: k)
        case .system:
            giveBack(refund(k))
            writeBack()
            leave(.leaveSystem, pc: pc(k), value: op.imm, detail: UInt32(rd))
        case .ecall:
            giveBack(refund(k))
            writeBack()
            leave(.leaveTrap, pc: pc(k), value: 0, detail: TrapCause.svc.rawValue)
        case .ebreak:
            giveBack(refund(k))
            writeBack()
            leave(.leaveTrap, pc: pc(k), value: 0, detail: TrapCause.breakpoint.rawValue)
        case .illegal:
            giveBack(refund(k))
            writeBack()
            leave(.leaveTrap, pc: pc(k), value: op.imm, detail: TrapCause.illegal.rawValue)
        }
    }
}
