/// Why `Machine.run` returned.
public enum RunExit: Sendable, Hashable {
    /// HALT executed; the machine's status is `.halted(code)`.
    case halted(UInt32)
    /// The first fetch after a trap entry failed (SPEC section 3).
    case checkstop
    /// The instruction budget ran out before the next fetch.
    case budget
    /// A trap: with `.takeAndExit` its sequence was performed; with `.report`
    /// it was not, and P is still at the instruction (or unfetchable address).
    case trap(TrapCause, value: UInt32)
    /// With `.report` only: a system instruction at P, counted but not executed.
    case system(SystemInstruction, word: UInt32)
}

/// What a machine does when its guest traps.
public enum TrapPolicy: Sendable {
    /// Bare hardware: perform the trap sequence and go on.
    case take
    /// A monitor's real machine: perform the trap sequence, then return
    /// `.trap` so the monitor's dispatcher (where the new PSW leads) can act.
    case takeAndExit
    /// A monitor's software interpreter: perform nothing, and return every
    /// trap and every system instruction for the monitor to handle.
    case report
}

/// What made the hot loop stop: everything the loop does not handle itself.
/// `psw.pc` holds the address of the instruction concerned.
@usableFromInline enum LoopEvent {
    case budget
    /// The fetch at P failed (misaligned or out of bounds): a memory trap with value P.
    case fetchFault
    /// A load or store at virtual `address` failed.
    case memoryFault(address: UInt32)
    case illegal(word: UInt32)
    case ecall
    case ebreak
    case system(SystemInstruction, word: UInt32)
}

extension Machine {
    /// Runs until HALT, checkstop, `budget` more instructions, or (as the
    /// trap policy says) a trap or system instruction. Can be called again to continue.
    public func run(budget: UInt64) -> RunExit {
        var remaining = budget
        while true {
            switch status {
            case .halted(let code): return .halted(code)
            case .checkstop: return .checkstop
            case .running: break
            }
            if remaining == 0 { return .budget }
            if guestMode != nil {
                // VX guest mode (SPEC section 11): G runs until an exit, then the host goes on after its VMRUN.
                guard continueGuestMode(budget: &remaining, on: Interpreter.shared) else { return .budget }
                continue
            }
            if trapEntryPending {
                // The first fetch of a trap entry: if it cannot succeed, the second
                // trap's sequence is not performed and the machine stops (SPEC 3).
                guard canFetch else {
                    status = .checkstop
                    return .checkstop
                }
                trapEntryPending = false
            }
            let cause: TrapCause, value: UInt32
            switch interpret(&remaining) {
            case .budget: return .budget
            case .fetchFault: (cause, value) = (.memory, psw.pc)
            case .memoryFault(let address): (cause, value) = (.memory, address)
            case .illegal(let word): (cause, value) = (.illegal, word)
            case .ecall: (cause, value) = (.svc, 0)
            case .ebreak: (cause, value) = (.breakpoint, 0)
            case .system(let inst, let word):
                if trapPolicy == .report { return .system(inst, word: word) }
                guard let raised = executeSystem(inst, word: word) else { continue }
                if trapPolicy == .takeAndExit { return .trap(raised, value: storage.load32(LowCore.value)) }
                continue
            }
            if trapPolicy == .report { return .trap(cause, value: value) }
            trap(cause, value: value)
            if trapPolicy == .takeAndExit { return .trap(cause, value: value) }
        }
    }

    /// The hot loop: runs innocuous instructions until something it does not
    /// handle. State lives in locals; storage and registers are reached through
    /// unsafe pointers after one bounds check per access.
    @inline(never)
    func interpret(_ remaining: inout UInt64) -> LoopEvent {
        let x = registerFile
        // Every access of n bytes at virtual a is valid iff a + n <= limit (SPEC section 2).
        let l = Int(psw.l)
        let limit = psw.accessLimit(storageSize: storage.size)
        // SAFETY: only dereferenced at offsets a with a + n <= limit <= q - l.
        let base = storage.base + l
        var pc = psw.pc
        var left = remaining
        defer {
            psw.pc = pc
            instructionCount &+= remaining &- left
            remaining = left
        }
        while true {
            if left == 0 { return .budget }
            guard pc & 3 == 0, Int(pc) &+ 4 <= limit else { return .fetchFault }
            // SAFETY: pc + 4 <= limit, checked above.
            let word = InstructionWord(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: Int(pc), as: UInt32.self)))
            left &-= 1
            guard let op = Opcode.decode(word) else { return .illegal(word: word.raw) }
            var next = pc &+ 4
            switch op {
            case .lui: x[word.rd] = word.uImm
            case .auipc: x[word.rd] = pc &+ word.uImm
            case .jal:
                x[word.rd] = next
                next = pc &+ word.jImm
            case .jalr:
                let target = (x[word.rs1] &+ word.iImm) & ~1
                x[word.rd] = next
                next = target
            case .beq: if x[word.rs1] == x[word.rs2] { next = pc &+ word.bImm }
            case .bne: if x[word.rs1] != x[word.rs2] { next = pc &+ word.bImm }
            case .blt: if Arithmetic.lessThan(x[word.rs1], x[word.rs2]) { next = pc &+ word.bImm }
            case .bge: if !Arithmetic.lessThan(x[word.rs1], x[word.rs2]) { next = pc &+ word.bImm }
            case .bltu: if Arithmetic.lessThanUnsigned(x[word.rs1], x[word.rs2]) { next = pc &+ word.bImm }
            case .bgeu: if !Arithmetic.lessThanUnsigned(x[word.rs1], x[word.rs2]) { next = pc &+ word.bImm }
            case .lb:
                let a = x[word.rs1] &+ word.iImm
                guard Int(a) &+ 1 <= limit else { return .memoryFault(address: a) }
                // SAFETY: a + 1 <= limit.
                x[word.rd] = UInt32(bitPattern: Int32(base.load(fromByteOffset: Int(a), as: Int8.self)))
            case .lh:
                let a = x[word.rs1] &+ word.iImm
                guard Int(a) &+ 2 <= limit else { return .memoryFault(address: a) }
                // SAFETY: a + 2 <= limit.
                x[word.rd] = UInt32(bitPattern: Int32(Int16(littleEndian: base.loadUnaligned(fromByteOffset: Int(a), as: Int16.self))))
            case .lw:
                let a = x[word.rs1] &+ word.iImm
                guard Int(a) &+ 4 <= limit else { return .memoryFault(address: a) }
                // SAFETY: a + 4 <= limit.
                x[word.rd] = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: Int(a), as: UInt32.self))
            case .lbu:
                let a = x[word.rs1] &+ word.iImm
                guard Int(a) &+ 1 <= limit else { return .memoryFault(address: a) }
                // SAFETY: a + 1 <= limit.
                x[word.rd] = UInt32(base.load(fromByteOffset: Int(a), as: UInt8.self))
            case .lhu:
                let a = x[word.rs1] &+ word.iImm
                guard Int(a) &+ 2 <= limit else { return .memoryFault(address: a) }
                // SAFETY: a + 2 <= limit.
                x[word.rd] = UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: Int(a), as: UInt16.self)))
            case .sb:
                let a = x[word.rs1] &+ word.sImm
                guard Int(a) &+ 1 <= limit else { return .memoryFault(address: a) }
                // SAFETY: a + 1 <= limit.
                base.storeBytes(of: UInt8(truncatingIfNeeded: x[word.rs2]), toByteOffset: Int(a), as: UInt8.self)
            case .sh:
                let a = x[word.rs1] &+ word.sImm
                guard Int(a) &+ 2 <= limit else { return .memoryFault(address: a) }
                // SAFETY: a + 2 <= limit; storeBytes allows unaligned offsets.
                base.storeBytes(of: UInt16(truncatingIfNeeded: x[word.rs2]).littleEndian, toByteOffset: Int(a), as: UInt16.self)
            case .sw:
                let a = x[word.rs1] &+ word.sImm
                guard Int(a) &+ 4 <= limit else { return .memoryFault(address: a) }
                // SAFETY: a + 4 <= limit; storeBytes allows unaligned offsets.
                base.storeBytes(of: x[word.rs2].littleEndian, toByteOffset: Int(a), as: UInt32.self)
            case .addi: x[word.rd] = Arithmetic.add(x[word.rs1], word.iImm)
            case .slti: x[word.rd] = Arithmetic.slt(x[word.rs1], word.iImm)
            case .sltiu: x[word.rd] = Arithmetic.sltu(x[word.rs1], word.iImm)
            case .xori: x[word.rd] = x[word.rs1] ^ word.iImm
            case .ori: x[word.rd] = x[word.rs1] | word.iImm
            case .andi: x[word.rd] = x[word.rs1] & word.iImm
            case .slli: x[word.rd] = Arithmetic.sll(x[word.rs1], word.shamt)
            case .srli: x[word.rd] = Arithmetic.srl(x[word.rs1], word.shamt)
            case .srai: x[word.rd] = Arithmetic.sra(x[word.rs1], word.shamt)
            case .add: x[word.rd] = Arithmetic.add(x[word.rs1], x[word.rs2])
            case .sub: x[word.rd] = Arithmetic.sub(x[word.rs1], x[word.rs2])
            case .sll: x[word.rd] = Arithmetic.sll(x[word.rs1], x[word.rs2])
            case .slt: x[word.rd] = Arithmetic.slt(x[word.rs1], x[word.rs2])
            case .sltu: x[word.rd] = Arithmetic.sltu(x[word.rs1], x[word.rs2])
            case .xor: x[word.rd] = x[word.rs1] ^ x[word.rs2]
            case .srl: x[word.rd] = Arithmetic.srl(x[word.rs1], x[word.rs2])
            case .sra: x[word.rd] = Arithmetic.sra(x[word.rs1], x[word.rs2])
            case .or: x[word.rd] = x[word.rs1] | x[word.rs2]
            case .and: x[word.rd] = x[word.rs1] & x[word.rs2]
            case .fence, .fenceI: break
            case .ecall: return .ecall
            case .ebreak: return .ebreak
            case .mul: x[word.rd] = Arithmetic.mul(x[word.rs1], x[word.rs2])
            case .mulh: x[word.rd] = Arithmetic.mulh(x[word.rs1], x[word.rs2])
            case .mulhsu: x[word.rd] = Arithmetic.mulhsu(x[word.rs1], x[word.rs2])
            case .mulhu: x[word.rd] = Arithmetic.mulhu(x[word.rs1], x[word.rs2])
            case .div: x[word.rd] = Arithmetic.div(x[word.rs1], x[word.rs2])
            case .divu: x[word.rd] = Arithmetic.divu(x[word.rs1], x[word.rs2])
            case .rem: x[word.rd] = Arithmetic.rem(x[word.rs1], x[word.rs2])
            case .remu: x[word.rd] = Arithmetic.remu(x[word.rs1], x[word.rs2])
            case .halt, .lpsw, .setr, .getm, .getl, .getb, .jrstu, .setm, .out, .vmrun:
                return .system(SystemInstruction(index: Int(word.funct7)), word: word.raw)
            }
            x[0] = 0
            pc = next
        }
    }
}

/// RV32IM's arithmetic and comparisons over plain values, one body each,
/// shared by the reference interpreter and the portable translator's
/// executor (the JIT restates them in x86-64, held to them by its
/// differential tests). The M extension's edge cases are defined here:
/// division by zero and overflow never trap. Register-register and
/// register-immediate forms share a body (ADDI is `add` of an immediate);
/// shift amounts are taken mod 32, as RV32I's shifts take them.
/// `@_transparent`, so each call is its one or two host instructions.
public enum Arithmetic {
    /// ADD, ADDI.
    @_transparent public static func add(_ a: UInt32, _ b: UInt32) -> UInt32 { a &+ b }
    /// SUB.
    @_transparent public static func sub(_ a: UInt32, _ b: UInt32) -> UInt32 { a &- b }
    /// SLL, SLLI.
    @_transparent public static func sll(_ a: UInt32, _ b: UInt32) -> UInt32 { a << (b & 31) }
    /// SRL, SRLI.
    @_transparent public static func srl(_ a: UInt32, _ b: UInt32) -> UInt32 { a >> (b & 31) }
    /// SRA, SRAI.
    @_transparent public static func sra(_ a: UInt32, _ b: UInt32) -> UInt32 {
        UInt32(bitPattern: Int32(bitPattern: a) >> (b & 31))
    }
    /// Signed a < b: SLT, SLTI (as 1 or 0), BLT, and BGE as its negation.
    @_transparent public static func lessThan(_ a: UInt32, _ b: UInt32) -> Bool {
        Int32(bitPattern: a) < Int32(bitPattern: b)
    }
    /// Unsigned a < b: SLTU, SLTIU (as 1 or 0), BLTU, and BGEU as its negation.
    @_transparent public static func lessThanUnsigned(_ a: UInt32, _ b: UInt32) -> Bool { a < b }
    /// SLT, SLTI.
    @_transparent public static func slt(_ a: UInt32, _ b: UInt32) -> UInt32 { lessThan(a, b) ? 1 : 0 }
    /// SLTU, SLTIU.
    @_transparent public static func sltu(_ a: UInt32, _ b: UInt32) -> UInt32 { lessThanUnsigned(a, b) ? 1 : 0 }
    /// MUL: the low 32 bits.
    @_transparent public static func mul(_ a: UInt32, _ b: UInt32) -> UInt32 { a &* b }

    /// High 32 bits of signed x signed.
    @inlinable @inline(__always) public static func mulh(_ a: UInt32, _ b: UInt32) -> UInt32 {
        UInt32(truncatingIfNeeded: (Int64(Int32(bitPattern: a)) * Int64(Int32(bitPattern: b))) >> 32)
    }
    /// High 32 bits of signed x unsigned.
    @inlinable @inline(__always) public static func mulhsu(_ a: UInt32, _ b: UInt32) -> UInt32 {
        UInt32(truncatingIfNeeded: (Int64(Int32(bitPattern: a)) * Int64(b)) >> 32)
    }
    /// High 32 bits of unsigned x unsigned.
    @inlinable @inline(__always) public static func mulhu(_ a: UInt32, _ b: UInt32) -> UInt32 {
        UInt32(truncatingIfNeeded: (UInt64(a) * UInt64(b)) >> 32)
    }
    /// Signed division: x / 0 = -1, INT_MIN / -1 = INT_MIN.
    @inlinable @inline(__always) public static func div(_ a: UInt32, _ b: UInt32) -> UInt32 {
        if b == 0 { return UInt32.max }
        if a == 0x8000_0000 && b == UInt32.max { return a }
        return UInt32(bitPattern: Int32(bitPattern: a) / Int32(bitPattern: b))
    }
    /// Unsigned division: x / 0 = 2^32 - 1.
    @inlinable @inline(__always) public static func divu(_ a: UInt32, _ b: UInt32) -> UInt32 {
        b == 0 ? UInt32.max : a / b
    }
    /// Signed remainder: x % 0 = x, INT_MIN % -1 = 0.
    @inlinable @inline(__always) public static func rem(_ a: UInt32, _ b: UInt32) -> UInt32 {
        if b == 0 { return a }
        if a == 0x8000_0000 && b == UInt32.max { return 0 }
        return UInt32(bitPattern: Int32(bitPattern: a) % Int32(bitPattern: b))
    }
    /// Unsigned remainder: x % 0 = x.
    @inlinable @inline(__always) public static func remu(_ a: UInt32, _ b: UInt32) -> UInt32 {
        b == 0 ? a : a % b
    }
}
