import ArgumentParser
import Foundation
import Machine

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

    /// The issue that brings a strategy not built yet, or nil if it runs.
    var pendingIssue: String? {
        switch self {
        case .native: return nil
        case .trap: return "the TrapVMM issue"
        case .hybrid: return "the HybridVMM issue"
        case .bt: return "the Translator issue"
        case .jit: return "the JIT issue"
        }
    }
}

/// `--strategy native,trap` or `all`.
public struct StrategyList: ExpressibleByArgument, Sendable {
    /// The strategies, in the order given, without repeats.
    public let strategies: [Strategy]

    /// Parses a comma list of strategy names, or `all`.
    public init?(argument: String) {
        if argument == "all" {
            strategies = Strategy.allCases
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
}

extension Strategy {
    /// Runs the request under this strategy. Throws `UsageError` for a strategy not built yet.
    public func execute(_ request: RunRequest) throws -> RunResult {
        switch self {
        case .native:
            let machine = Machine(booting: request.image, memorySize: request.memorySize, profile: request.profile)
            let clock = ContinuousClock()
            var snapshot: Snapshot!
            let elapsed = clock.measure { snapshot = machine.runToEnd(budget: request.budget) }
            return RunResult(strategy: rawValue, snapshot: snapshot, seconds: elapsed.seconds, verdict: nil,
                             stats: [("instructions", .uint(snapshot.instructions))])
        case .trap, .hybrid, .bt, .jit:
            throw UsageError("strategy '\(rawValue)' is not built yet (it comes with \(pendingIssue!)); available: native")
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
