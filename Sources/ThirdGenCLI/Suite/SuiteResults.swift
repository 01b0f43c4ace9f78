import Experiments
import Machine
import Translator
import TrapVMM
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
    /// VX exits (VM exit and re-entry: hw's own, and every monitor's for a guest's VMRUN).
    public var exits: UInt64 = 0
    /// Traps the hardware delivered inside guest mode (no monitor involved).
    public var guestTraps: UInt64 = 0

    private enum CodingKeys: String, CodingKey {
        case direct, interpreted, translated, traps, callouts, instructionsTranslated, exits, guestTraps
    }

    /// Decodes results.json, where files written before VX have no exits or guestTraps.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        direct = try c.decode(UInt64.self, forKey: .direct)
        interpreted = try c.decode(UInt64.self, forKey: .interpreted)
        translated = try c.decode(UInt64.self, forKey: .translated)
        traps = try c.decode(UInt64.self, forKey: .traps)
        callouts = try c.decode(UInt64.self, forKey: .callouts)
        instructionsTranslated = try c.decode(UInt64.self, forKey: .instructionsTranslated)
        exits = try c.decodeIfPresent(UInt64.self, forKey: .exits) ?? 0
        guestTraps = try c.decodeIfPresent(UInt64.self, forKey: .guestTraps) ?? 0
    }

    /// Counters with the given values (zero by default).
    public init(direct: UInt64 = 0, interpreted: UInt64 = 0, translated: UInt64 = 0, traps: UInt64 = 0,
                callouts: UInt64 = 0, instructionsTranslated: UInt64 = 0, exits: UInt64 = 0, guestTraps: UInt64 = 0) {
        self.exits = exits
        self.guestTraps = guestTraps
        self.direct = direct
        self.interpreted = interpreted
        self.translated = translated
        self.traps = traps
        self.callouts = callouts
        self.instructionsTranslated = instructionsTranslated
    }
}

extension CellCounters {
    /// A bare run's counters: its instructions run directly, and each trap the
    /// hardware took (its own, and in G) costs what a trap delivered by the
    /// hardware costs, `guestTrap`: so that hw's traps in guest mode compare alike.
    init(bare r: RunResult) {
        func stat(_ name: String) -> UInt64 {
            if case .uint(let v)? = r.stats.first(where: { $0.0 == name })?.1 { return v }
            return 0
        }
        self.init(direct: r.snapshot.instructions, guestTraps: stat("trapsTaken") + stat("guestTraps"))
    }

    /// A monitor's counters in the cost model's terms. With `entriesAreExits`
    /// (hw), every entry into the monitor is a VX exit, so there are no
    /// callouts; instructions run in guest mode run directly.
    public init(_ m: MonitorCounters, translation: TranslationCounters?, entriesAreExits: Bool) {
        self.init(direct: m.direct + m.guestMode, interpreted: m.interpreted, translated: m.translated,
                  traps: m.realTraps, callouts: entriesAreExits ? 0 : m.monitorEntries - m.realTraps,
                  instructionsTranslated: translation?.instructionsTranslated ?? 0,
                  exits: m.exits.reduce(0, +), guestTraps: m.guestTraps)
    }
}

/// One guest x profile x strategy: every measurement and what they show.
public struct SuiteCell: Codable, Sendable {
    /// The guest's name.
    public var guest: String
    /// The guest's kind (compute, kernel, nano, demo, smc).
    public var kind: String
    /// The profile's name.
    public var profile: String
    /// The strategy's name.
    public var strategy: String
    /// Each measured run's wall time, in order.
    public var seconds: [Double]
    /// "reference" (native), "equivalent", "diverges", "inconclusive", or "refused".
    public var verdict: String
    /// The first difference from native, in words, when there is one.
    public var divergence: String?
    /// Guest instructions counted in the (last) run.
    public var guestInstructions: UInt64
    /// The monitor's counters, in the cost model's terms.
    public var counters: CellCounters
    /// For a nanobenchmark: operations it repeats.
    public var iterations: Int
    /// The real processor the cell ran on (`interp` or `jit`; absent in results from before the choice).
    public var hardware: String? = nil
    /// For hw: the exit preset (`none`, `shadow`, `all` or an event list); absent for other strategies.
    public var hwExits: String? = nil
    /// The column's name where it is more than the strategy and preset: with
    /// `--hardware interp,jit`, e.g. "trap on jit". Absent otherwise.
    public var label: String? = nil
    /// The node and commit that measured the cell (absent in results from before they were recorded).
    public var node: String? = nil
    /// The commit.
    public var commit: String? = nil

    /// The column the report and summary show the cell in: the strategy, and
    /// for hw its exit preset, e.g. "hw (shadow)".
    public var column: String { label ?? hwExits.map { "\(strategy) (\($0))" } ?? strategy }

    /// The median of the measured times.
    public var median: Double {
        let s = seconds.sorted()
        guard !s.isEmpty else { return .nan }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
    /// The fastest measured time.
    public var minimum: Double { seconds.min() ?? .nan }
    /// The slowest measured time.
    public var maximum: Double { seconds.max() ?? .nan }
}

/// One guest under `depth` levels of the guest monitor, the outermost under `strategy`.
public struct NestCell: Codable, Sendable {
    /// The guest's name.
    public var guest: String
    /// The strategy's name.
    public var strategy: String
    /// Levels of guest monitor under the strategy (0: the guest alone).
    public var depth: Int
    /// The run's wall time.
    public var seconds: Double
    /// Guest instructions counted in the (last) run.
    public var guestInstructions: UInt64
    /// Real traps of the outermost monitor.
    public var traps: UInt64
    /// True if the innermost guest ended as its bare run did.
    public var equivalent: Bool
    /// The first difference from native, in words, when there is one.
    public var divergence: String?
}

/// Where and how the suite ran.
public struct SuiteEnvironment: Codable, Sendable {
    /// The processor's model name.
    public var cpu: String
    /// Processors available to the run.
    public var cores: Int
    /// Physical memory.
    public var memoryBytes: UInt64
    /// The Swift compiler's version line.
    public var swift: String
    /// The git commit the suite ran from.
    public var commit: String
    /// When the suite ran (ISO 8601).
    public var date: String
    /// The operating system.
    public var os: String
    /// The host's name (a cluster node's), absent in results from before it was recorded.
    public var node: String? = nil
}

/// What a suite run was asked to do: two shards merge only if these agree.
/// Guests, profiles and strategies are in the suite's own order, which
/// merged output keeps.
public struct SuiteOptions: Codable, Sendable, Equatable {
    /// Guest names, in order.
    public var guests: [String]
    /// Profile names, in order.
    public var profiles: [String]
    /// Strategies, native first.
    public var strategies: [String]
    /// Measured runs per cell.
    public var repeats: Int
    /// `--quick`.
    public var quick: Bool
    /// The cost model.
    public var costModel: CostModel
    /// Nesting depth and guest (depth 0: none).
    public var nestDepth: Int
    /// The nesting section's guest.
    public var nestGuest: String
    /// The real processor.
    public var hardware: String
}

/// Where one shard of a merged result came from.
public struct ShardSource: Codable, Sendable, Equatable {
    /// Its index I of `--shard I/N`.
    public var index: Int
    /// The node it ran on.
    public var node: String
    /// The commit it ran from.
    public var commit: String
    /// Its cpu and cores.
    public var cpu: String
    /// Processors available to it.
    public var cores: Int
    /// When it ran.
    public var date: String
}

/// Everything `bench suite` measured: enough to rebuild every output file
/// (`bench merge` does), so results.json is the one source of truth.
public struct SuiteResults: Codable, Sendable {
    /// Where and how it ran.
    public var environment: SuiteEnvironment
    /// Measured runs per cell.
    public var repeats: Int
    /// True for `--quick` (no warm-up).
    public var quick: Bool
    /// The shard (I/N) these results are, if one.
    public var shard: String?
    /// The options the suite ran with (absent in results from before they were recorded).
    public var options: SuiteOptions? = nil
    /// For a merged result: the shards it joined (a merged result is never a shard itself).
    public var sources: [ShardSource]? = nil
    /// For a merge with `--allow-partial`: the shard indices that were missing.
    public var missingShards: [Int]? = nil
    /// The cost model's parameters for simulated cycles.
    public var costModel: CostModel
    /// Every guest x profile x strategy measured.
    public var cells: [SuiteCell]
    /// Recursive virtualization against depth (absent in results from before it was added).
    public var nest: [NestCell]? = nil

    /// The cell of the same guest, profile and processor under `strategy` (the first, for hw's presets).
    public func sibling(of cell: SuiteCell, strategy: String) -> SuiteCell? {
        cells.first { $0.guest == cell.guest && $0.profile == cell.profile && $0.hardware == cell.hardware && $0.strategy == strategy }
    }

    /// The native cell of the same guest, profile and processor.
    public func native(of cell: SuiteCell) -> SuiteCell? { sibling(of: cell, strategy: "native") }

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
