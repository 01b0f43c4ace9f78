import Experiments
/// Simulated cycles from a run's counters: the price of each thing a
/// strategy does, set by the user, so that wall time on this testbed (where
/// a "hardware" trap is a cheap software event) can be turned into what the
/// same run would cost on a machine with real trap costs.
public struct CostModel: Codable, Sendable, Equatable {
    /// A guest instruction run directly on the hardware. 1 by definition.
    public var direct = 1.0
    /// A trap round trip into the monitor and back. Default: 2000, the order
    /// of a hardware VM exit and re-entry on first-generation VT-x that Adams
    /// and Agesen (ASPLOS 2006) build their argument on; an assumption to
    /// sweep, not a measurement.
    public var trap = 2000.0
    /// An instruction interpreted in software. Default: 20, a fast
    /// interpreter's cost (this package's reference interpreter measures 4.5-5.7
    /// host cycles per guest instruction; a software interpreter inside a
    /// monitor pays more for its state).
    public var interpreted = 20.0
    /// A callout from translated code into the monitor. Default: 50 (a call
    /// and return with state saved; Adams and Agesen's argument is that this is
    /// far below a trap).
    public var callout = 50.0
    /// An instruction executed from a translation. Default: 1.2 (translated
    /// code runs nearly as native; bounds checks cost a little).
    public var translated = 1.2
    /// Translating one guest instruction, once. Default: 500.
    public var translation = 500.0
    /// A VX exit round trip (VM exit, the monitor's dispatch, re-entry).
    public var exit = 2000.0
    /// A trap the hardware delivers inside guest mode, with no exit.
    public var guestTrap = 100.0

    /// The documented defaults.
    public init() {}

    /// The parameters by name, for `--cost` and for reports.
    public static let parameterNames = ["direct", "trap", "interpreted", "callout", "translated", "translation", "exit", "guestTrap"]

    /// Sets parameters from "name=value,name=value". Throws a message for bad input.
    public mutating func apply(_ text: String) throws {
        for part in text.split(separator: ",") {
            let kv = part.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, let v = Double(kv[1]), v.isFinite, v >= 0 else {
                throw UsageError("--cost takes name=value pairs with non-negative numbers, e.g. trap=5000; got '\(part)'")
            }
            switch kv[0] {
            case "direct": direct = v
            case "trap": trap = v
            case "interpreted": interpreted = v
            case "callout": callout = v
            case "translated": translated = v
            case "translation": translation = v
            case "exit": exit = v
            case "guestTrap": guestTrap = v
            default: throw UsageError("unknown cost parameter '\(kv[0])' (known: \(CostModel.parameterNames.joined(separator: ", ")))")
            }
        }
    }

    /// Simulated cycles of a run with these counters.
    public func cycles(_ c: CellCounters) -> Double {
        direct * Double(c.direct) + interpreted * Double(c.interpreted) + translated * Double(c.translated)
            + trap * Double(c.traps) + callout * Double(c.callouts) + translation * Double(c.instructionsTranslated)
            + exit * Double(c.exits) + guestTrap * Double(c.guestTraps)
    }

    /// The same with a different trap cost.
    public func cycles(_ c: CellCounters, trapCost: Double) -> Double {
        var m = self
        m.trap = trapCost
        return m.cycles(c)
    }

    /// The value of `parameter` (the cost of one of `events`) at which run
    /// `a` and run `b` cost the same: `a` is cheaper below it, dearer above.
    /// Nil if `a` has none of those events or is dearer even when they are free.
    public func crossover(of parameter: WritableKeyPath<CostModel, Double>, events: KeyPath<CellCounters, UInt64>,
                          _ a: CellCounters, _ b: CellCounters) -> Double? {
        guard a[keyPath: events] > 0 else { return nil }
        var free = self
        free[keyPath: parameter] = 0
        let t = (cycles(b) - free.cycles(a)) / Double(a[keyPath: events])
        return t >= 0 ? t : nil
    }

    /// The trap cost at which run `a` (which traps) and run `b` cost the same.
    public func crossoverTrapCost(_ a: CellCounters, _ b: CellCounters) -> Double? { crossover(of: \.trap, events: \.traps, a, b) }

    /// The exit cost at which run `a` (hw, which exits) and run `b` (bt) cost the same.
    public func crossoverExitCost(_ a: CellCounters, _ b: CellCounters) -> Double? { crossover(of: \.exit, events: \.exits, a, b) }

    /// Says where hw (`a`) and bt (`b`) cost the same as the exit cost varies, in one phrase.
    public func exitCrossover(hw a: CellCounters, bt b: CellCounters) -> String {
        if let x = crossoverExitCost(a, b) { return String(format: "%.0f cycles", x) }
        if a.exits == 0 { return cycles(a) <= cycles(b) ? "none: hw takes no exits and costs less" : "none: hw takes no exits and costs more" }
        return "none: bt costs less even with free exits"
    }
}
