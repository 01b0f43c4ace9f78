import Experiments
import HardwareVMM
import HybridVMM
import Machine
import Translator
import TrapVMM
import XCTest

/// Every monitor the differential tests run. A new monitor joins by adding a case.
enum Monitor: String, CaseIterable {
    case trap, hybrid, bt
    /// Binary translation with virtual user mode run directly (VMware's choice).
    case btDirectUser
    /// Binary translation, native x86-64 backend (absent where the JIT cannot run).
    case jit
    /// The hardware-assisted monitor with each exit-control preset.
    case hwNone, hwShadow, hwAll
    /// Trap-and-emulate, the hybrid monitor and hw with the JIT as the real
    /// processor (absent where the JIT cannot run): the hybrid monitor's
    /// software machine then runs its innocuous code on the JIT too.
    case trapOnJIT, hybridOnJIT, hwAllOnJIT

    /// The monitors this host runs.
    static var available: [Monitor] {
        allCases.filter { !$0.needsJIT || JITTranslator.unavailableReason == nil }
    }

    var needsJIT: Bool { [.jit, .trapOnJIT, .hybridOnJIT, .hwAllOnJIT].contains(self) }

    /// The exit controls of the hw monitors; nil for software monitors, which
    /// see every system instruction and every trap.
    var hwExits: ExitControls? { configuration.strategy == .hw ? configuration.hwExits : nil }

    /// True if the monitor is entered for `instruction` executed where the
    /// guest's machine executes it (HALT and OUT always exit under VX).
    func intercepts(_ instruction: SystemInstruction) -> Bool {
        guard let c = hwExits else { return true }
        return instruction == .halt || instruction == .out || c.exits(on: instruction)
    }

    /// True if a guest trap of `cause` reaches the monitor (which reflects it)
    /// rather than being delivered in the guest by the hardware.
    func intercepts(_ cause: TrapCause) -> Bool { hwExits?.exits(on: cause) ?? true }

    /// The strategy, processor and options this monitor is, in the
    /// experiment library's terms: the tests compose monitors exactly as
    /// `bench` and a researcher's program do.
    var configuration: (strategy: Strategy, hardware: Hardware, btUser: UserModeExecution, hwExits: ExitControls) {
        switch self {
        case .trap: return (.trap, .interp, .translated, .none)
        case .hybrid: return (.hybrid, .interp, .translated, .none)
        case .bt: return (.bt, .interp, .translated, .none)
        case .btDirectUser: return (.bt, .interp, .direct, .none)
        case .jit: return (.jit, .interp, .translated, .none)
        case .hwNone: return (.hw, .interp, .translated, .none)
        case .hwShadow: return (.hw, .interp, .translated, [.on(.lpsw), .on(.setr), .on(.memory)])
        case .hwAll: return (.hw, .interp, .translated, .all)
        case .trapOnJIT: return (.trap, .jit, .translated, .none)
        case .hybridOnJIT: return (.hybrid, .jit, .translated, .none)
        case .hwAllOnJIT: return (.hw, .jit, .translated, .all)
        }
    }

    func make(_ images: [ELFImage], profile: Profile, memory: Int, budget: UInt64) throws -> ControlProgram {
        let c = configuration
        let requests = images.map {
            RunRequest(image: $0, profile: profile, memorySize: memory, budget: budget, btUserMode: c.btUser,
                       hardware: c.hardware, hwExits: c.hwExits)
        }
        return try c.strategy.controlProgram(requests).0
    }
}

/// Test programs: assembled from `Instruction`s, with a guest trap handler at
/// 0x800 that records cause, value and the old PSW in x20..x23 and halts
/// with the cause. Low core's new PSW leads there.
enum Program {
    static let memory = 65536
    static let handler: UInt32 = 0x800

    static func li(_ rd: Int, _ value: UInt32) -> [Instruction] {
        let lo = Int32(bitPattern: value << 20) >> 20
        let hi = value &- UInt32(bitPattern: lo)
        return [Instruction(.lui, rd: rd, imm: Int32(bitPattern: hi)), Instruction(.addi, rd: rd, rs1: rd, imm: lo)]
    }

    /// The whole image: new PSW at 0x10, handler at 0x800, `code` at 0x1000,
    /// `data` words at 0x2000.
    static func image(_ code: [Instruction], data: [UInt32] = [], newPSW: PSW? = nil) -> ELFImage {
        for inst in code {
            precondition(Instruction(decoding: inst.encoded)?.imm == inst.imm, "\(inst): immediate does not fit its field")
        }
        return image(words: code.map(\.encoded), data: data, newPSW: newPSW)
    }

    /// As above, from raw code words; `extra` places more words at an address below 0x1000.
    static func image(words code: [UInt32], data: [UInt32] = [], newPSW: PSW? = nil,
                      extra: (UInt32, [UInt32])? = nil) -> ELFImage {
        var words = [UInt32](repeating: 0, count: (0x2000 + data.count * 4) / 4)
        let psw = newPSW ?? PSW(mode: .supervisor, pc: handler, l: 0, b: UInt32(memory))
        for (i, w) in psw.words.enumerated() { words[4 + i] = w }
        let handlerCode = [
            Instruction(.lw, rd: 20, rs1: 0, imm: 0x20), Instruction(.lw, rd: 21, rs1: 0, imm: 0x24),
            Instruction(.lw, rd: 22, rs1: 0, imm: 0x00), Instruction(.lw, rd: 23, rs1: 0, imm: 0x04),
            Instruction(.halt, rs1: 20),
        ]
        for (i, inst) in handlerCode.enumerated() { words[Int(handler) / 4 + i] = inst.encoded }
        if let (at, extraWords) = extra {
            for (i, w) in extraWords.enumerated() { words[Int(at) / 4 + i] = w }
        }
        if 0x1000 + code.count * 4 > words.count * 4 {
            words += [UInt32](repeating: 0, count: (0x1000 + code.count * 4) / 4 - words.count)
        }
        for (i, w) in code.enumerated() { words[0x1000 / 4 + i] = w }
        for (i, w) in data.enumerated() { words[0x2000 / 4 + i] = w }
        return ELFImage(words: words, at: 0, entry: 0x1000)
    }
}

/// Runs `image` on the bare machine and under `monitor`; returns both
/// snapshots and the VM (for its counters).
func bareAndMonitor(_ image: ELFImage, monitor: Monitor, profile: Profile = .pg32v, budget: UInt64 = 100_000,
                    memory: Int = Program.memory) throws -> (bare: Snapshot, run: Snapshot, vm: VirtualMachine, cp: ControlProgram) {
    let bare = Machine(booting: image, memorySize: memory, profile: profile).runToEnd(budget: budget)
    let cp = try monitor.make([image], profile: profile, memory: memory, budget: budget)
    cp.run()
    return (bare, cp.vms[0].snapshot(), cp.vms[0], cp)
}

/// Asserts the monitor's run is equivalent to the bare machine's, and that
/// no canary byte outside the VM changed.
@discardableResult
func assertEquivalent(_ image: ELFImage, monitor: Monitor, profile: Profile = .pg32v, budget: UInt64 = 100_000,
                      _ message: String = "", file: StaticString = #filePath, line: UInt = #line) throws -> (bare: Snapshot, vm: VirtualMachine) {
    let message = "\(monitor): \(message)"
    let r = try bareAndMonitor(image, monitor: monitor, profile: profile, budget: budget)
    XCTAssertNotEqual(r.bare.outcome, .budget, "the bare run must finish: \(message)", file: file, line: line)
    XCTAssertEqual(Verdict(run: r.run, reference: r.bare), .equivalent, message, file: file, line: line)
    XCTAssertEqual(r.cp.damagedCanaries, [], "isolation: \(message)", file: file, line: line)
    return (r.bare, r.vm)
}
