import Experiments
import Classifier
import Foundation
import Machine
import TrapVMM

/// A generated PG32 guest: a fixed trap handler, random code and random data.
struct FuzzProgram {
    /// Guest memory: small, so that thousands of runs a second are possible.
    static let memory = 65536
    static let handler: UInt32 = 0x800
    static let codeBase: UInt32 = 0x1000
    static let dataBase: UInt32 = 0x4000
    /// Where the handler counts traps (it halts after `trapLimit`).
    static let counter: Int32 = 0x100
    static let trapLimit: Int32 = 48

    var code: [UInt32]
    var data: [UInt32]
    /// The exit controls `hw` runs this program with (random, like the rest).
    var hwExits = ExitControls.none
    /// The processor the monitors run this program on (programs alternate).
    var hardware = Hardware.interp

    /// The handler every program shares: count the trap, halt with the count
    /// after `trapLimit` traps, otherwise skip the trapping instruction and
    /// return with LPSW. It uses x30 and x31 only.
    static let handlerCode: [Instruction] = [
        Instruction(.lw, rd: 30, rs1: 0, imm: counter),
        Instruction(.addi, rd: 30, rs1: 30, imm: 1),
        Instruction(.sw, rs1: 0, rs2: 30, imm: counter),
        Instruction(.addi, rd: 31, rs1: 0, imm: trapLimit),
        Instruction(.blt, rs1: 30, rs2: 31, imm: 8),
        Instruction(.halt, rs1: 30),
        Instruction(.lw, rd: 31, rs1: 0, imm: 4),
        Instruction(.addi, rd: 31, rs1: 31, imm: 4),
        Instruction(.sw, rs1: 0, rs2: 31, imm: 4),
        Instruction(.lpsw, rs1: 0),
    ]

    /// The ELF image: low core's new PSW, the handler, the code, the data.
    var image: ELFImage {
        var words = [UInt32](repeating: 0, count: Int(FuzzProgram.dataBase) / 4 + data.count)
        for (i, w) in PSW(mode: .supervisor, pc: FuzzProgram.handler, l: 0, b: UInt32(FuzzProgram.memory)).words.enumerated() {
            words[4 + i] = w
        }
        for (i, inst) in FuzzProgram.handlerCode.enumerated() { words[Int(FuzzProgram.handler) / 4 + i] = inst.encoded }
        for (i, w) in code.enumerated() { words[Int(FuzzProgram.codeBase) / 4 + i] = w }
        for (i, w) in data.enumerated() { words[Int(FuzzProgram.dataBase) / 4 + i] = w }
        return ELFImage(words: words, at: 0, entry: FuzzProgram.codeBase)
    }

    /// A random program, weighted toward what breaks monitors.
    /// The register and immediate arithmetic of the innocuous core, and the
    /// upper immediates, from the instruction table: a new instruction of
    /// those formats is generated without being listed here.
    static let arithmetic = Opcode.allCases.filter {
        $0.group == .core && [.r, .i, .shift, .u].contains($0.format)
    }
    /// Every load and store, from the table (jalr is written like a load, but jumps).
    static let memoryAccesses = Opcode.allCases.filter {
        $0.group == .core && ($0.format == .store || $0.format == .load) && $0 != .jalr
    }

    static func generate(using rng: inout SplitMix64) -> FuzzProgram {
        let w = UInt32(memory)
        let length = Int.random(in: 40...160, using: &rng)
        func codeAddress() -> UInt32 { codeBase + 4 * UInt32.random(in: 0..<UInt32(length + 8), using: &rng) }
        func pick<T>(_ xs: [T]) -> T { xs[Int.random(in: 0..<xs.count, using: &rng)] }
        // Data: PSWs for LPSW with random relocations, and instruction words to store into code.
        var data: [UInt32] = []
        for _ in 0..<16 {
            data += [UInt32.random(in: 0...1, using: &rng),
                     pick([codeAddress(), codeAddress() &+ 2, 0, UInt32.random(in: 0...w, using: &rng) & ~3]),
                     pick([0, 0x100, 0x1000, w - 0x2000, w - 4, w, 0xFFFF_F000, UInt32.random(in: 0...w, using: &rng)]),
                     pick([w, 0x2000, 0x10000, 0xFFFF_FFFF, 0, UInt32.random(in: 0...w, using: &rng)])]
        }
        // VX control blocks (SPEC section 11), valid and invalid: G's PSW, k and w (G over the
        // host's own code at k = 0, over free storage, refused), random exit controls and quotas.
        let blocks = dataBase + 4 * UInt32(data.count)
        for _ in 0..<6 {
            let k = pick([0, 0, 0x1000, 0x8000, 0xC000, w - 0x1000, 0xFFFF_F000, UInt32.random(in: 0...w, using: &rng)])
            data += [UInt32.random(in: 0...1, using: &rng),
                     pick([codeAddress(), codeAddress(), handler, 0, UInt32.random(in: 0...0x4000, using: &rng) & ~3]),
                     pick([0, 0, 0x1000, UInt32.random(in: 0...0x8000, using: &rng)]),
                     pick([0x4000, 0x8000, w, 0xFFFF_FFFF, UInt32.random(in: 0...w, using: &rng)]),
                     k,
                     pick([0x4000, 0x8000, 0x1000, 0x1001, 0, w, UInt32.random(in: 0...w, using: &rng)]),
                     UInt32.random(in: 0...UInt32.max, using: &rng),
                     pick([0, 0, 1, 5, UInt32.random(in: 1...200, using: &rng)]),
                     0, 0, 0, UInt32.random(in: 0...1, using: &rng)]
        }
        func blockAddress() -> UInt32 { blocks + 48 * UInt32.random(in: 0..<6, using: &rng) }
        // Registers x1..x12: addresses (near the bound, into code, into data, low core); x13..x20: values.
        let interesting: [UInt32] = [
            w - 4, w - 2, w - 1, w, codeAddress(), codeAddress(), dataBase + 16 * UInt32.random(in: 0..<16, using: &rng),
            pick([dataBase + 16 * UInt32.random(in: 0..<16, using: &rng), blockAddress()]), 0x20, 0x1000, blockAddress(),
            pick([0xFFFF_FFFC, w - 40, blockAddress()]),
            Instruction.random(pick([.addi, .add, .lw, .sw, .jal, .out, .ecall]), registers: 1...20, using: &rng).encoded,
            1, 0x8000_0000, 0xFFFF_FFFF, UInt32.random(in: 0...UInt32.max, using: &rng), 0x100, 7, 0x7FFF_FFFF,
        ]
        var code: [UInt32] = []
        for (i, v) in interesting.enumerated() {
            let rd = i + 1, lo = Int32(bitPattern: v << 20) >> 20
            code.append(Instruction(.lui, rd: rd, imm: Int32(bitPattern: v &- UInt32(bitPattern: lo))).encoded)
            code.append(Instruction(.addi, rd: rd, rs1: rd, imm: lo).encoded)
        }
        // A third of the programs enter guest mode at once (G may well run the host's own code).
        if Int.random(in: 0..<3, using: &rng) == 0 { code.append(Instruction(.vmrun, rs1: 11).encoded) }
        let alu = FuzzProgram.arithmetic, memory = FuzzProgram.memoryAccesses
        let system: [Opcode] = [.lpsw, .lpsw, .setr, .setr, .getm, .getl, .getb, .jrstu, .setm, .out, .out, .halt,
                                .vmrun, .vmrun, .vmrun, .vmrun]
        while code.count < length {
            let here = codeBase + 4 * UInt32(code.count)
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<40:
                code.append(Instruction.random(pick(alu), registers: 13...29, using: &rng).encoded)
            case 40..<58:
                var inst = Instruction.random(pick(memory), registers: 1...20, using: &rng)
                inst.rs1 = Int.random(in: 1...12, using: &rng) // an address register
                inst.imm = Int32.random(in: -8...8, using: &rng)
                code.append(inst.encoded)
            case 58..<66: // a store of an instruction word into the code (self-modifying)
                code.append(Instruction(.sw, rs1: pick([5, 6]), rs2: 13, imm: Int32.random(in: -16...16, using: &rng) * 4).encoded)
            case 66..<76: // a branch or jump to anywhere in the code, sometimes into a block's middle, sometimes misaligned
                let target = Int32(bitPattern: codeAddress() &- here) + (Int.random(in: 0..<10, using: &rng) == 0 ? 2 : 0)
                let op: Opcode = pick([.beq, .bne, .blt, .bge, .bltu, .bgeu, .jal])
                code.append(op == .jal ? Instruction(.jal, rd: pick([0, 1, 21]), imm: target).encoded
                                       : Instruction(op, rs1: Int.random(in: 13...29, using: &rng), rs2: Int.random(in: 13...29, using: &rng),
                                                     imm: max(-4096, min(4094, target))).encoded)
            case 76..<78:
                let base = pick([5, 6]), offset = Int32.random(in: -8...8, using: &rng) * 4
                if Bool.random(using: &rng) { // a target the block sets (auipc: a call not relaxed), which translation knows
                    code.append(Instruction(.auipc, rd: base, imm: 0).encoded)
                    let skew = Int.random(in: 0..<10, using: &rng) == 0 ? Int32(2) : 0 // sometimes misaligned
                    code.append(Instruction(.jalr, rd: pick([0, 1, 21]), rs1: base, imm: offset + 8 + skew).encoded)
                } else if Bool.random(using: &rng) {
                    code.append(Instruction(.jalr, rd: pick([0, 21]), rs1: base, imm: offset).encoded)
                } else { // a return: to the last call's P + 4 (or wherever ra points since)
                    code.append(Instruction(.jalr, rd: 0, rs1: 1, imm: 0).encoded)
                }
            case 78..<92:
                var inst = Instruction.random(pick(system), registers: 1...20, using: &rng)
                if inst.op == .lpsw { inst.rs1 = pick([7, 8]) }
                if inst.op == .setr { inst.rs1 = pick([9, 10, 11, 17, 19]); inst.rs2 = pick([1, 4, 11, 15, 17]) }
                if inst.op == .jrstu { inst.rs1 = pick([5, 6]) }
                if inst.op == .vmrun { inst.rs1 = pick([8, 11, 11, 12]) }
                code.append(inst.encoded)
            case 92..<96:
                code.append(pick([Instruction(.ecall), Instruction(.ebreak)]).encoded)
            default:
                code.append(UInt32.random(in: 0...UInt32.max, using: &rng)) // mostly ILLEGAL
            }
        }
        code.append(Instruction(.halt, rs1: 14).encoded)
        var program = FuzzProgram(code: code, data: data)
        program.hwExits = ExitControls(rawValue: pick([0, UInt32.random(in: 0...UInt32.max, using: &rng),
                                                       ExitControls.all.rawValue, HWExits.shadow.rawValue]))
        return program
    }
}

/// One divergence where a theorem promised equivalence.
struct FuzzFinding {
    var program: FuzzProgram
    var profile: Profile
    var strategy: Strategy
    var difference: String

    /// The `bench run` line that replays it from `path`.
    func replay(_ path: String) -> String {
        "bench run \(path) --profile \(profile.name) --strategy native,\(strategy.rawValue) "
            + "--memory \(FuzzProgram.memory) --budget \(Fuzzer.budget) --hardware \(program.hardware.rawValue)"
            + (strategy == .hw ? " --hw-exits \(HWExits.list(program.hwExits))" : "")
    }
}

/// Runs generated programs natively and under every strategy the theorems
/// promise equivalence for, and compares (SPEC section 8).
struct Fuzzer {
    static let budget: UInt64 = 3000

    /// Strategies promised equivalence on `profile`, derived by the classifier:
    /// trap if Theorem 1 holds, hybrid if Theorem 3 holds, bt always.
    static func promised(_ profile: Profile, among strategies: [Strategy]) -> [Strategy] {
        let c = Classifier.classify(profile, trials: 64)
        return strategies.filter(c.promisesEquivalence(under:))
    }

    /// The bare machine's run of `program`: what every strategy is compared with.
    static func bare(_ program: FuzzProgram, _ profile: Profile) -> Snapshot {
        bareRun(program, profile).snapshot
    }

    /// The bare run and how many VX entries it made (the fuzzer reports how many programs reach guest mode).
    static func bareRun(_ program: FuzzProgram, _ profile: Profile) -> (snapshot: Snapshot, guestEntries: UInt64) {
        let m = Machine(booting: program.image, memorySize: FuzzProgram.memory, profile: profile)
        return (m.runToEnd(budget: budget), m.guestEntries)
    }

    /// The first difference of `strategy` from `bare` (the program's native run), or nil.
    /// Runs that end by budget are compared too: every strategy counts
    /// instructions exactly, so they must stop in the same state.
    static func difference(_ program: FuzzProgram, _ profile: Profile, _ strategy: Strategy, bare: Snapshot) throws -> String? {
        let image = program.image
        if strategy == .nativeJit {
            // The processors against each other: the bare machine on the JIT.
            let r = try strategy.execute(RunRequest(image: image, profile: profile, memorySize: FuzzProgram.memory, budget: budget))
            return r.snapshot.firstDifference(from: bare)
        }
        let request = RunRequest(image: image, profile: profile, memorySize: FuzzProgram.memory, budget: budget,
                                 hardware: program.hardware, hwExits: program.hwExits)
        let (cp, _) = try strategy.controlProgram([request])
        cp.run()
        let damaged = cp.damagedCanaries
        if let first = damaged.first {
            return "isolation broken: \(damaged.count) canary bytes outside the VM changed, the first at physical \(hex(first))"
        }
        return cp.vms[0].snapshot().firstDifference(from: bare)
    }

    /// The smallest program found that still shows a difference: instructions
    /// replaced by no-ops one at a time, keeping each replacement that still diverges.
    static func shrink(_ finding: FuzzFinding) -> FuzzFinding {
        var best = finding
        let nop = Instruction(.addi).encoded
        for i in best.program.code.indices where best.program.code[i] != nop {
            var candidate = best.program
            candidate.code[i] = nop
            if let d = try? difference(candidate, best.profile, best.strategy, bare: bare(candidate, best.profile)) {
                best.program = candidate
                best.difference = d
            }
        }
        return best
    }
}
