import Machine

/// The fixed host register roles of generated code, declared once. rbx,
/// r12, r13 and r15 are callee-saved in the System V ABI, so they survive
/// every call to a helper; rax, rcx and rdx are scratch (rdi, rsi, rdx and
/// rcx carry a helper's arguments); the rest cache guest registers
/// (`JITCodeGenerator.cacheRegisters`). The access limit and the code map
/// are read from the context where needed: a register each was worth less
/// than two more cached guest registers.
enum HostRegister {
    typealias R = X86Assembler.Reg64
    /// The JIT context (`JITContext`).
    static let context = R.rbx
    /// The guest register file (x0..x31, then the write sink).
    static let registers = R.r12
    /// Host address of guest virtual address 0 (storage + VM base + l).
    static let memory = R.r13
    /// Guest instructions left in the budget.
    static let budget = R.r15
}

/// The context block generated code addresses through rbx: where the guest
/// lives, the budget, how the code left, and the helper table. Offsets are
/// fixed here and only here.
enum JITContext {
    static let registers: Int32 = 0
    static let memory: Int32 = 8
    /// The access limit min(b, w - l): an n-byte access at a is valid iff a + n <= limit.
    static let limit: Int32 = 16
    static let budget: Int32 = 24
    /// The code map: a byte per guest physical word, nonzero where translations came from.
    static let codeMap: Int32 = 32
    /// Where the entry trampoline jumps.
    static let target: Int32 = 40
    /// `JITExit` raw value, then P, value and detail (u32 each).
    static let reason: Int32 = 48
    static let pc: Int32 = 52
    static let value: Int32 = 56
    static let detail: Int32 = 60
    /// An unretained reference to the `NativeCode` that owns the context.
    static let owner: Int32 = 64
    /// The jump cache: `JumpCache.entries` entries of (P: u32, unused: u32, code address: u64).
    static let jumpCache: Int32 = 72
    /// limit - n for n = 1, 2, 4 (signed 64-bit): an n-byte access at a is valid iff a <= limit - n.
    static func limitLess(_ n: Int) -> Int32 { n == 1 ? 80 : n == 2 ? 88 : 96 }
    /// The helper table: one function pointer per `JITHelper`.
    static let helpers: Int32 = 104
    static let size = Int(helpers) + 8 * JITHelper.allCases.count

    /// The operand of helper `h` in the table.
    static func slot(_ h: JITHelper) -> X86Assembler.Mem { .qword[HostRegister.context + (helpers + 8 * Int32(h.rawValue))] }
}

/// The runtime entry points generated code calls: the one way it reaches
/// Swift (System V: context in rdi, then esi, edx, ecx).
enum JITHelper: Int, CaseIterable {
    /// A system instruction at P (esi = P, edx = word, ecx = its index): leave for an interpreter routine.
    case leaveSystem
    /// A trap at P (esi = P, edx = value, ecx = cause): leave for the dispatcher.
    case leaveTrap
    /// The block at P cannot run whole (budget or bound): leave for the slow entry.
    case leaveSlow
    /// A store rewrote the running block: leave, resuming at P.
    case leaveRewritten
    /// Find (or translate) the block at P (esi) and patch the site (rdx) to
    /// jump there, or (ecx = 1) enter it in the jump cache; returns its
    /// entry, or 0 having recorded a `lookup` exit.
    case resolve
    /// A store to guest physical esi of edx bytes in block ecx may have hit
    /// translated code: invalidate; returns nonzero if block ecx itself was hit.
    case storeHitCode
}

/// Why generated code returned to the executor.
enum JITExit: UInt32 {
    case slow = 0, lookup, trap, system, rewritten
}

/// A place in generated code that is patched to chain blocks: a jump's rel32.
struct ChainSite {
    /// Host address of the 4-byte field.
    var address: UInt
    /// The field's value when unchained (the rel32 to its resolve stub).
    var unchained: UInt32
}

/// The jump cache computed jumps (jalr) look their target up in, from
/// generated code: direct-mapped by P, like QEMU's per-CPU jump cache. It
/// holds blocks of the current relocation only (cleared when l changes),
/// and an entry goes when its block is invalidated.
enum JumpCache {
    static let entries = 1024
    static let entryBytes = 16
    /// No guest P is odd: an entry holding this never hits.
    static let empty: UInt32 = 0xFFFF_FFFF
    /// The entry index of guest P.
    static func index(_ pc: UInt32) -> Int { Int((pc >> 2) & UInt32(entries - 1)) }
}

/// Emits x86-64 code for one translated block.
///
/// Layout: the entry checks the bound and charges the budget for the whole
/// block, then loads the block's hottest guest registers into host
/// registers (a block-local register cache, as QEMU's TCG does with its
/// globals); the body follows op by op; every exit writes the cached
/// registers that the block writes back to the register file. Every rare
/// path (a trap, the budget, a store into code, a taken branch) is a stub
/// after the body, so the hot path falls through. Exits to other blocks are
/// `jmp rel32` chain sites that first lead to a stub calling `resolve`,
/// which patches them (it receives the site's address) to jump straight to
/// the target. A branch back to the block's own start is a loop inside the
/// block: it recharges the budget and runs on with the registers cached.
struct JITCodeGenerator {
    typealias A = X86Assembler
    /// An upper bound on the bytes one block's code takes.
    static let maximumBlockBytes = (TranslationCache.maximumBlock + 1) * 200 + 512

    /// Generates block `id`, to live at host address `origin`, in `buffer`;
    /// `exit` is the trampoline's exit path. Returns the code (in `buffer`, valid until its next use).
    static func generate(_ b: Block, id: Int32, ops: UnsafePointer<MicroOp>, origin: UInt, exit: UInt,
                         buffer: A.Buffer) -> UnsafeRawBufferPointer {
        var g = JITCodeGenerator(block: b, id: id, origin: origin, exit: exit, buffer: buffer)
        g.emitBlock(ops: ops)
        precondition(g.a.offset <= maximumBlockBytes, "a block's code outgrew its bound")
        return g.a.emitted
    }

    /// Host registers that may cache guest registers: the ones the code uses
    /// for nothing else. A helper call clobbers some of them, so the stubs
    /// that call one and come back reload.
    private static let cacheRegisters: [A.Reg32] = [.esi, .edi, .r8d, .r9d, .r10d, .r11d, .ebp, .r14d]

    private var a: A
    private let block: Block
    private let id: Int32
    private let exit: UInt
    private let entry: A.Label
    /// Where a loop on the block re-enters: after the loads.
    private let body: A.Label
    /// Per guest register (and the write sink): its host register's index in `cacheRegisters`, or -1.
    private var cached = [Int8](repeating: -1, count: 33)
    /// The cached guest registers, which of them the block writes, and which must be loaded at entry.
    private var cachedList: [UInt8] = []
    private var writtenList: [UInt8] = []
    private var loadList: [UInt8] = []
    /// Stubs emitted after the body: values, not closures (translation allocates per block, not per instruction).
    private var cold: [Stub] = []

    /// A rare path, emitted after the body at its label.
    private enum Stub {
        /// The budget does not cover the block (`charged`: after charging it); nothing cached yet.
        case slow(charged: A.Label, uncharged: A.Label)
        /// A loop on the block found the budget spent: write back, leave for the slow entry.
        case loopSlow(A.Label)
        /// A chain site's first target: resolve guest P `target`, patch the site at `site`, go there.
        case resolve(A.Label, target: UInt32, site: UInt)
        /// A memory trap at P, the address a in `address`.
        case memoryTrap(A.Label, pc: UInt32, refund: Int32, address: A.Reg32)
        /// A store to physical a + l (a in `address`) of n bytes hit a code word: invalidate; resume, or leave at `next`.
        case storeHit(A.Label, resume: A.Label, address: A.Reg32, l: Int32, size: Int, next: UInt32, refund: Int32)
        /// A taken branch: give back the budget of the ops after it, jump to `target`.
        case taken(A.Label, refund: Int32, target: UInt32)
        /// A jalr whose target (eax) missed the jump cache.
        case indirectMiss(A.Label)
    }

    private init(block: Block, id: Int32, origin: UInt, exit: UInt, buffer: A.Buffer) {
        a = A(origin: origin, buffer: buffer)
        entry = a.newLabel()
        body = a.newLabel()
        self.block = block
        self.id = id
        self.exit = exit
        cold.reserveCapacity(2 * Int(block.count) + 4)
    }

    // MARK: - Shapes

    private static func x(_ r: UInt8) -> A.Mem { .dword[HostRegister.registers + Int32(r) * 4] }
    private var count: Int32 { block.count }
    /// P of op k.
    private func pc(_ k: Int) -> UInt32 { block.pc &+ UInt32(4 * k) }
    /// Budget to give back when leaving at op k: the ops after it were charged but do not run.
    private func refund(_ k: Int) -> Int32 { max(0, count - Int32(k) - 1) }

    private mutating func giveBack(_ n: Int32) { if n > 0 { a.add(HostRegister.budget, n) } }

    /// Calls helper `h` with the context in rdi (the other arguments already placed).
    private mutating func call(_ h: JITHelper) {
        a.mov(.rdi, HostRegister.context)
        a.call(JITContext.slot(h))
    }

    /// Leaves through helper `h` with (esi, edx, ecx) = (p, value, detail), then returns to the executor.
    /// The caller wrote the cached registers back.
    private mutating func leave(_ h: JITHelper, pc p: UInt32, value: UInt32 = 0, detail: UInt32 = 0) {
        a.mov(.esi, p)
        a.mov(.edx, value)
        a.mov(.ecx, detail)
        call(h)
        a.jmp(absolute: exit)
    }

    /// A jump to guest P `target`, giving back the budget `refund` charged
    /// for ops after this one: a loop on this block (the refund and the next
    /// turn's charge in one subtraction), or (registers written back) through
    /// a chain site.
    private mutating func jump(to target: UInt32, refund: Int32) {
        if target == block.pc {
            let spent = a.newLabel()
            a.sub(HostRegister.budget, count - refund)
            a.j(.l, spent)
            a.jmp(body)
            cold.append(.loopSlow(spent))
            return
        }
        giveBack(refund)
        writeBack()
        let stub = a.newLabel()
        let field = a.offset + 1
        a.jmp(stub)
        cold.append(.resolve(stub, target: target, site: a.origin + UInt(field)))
    }

    // MARK: - The register cache

    private func host(_ r: UInt8) -> A.Reg32? {
        let i = cached[Int(r)]
        return i < 0 ? nil : JITCodeGenerator.cacheRegisters[Int(i)]
    }

    /// Chooses the guest registers to cache: the most used ones, if used often enough to repay a load and a store.
    private mutating func allocate(ops: UnsafePointer<MicroOp>, loop: Bool) {
        var uses = [Int](repeating: 0, count: 33), written = [Bool](repeating: false, count: 33)
        // A register whose first use is a write made before any way out of the block needs no load:
        // no exit can see its host register before that write (in a loop's later turns neither).
        var needsLoad = [Bool](repeating: true, count: 33), seen = [Bool](repeating: false, count: 33)
        var exitSeen = false
        for k in 0...Int(count) {
            let op = ops[Int(block.first) + k]
            let (reads, writes) = op.kind.registerUse
            if reads >= 1 { uses[Int(op.rs1)] += 1; seen[Int(op.rs1)] = true }
            if reads >= 2 { uses[Int(op.rs2)] += 1; seen[Int(op.rs2)] = true }
            exitSeen = exitSeen || op.kind.mayLeave
            if writes {
                uses[Int(op.rd)] += 1
                written[Int(op.rd)] = true
                if !seen[Int(op.rd)], !exitSeen { needsLoad[Int(op.rd)] = false }
                seen[Int(op.rd)] = true
            }
            if op.kind.endsBlock { break }
        }
        uses[0] = 0
        uses[MicroOp.writeSink] = 0
        let threshold = loop ? 2 : 3
        let ranked = (1..<32).filter { uses[$0] >= threshold }.sorted { uses[$0] > uses[$1] || (uses[$0] == uses[$1] && $0 < $1) }
        for (i, r) in ranked.prefix(JITCodeGenerator.cacheRegisters.count).enumerated() {
            cached[r] = Int8(i)
            cachedList.append(UInt8(r))
            if written[r] { writtenList.append(UInt8(r)) }
            if needsLoad[r] { loadList.append(UInt8(r)) }
        }
    }

    /// Loads the cached registers from the register file: at entry the ones
    /// read before written (`all` false), after a helper call all of them.
    private mutating func reload(all: Bool = false) {
        for r in all ? cachedList : loadList { a.mov(host(r)!, JITCodeGenerator.x(r)) }
    }

    /// Stores the cached registers the block writes to the register file (harmless where unchanged).
    private mutating func writeBack() {
        for r in writtenList { a.mov(JITCodeGenerator.x(r), host(r)!) }
    }

    /// dst = x[r]
    private mutating func read(_ dst: A.Reg32, _ r: UInt8) {
        if let h = host(r) {
            if h != dst { a.mov(dst, h) }
        } else {
            a.mov(dst, JITCodeGenerator.x(r))
        }
    }

    /// x[r] = src
    private mutating func write(_ r: UInt8, _ src: A.Reg32) {
        if let h = host(r) { a.mov(h, src) } else { a.mov(JITCodeGenerator.x(r), src) }
    }

    /// x[r] = imm
    private mutating func write(_ r: UInt8, _ imm: UInt32) {
        if let h = host(r) { a.mov(h, imm) } else { a.mov(JITCodeGenerator.x(r), imm) }
    }

    /// dst = dst op x[r]
    private mutating func alu(_ k: A.ALU, _ dst: A.Reg32, _ r: UInt8) {
        if let h = host(r) { a.alu(k, dst, h) } else { a.alu(k, dst, JITCodeGenerator.x(r)) }
    }

    /// x[r] = x[r] op imm
    private mutating func alu(_ k: A.ALU, _ r: UInt8, _ imm: Int32) {
        if let h = host(r) { a.alu(k, h, imm) } else { a.alu(k, JITCodeGenerator.x(r), imm) }
    }

    // MARK: - The block

    private mutating func emitBlock(ops: UnsafePointer<MicroOp>) {
        var loop = false
        for k in 0...Int(count) {
            let op = ops[Int(block.first) + k]
            if op.imm == block.pc, op.kind.isDirectJump { loop = true }
            if op.kind.endsBlock { break }
        }
        allocate(ops: ops, loop: loop)
        let slow = a.newLabel(), slowCharged = a.newLabel()
        a.bind(entry)
        // The budget may not cover the block. (Its bound was checked by whoever
        // entered it: the executor, or `resolve` when it linked a jump here; a
        // bound that shrinks unlinks every jump, see `NativeCode.run`.)
        a.sub(HostRegister.budget, count)
        a.j(.l, slowCharged)
        cold.append(.slow(charged: slowCharged, uncharged: slow))
        reload()
        a.bind(body)
        var k = 0
        while true {
            let op = ops[Int(block.first) + k]
            if !op.kind.endsBlock, scaledIndex(op, ops[Int(block.first) + k + 1]) {
                k += 2 // two guest instructions, one host instruction (both still counted)
                continue
            }
            emit(op, at: k)
            if op.kind.endsBlock { break }
            k += 1
        }
        var next = 0
        while next < cold.count { // a taken branch's stub may add a resolve or loop stub
            emit(cold[next])
            next += 1
        }
    }

    private mutating func emit(_ stub: Stub) {
        switch stub {
        case .slow(let charged, let uncharged):
            a.bind(charged)
            a.add(HostRegister.budget, count)
            a.bind(uncharged)
            leave(.leaveSlow, pc: block.pc)
        case .loopSlow(let label):
            a.bind(label)
            a.add(HostRegister.budget, count)
            writeBack()
            leave(.leaveSlow, pc: block.pc)
        case .resolve(let label, let target, let site):
            a.bind(label)
            a.mov(.esi, target)
            a.mov(.rdx, UInt64(site))
            a.mov(.ecx, 0)
            call(.resolve)
            a.test(.rax, .rax)
            a.j(.e, absolute: exit)
            a.jmp(.rax)
        case .memoryTrap(let label, let p, let back, let address):
            a.bind(label)
            giveBack(back)
            writeBack()
            a.mov(.edx, address) // before esi: the address may be cached there
            a.mov(.esi, p)
            a.mov(.ecx, TrapCause.memory.rawValue)
            call(.leaveTrap)
            a.jmp(absolute: exit)
        case .storeHit(let label, let resume, let address, let l, let n, let next, let back):
            a.bind(label)
            writeBack()
            a.lea(.esi, address.q + l)
            a.mov(.edx, UInt32(n))
            a.mov(.ecx, UInt32(bitPattern: id))
            call(.storeHitCode)
            a.test(.eax, .eax)
            let rewritten = a.newLabel()
            a.j(.ne, rewritten)
            reload(all: true) // the call clobbered the cache's registers (all were written back before it)
            a.jmp(resume)
            // The store rewrote this very block: the next instruction must be the new one.
            a.bind(rewritten)
            giveBack(back)
            leave(.leaveRewritten, pc: next)
        case .taken(let label, let back, let target):
            a.bind(label)
            jump(to: target, refund: back)
        case .indirectMiss(let label):
            a.bind(label)
            a.mov(.esi, .eax)
            a.xor(.edx, .edx)
            a.mov(.ecx, 1)
            call(.resolve)
            a.test(.rax, .rax)
            a.j(.e, absolute: exit)
            a.jmp(.rax)
        }
    }

    private mutating func emit(_ op: MicroOp, at k: Int) {
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
        case .slt: setIf(.l, rd, rs1, rs2)
        case .sltu: setIf(.b, rd, rs1, rs2)
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
                if let hd = host(rd) { read(hd, rs1) } else {
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
        case .slti, .sltiu:
            read(.eax, rs1)
            a.xor(.ecx, .ecx)
            a.cmp(.eax, imm)
            a.set(op.kind == .slti ? .l : .b, .cl)
            write(rd, .ecx)
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
        case .continueAt: jump(to: op.imm, refund: 0)
        case .jal:
            if Int(rd) != MicroOp.writeSink { write(rd, pc(k) &+ 4) }
            jump(to: op.imm, refund: 0)
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

    // MARK: - Arithmetic

    /// `slli t, x, s` then `add t, b, t` (s = 1 to 3, b not t): array
    /// indexing, one `lea t, [b + x << s]`. The shifted value lives only in
    /// t, which the add overwrites, and neither op can leave the block, so
    /// nothing can see it. Returns false (emitting nothing) for other pairs.
    private mutating func scaledIndex(_ first: MicroOp, _ second: MicroOp) -> Bool {
        guard first.kind == .slli, (1...3).contains(first.imm), second.kind == .add, second.rd == first.rd,
              second.rs1 == first.rd || second.rs2 == first.rd else { return false }
        let t = first.rd, x = first.rs1
        let b = second.rs1 == t ? second.rs2 : second.rs1
        guard b != t else { return false }
        let base: A.Reg32 = host(b) ?? .ecx
        if base == .ecx { read(.ecx, b) }
        let index: A.Reg32 = host(x) ?? .eax
        if index == .eax { read(.eax, x) }
        let d = host(t) ?? .eax
        a.lea(d, A.Address(base: base.q, index: index.q, scale: UInt8(1 << first.imm)))
        if d == .eax { write(t, .eax) }
        return true
    }

    /// x[rd] = x[rs1] op x[rs2]: straight into a cached rd where the operands allow.
    private mutating func binary(_ k: A.ALU, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8) {
        if let hd = host(rd) {
            if rd == rs1 {
                alu(k, hd, rs2)
                return
            }
            if rd != rs2 {
                read(hd, rs1)
                alu(k, hd, rs2)
                return
            }
            if k != .sub { // rd = rs2: commutative operations take rs1 as the second operand
                alu(k, hd, rs1)
                return
            }
        }
        read(.eax, rs1)
        alu(k, .eax, rs2)
        write(rd, .eax)
    }

    private mutating func immediate(_ k: A.ALU, _ rd: UInt8, _ rs1: UInt8, _ imm: Int32) {
        if rd == rs1 {
            alu(k, rd, imm)
        } else if let hd = host(rd) {
            read(hd, rs1)
            a.alu(k, hd, imm)
        } else {
            read(.eax, rs1)
            a.alu(k, .eax, imm)
            write(rd, .eax)
        }
    }

    private mutating func shift(_ k: A.Shift, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8) {
        read(.ecx, rs2) // x86 masks a 32-bit shift count to 5 bits, as RV32 does
        let d = host(rd) ?? .eax // the count is in ecx, so rd may be rs2
        read(d, rs1)
        a.shift(k, d)
        if d == .eax { write(rd, .eax) }
    }

    private mutating func setIf(_ c: A.Condition, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8) {
        read(.eax, rs1)
        a.xor(.ecx, .ecx)
        alu(.cmp, .eax, rs2)
        a.set(c, .cl)
        write(rd, .ecx)
    }

    /// RV32M's div/rem: x / 0 = -1 and x % 0 = x; INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 (no host fault).
    private mutating func signedDivide(_ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8, remainder: Bool) {
        let byZero = a.newLabel(), overflow = a.newLabel(), divide = a.newLabel(), done = a.newLabel()
        read(.eax, rs1)
        read(.ecx, rs2)
        a.test(.ecx, .ecx)
        a.j(.e, byZero)
        a.cmp(.ecx, -1)
        a.j(.ne, divide)
        a.cmp(.eax, Int32.min)
        a.j(.e, overflow)
        a.bind(divide)
        a.cdq()
        a.idiv(.ecx)
        a.jmp(done)
        a.bind(byZero)
        if remainder { a.mov(.edx, .eax) } else { a.mov(.eax, UInt32.max) }
        a.jmp(done)
        a.bind(overflow)
        if remainder { a.xor(.edx, .edx) } // the quotient, INT_MIN, is already in eax
        a.bind(done)
        write(rd, remainder ? .edx : .eax)
    }

    private mutating func unsignedDivide(_ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8, remainder: Bool) {
        let byZero = a.newLabel(), done = a.newLabel()
        read(.eax, rs1)
        read(.ecx, rs2)
        a.test(.ecx, .ecx)
        a.j(.e, byZero)
        a.xor(.edx, .edx)
        a.div(.ecx)
        a.jmp(done)
        a.bind(byZero)
        if remainder { a.mov(.edx, .eax) } else { a.mov(.eax, UInt32.max) }
        a.bind(done)
        write(rd, remainder ? .edx : .eax)
    }

    // MARK: - Memory

    /// The register holding a = x[rs1] + imm, zero-extended to 64 bits (a
    /// cached x[rs1] itself when imm is 0: cached registers are always
    /// zero-extended; otherwise eax), and a check that the n bytes there are
    /// inside the limit (a <= limit - n), trapping at op k if not.
    private mutating func address(_ op: MicroOp, size n: Int32, at k: Int) -> A.Reg32 {
        var r = A.Reg32.eax
        if op.imm == 0, let h = host(op.rs1) {
            r = h
        } else if let h = host(op.rs1) {
            a.lea(.eax, h.q + Int32(bitPattern: op.imm)) // wraps at 32 bits, as the guest's address does
        } else {
            read(.eax, op.rs1)
            if op.imm != 0 { a.add(.eax, Int32(bitPattern: op.imm)) }
        }
        a.cmp(r.q, .qword[HostRegister.context + JITContext.limitLess(Int(n))])
        let trap = a.newLabel()
        a.j(.g, trap)
        cold.append(.memoryTrap(trap, pc: pc(k), refund: refund(k), address: r))
        return r
    }

    private mutating func load(_ op: MicroOp, at k: Int) {
        let n: Int32 = op.kind == .lw ? 4 : (op.kind == .lb || op.kind == .lbu ? 1 : 2)
        let at = address(op, size: n, at: k)
        let m = A.Mem(address: HostRegister.memory + at.q, size: Int(n))
        let d = host(op.rd) ?? .edx
        switch op.kind {
        case .lb, .lh: a.movsx(d, m)
        case .lbu, .lhu: a.movzx(d, m)
        default: a.mov(d, m)
        }
        if host(op.rd) == nil { a.mov(JITCodeGenerator.x(op.rd), .edx) }
    }

    private mutating func store(_ op: MicroOp, at k: Int) {
        let n = op.kind.storeSize!
        let at = address(op, size: Int32(n), at: k)
        // The value straight from its cached register where one can be named at this width.
        var value = host(op.rs2) ?? .edx
        if n == 1, value.b == nil { value = .edx }
        if value == .edx { read(.edx, op.rs2) }
        let m = A.Mem(address: HostRegister.memory + at.q, size: n)
        switch n {
        case 1: a.mov(m, value.b!)
        case 2: a.mov(m, value.w)
        default: a.mov(m, value)
        }
        // Self-modifying code: did the store touch a word translations were made from?
        // A byte store touches one word; a wider one at most two adjacent: one word compare covers both.
        let l = Int32(bitPattern: block.l)
        if l == 0 { a.mov(.ecx, at) } else { a.lea(.ecx, at.q + l) }
        a.shift(.shr, .ecx, 2)
        a.mov(.rdx, .qword[HostRegister.context + JITContext.codeMap])
        a.cmp(A.Mem(address: .rdx + .rcx, size: n == 1 ? 1 : 2), 0)
        let hit = a.newLabel(), resume = a.newLabel()
        a.j(.ne, hit)
        a.bind(resume)
        cold.append(.storeHit(hit, resume: resume, address: at, l: l, size: n, next: pc(k) &+ 4, refund: refund(k)))
    }

    // MARK: - Control transfers

    /// A conditional branch: a side exit when taken (a superblock runs on when not).
    private mutating func branch(_ c: A.Condition, _ op: MicroOp, at k: Int) {
        if op.rs2 == 0 {
            if let h = host(op.rs1) { a.test(h, h) } else { a.cmp(JITCodeGenerator.x(op.rs1), 0) }
        } else if let h = host(op.rs1) {
            alu(.cmp, h, op.rs2)
        } else {
            read(.eax, op.rs1)
            alu(.cmp, .eax, op.rs2)
        }
        if op.imm == block.pc {
            // A loop on this block: taken is the hot path, so it stays inline.
            let notTaken = a.newLabel(), spent = a.newLabel()
            a.j(A.Condition(rawValue: c.rawValue ^ 1)!, notTaken)
            a.sub(HostRegister.budget, count - refund(k))
            a.j(.ge, body)
            a.jmp(spent)
            cold.append(.loopSlow(spent))
            a.bind(notTaken)
            return
        }
        let taken = a.newLabel()
        a.j(c, taken)
        cold.append(.taken(taken, refund: refund(k), target: op.imm))
    }

    /// jalr: the target's block from the jump cache, or from `resolve`, which fills the entry.
    private mutating func indirectJump(_ op: MicroOp, at k: Int) {
        read(.eax, op.rs1)
        if op.imm != 0 { a.add(.eax, Int32(bitPattern: op.imm)) }
        a.and(.eax, -2)
        if Int(op.rd) != MicroOp.writeSink { write(op.rd, pc(k) &+ 4) }
        writeBack()
        a.mov(.ecx, .eax)
        a.shift(.shr, .ecx, 2)
        a.and(.ecx, Int32(JumpCache.entries - 1))
        a.shift(.shl, .ecx, 4)
        a.add(.rcx, .qword[HostRegister.context + JITContext.jumpCache])
        a.cmp(.eax, .dword[.rcx])
        let miss = a.newLabel()
        a.j(.ne, miss)
        a.jmp(.qword[.rcx + 8])
        cold.append(.indirectMiss(miss))
    }
}

extension MicroOp.Kind {
    /// How many of rs1, rs2 the op reads (0, 1 or 2), and whether it writes rd.
    var registerUse: (reads: Int, writes: Bool) {
        switch self {
        case .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu: return (2, true)
        case .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai: return (1, true)
        case .constant: return (0, true)
        case .lb, .lh, .lw, .lbu, .lhu: return (1, true)
        case .sb, .sh, .sw: return (2, false)
        case .beq, .bne, .blt, .bge, .bltu, .bgeu: return (2, false)
        case .jal: return (0, true)
        case .jalr: return (1, true)
        case .nop, .continueAt, .system, .ecall, .ebreak, .illegal: return (0, false)
        }
    }

    /// True for the ops that may leave the block (a trap, a taken branch, a
    /// store into code, a transfer, a callout) or write memory; a write before
    /// the first of them cannot be seen from outside the block.
    var mayLeave: Bool {
        switch self {
        case .add, .sub, .sll, .slt, .sltu, .xor, .srl, .sra, .or, .and,
             .mul, .mulh, .mulhsu, .mulhu, .div, .divu, .rem, .remu,
             .addi, .slti, .sltiu, .xori, .ori, .andi, .slli, .srli, .srai, .constant, .nop: return false
        case .lb, .lh, .lw, .lbu, .lhu, .sb, .sh, .sw, .beq, .bne, .blt, .bge, .bltu, .bgeu,
             .continueAt, .jal, .jalr, .system, .ecall, .ebreak, .illegal: return true
        }
    }

    /// True for the ops whose imm is a static jump target.
    var isDirectJump: Bool {
        switch self {
        case .beq, .bne, .blt, .bge, .bltu, .bgeu, .jal, .continueAt: return true
        default: return false
        }
    }
}
