import ArgumentParser
import Foundation
import HybridVMM
import Machine
import Translator
import TrapVMM

/// A way of running a guest (SPEC section 10).
public enum Strategy: String, CaseIterable, Sendable {
    /// The reference interpreter on the bare machine: the "hardware".
    case native
    /// Trap-and-emulate under the classic control program (TrapVMM).
    case trap
    /// Theorem 3's hybrid monitor (HybridVMM).
    case hybrid
    /// Block-caching binary translation, portable backend (Translator).
    case bt
    /// Binary translation with the x86-64 JIT backend.
    case jit
    /// The JIT as the hardware of a bare run: no monitor (the engine's speed
    /// without the cost of virtualization).
    case nativeJit = "native-jit"

    /// Why this strategy cannot run on this host, or nil if it can.
    public var unavailableReason: String? {
        switch self {
        case .native, .trap, .hybrid, .bt: return nil
        case .jit, .nativeJit: return JITTranslator.unavailableReason
        }
    }

    /// The strategies this host can run.
    public static var available: [Strategy] { allCases.filter { $0.unavailableReason == nil } }

    /// True for the bare runs (no monitor): the reference and the JIT as hardware.
    public var isBare: Bool { self == .native || self == .nativeJit }
}

/// `--strategy native,trap` or `all`.
public struct StrategyList: ExpressibleByArgument, Sendable {
    /// The strategies, in the order given, without repeats.
    public let strategies: [Strategy]

    /// Parses a comma list of strategy names, or `all` (every strategy this build has).
    public init?(argument: String) {
        if argument == "all" {
            strategies = Strategy.available
            return
        }
        var list: [Strategy] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let s = Strategy(rawValue: part.trimmingCharacters(in: .whitespaces)) else { return nil }
            if !list.contains(s) { list.append(s) }
        }
        guard !list.isEmpty else { return nil }
        strategies = list
    }

    /// Makes a list.
    public init(_ strategies: [Strategy]) { self.strategies = strategies }

    /// Shown in --help.
    public static var allValueStrings: [String] { Strategy.allCases.map(\.rawValue) + ["all"] }

    /// The default, as --help shows it.
    public var defaultValueDescription: String { strategies.map(\.rawValue).joined(separator: ",") }
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
}

/// What every strategy is given.
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
}

extension Strategy {
    /// True if this strategy runs several VMs under one monitor.
    public var runsSeveralVMs: Bool { !isBare }

    /// Runs one guest under this strategy. Throws `UsageError` for a strategy
    /// not built yet or a profile it cannot run.
    public func execute(_ request: RunRequest) throws -> RunResult {
        switch self {
        case .native:
            let machine = Machine(booting: request.image, memorySize: request.memorySize, profile: request.profile)
            var exit = RunExit.budget
            // Only the run is timed, as for the monitors: the snapshot copies storage.
            let elapsed = ContinuousClock().measure { exit = machine.run(budget: request.budget) }
            let snapshot = machine.snapshot(outcome: Outcome(exit))
            return RunResult(strategy: rawValue, snapshot: snapshot, seconds: elapsed.seconds, verdict: nil,
                             stats: [("instructions", .uint(snapshot.instructions))])
        case .nativeJit:
            let machine = Machine(booting: request.image, memorySize: request.memorySize, profile: request.profile)
            let jit: BareJIT
            do {
                jit = try BareJIT(machine: machine, cacheOps: request.translationCacheOps)
            } catch let e as JITTranslator.Unavailable {
                throw UsageError("strategy '\(rawValue)' is unavailable: \(e.description)")
            }
            var exit = RunExit.budget
            let elapsed = ContinuousClock().measure { exit = jit.run(budget: request.budget) }
            let snapshot = machine.snapshot(outcome: Outcome(exit))
            return RunResult(strategy: rawValue, snapshot: snapshot, seconds: elapsed.seconds, verdict: nil,
                             stats: [("instructions", .uint(snapshot.instructions))]
                                 + MonitorStats.json(jit.counters, reserved: 0, used: 0),
                             translation: jit.counters)
        case .trap, .hybrid, .bt, .jit:
            return try executeVMs([request], quantum: .max)[0]
        }
    }

    /// The control program (and translator, for bt) this strategy runs `requests` under.
    public func controlProgram(_ requests: [RunRequest]) throws -> (ControlProgram, (any TranslatingEngine)?) {
        guard runsSeveralVMs, let first = requests.first else {
            throw UsageError("strategy '\(rawValue)' has no control program")
        }
        let images = requests.map(\.image)
        do {
            switch self {
            case .hybrid:
                return (try HybridVMM.controlProgram(images: images, profile: first.profile, memorySize: first.memorySize,
                                                     budget: first.budget), nil)
            case .bt:
                let (cp, t) = try BinaryTranslation.controlProgram(
                    images: images, profile: first.profile, memorySize: first.memorySize, budget: first.budget,
                    userMode: first.btUserMode, cacheOps: first.translationCacheOps)
                return (cp, t)
            case .jit:
                let (cp, t) = try JITTranslation.controlProgram(
                    images: images, profile: first.profile, memorySize: first.memorySize, budget: first.budget,
                    cacheOps: first.translationCacheOps)
                return (cp, t)
            default:
                return (try ControlProgram(images: images, profile: first.profile, memorySize: first.memorySize,
                                           budget: first.budget), nil)
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
            throw UsageError("strategy '\(rawValue)' runs one VM at a time; several VMs need --strategy trap, hybrid, bt or jit")
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
enum MonitorStats {
    static func json(_ c: MonitorCounters, instructions: UInt64) -> [(String, JSON)] {
        let traps = TrapCause.allCases.map { ($0.description, JSON.uint(c.traps[Int($0.rawValue)])) }
        let emulated = SystemInstruction.allCases.map { ($0.rawValue, JSON.uint(c.emulated[$0.index])) }
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
        ]
    }

    /// A translator's counters for one VM, as `stats` JSON.
    static func json(_ t: any TranslatingEngine, vm: VirtualMachine) -> [(String, JSON)] {
        let m = t.memory(for: vm)
        return [("translated", .uint(vm.counters.translated))] + json(t.counters(for: vm), reserved: m.reserved, used: m.used)
    }

    /// Translation counters as `stats` JSON.
    static func json(_ c: TranslationCounters, reserved: Int, used: Int) -> [(String, JSON)] {
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
