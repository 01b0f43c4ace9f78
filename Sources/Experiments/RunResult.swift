import Machine
import Translator
import TrapVMM

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
    /// The translator's counters: bt and jit, and native on the JIT processor.
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
                ("loopAllocations", .uint(c.loopAllocations)),
                ("cacheBytesReserved", .int(Int64(reserved))),
                ("cacheBytesUsed", .int(Int64(used))),
            ])),
        ]
    }
}
