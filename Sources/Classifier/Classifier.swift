import Machine

/// One instruction's classification under a profile, with a witness state for
/// each property that holds (Popek and Goldberg, section 3).
public struct InstructionClassification: Sendable {
    /// The instruction.
    public let opcode: Opcode
    /// Traps in user mode and not in supervisor mode, in every generated state
    /// where it does not memory-trap.
    public var privileged = false
    /// In some state it changes M or R without trapping.
    public var controlSensitive = false
    /// Its result differs between r and r shifted by x.
    public var locationSensitive = false
    /// Its result (other than M itself) differs between the two modes.
    public var modeSensitive = false
    /// Sensitive in some state with M = user.
    public var userSensitive = false
    /// A state showing each property that holds, in words.
    public var witnesses: [String: String] = [:]

    /// SPEC.md's name: ADD, LW, SETR, ...
    public var name: String { opcode.name }
    /// Location or mode sensitive.
    public var behaviorSensitive: Bool { locationSensitive || modeSensitive }
    /// Control or behavior sensitive.
    public var sensitive: Bool { controlSensitive || behaviorSensitive }
    /// Not sensitive.
    public var innocuous: Bool { !sensitive }
    /// A state showing it sensitive: control, else location, else mode.
    public var sensitivityWitness: String? {
        witnesses["controlSensitive"] ?? witnesses["locationSensitive"] ?? witnesses["modeSensitive"]
    }
}

/// A profile's classification and the two theorems' verdicts.
public struct Classification: Sendable {
    /// The profile studied.
    public let profile: Profile
    /// Every instruction of the table, in table order.
    public let instructions: [InstructionClassification]
    /// Generated states per instruction.
    public let trials: Int
    /// The seed the states came from.
    public let seed: UInt64

    /// Sensitive and not privileged: each breaks Theorem 1.
    public var theorem1Violations: [InstructionClassification] { instructions.filter { $0.sensitive && !$0.privileged } }
    /// User sensitive and not privileged: each breaks Theorem 3.
    public var theorem3Violations: [InstructionClassification] { instructions.filter { $0.userSensitive && !$0.privileged } }
    /// Theorem 1: every sensitive instruction is privileged (a trap-and-emulate VMM exists).
    public var theorem1: Bool { theorem1Violations.isEmpty }
    /// Theorem 3: every user-sensitive instruction is privileged (a hybrid VMM exists).
    public var theorem3: Bool { theorem3Violations.isEmpty }
}

/// Derives privileged, sensitive and innocuous by executing every instruction
/// of the table over generated states, never from a stored list.
public enum Classifier {
    /// Classifies every instruction of the table under `profile`, from `trials`
    /// generated states each (random and edge: both modes, r and r shifted by
    /// x, bounds up to the edge of memory), reproducibly from `seed`.
    public static func classify(_ profile: Profile, trials: Int = 200, seed: UInt64 = 0x5EED) -> Classification {
        var rng = SplitMix64(seed: seed)
        let probe = Probe(profile: profile, rng: &rng)
        let results = Opcode.allCases.map { classify($0, probe: probe, trials: trials, rng: &rng) }
        return Classification(profile: profile, instructions: results, trials: trials, seed: seed)
    }

    static func classify(_ op: Opcode, probe: Probe, trials: Int, rng: inout SplitMix64) -> InstructionClassification {
        var c = InstructionClassification(opcode: op)
        var privilegeHeld = true, privilegeTested = false
        for trial in 0..<trials {
            let (base, shifted) = relocationPair(trial, rng: &rng)
            let s = state(op, l: base, trial: trial, rng: &rng)
            let sup = probe.run(s.inMode(.supervisor)), usr = probe.run(s.inMode(.user))
            let supShifted = probe.run(s.inMode(.supervisor).relocated(to: shifted))
            let usrShifted = probe.run(s.inMode(.user).relocated(to: shifted))

            // Privileged: in every pair where neither memory-traps, supervisor does not trap and user does.
            if sup.trap != .memory && usr.trap != .memory {
                privilegeTested = true
                if sup.trapped || !usr.trapped {
                    if privilegeHeld { c.witnesses["notPrivileged"] = describe(s, sup.trapped ? .supervisor : .user, (sup.trapped ? sup : usr).trap.map { "trapped \($0)" } ?? "did not trap") }
                    privilegeHeld = false
                }
            }
            // Control sensitive: M or R changed without a trap.
            for (mode, out) in [(Mode.supervisor, sup), (.user, usr)] where !out.trapped {
                if out.psw.mode != mode || out.psw.l != s.l || out.psw.b != s.b {
                    let witness = describe(s, mode, "M, l, b became \(out.psw.mode.rawValue), \(hex(out.psw.l)), \(hex(out.psw.b)) without a trap")
                    if !c.controlSensitive { c.witnesses["controlSensitive"] = witness }
                    c.controlSensitive = true
                    if mode == .user { markUserSensitive(&c, witness) }
                }
            }
            // Location sensitive: r and r shifted by x see the same storage; do the results agree relative to r?
            for (mode, a, b) in [(Mode.supervisor, sup, supShifted), (.user, usr, usrShifted)] where !a.trapped && !b.trapped {
                if let d = difference(a, base, b, shifted, ignoringMode: false) {
                    let witness = describe(s, mode, "at l = \(hex(base)) and \(hex(shifted)): \(d)")
                    if !c.locationSensitive { c.witnesses["locationSensitive"] = witness }
                    c.locationSensitive = true
                    if mode == .user { markUserSensitive(&c, witness) }
                }
            }
            // Mode sensitive: the two modes, neither trapping, differ in something other than M.
            if !sup.trapped && !usr.trapped, let d = difference(sup, base, usr, base, ignoringMode: true) {
                let witness = describe(s, .user, "supervisor and user mode differ: \(d)")
                if !c.modeSensitive { c.witnesses["modeSensitive"] = witness }
                c.modeSensitive = true
                markUserSensitive(&c, witness)
            }
        }
        c.privileged = privilegeTested && privilegeHeld
        if c.privileged { c.witnesses["notPrivileged"] = nil }
        return c
    }

    private static func markUserSensitive(_ c: inout InstructionClassification, _ witness: String) {
        if !c.userSensitive { c.witnesses["userSensitive"] = witness }
        c.userSensitive = true
    }

    /// r and r shifted by x, both inside storage; some pairs end at its edge.
    static func relocationPair(_ trial: Int, rng: inout SplitMix64) -> (UInt32, UInt32) {
        let window = UInt32(Probe.window)
        switch trial % 4 {
        case 0: return (0, window)
        case 1: return (window, 3 * window) // the shifted window ends at the edge of memory
        case 2: return (0, 3 * window)
        default:
            let l = UInt32.random(in: 0...window, using: &rng) & ~3
            return (l, l + UInt32.random(in: 1...(window / 4), using: &rng) * 4 + window)
        }
    }

    /// A random state for `op` at relocation base `l`: registers mixing
    /// addresses inside the bound, edge values and noise; bounds down to a few bytes.
    static func state(_ op: Opcode, l: UInt32, trial: Int, rng: inout SplitMix64) -> ProbeState {
        let bounds: [UInt32] = [UInt32(Probe.window), UInt32(Probe.window) - 4, 0x800, 0x100, 64]
        let b = trial % 7 == 6 ? UInt32.random(in: 32...UInt32(Probe.window), using: &rng) & ~3 : bounds[trial % bounds.count]
        let pc = UInt32.random(in: 0..<(b / 4), using: &rng) * 4
        var registers = [UInt32](repeating: 0, count: 32)
        for r in 1..<32 {
            switch UInt32.random(in: 0..<10, using: &rng) {
            case 0..<4: registers[r] = UInt32.random(in: 0..<b, using: &rng) & ~3
            case 4..<6: registers[r] = [0, 1, 0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, b, b &- 4, l][Int.random(in: 0..<8, using: &rng)]
            default: registers[r] = UInt32.random(in: 0...UInt32.max, using: &rng)
            }
        }
        let inst = Instruction.random(op, registers: 1...31, using: &rng)
        var window = Probe.randomBytes(Probe.window, rng: &rng)
        if op == .vmrun, trial % 2 == 0, b >= 64 {
            // Half the trials get a control block the hardware accepts (random bytes almost never are one).
            let a = UInt32.random(in: 0...(b - 48) / 4, using: &rng) * 4
            registers[inst.rs1] = a
            let k = UInt32.random(in: 0...UInt32(Probe.memory / 4096 - 1), using: &rng) * 4096
            let g = PSW(mode: Bool.random(using: &rng) ? .user : .supervisor, pc: UInt32.random(in: 0..<1024, using: &rng) * 4,
                        l: 0, b: 4096)
            let block = ControlBlock(psw: g, k: k, w: 4096, controls: ExitControls(rawValue: UInt32.random(in: 0...UInt32.max, using: &rng)),
                                     quota: UInt32.random(in: 0...3, using: &rng))
            for (i, word) in block.words.enumerated() {
                withUnsafeBytes(of: word.littleEndian) { window.replaceSubrange(Int(a) + 4 * i..<Int(a) + 4 * i + 4, with: $0) }
            }
        }
        return ProbeState(word: inst.encoded, mode: .supervisor, pc: pc, l: l, b: b, registers: registers, window: window)
    }

    /// The first difference between two outcomes, each taken relative to its
    /// own relocation base, in words; nil if they agree.
    static func difference(_ a: ProbeOutcome, _ la: UInt32, _ b: ProbeOutcome, _ lb: UInt32, ignoringMode: Bool) -> String? {
        if a.halted != b.halted { return "HALT codes differ" }
        if a.registers != b.registers, let r = (1..<32).first(where: { a.registers[$0] != b.registers[$0] }) {
            return "x\(r) = \(hex(a.registers[r])) vs \(hex(b.registers[r]))"
        }
        if a.psw.pc != b.psw.pc { return "P = \(hex(a.psw.pc)) vs \(hex(b.psw.pc))" }
        if !ignoringMode && a.psw.mode != b.psw.mode { return "M differs" }
        if a.psw.l &- la != b.psw.l &- lb { return "l - base = \(hex(a.psw.l &- la)) vs \(hex(b.psw.l &- lb))" }
        if a.psw.b != b.psw.b { return "b = \(hex(a.psw.b)) vs \(hex(b.psw.b))" }
        if a.console != b.console { return "console output differs" }
        if a.window != b.window, let i = a.window.indices.first(where: { a.window[$0] != b.window[$0] }) {
            return "storage differs at \(hex(i))"
        }
        return nil
    }

    static func describe(_ s: ProbeState, _ mode: Mode, _ what: String) -> String {
        let word = InstructionWord(s.word)
        var sources: [Int] = []
        switch Instruction(decoding: s.word)?.op.format {
        case .r?, .store?, .branch?, .sysRs1Rs2?: sources = [word.rs1, word.rs2]
        case .i?, .load?, .shift?, .sysRs1?: sources = [word.rs1]
        case .u?, .jump?, .none?, .sysRd?, nil: break
        }
        let operands = sources.map { ", x\($0) = \(hex(s.registers[$0]))" }.joined()
        return "`\(disassemble(s.word, at: s.pc))` in \(mode == .user ? "user" : "supervisor") mode at P = \(hex(s.pc)), "
            + "R = (\(hex(s.l)), \(hex(s.b)))\(operands): \(what)"
    }
}
