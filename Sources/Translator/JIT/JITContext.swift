import Machine

/// The fixed host register roles of generated code, declared once. r12,
/// r13 and r15 are callee-saved in the System V ABI, so they survive every
/// call to a helper; rax, rcx and rdx are scratch (rdi, rsi, rdx and rcx
/// carry a helper's arguments); the rest cache guest registers
/// (`JITCodeGenerator.cacheRegisters`), except that a block with stores
/// gives rbp to the code map, loaded at its entry (no value in a cache
/// register outlives its block, so each block may choose). Blocks whose
/// accesses name their view's address (`LowReservation`) cache a guest
/// register in r13 too: every block of their run is one of them. The context is
/// reached RIP-relatively (it lives in the data page just below the code,
/// `CodeMemory.data`), so no register holds it; the access limit is read
/// from it where needed.
enum HostRegister {
    typealias R = X86Assembler.Reg64
    /// The guest register file (x0..x31, then the write sink).
    static let registers = R.r12
    /// Host address of guest virtual address 0 (storage + VM base + l).
    static let memory = R.r13
    /// Guest instructions left in the budget.
    static let budget = R.r15
    /// The code map (`TranslationCache.codeMap`), asked after every store: in blocks that store.
    static let codeMap = R.rbp
}

/// The context block generated code addresses RIP-relatively: where the guest
/// lives, the budget, how the code left, and the helper table. Offsets are
/// fixed here and only here.
enum JITContext {
    static let registers: Int32 = 0
    static let memory: Int32 = 8
    // 16: unused (blocks no longer check their bound; accesses use limitLess).
    static let budget: Int32 = 24
    /// The code map (`TranslationCache.codeMap`): a byte per guest physical byte.
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
    // 80 to 103: unused.
    /// The most bytes past a base register one check covers (`limitLess`).
    static let limitOffsets = 256
    /// limit - k for k = 1 ... `limitOffsets` (signed 64-bit), where limit =
    /// min(b, w - l): the bytes at x + o ..< x + k (o >= 0, x a zero-extended
    /// 32-bit value, computed without wrapping) are inside the limit iff
    /// x <= limit - k. A one-operand compare, `cmp x, [limitLess(k)]`, so an
    /// access at x + o needs no lea before its check (it addresses memory + x + o).
    /// The executor keeps the entries that generated code uses up to date (`NativeCode`).
    static func limitLess(_ k: Int) -> Int32 {
        precondition(k >= 1 && k <= limitOffsets, "no limit entry for \(k) bytes")
        return limitTable + 8 * Int32(k - 1)
    }
    static let limitTable: Int32 = 104
    /// The helper table: one function pointer per `JITHelper`.
    static let helpers: Int32 = limitTable + 8 * Int32(limitOffsets)
    static let size = Int(helpers) + 8 * JITHelper.allCases.count

    /// The operand of field `offset` of the context at host address `context`.
    static func field(_ offset: Int32, of context: UInt) -> X86Assembler.Address { .rip(context + UInt(offset)) }
    /// The operand of helper `h` in the table of the context at `context`.
    static func slot(_ h: JITHelper, of context: UInt) -> X86Assembler.Mem {
        .qword[field(helpers + 8 * Int32(h.rawValue), of: context)]
    }
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
    /// An access at P faulted in a guarded view, or a check made for several
    /// accesses at once (or one at an offset) failed there (some of them may be
    /// inside the limit): leave for the reference interpreter to step from P,
    /// exactly (edx = the block that left, which a fault has remade with checks).
    case leaveStep
}

/// Why generated code returned to the executor.
enum JITExit: UInt32 {
    case slow = 0, lookup, trap, system, rewritten, step
}

/// A place in generated code that is patched to chain blocks: a jump's rel32.
struct ChainSite {
    /// Host address of the 4-byte field.
    var address: UInt
    /// The field's value when unchained (the rel32 to its resolve stub).
    var unchained: UInt32
}

/// The jump cache computed jumps (jalr) look their target up in, from
/// generated code: two-way set-associative by P. A set's first way holds
/// the target filled there last, its second the one before, so two targets
/// whose P share a set are both found (wordfreq's returns to 0x1268 and
/// 0x2268, 4 KiB apart, took turns 6,000 times each a run in one entry when
/// it was direct-mapped, like QEMU's, each turn a call to `resolve`). It
/// holds blocks of the current relocation only (cleared when l changes),
/// and an entry goes when its block is invalidated.
enum JumpCache {
    static let entries = 1024
    static let ways = 2
    static let sets = entries / ways
    static let entryBytes = 16
    /// No guest P is odd: an entry holding this never hits.
    static let empty: UInt32 = 0xFFFF_FFFF
    /// The byte offset of guest P's set: its first way's entry, the second's right after.
    static func set(_ pc: UInt32) -> Int { Int((pc >> 2) & UInt32(sets - 1)) * ways * entryBytes }
}
