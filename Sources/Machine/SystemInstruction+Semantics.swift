/// The state a system instruction acts on: a machine's real PSW and
/// registers, or a monitor's record of a virtual machine. Defining the
/// semantics once over this protocol means the hardware and every monitor's
/// interpreter routines cannot disagree about what an instruction does.
public protocol SystemContext: AnyObject {
    /// The PSW the instruction reads and changes (real, or the virtual record).
    var psw: PSW { get set }
    /// General register `r` (writes to x0 are dropped).
    subscript(register r: Int) -> UInt32 { get set }
    /// HALT: the machine (or VM) stops with `code`.
    func halt(code: UInt32)
    /// OUT: one byte to the console.
    func output(_ byte: UInt8)
    /// LPSW's read: the four words at virtual `address` under `psw`'s
    /// relocation as one 16-byte access, or nil if that access traps.
    func readPSWWords(at address: UInt32) -> (UInt32, UInt32, UInt32, UInt32)?
}

/// What executing a system instruction led to.
public enum SystemEffect: Sendable, Equatable {
    /// The instruction completed; `psw` holds the next P, M and R.
    case completed
    /// LPSW's operand was out of bounds: a memory trap with this value is due
    /// (P still at the LPSW).
    case memoryTrap(UInt32)
    /// VMRUN with its control block at this virtual address: entering guest
    /// mode is the owner's to do (the machine's VX, or a monitor's routine);
    /// nothing has changed yet and P is still at the VMRUN.
    case vmrun(UInt32)
}

extension SystemInstruction {
    /// Executes this instruction (encoded as `word`, at `context.psw.pc`) as
    /// SPEC section 5 defines it in supervisor mode. With `keepMode`, any
    /// effect on the mode is dropped (a profile's `ignore-mode` action).
    /// Whether the instruction may execute at all in the current mode is the
    /// caller's decision (the profile's, or the monitor's).
    @inlinable // so each monitor gets it specialized for its own context type
    public func execute(word: UInt32, on context: some SystemContext, keepMode: Bool = false) -> SystemEffect {
        let w = InstructionWord(word)
        let a = context[register: w.rs1], c = context[register: w.rs2]
        var psw = context.psw
        switch self {
        case .halt:
            context.halt(code: a)
            psw.pc &+= 4
        case .lpsw:
            guard let (mode, pc, l, b) = context.readPSWWords(at: a) else { return .memoryTrap(a) }
            psw = PSW(mode: keepMode ? psw.mode : Mode(word: mode), pc: pc, l: l, b: b)
        case .setr:
            psw.l = a
            psw.b = c
            psw.pc &+= 4
        case .getm:
            context[register: w.rd] = psw.mode.rawValue
            psw.pc &+= 4
        case .getl:
            context[register: w.rd] = psw.l
            psw.pc &+= 4
        case .getb:
            context[register: w.rd] = psw.b
            psw.pc &+= 4
        case .jrstu:
            if !keepMode { psw.mode = .user }
            psw.pc = a
        case .setm:
            if !keepMode { psw.mode = Mode(word: a) }
            psw.pc &+= 4
        case .out:
            context.output(UInt8(truncatingIfNeeded: a))
            psw.pc &+= 4
        case .vmrun:
            return .vmrun(a)
        }
        context.psw = psw
        return .completed
    }
}

extension Machine: SystemContext {
    /// HALT on the bare machine.
    public func halt(code: UInt32) { status = .halted(code) }

    /// OUT on the bare machine.
    public func output(_ byte: UInt8) { console.append(byte) }

    /// LPSW's operand under the real relocation.
    public func readPSWWords(at address: UInt32) -> (UInt32, UInt32, UInt32, UInt32)? {
        guard let p = relocate(address, size: 16, under: psw) else { return nil }
        return (storage.load32(p), storage.load32(p + 4), storage.load32(p + 8), storage.load32(p + 12))
    }
}
