import Machine

/// The fixed host register roles of generated code, declared once.
/// rbx, rbp and r12 to r15 are callee-saved in the System V ABI, so they
/// survive every call to a helper; rax, rcx, rdx, rsi and rdi are scratch
/// and carry a helper's arguments.
enum HostRegister {
    typealias R = X86Assembler.Reg64
    /// The JIT context (`JITContext`).
    static let context = R.rbx
    /// The code map: a byte per guest physical word, nonzero where translations came from.
    static let codeMap = R.rbp
    /// The guest register file (x0..x31, then the write sink).
    static let registers = R.r12
    /// Host address of guest virtual address 0 (storage + VM base + l).
    static let memory = R.r13
    /// The access limit min(b, w - l): an n-byte access at a is valid iff a + n <= limit.
    static let limit = R.r14
    /// Guest instructions left in the budget.
    static let budget = R.r15
}

/// The context block generated code addresses through rbx: where the guest
/// lives, the budget, how the code left, and the helper table. Offsets are
/// fixed here and only here.
enum JITContext {
    static let registers: Int32 = 0
    static let memory: Int32 = 8
    static let limit: Int32 = 16
    static let budget: Int32 = 24
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
    /// The helper table: one function pointer per `JITHelper`.
    static let helpers: Int32 = 80
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
    static let entries = 4096
    static let entryBytes = 16
    /// No guest P is odd: an entry holding this never hits.
    static let empty: UInt32 = 0xFFFF_FFFF
    /// The entry index of guest P.
    static func index(_ pc: UInt32) -> Int { Int((pc >> 2) & UInt32(entries - 1)) }
}

/// Emits x86-64 code for one translated block.
///
/// Layout: the entry checks the bound and charges the budget for the whole
/// block; the body follows op by op, guest registers addressed in the
/// register file; every rare path (a trap, the budget, a store into code, a
/// taken branch's exit) is a stub after the body, so the hot path falls
/// through. Exits to other blocks are `jmp rel32` sites that first lead to
/// a stub calling `resolve`, which patches them to jump straight to the
/// target (chaining).
struct JITCodeGenerator {
    typealias A = X86Assembler
    /// An upper bound on the bytes one block's code takes.
    static let maximumBlockBytes = (TranslationCache.maximumBlock + 1) * 160 + 256

    /// The code and its chain sites.
    struct Output {
        var bytes: [UInt8]
        var sites: [ChainSite]
    }

    /// Generates block `id`, to live at host address `origin`; `exit` is the
    /// trampoline's exit path.
    static func generate(_ b: Block, id: Int32, ops: UnsafePointer<MicroOp>, origin: UInt, exit: UInt) -> Output {
        var g = JITCodeGenerator(block: b, id: id, origin: origin, exit: exit)
        g.emitBlock(ops: ops)
        precondition(g.a.bytes.count <= maximumBlockBytes, "a block's code outgrew its bound")
        return Output(bytes: g.a.bytes, sites: g.sites)
    }

    private var a: A
    private let block: Block
    private let id: Int32
    private let exit: UInt
    private let entry = A.Label()
    private var sites: [ChainSite] = []
    /// Stubs emitted after the body.
    private var cold: [(inout JITCodeGenerator) -> Void] = []

    private init(block: Block, id: Int32, origin: UInt, exit: UInt) {
        a = A(origin: origin)
        self.block = block
        self.id = id
        self.exit = exit
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
    private mutating func leave(_ h: JITHelper, pc p: UInt32, value: UInt32 = 0, detail: UInt32 = 0) {
        a.mov(.esi, p)
        a.mov(.edx, value)
        a.mov(.ecx, detail)
        call(h)
        a.jmp(absolute: exit)
    }

    /// A jump to guest P `target` from op k's exit: to this block's own entry
    /// (a loop), or through a chain site.
    private mutating func jump(to target: UInt32) {
        if target == block.pc {
            a.jmp(entry)
            return
        }
        let stub = A.Label()
        let field = a.offset + 1
        a.jmp(stub)
        let address = a.origin + UInt(field)
        cold.append { g in
            g.a.bind(stub)
            g.a.mov(.esi, target)
            g.a.mov(.rdx, UInt64(address))
            g.a.mov(.ecx, 0)
            g.call(.resolve)
            g.a.test(.rax, .rax)
            g.a.j(.e, absolute: g.exit)
            g.a.jmp(.rax)
        }
        sites.append(ChainSite(address: address, unchained: 0)) // value filled in after assembly
    }

    // MARK: - The block

    private mutating func emitBlock(ops: UnsafePointer<MicroOp>) {
        let slow = A.Label(), slowCharged = A.Label()
        a.bind(entry)
        // The bound may have shrunk since translation, and the budget may not cover the block.
        if block.end <= UInt32(Int32.max) {
            a.cmp(HostRegister.limit, Int32(block.end))
        } else {
            a.mov(.ecx, block.end)
            a.cmp(HostRegister.limit, .rcx)
        }
        a.j(.b, slow)
        a.sub(HostRegister.budget, count)
        a.j(.l, slowCharged)
        cold.append { g in
            g.a.bind(slowCharged)
            g.a.add(HostRegister.budget, g.count)
            g.a.bind(slow)
            g.leave(.leaveSlow, pc: g.block.pc)
        }
        var k = 0
        while true {
            let op = ops[Int(block.first) + k]
            emit(op, at: k)
            if op.kind.endsBlock { break }
            k += 1
        }
        while !cold.isEmpty {
            let stubs = cold
            cold = []
            for s in stubs { s(&self) }
        }
        // Record each direct site's unchained value: the rel32 to its stub, as assembled.
        for i in sites.indices {
            let o = Int(sites[i].address - a.origin)
            sites[i].unchained = UInt32(a.bytes[o]) | UInt32(a.bytes[o + 1]) << 8 | UInt32(a.bytes[o + 2]) << 16 | UInt32(a.bytes[o + 3]) << 24
        }
    }

    private mutating func emit(_ op: MicroOp, at k: Int) {
        let x = JITCodeGenerator.x
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
            a.mov(.eax, x(rs1))
            a.imul(.eax, x(rs2))
            a.mov(x(rd), .eax)
        case .mulh, .mulhsu, .mulhu:
            // The 64-bit product of the (sign- or zero-) extended operands; its high half.
            if op.kind == .mulhu { a.mov(.eax, x(rs1)) } else { a.movsxd(.rax, x(rs1)) }
            if op.kind == .mulh { a.movsxd(.rcx, x(rs2)) } else { a.mov(.ecx, x(rs2)) }
            a.imul(.rax, .rcx)
            a.shift(.shr, .rax, 32)
            a.mov(x(rd), .eax)
        case .div, .rem: signedDivide(rd, rs1, rs2, remainder: op.kind == .rem)
        case .divu, .remu: unsignedDivide(rd, rs1, rs2, remainder: op.kind == .remu)
        case .addi:
            if rs1 == 0 {
                a.mov(x(rd), op.imm)
            } else if rd == rs1 {
                a.add(x(rd), imm)
            } else {
                a.mov(.eax, x(rs1))
                a.add(.eax, imm)
                a.mov(x(rd), .eax)
            }
        case .xori: immediate(.xor, rd, rs1, imm)
        case .ori: immediate(.or, rd, rs1, imm)
        case .andi: immediate(.and, rd, rs1, imm)
        case .slti, .sltiu:
            a.xor(.ecx, .ecx)
            a.cmp(x(rs1), imm)
            a.set(op.kind == .slti ? .l : .b, .cl)
            a.mov(x(rd), .ecx)
        case .slli, .srli, .srai:
            a.mov(.eax, x(rs1))
            a.shift(op.kind == .slli ? .shl : op.kind == .srli ? .shr : .sar, .eax, UInt8(op.imm & 31))
            a.mov(x(rd), .eax)
        case .constant: a.mov(x(rd), op.imm)
        case .nop: break
        case .lb, .lbu, .lh, .lhu, .lw: load(op, at: k)
        case .sb, .sh, .sw: store(op, at: k)
        case .beq: branch(.e, op, at: k)
        case .bne: branch(.ne, op, at: k)
        case .blt: branch(.l, op, at: k)
        case .bge: branch(.ge, op, at: k)
        case .bltu: branch(.b, op, at: k)
        case .bgeu: branch(.ae, op, at: k)
        case .continueAt: jump(to: op.imm)
        case .jal:
            if Int(rd) != MicroOp.writeSink { a.mov(x(rd), pc(k) &+ 4) }
            jump(to: op.imm)
        case .jalr: indirectJump(op, at: k)
        case .system:
            giveBack(refund(k))
            leave(.leaveSystem, pc: pc(k), value: op.imm, detail: UInt32(rd))
        case .ecall:
            giveBack(refund(k))
            leave(.leaveTrap, pc: pc(k), value: 0, detail: TrapCause.svc.rawValue)
        case .ebreak:
            giveBack(refund(k))
            leave(.leaveTrap, pc: pc(k), value: 0, detail: TrapCause.breakpoint.rawValue)
        case .illegal:
            giveBack(refund(k))
            leave(.leaveTrap, pc: pc(k), value: op.imm, detail: TrapCause.illegal.rawValue)
        }
    }

    // MARK: - Arithmetic

    private mutating func binary(_ k: A.ALU, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8) {
        let x = JITCodeGenerator.x
        a.mov(.eax, x(rs1))
        a.alu(k, .eax, x(rs2))
        a.mov(x(rd), .eax)
    }

    private mutating func immediate(_ k: A.ALU, _ rd: UInt8, _ rs1: UInt8, _ imm: Int32) {
        let x = JITCodeGenerator.x
        if rd == rs1 {
            a.alu(k, x(rd), imm)
        } else {
            a.mov(.eax, x(rs1))
            a.alu(k, .eax, imm)
            a.mov(x(rd), .eax)
        }
    }

    private mutating func shift(_ k: A.Shift, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8) {
        let x = JITCodeGenerator.x
        a.mov(.ecx, x(rs2)) // x86 masks a 32-bit shift count to 5 bits, as RV32 does
        a.mov(.eax, x(rs1))
        a.shift(k, .eax)
        a.mov(x(rd), .eax)
    }

    private mutating func setIf(_ c: A.Condition, _ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8) {
        let x = JITCodeGenerator.x
        a.mov(.eax, x(rs1))
        a.xor(.ecx, .ecx)
        a.cmp(.eax, x(rs2))
        a.set(c, .cl)
        a.mov(x(rd), .ecx)
    }

    /// RV32M's div/rem: x / 0 = -1 and x % 0 = x; INT_MIN / -1 = INT_MIN and INT_MIN % -1 = 0 (no host fault).
    private mutating func signedDivide(_ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8, remainder: Bool) {
        let x = JITCodeGenerator.x
        let byZero = A.Label(), overflow = A.Label(), divide = A.Label(), done = A.Label()
        a.mov(.eax, x(rs1))
        a.mov(.ecx, x(rs2))
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
        a.mov(x(rd), remainder ? .edx : .eax)
    }

    private mutating func unsignedDivide(_ rd: UInt8, _ rs1: UInt8, _ rs2: UInt8, remainder: Bool) {
        let x = JITCodeGenerator.x
        let byZero = A.Label(), done = A.Label()
        a.mov(.eax, x(rs1))
        a.mov(.ecx, x(rs2))
        a.test(.ecx, .ecx)
        a.j(.e, byZero)
        a.xor(.edx, .edx)
        a.div(.ecx)
        a.jmp(done)
        a.bind(byZero)
        if remainder { a.mov(.edx, .eax) } else { a.mov(.eax, UInt32.max) }
        a.bind(done)
        a.mov(x(rd), remainder ? .edx : .eax)
    }

    // MARK: - Memory

    /// eax = x[rs1] + imm (zero-extended into rax), and a check that the n
    /// bytes there are inside the limit, trapping at op k if not.
    private mutating func address(_ op: MicroOp, size n: Int32, at k: Int) {
        a.mov(.eax, JITCodeGenerator.x(op.rs1))
        if op.imm != 0 { a.add(.eax, Int32(bitPattern: op.imm)) }
        a.lea(.rcx, .rax + n)
        a.cmp(.rcx, HostRegister.limit)
        let trap = A.Label()
        a.j(.a, trap)
        let p = pc(k), back = refund(k)
        cold.append { g in
            g.a.bind(trap)
            g.giveBack(back)
            g.a.mov(.esi, p)
            g.a.mov(.edx, .eax)
            g.a.mov(.ecx, TrapCause.memory.rawValue)
            g.call(.leaveTrap)
            g.a.jmp(absolute: g.exit)
        }
    }

    private mutating func load(_ op: MicroOp, at k: Int) {
        let n: Int32 = op.kind == .lw ? 4 : (op.kind == .lb || op.kind == .lbu ? 1 : 2)
        address(op, size: n, at: k)
        let m = A.Mem(address: HostRegister.memory + .rax, size: Int(n))
        switch op.kind {
        case .lb, .lh: a.movsx(.edx, m)
        case .lbu, .lhu: a.movzx(.edx, m)
        default: a.mov(.edx, m)
        }
        a.mov(JITCodeGenerator.x(op.rd), .edx)
    }

    private mutating func store(_ op: MicroOp, at k: Int) {
        let n = op.kind.storeSize!
        address(op, size: Int32(n), at: k)
        a.mov(.edx, JITCodeGenerator.x(op.rs2))
        let m = A.Mem(address: HostRegister.memory + .rax, size: n)
        switch n {
        case 1: a.mov(m, A.Reg8.dl)
        case 2: a.mov(m, A.Reg16.dx)
        default: a.mov(m, A.Reg32.edx)
        }
        // Self-modifying code: did the store touch a word translations were made from?
        // A byte store touches one word; a wider one at most two adjacent: one word compare covers both.
        let l = Int32(bitPattern: block.l)
        a.lea(.ecx, .rax + l)
        a.shift(.shr, .ecx, 2)
        a.cmp(A.Mem(address: HostRegister.codeMap + .rcx, size: n == 1 ? 1 : 2), 0)
        let hit = A.Label(), resume = A.Label()
        a.j(.ne, hit)
        a.bind(resume)
        let next = pc(k) &+ 4, back = refund(k), blockID = UInt32(bitPattern: id)
        cold.append { g in
            g.a.bind(hit)
            g.a.lea(.esi, .rax + l)
            g.a.mov(.edx, UInt32(n))
            g.a.mov(.ecx, blockID)
            g.call(.storeHitCode)
            g.a.test(.eax, .eax)
            g.a.j(.e, resume)
            // The store rewrote this very block: the next instruction must be the new one.
            g.giveBack(back)
            g.leave(.leaveRewritten, pc: next)
        }
    }

    // MARK: - Control transfers

    /// A conditional branch: a side exit when taken (a superblock runs on when not).
    private mutating func branch(_ c: A.Condition, _ op: MicroOp, at k: Int) {
        let x = JITCodeGenerator.x
        if op.rs2 == 0 {
            a.cmp(x(op.rs1), 0)
        } else {
            a.mov(.eax, x(op.rs1))
            a.cmp(.eax, x(op.rs2))
        }
        let taken = A.Label()
        a.j(c, taken)
        let back = refund(k), target = op.imm
        cold.append { g in
            g.a.bind(taken)
            g.giveBack(back)
            g.jump(to: target)
        }
    }

    /// jalr: the target's block from the jump cache, or from `resolve`, which fills the entry.
    private mutating func indirectJump(_ op: MicroOp, at k: Int) {
        let x = JITCodeGenerator.x
        a.mov(.eax, x(op.rs1))
        if op.imm != 0 { a.add(.eax, Int32(bitPattern: op.imm)) }
        a.and(.eax, -2)
        if Int(op.rd) != MicroOp.writeSink { a.mov(x(op.rd), pc(k) &+ 4) }
        a.mov(.ecx, .eax)
        a.shift(.shr, .ecx, 2)
        a.and(.ecx, Int32(JumpCache.entries - 1))
        a.shift(.shl, .ecx, 4)
        a.add(.rcx, .qword[HostRegister.context + JITContext.jumpCache])
        a.cmp(.eax, .dword[.rcx])
        let miss = A.Label()
        a.j(.ne, miss)
        a.jmp(.qword[.rcx + 8])
        cold.append { g in
            g.a.bind(miss)
            g.a.mov(.esi, .eax)
            g.a.xor(.edx, .edx)
            g.a.mov(.ecx, 1)
            g.call(.resolve)
            g.a.test(.rax, .rax)
            g.a.j(.e, absolute: g.exit)
            g.a.jmp(.rax)
        }
    }
}
