import Machine
import TrapVMM

/// Block-caching binary translation, the way VMware made x86 virtualizable:
/// guest code is translated block by block into a pre-decoded form a tight
/// executor runs; innocuous instructions are copied (as micro-ops), every
/// system instruction, privileged or not, becomes a callout to the control
/// program's interpreter routines. Nothing sensitive ever runs on the real
/// machine, so every profile, pg32x included, is virtualized.
///
/// It is an `ExecutionEngine` of TrapVMM's control program, used for
/// virtual supervisor mode and (by default) virtual user mode too.
public final class BinaryTranslator: ExecutionEngine {
    /// Ops each VM's translation cache holds before it is flushed.
    public let cacheOps: Int
    private var caches = PerVM<TranslationCache>()
    /// Per VM: the reference interpreter over the VM's storage, for the few
    /// instructions a whole block cannot run (the end of a budget, a block
    /// past a bound that shrank). Trap policy `.report`, registers shared.
    private var steppers = PerVM<Machine>()

    /// The default cache size: 256 Ki ops, about 6 MiB reserved per VM (the
    /// largest built-in guest uses 34 KB; `bench run --tcache-ops` raises it).
    public static let defaultCacheOps = 1 << 18

    /// Makes the engine; `cacheOps` bounds each VM's translation cache.
    public init(cacheOps: Int = BinaryTranslator.defaultCacheOps) {
        self.cacheOps = cacheOps
    }

    /// The translation counters of `vm` (zero if it never ran translated).
    public func counters(for vm: VirtualMachine) -> TranslationCounters {
        caches[vm: vm]?.counters ?? TranslationCounters()
    }

    /// Bytes reserved for `vm`'s translation cache, and bytes in use.
    public func memory(for vm: VirtualMachine) -> (reserved: Int, used: Int) {
        guard let c = caches[vm: vm] else { return (0, 0) }
        return (c.memoryBytes, c.usedBytes)
    }

    /// Invalidates translations made from the written words (or, if unknown, makes every block re-verify).
    public func storageWritten(_ vm: VirtualMachine, range: Range<Int>?) {
        caches[vm: vm]?.storageWritten(range: range)
    }

    /// See `ExecutionEngine`.
    public func run(_ vm: VirtualMachine, budget: UInt64, in monitor: ControlProgram) -> EngineExit {
        let cache = self.cache(for: vm)
        return execute(cache, vm: vm, monitor: monitor, budget: budget)
    }

    private func cache(for vm: VirtualMachine) -> TranslationCache {
        caches.state(of: vm) { TranslationCache(storageSize: vm.region.size, opCapacity: cacheOps) }
    }

    private func stepper(for vm: VirtualMachine, in monitor: ControlProgram) -> Machine {
        steppers.state(of: vm) { Machine.reportingInterpreter(over: vm.region.range, of: monitor.machine) }
    }

    // MARK: - The executor

    /// Guest P of op `i` of the block whose first op is `first`, at `blockPC`,
    /// for a trap and for a store that rewrote its own block. Not inlined, and
    /// jal and jalr link from their rs2 (`MicroOp.translate`), on purpose:
    /// with P computed in place from the op index, the optimizer kept P of the
    /// current op in a register of its own and advanced it at every op.
    /// Without that, bt's own host instructions (callgrind, the bt run less
    /// the interpreter's) fell 3-7% on every compute guest.
    @inline(never)
    private static func address(ofOp i: Int, _ first: Int, _ blockPC: UInt32) -> UInt32 {
        blockPC &+ UInt32(truncatingIfNeeded: (i &- first) &<< 2)
    }

    /// A taken branch at op `i` to `target`: a side exit, whose ops after `i` were
    /// charged but do not run (false: leave the block), or a loop on its own block
    /// with the budget for another turn, which re-enters it in place with no
    /// transition at all (true: `i` is the block's first op again). The six
    /// branch kinds share it: a static function of plain values and inout
    /// locals, inlined (measured alone against six copies: 0.1-1.3% more of
    /// bt's own host instructions; closures over the executor's locals, or one
    /// taken path reached by a labelled break, cost 3-7%).
    @inline(__always)
    private static func taken(_ target: UInt32, at i: inout Int, _ first: Int, _ count: Int, _ blockPC: UInt32,
                              _ remaining: inout Int, _ selfLoops: inout UInt64, _ pc: inout UInt32,
                              _ slot: inout Int, _ exitOp: inout Int) -> Bool {
        let left = remaining &+ count &- (i &- first &+ 1)
        if target == blockPC, left >= count {
            remaining = left &- count
            selfLoops &+= 1
            i = first
            return true
        }
        remaining = left
        pc = target
        slot = 2
        exitOp = i
        return false
    }

    /// Runs translated blocks of `vm` for at most `budget` guest instructions.
    ///
    /// Kept lean for the register allocator: the budget is charged a whole
    /// block at its entry (refunded on an early exit), block fields are read
    /// through a pointer, and every rare path leaves the loop. A branch back
    /// to its own block's start re-enters it in place: R cannot change inside
    /// the executor and a store into the block leaves it, so only the budget
    /// needs checking. Blocks are superblocks: a branch not taken runs on
    /// into the next op; a taken one is a side exit that refunds the budget
    /// charged for the ops after it (`taken`). One case for all six branch
    /// kinds, with the condition chosen inside, measured 6-11% slower.
    @inline(never)
    private func execute(_ c: TranslationCache, vm: VirtualMachine, monitor: ControlProgram, budget: UInt64) -> EngineExit {
        let x = monitor.machine.unsafeRegisterFile
        let w = vm.region.size
        let l = vm.psw.l
        let limit = vm.psw.accessLimit(storageSize: w)
        // SAFETY: the VM's region [k, k + w) lies inside real storage; only offsets below l + limit <= w are used.
        let memory = monitor.machine.storage.base + vm.region.base
        let base = memory + Int(l)
        let ops = c.ops, blocks = c.blocks, codeBits = c.codeBits, links = c.links
        let epoch = c.epoch
        var pc = vm.psw.pc
        var remaining = Int(clamping: budget)
        var stepped = 0, chained: UInt64 = 0, selfLoops: UInt64 = 0
        // The block just left and its exit: slot 0 (jal) or 1 (fall-through), or
        // 2 with `exitOp` the op whose verified link to follow; prev -1 if none.
        var prev: Int32 = -1, prevSlot = 0, exitOp = 0
        var event = EngineEvent.budget

        blockLoop: while remaining > 0 {
            var id: Int32 = -1
            if prev >= 0 {
                if prevSlot == 2 {
                    // A taken branch or jalr: its op's link is an inline cache of the last target.
                    let cached = links[exitOp]
                    if cached >= 0, blocks[Int(cached)].valid, blocks[Int(cached)].pc == pc { id = cached }
                } else {
                    id = prevSlot == 0 ? blocks[Int(prev)].next0 : blocks[Int(prev)].next1
                }
                chained &+= id >= 0 ? 1 : 0
            }
            if id < 0 {
                guard let found = c.block(pc: pc, l: l, orTranslate: { c.translate(pc: pc, l: l, limit: limit, memory: memory) })
                else {
                    event = .trap(.memory, value: pc) // the fetch traps; it is not counted
                    break blockLoop
                }
                id = found
                if prev >= 0, blocks[Int(prev)].valid {
                    if prevSlot == 2 { links[exitOp] = id } else { c.link(prev, slot: prevSlot, to: id) }
                }
            }
            let bp = blocks + Int(id)
            let count = Int(bp.pointee.count)
            if TranslationCache.needsSlowEntry(bp, remaining: remaining, limit: limit, epoch: epoch) {
                var psw = vm.psw
                psw.pc = pc
                switch c.slowEntry(bp, psw: psw, storageSize: w, remaining: remaining, memory: memory,
                                   stepper: stepper(for: vm, in: monitor)) {
                case .retry:
                    prev = -1
                    continue blockLoop
                case .stepped(let ran, let next, let exitEvent):
                    stepped += ran
                    remaining -= ran
                    pc = next
                    prev = -1
                    guard let exitEvent else { continue blockLoop }
                    event = exitEvent
                    break blockLoop
                }
            }
            remaining &-= count // count <= remaining, checked above
            let first = Int(bp.pointee.first), blockPC = bp.pointee.pc
            var i = first
            var slot = -1
            opLoop: while true {
                let op = ops[i]
                let rd = Int(op.rd), rs1 = Int(op.rs1), rs2 = Int(op.rs2)
                switch op.kind {
                case .add: x[rd] = Arithmetic.add(x[rs1], x[rs2])
                case .sub: x[rd] = Arithmetic.sub(x[rs1], x[rs2])
                case .sll: x[rd] = Arithmetic.sll(x[rs1], x[rs2])
                case .slt: x[rd] = Arithmetic.slt(x[rs1], x[rs2])
                case .sltu: x[rd] = Arithmetic.sltu(x[rs1], x[rs2])
                case .xor: x[rd] = x[rs1] ^ x[rs2]
                case .srl: x[rd] = Arithmetic.srl(x[rs1], x[rs2])
                case .sra: x[rd] = Arithmetic.sra(x[rs1], x[rs2])
                case .or: x[rd] = x[rs1] | x[rs2]
                case .and: x[rd] = x[rs1] & x[rs2]
                case .mul: x[rd] = Arithmetic.mul(x[rs1], x[rs2])
                case .mulh: x[rd] = Arithmetic.mulh(x[rs1], x[rs2])
                case .mulhsu: x[rd] = Arithmetic.mulhsu(x[rs1], x[rs2])
                case .mulhu: x[rd] = Arithmetic.mulhu(x[rs1], x[rs2])
                case .div: x[rd] = Arithmetic.div(x[rs1], x[rs2])
                case .divu: x[rd] = Arithmetic.divu(x[rs1], x[rs2])
                case .rem: x[rd] = Arithmetic.rem(x[rs1], x[rs2])
                case .remu: x[rd] = Arithmetic.remu(x[rs1], x[rs2])
                case .addi: x[rd] = Arithmetic.add(x[rs1], op.imm)
                case .slti: x[rd] = Arithmetic.slt(x[rs1], op.imm)
                case .sltiu: x[rd] = Arithmetic.sltu(x[rs1], op.imm)
                case .xori: x[rd] = x[rs1] ^ op.imm
                case .ori: x[rd] = x[rs1] | op.imm
                case .andi: x[rd] = x[rs1] & op.imm
                case .slli: x[rd] = Arithmetic.sll(x[rs1], op.imm)
                case .srli: x[rd] = Arithmetic.srl(x[rs1], op.imm)
                case .srai: x[rd] = Arithmetic.sra(x[rs1], op.imm)
                case .constant: x[rd] = op.imm
                case .nop: break
                case .lb:
                    let a = x[rs1] &+ op.imm
                    guard Int(a) &+ 1 <= limit else { event = .trap(.memory, value: a); break opLoop }
                    // SAFETY: a + 1 <= limit.
                    x[rd] = UInt32(bitPattern: Int32(base.load(fromByteOffset: Int(a), as: Int8.self)))
                case .lbu:
                    let a = x[rs1] &+ op.imm
                    guard Int(a) &+ 1 <= limit else { event = .trap(.memory, value: a); break opLoop }
                    // SAFETY: a + 1 <= limit.
                    x[rd] = UInt32(base.load(fromByteOffset: Int(a), as: UInt8.self))
                case .lh:
                    let a = x[rs1] &+ op.imm
                    guard Int(a) &+ 2 <= limit else { event = .trap(.memory, value: a); break opLoop }
                    // SAFETY: a + 2 <= limit.
                    x[rd] = UInt32(bitPattern: Int32(Int16(littleEndian: base.loadUnaligned(fromByteOffset: Int(a), as: Int16.self))))
                case .lhu:
                    let a = x[rs1] &+ op.imm
                    guard Int(a) &+ 2 <= limit else { event = .trap(.memory, value: a); break opLoop }
                    // SAFETY: a + 2 <= limit.
                    x[rd] = UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: Int(a), as: UInt16.self)))
                case .lw:
                    let a = x[rs1] &+ op.imm
                    guard Int(a) &+ 4 <= limit else { event = .trap(.memory, value: a); break opLoop }
                    // SAFETY: a + 4 <= limit.
                    x[rd] = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: Int(a), as: UInt32.self))
                case .sb, .sh, .sw:
                    let a = x[rs1] &+ op.imm
                    let n = op.kind.storeSize.unsafelyUnwrapped // this case lists stores only
                    guard Int(a) &+ n <= limit else { event = .trap(.memory, value: a); break opLoop }
                    // SAFETY: a + n <= limit; storeBytes allows unaligned offsets.
                    if n == 4 {
                        base.storeBytes(of: x[rs2].littleEndian, toByteOffset: Int(a), as: UInt32.self)
                    } else if n == 1 {
                        base.storeBytes(of: UInt8(truncatingIfNeeded: x[rs2]), toByteOffset: Int(a), as: UInt8.self)
                    } else {
                        base.storeBytes(of: UInt16(truncatingIfNeeded: x[rs2]).littleEndian, toByteOffset: Int(a), as: UInt16.self)
                    }
                    let phys = Int(l) &+ Int(a)
                    let w0 = phys >> 2, w1 = (phys + n - 1) >> 2
                    if (codeBits[w0 >> 5] >> UInt32(w0 & 31)) & 1 | (codeBits[w1 >> 5] >> UInt32(w1 & 31)) & 1 != 0,
                       c.selfModified(phys: phys, size: n, current: bp.pointee) {
                        // The store rewrote this very block: the next instruction must be the new one.
                        remaining &+= count &- (i &- first &+ 1)
                        pc = Self.address(ofOp: i &+ 1, first, blockPC)
                        prev = -1
                        continue blockLoop
                    }
                case .continueAt:
                    pc = op.imm
                    slot = 1
                    break opLoop
                // A taken branch: Self.taken says whether it loops on its block or leaves it.
                case .beq: if x[rs1] == x[rs2] { if Self.taken(op.imm, at: &i, first, count, blockPC, &remaining, &selfLoops, &pc, &slot, &exitOp) { continue opLoop } else { break opLoop } }
                case .bne: if x[rs1] != x[rs2] { if Self.taken(op.imm, at: &i, first, count, blockPC, &remaining, &selfLoops, &pc, &slot, &exitOp) { continue opLoop } else { break opLoop } }
                case .blt: if Arithmetic.lessThan(x[rs1], x[rs2]) { if Self.taken(op.imm, at: &i, first, count, blockPC, &remaining, &selfLoops, &pc, &slot, &exitOp) { continue opLoop } else { break opLoop } }
                case .bge: if !Arithmetic.lessThan(x[rs1], x[rs2]) { if Self.taken(op.imm, at: &i, first, count, blockPC, &remaining, &selfLoops, &pc, &slot, &exitOp) { continue opLoop } else { break opLoop } }
                case .bltu: if Arithmetic.lessThanUnsigned(x[rs1], x[rs2]) { if Self.taken(op.imm, at: &i, first, count, blockPC, &remaining, &selfLoops, &pc, &slot, &exitOp) { continue opLoop } else { break opLoop } }
                case .bgeu: if !Arithmetic.lessThanUnsigned(x[rs1], x[rs2]) { if Self.taken(op.imm, at: &i, first, count, blockPC, &remaining, &selfLoops, &pc, &slot, &exitOp) { continue opLoop } else { break opLoop } }
                case .jal:
                    x[rd] = blockPC &+ UInt32(op.rs2) &<< 2 // P + 4: rs2 is its place in the block, plus one
                    pc = op.imm
                    slot = 0
                    break opLoop
                case .jalr:
                    let target = (x[rs1] &+ op.imm) & ~1
                    x[rd] = blockPC &+ UInt32(op.rs2) &<< 2
                    pc = target
                    slot = 2 // a computed target: chained through its op's one-entry inline cache
                    exitOp = i
                    break opLoop
                case .system:
                    event = .system(SystemInstruction(index: rd), word: op.imm)
                    break opLoop
                case .ecall:
                    event = .trap(.svc, value: 0)
                    break opLoop
                case .ebreak:
                    event = .trap(.breakpoint, value: 0)
                    break opLoop
                case .illegal:
                    event = .trap(.illegal, value: op.imm)
                    break opLoop
                }
                i &+= 1 // op indices are bounded by the cache size: no overflow check needed
            }
            if case .budget = event {
                prev = id
                prevSlot = slot
                continue blockLoop
            }
            // A trap or callout at op i: it counts, the rest of the block does not; P is at it.
            remaining &+= count &- (i &- first &+ 1)
            pc = Self.address(ofOp: i, first, blockPC)
            break blockLoop
        }
        let ran = Int(clamping: budget) - remaining
        c.counters.chained += chained &+ selfLoops
        c.counters.instructionsExecuted += UInt64(ran - stepped)
        c.counters.instructionsStepped += UInt64(stepped)
        vm.counters.translated += UInt64(ran - stepped)
        vm.counters.interpreted += UInt64(stepped)
        vm.psw.pc = pc
        return EngineExit(ran: UInt64(ran), event: event)
    }
}
