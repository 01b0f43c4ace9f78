import Foundation
import HardwareVMM
import HybridVMM
import Machine
import Translator
import TrapVMM

/// A way of running a guest (SPEC section 10).
public enum Strategy: String, CaseIterable, Sendable {
    /// The bare machine on the chosen processor (`--hardware`): the baseline.
    case native
    /// Trap-and-emulate under the classic control program (TrapVMM).
    case trap
    /// Theorem 3's hybrid monitor (HybridVMM).
    case hybrid
    /// Block-caching binary translation, portable backend (Translator).
    case bt
    /// Binary translation with the x86-64 JIT backend.
    case jit
    /// The hardware-assisted monitor on VX (HardwareVMM, SPEC section 11).
    case hw
    /// `native --hardware jit`, kept as a name for old scripts: the bare
    /// machine on the JIT processor whatever `--hardware` says.
    case nativeJit = "native-jit"

    /// Why this strategy cannot run on this host, or nil if it can.
    public var unavailableReason: String? {
        switch self {
        case .native, .trap, .hybrid, .bt, .hw: return nil
        case .jit, .nativeJit: return JITTranslator.unavailableReason
        }
    }

    /// The strategies this host can run.
    public static var available: [Strategy] { allCases.filter { $0.unavailableReason == nil } }

    /// True for the bare runs (no monitor): the reference and the JIT as hardware.
    public var isBare: Bool { self == .native || self == .nativeJit }
}

/// One guest run under one strategy, with its verdict against native.
public struct RunResult: Sendable {
    /// The strategy's name.
    public var strategy: String
    /// The final state (virtual PSW, VM storage under a monitor).
    public var snapshot: Snapshot
    /// The run's own wall time.
    public var seconds: Double
    /// The verdict against the native run; nil for native itself.
    public var verdict: Verdict?
    /// Counters, by name.
    public var stats: [(String, JSON)]
    /// The monitor's counters, for a monitored run.
    public var monitor: MonitorCounters? = nil
    /// The translator's counters, for bt.
    public var translation: TranslationCounters? = nil

    /// A result from its parts.
    public init(strategy: String, snapshot: Snapshot, seconds: Double, verdict: Verdict?, stats: [(String, JSON)],
                monitor: MonitorCounters? = nil, translation: TranslationCounters? = nil) {
        self.strategy = strategy
        self.snapshot = snapshot
        self.seconds = seconds
        self.verdict = verdict
        self.stats = stats
        self.monitor = monitor
        self.translation = translation
    }
}

/// What every strategy is given: one run configuration, built once from the
/// options (or by a researcher's own program) and passed down whole.
public struct RunRequest: Sendable {
    /// The validated image.
    public var image: ELFImage
    /// The profile of the (virtual) machine.
    public var profile: Profile
    /// The guest's memory size w.
    public var memorySize: Int
    /// The guest-instruction budget.
    public var budget: UInt64
    /// Binary translation: how virtual user mode runs.
    public var btUserMode: UserModeExecution = .translated
    /// Binary translation (both backends): ops each VM's translation cache holds before it flushes.
    public var translationCacheOps: Int = BinaryTranslator.defaultCacheOps
    /// The real processor every strategy runs on.
    public var hardware: Hardware = .default
    /// `hw`: the exit controls of every entry.
    public var hwExits: ExitControls = .none

    /// The guest memory size w when none is given: SPEC section 7's 1 MiB.
    public static let defaultMemorySize = 1 << 20
    /// The guest-instruction budget when none is given.
    public static let defaultBudget: UInt64 = 2_000_000_000

    /// A run configuration; the defaults are `bench run`'s. `image` must
    /// have been checked against `memorySize` (`ELFImage(bytes:memorySize:)`).
    public init(image: ELFImage, profile: Profile, memorySize: Int = RunRequest.defaultMemorySize,
                budget: UInt64 = RunRequest.defaultBudget,
                btUserMode: UserModeExecution = .translated, translationCacheOps: Int = BinaryTranslator.defaultCacheOps,
                hardware: Hardware = .default, hwExits: ExitControls = .none) {
        self.image = image
        self.profile = profile
        self.memorySize = memorySize
        self.budget = budget
        self.btUserMode = btUserMode
        self.translationCacheOps = translationCacheOps
        self.hardware = hardware
        self.hwExits = hwExits
    }

    /// The processor this request runs on (`hardware`; the JIT for `native-jit`).
    public func processor(for strategy: Strategy) throws -> any Processor {
        try (strategy == .nativeJit ? Hardware.jit : hardware).processor(cacheOps: translationCacheOps)
    }
}

/// The real processor (`--hardware`, SPEC section 8): the reference
/// interpreter, or the JIT standing in for it.
public enum Hardware: String, CaseIterable, Sendable {
    /// The reference interpreter.
    case interp
    /// The x86-64 JIT (x86-64 Linux).
    case jit

    /// The fastest processor this host runs: the JIT where it runs, else the interpreter.
    public static var `default`: Hardware { JITTranslator.unavailableReason == nil ? .jit : .interp }

    /// A fresh processor of this kind; `cacheOps` sizes the JIT's translation caches.
    public func processor(cacheOps: Int = BinaryTranslator.defaultCacheOps) throws -> any Processor {
        switch self {
        case .interp: return Interpreter.shared
        case .jit:
            do { return try JITProcessor(cacheOps: cacheOps) } catch let e as JITTranslator.Unavailable {
                throw UsageError("--hardware jit is unavailable: \(e.description) (or use --hardware interp)")
            }
        }
    }
}

extension Strategy {
    /// True if this strategy runs several VMs under one monitor.
    public var runsSeveralVMs: Bool { !isBare }

    /// Why a strategy that is not a monitor cannot run several VMs, in words.
    var severalVMsRefusal: String {
        let monitors = Strategy.allCases.filter(\.runsSeveralVMs).map(\.rawValue).joined(separator: ", ")
        return "strategy '\(rawValue)' runs one VM at a time; several VMs need a monitor (\(monitors))"
    }

    /// Runs one guest under this strategy. Throws `UsageError` for a strategy
    /// not built yet or a profile it cannot run.
    public func execute(_ request: RunRequest) throws -> RunResult {
        switch self {
        case .native, .nativeJit:
            let processor = try request.processor(for: self)
            let machine = Machine(booting: request.image, memorySize: request.memorySize, profile: request.profile)
            var exit = RunExit.budget
            // Only the run is timed, as for the monitors: the snapshot copies storage.
            let elapsed = ContinuousClock().measure { exit = processor.run(machine, budget: request.budget) }
            let snapshot = machine.snapshot(outcome: Outcome(exit))
            let translation = (processor as? JITProcessor)?.counters(for: machine)
            return RunResult(strategy: rawValue, snapshot: snapshot, seconds: elapsed.seconds, verdict: nil,
                             stats: [("instructions", .uint(snapshot.instructions)), ("vmEntries", .uint(machine.guestEntries)),
                                     ("trapsTaken", .uint(machine.trapsTaken)), ("guestTraps", .uint(machine.guestTrapsDelivered))]
                                 + (translation.map { MonitorStats.json($0, reserved: 0, used: 0) } ?? []),
                             translation: translation)
        case .trap, .hybrid, .bt, .jit, .hw:
            return try executeVMs([request], quantum: .max)[0]
        }
    }

    /// The control program (and translator, for bt) this strategy runs `requests` under.
    public func controlProgram(_ requests: [RunRequest]) throws -> (ControlProgram, (any TranslatingEngine)?) {
        guard runsSeveralVMs, let first = requests.first else {
            throw UsageError("strategy '\(rawValue)' has no control program")
        }
        let images = requests.map(\.image)
        let processor = try first.processor(for: self)
        do {
            switch self {
            case .hybrid:
                return (try HybridVMM.controlProgram(images: images, profile: first.profile, memorySize: first.memorySize,
                                                     budget: first.budget, processor: processor), nil)
            case .bt:
                let (cp, t) = try BinaryTranslation.controlProgram(
                    images: images, profile: first.profile, memorySize: first.memorySize, budget: first.budget,
                    userMode: first.btUserMode, cacheOps: first.translationCacheOps, processor: processor)
                return (cp, t)
            case .jit:
                let (cp, t) = try JITTranslation.controlProgram(
                    images: images, profile: first.profile, memorySize: first.memorySize, budget: first.budget,
                    cacheOps: first.translationCacheOps, processor: processor)
                return (cp, t)
            case .hw:
                return (try HardwareVMM.controlProgram(images: images, profile: first.profile, memorySize: first.memorySize,
                                                       budget: first.budget, processor: processor, exits: first.hwExits), nil)
            case .trap, .native, .nativeJit:
                return (try ControlProgram(images: images, profile: first.profile, memorySize: first.memorySize,
                                           budget: first.budget, processor: processor), nil)
            }
        } catch let e as AllocationError {
            throw UsageError(e.description)
        } catch let e as UnconfinableProfile {
            throw UsageError(e.description)
        } catch let e as JITTranslator.Unavailable {
            throw UsageError("strategy '\(rawValue)' is unavailable: \(e.description)")
        }
    }

    /// Runs several guests as VMs of one monitor, round-robin every `quantum`
    /// guest instructions. `seconds` is the whole monitor run's wall time.
    public func executeVMs(_ requests: [RunRequest], quantum: UInt64) throws -> [RunResult] {
        guard runsSeveralVMs, !requests.isEmpty else {
            throw UsageError(severalVMsRefusal)
        }
        let (cp, translator) = try controlProgram(requests)
        let elapsed = ContinuousClock().measure { cp.run(quantum: quantum) }
        let damaged = cp.damagedCanaries
        return cp.vms.map { vm in
            RunResult(strategy: rawValue, snapshot: vm.snapshot(), seconds: elapsed.seconds, verdict: nil,
                      stats: MonitorStats.json(vm.counters, instructions: vm.instructions) + [
                          ("vms", .int(Int64(cp.vms.count))),
                          ("damagedCanaryBytes", .int(Int64(damaged.count))),
                      ] + (translator.map { MonitorStats.json($0, vm: vm) } ?? []),
                      monitor: vm.counters, translation: translator?.counters(for: vm))
        }
    }
}

/// The counters of a monitor run, as `stats` JSON.
public enum MonitorStats {
    public static func json(_ c: MonitorCounters, instructions: UInt64) -> [(String, JSON)] {
        let traps = TrapCause.allCases.map { ($0.description, JSON.uint(c.traps[Int($0.rawValue)])) }
        let emulated = SystemInstruction.allCases.map { ($0.rawValue, JSON.uint(c.emulated[$0.index])) }
        let exits = ExitReason.allCases.map { ($0.description, JSON.uint(c.exits[Int($0.rawValue)])) }
        return [
            ("instructions", .uint(instructions)),
            ("direct", .uint(c.direct)),
            ("interpreted", .uint(c.interpreted)),
            ("traps", .object(traps)),
            ("trapsTotal", .uint(c.traps.reduce(0, +))),
            ("emulated", .object(emulated)),
            ("reflected", .uint(c.reflected)),
            ("switchesIn", .uint(c.switchesIn)),
            ("realTraps", .uint(c.realTraps)),
            ("callouts", .uint(c.monitorEntries - c.realTraps)),
            ("guestMode", .uint(c.guestMode)),
            ("guestTraps", .uint(c.guestTraps)),
            ("exits", .object(exits)),
            ("exitsTotal", .uint(c.exits.reduce(0, +))),
        ]
    }

    /// A translator's counters for one VM, as `stats` JSON.
    public static func json(_ t: any TranslatingEngine, vm: VirtualMachine) -> [(String, JSON)] {
        let m = t.memory(for: vm)
        return [("translated", .uint(vm.counters.translated))] + json(t.counters(for: vm), reserved: m.reserved, used: m.used)
    }

    /// Translation counters as `stats` JSON.
    public static func json(_ c: TranslationCounters, reserved: Int, used: Int) -> [(String, JSON)] {
        let lookups = c.frontHits + c.tableHits + c.misses + c.chained
        return [
            ("translation", .object([
                ("blocksTranslated", .uint(c.blocksTranslated)),
                ("instructionsTranslated", .uint(c.instructionsTranslated)),
                ("instructionsStepped", .uint(c.instructionsStepped)),
                ("chained", .uint(c.chained)),
                ("frontCacheHits", .uint(c.frontHits)),
                ("tableHits", .uint(c.tableHits)),
                ("misses", .uint(c.misses)),
                ("hitRate", .double(lookups == 0 ? 0 : Double(lookups - c.misses) / Double(lookups))),
                ("invalidations", .uint(c.invalidations)),
                ("flushes", .uint(c.flushes)),
                ("translationNanoseconds", .uint(c.translationNanoseconds)),
                ("cacheBytesReserved", .int(Int64(reserved))),
                ("cacheBytesUsed", .int(Int64(used))),
            ])),
        ]
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
