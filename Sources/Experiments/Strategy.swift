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

extension Strategy {
    /// True if this strategy runs several VMs under one monitor.
    public var runsSeveralVMs: Bool { !isBare }

    /// Why a strategy that is not a monitor cannot run several VMs, in words.
    var severalVMsRefusal: String {
        let monitors = Strategy.allCases.filter(\.runsSeveralVMs).map(\.rawValue).joined(separator: ", ")
        return "strategy '\(rawValue)' runs one VM at a time; several VMs need a monitor (\(monitors))"
    }

    /// Runs one guest under this strategy. Throws `UsageError` for a strategy
    /// this host cannot run (the JIT off x86-64 Linux), a configuration the
    /// allocator refuses, or a profile the monitor cannot confine.
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

    /// The control program this strategy runs `requests` under, and its
    /// translator for bt and jit (nil for the other monitors).
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

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
