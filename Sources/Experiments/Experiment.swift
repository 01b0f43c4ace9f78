import Machine

/// The experiment every `bench` command and a researcher's own program
/// make: run a guest on the bare machine (the reference), run it under each
/// strategy, and compare every final state with the reference's (SPEC
/// section 8).
///
/// ```swift
/// let image = try ELFImage(bytes: bytes, memorySize: RunRequest.defaultMemorySize)
/// let request = RunRequest(image: image, profile: .pg32h, hardware: .interp)
/// for result in try Experiment.compare(request, strategies: [.native, .trap, .hybrid]) {
///     print(result.strategy, result.verdict.map(String.init(describing:)) ?? "reference")
/// }
/// ```
public enum Experiment {
    /// Runs `request` natively (the reference), then under every strategy
    /// in `strategies`, each with its verdict against the reference; the
    /// results come in the order of `strategies` (`.native` is the
    /// reference itself, with no verdict).
    public static func compare(_ request: RunRequest, strategies: [Strategy]) throws -> [RunResult] {
        try refuseUnavailable(strategies)
        let reference = try Strategy.native.execute(request)
        return try strategies.map { s in
            if s == .native { return reference }
            var r = try s.execute(request)
            r.verdict = Verdict(run: r.snapshot, reference: reference.snapshot)
            return r
        }
    }

    /// Several guests as VMs of one monitor per strategy, round-robin every
    /// `quantum` guest instructions: each request's native run, then each
    /// strategy with all of them under one control program. Result `[i]`
    /// holds request `i`'s runs, in the order of `strategies`.
    public static func compare(_ requests: [RunRequest], strategies: [Strategy], quantum: UInt64) throws -> [[RunResult]] {
        try refuseUnavailable(strategies)
        for s in strategies where s != .native && !s.runsSeveralVMs { throw UsageError(s.severalVMsRefusal + " or native") }
        let references = try requests.map { try Strategy.native.execute($0) }
        var perVM = references.map { _ in [RunResult]() }
        for s in strategies {
            if s == .native {
                for i in perVM.indices { perVM[i].append(references[i]) }
                continue
            }
            for (i, var r) in try s.executeVMs(requests, quantum: quantum).enumerated() {
                r.verdict = Verdict(run: r.snapshot, reference: references[i].snapshot)
                perVM[i].append(r)
            }
        }
        return perVM
    }

    /// Refuses a strategy this host cannot run before time is spent on the others.
    static func refuseUnavailable(_ strategies: [Strategy]) throws {
        for s in strategies {
            if let why = s.unavailableReason { throw UsageError("strategy '\(s.rawValue)' is unavailable: \(why)") }
        }
    }
}
