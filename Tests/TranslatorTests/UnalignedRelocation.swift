import Machine

/// A guest that runs under a relocation l = 2, so that every instruction
/// straddles two physical words (SPEC section 2 allows any l), and rewrites
/// translated code in the words only the end of an instruction lies in:
///
/// - T (two instructions) is called, then the upper half of its `jalr x0,
///   0(x1)` is rewritten to make it `jalr x0, 8(x1)`, and T is called again:
///   the run goes on only if the second call returns 8 bytes further on;
/// - T2's first instruction straddles a page boundary; the half of it in the
///   next page is rewritten (`addi x7, x7, 1` becomes `addi x7, x7, 5`) and
///   T2 is called again.
///
/// The run halts with x7: 1 + 1 from T, 1 + 5 from T2 (a translator that
/// misses either store halts 1 or 4).
enum UnalignedRelocation {
    static let memory = 0x8000
    static let exitCode: UInt32 = 8

    static let image: ELFImage = {
        let l: UInt32 = 2, t: UInt32 = 0x1200, t2: UInt32 = 0x2FFC, main: UInt32 = 0x1100
        var bytes = [UInt8](repeating: 0, count: memory)
        func put(_ w: UInt32, at physical: Int) {
            for b in 0..<4 { bytes[physical + b] = UInt8(truncatingIfNeeded: w >> (8 * UInt32(b))) }
        }
        func place(_ code: [Instruction], at virtual: UInt32) {
            for (i, inst) in code.enumerated() { put(inst.encoded, at: Int(l + virtual) + 4 * i) }
        }
        func li(_ rd: Int, _ value: UInt32) -> [Instruction] {
            let lo = Int32(bitPattern: value << 20) >> 20
            return [Instruction(.lui, rd: rd, imm: Int32(bitPattern: value &- UInt32(bitPattern: lo))),
                    Instruction(.addi, rd: rd, rs1: rd, imm: lo)]
        }
        func call(_ target: UInt32, from code: [Instruction]) -> Instruction {
            Instruction(.jal, rd: 1, imm: Int32(target) - Int32(main + 4 * UInt32(code.count)))
        }
        // Boot (l = 0, at 0x1000): LPSW to <supervisor, main, l = 2, b = 0x7000>, stored at 0x2000.
        for (i, w) in PSW(mode: .supervisor, pc: main, l: l, b: 0x7000).words.enumerated() { put(w, at: 0x2000 + 4 * i) }
        for (i, inst) in (li(5, 0x2000) + [Instruction(.lpsw, rs1: 5)]).enumerated() { put(inst.encoded, at: 0x1000 + 4 * i) }
        var code: [Instruction] = []
        code.append(call(t, from: code))
        code += [Instruction(.addi, rd: 11, imm: 0x80)] + li(12, t + 6) + [Instruction(.sh, rs1: 12, rs2: 11)]
        code.append(call(t, from: code))
        code += [Instruction(.addi, rd: 10, imm: 1), Instruction(.halt, rs1: 10)] // only if the jalr was not rewritten
        code.append(call(t2, from: code))
        code += [Instruction(.addi, rd: 11, imm: 0x53)] + li(12, t2 + 2) + [Instruction(.sh, rs1: 12, rs2: 11)]
        code.append(call(t2, from: code))
        code += [Instruction(.halt, rs1: 7)]
        place(code, at: main)
        place([Instruction(.addi, rd: 7, rs1: 7, imm: 1), Instruction(.jalr, rs1: 1)], at: t)
        place([Instruction(.addi, rd: 7, rs1: 7, imm: 1), Instruction(.jalr, rs1: 1)], at: t2)
        let words = (0..<memory / 4).map { i in (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[4 * i + $1]) << (8 * UInt32($1)) } }
        return ELFImage(words: words, at: 0, entry: 0x1000)
    }()
}
