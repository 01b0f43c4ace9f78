import Foundation

/// The counters a cell keeps, in the cost model's terms.
public struct CellCounters: Codable, Sendable, Equatable {
    /// Guest instructions run directly (at native speed, on the "hardware").
    public var direct: UInt64 = 0
    /// Guest instructions interpreted in software.
    public var interpreted: UInt64 = 0
    /// Guest instructions executed from translations.
    public var translated: UInt64 = 0
    /// Real traps into the monitor (each a round trip).
    public var traps: UInt64 = 0
    /// Software entries into the monitor (interpreter or translator callouts).
    public var callouts: UInt64 = 0
    /// Guest instructions translated (one-time work).
    public var instructionsTranslated: UInt64 = 0

    public init(direct: UInt64 = 0, interpreted: UInt64 = 0, translated: UInt64 = 0, traps: UInt64 = 0,
                callouts: UInt64 = 0, instructionsTranslated: UInt64 = 0) {
        self.direct = direct
        self.interpreted = interpreted
        self.translated = translated
        self.traps = traps
        self.callouts = callouts
        self.instructionsTranslated = instructionsTranslated
    }
}

/// One guest x profile x strategy: every measurement and what they show.
public struct SuiteCell: Codable, Sendable {
    public var guest: String
    public var kind: String
    public var profile: String
    public var strategy: String
    /// Each measured run's wall time, in order.
    public var seconds: [Double]
    /// "reference" (native), "equivalent", "diverges", "inconclusive", or "refused".
    public var verdict: String
    public var divergence: String?
    public var guestInstructions: UInt64
    public var counters: CellCounters
    /// For a nanobenchmark: operations it repeats.
    public var iterations: Int

    public var median: Double {
        let s = seconds.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    public var minimum: Double { seconds.min() ?? .nan }
    public var maximum: Double { seconds.max() ?? .nan }
}

/// One guest under `depth` levels of the guest monitor, the outermost under `strategy`.
public struct NestCell: Codable, Sendable {
    public var guest: String
    public var strategy: String
    public var depth: Int
    public var seconds: Double
    public var guestInstructions: UInt64
    public var traps: UInt64
    public var equivalent: Bool
    public var divergence: String?
}

/// Where and how the suite ran.
public struct SuiteEnvironment: Codable, Sendable {
    public var cpu: String
    public var cores: Int
    public var memoryBytes: UInt64
    public var swift: String
    public var commit: String
    public var date: String
    public var os: String
}

/// Everything `bench suite` measured: enough to rebuild every output file
/// (`bench merge` does), so results.json is the one source of truth.
public struct SuiteResults: Codable, Sendable {
    public var environment: SuiteEnvironment
    public var repeats: Int
    public var quick: Bool
    public var shard: String?
    public var costModel: CostModel
    public var cells: [SuiteCell]
    /// Recursive virtualization against depth (absent in results from before it was added).
    public var nest: [NestCell]? = nil

    /// The native cell of the same guest and profile.
    public func native(of cell: SuiteCell) -> SuiteCell? {
        cells.first { $0.guest == cell.guest && $0.profile == cell.profile && $0.strategy == "native" }
    }

    /// A cell's median time over its native cell's.
    public func overNative(_ cell: SuiteCell) -> Double? {
        guard let n = native(of: cell), n.median > 0 else { return nil }
        return cell.median / n.median
    }

    /// The monitor's own nanoseconds per operation of a nanobenchmark cell.
    public func monitorNanosecondsPerOperation(_ cell: SuiteCell) -> Double? {
        guard cell.iterations > 0, cell.strategy != "native", let n = native(of: cell) else { return nil }
        return (cell.median - n.median) / Double(cell.iterations) * 1e9
    }
}
