import Experiments
import ArgumentParser
import Foundation
import Guests
import Machine
import Translator

/// `bench nano`: Adams and Agesen's nanobenchmark table (ASPLOS 2006), one row
/// per nanobenchmark, one column per strategy, each cell the measured time
/// per operation and the cost model's cycles per operation, with the exits,
/// traps and callouts per operation that explain them.
struct NanoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nano",
        abstract: "The nanobenchmarks (after Adams and Agesen, 2006) under each strategy, in their table's layout.",
        usage: "bench nano [--strategy <strategy>] [--hw-exits <presets>] [<options>]",
        discussion: """
            Rows: syscall, out (their in), privreg (cr8wr), memtrap (pgfault), callret, divzero (a BREAK \
            delivered to the guest kernel), forkwait. Columns: native and each strategy; hw once per \
            --hw-exits preset. Each cell: ns per operation measured (fastest of --repeat runs) and \
            simulated cycles per operation from the cost model (--cost), with exits, traps and \
            callouts per operation. Build with -c release.
            """)

    @Option(name: .customLong("repeat"), help: "Runs per cell; the fastest counts.")
    var repetitions: Int = 5

    @Option(name: .long, help: "Strategies to compare with native (comma list; default: every one this host runs but hybrid).")
    var strategy: StrategyList = StrategyList([.bt, .jit, .hw, .trap].filter { $0.unavailableReason == nil })

    @Option(name: .customLong("hw-exits"), help: "hw: the exit presets to measure, comma separated (none, shadow, all).")
    var hwExits: String = "none,shadow"

    @Option(name: .customLong("bt-user"), help: "bt: run virtual user mode 'translated' (default) or 'direct' (VMware's choice).")
    var btUser: UserModeExecution = .translated

    @Option(name: .long, help: "Cost model parameters as name=value pairs (\(CostModel.parameterNames.joined(separator: ", "))), e.g. exit=4000.")
    var cost: String?

    @OptionGroup var processor: HardwareOptions

    @Flag(name: .long, help: "Print JSON: {hardware, cost, rows: [{guest, strategy, hwExits, nsPerOp, cyclesPerOp, exitsPerOp, trapsPerOp, calloutsPerOp}]}.")
    var json = false

    func validate() throws {
        guard (1...1000).contains(repetitions) else { throw ValidationError("--repeat must be between 1 and 1000") }
        _ = try HWExits.presets(hwExits)
        if let cost { var m = CostModel(); try m.apply(cost) }
    }

    /// One column: a strategy, and for hw its exit preset.
    struct Column {
        var strategy: Strategy
        var preset: HWExits?
        var title: String { preset.map { "\(strategy.rawValue) (\($0.name))" } ?? strategy.rawValue }
    }

    /// One measured cell, per operation.
    struct Cell {
        var column: Column
        var nsPerOp: Double
        var cyclesPerOp: Double
        var exitsPerOp: Double
        var trapsPerOp: Double
        var calloutsPerOp: Double
        var equivalent: Bool
        var counters: CellCounters
    }

    func run() throws {
        var model = CostModel()
        if let cost { try model.apply(cost) }
        var columns = [Column(strategy: .native, preset: nil)]
        for s in strategy.strategies where s != .native {
            if s == .hw { columns += try HWExits.presets(hwExits).map { Column(strategy: .hw, preset: $0) } } else { columns.append(Column(strategy: s, preset: nil)) }
        }
        let order = ["syscall", "out", "privreg", "memtrap", "callret", "divzero", "forkwait"]
        let guests = order.compactMap(Guests.named) + Guests.all.filter { $0.kind == .nano && !order.contains($0.name) }
        var table: [(BuiltinGuest, [Cell])] = []
        for g in guests {
            let n = Double(max(g.iterations, 1))
            var reference: Snapshot?
            var cells: [Cell] = []
            for c in columns {
                let r = try Timing.fastest(g, strategy: c.strategy, repetitions: repetitions, btUserMode: btUser,
                                           hardware: processor.hardware, hwExits: c.preset?.controls ?? .none)
                if reference == nil { reference = r.snapshot }
                let counters = r.monitor.map { CellCounters($0, translation: r.translation, entriesAreExits: c.strategy == .hw) }
                    ?? CellCounters(bare: r)
                cells.append(Cell(column: c, nsPerOp: r.seconds / n * 1e9, cyclesPerOp: model.cycles(counters) / n,
                                  exitsPerOp: Double(counters.exits) / n, trapsPerOp: Double(counters.traps) / n,
                                  calloutsPerOp: Double(counters.callouts) / n,
                                  equivalent: Verdict(run: r.snapshot, reference: reference!) == .equivalent, counters: counters))
            }
            table.append((g, cells))
        }
        if json { printJSON(table, model) } else { printTable(table, columns, model) }
    }

    private func printJSON(_ table: [(BuiltinGuest, [Cell])], _ model: CostModel) {
        var rows: [JSON] = []
        for (g, cells) in table {
            for c in cells {
                rows.append(.object([
                    ("guest", .string(g.name)), ("strategy", .string(c.column.strategy.rawValue)),
                    ("hwExits", c.column.preset.map { .string($0.name) } ?? .null),
                    ("nsPerOp", .double(c.nsPerOp)), ("cyclesPerOp", .double(c.cyclesPerOp)),
                    ("exitsPerOp", .double(c.exitsPerOp)), ("trapsPerOp", .double(c.trapsPerOp)),
                    ("calloutsPerOp", .double(c.calloutsPerOp)), ("iterations", .int(Int64(g.iterations))),
                    ("equivalent", .bool(c.equivalent)),
                ]))
            }
        }
        let crossovers: [JSON] = table.flatMap { g, cells in
            NanoCommand.crossovers(cells, model).map { preset, hw, bt in
                JSON.object([("guest", .string(g.name)), ("hwExits", .string(preset)),
                             ("exitCycles", model.crossoverExitCost(hw, bt).map { .double($0) } ?? .null),
                             ("says", .string(model.exitCrossover(hw: hw, bt: bt)))])
            }
        }
        let cost = CostModel.parameterNames.map { ($0, JSON.double(model.value(of: $0))) }
        print(JSON.object([("hardware", .string(processor.hardware.rawValue)), ("cost", .object(cost)),
                           ("cpuMHz", Timing.cpuMHz().map { .double($0) } ?? .null), ("rows", .array(rows)),
                           ("crossovers", .array(crossovers))]).rendered(pretty: true))
    }

    private func printTable(_ table: [(BuiltinGuest, [Cell])], _ columns: [Column], _ model: CostModel) {
        func f(_ x: Double) -> String { x >= 100 ? String(format: "%.0f", x) : String(format: "%.1f", x) }
        print("measured ns per operation / simulated cycles per operation, on the \(processor.hardware.rawValue) processor")
        print(TextTable.render(header: ["nanobenchmark"] + columns.map(\.title), rows: table.map { g, cells in
            [g.name] + cells.map { "\(f($0.nsPerOp)) / \(f($0.cyclesPerOp))" + ($0.equivalent ? "" : " (!)") }
        }), terminator: "")
        print("\nexits / traps / callouts per operation")
        print(TextTable.render(header: ["nanobenchmark"] + columns.map(\.title), rows: table.map { g, cells in
            [g.name] + cells.map { "\(f($0.exitsPerOp)) / \(f($0.trapsPerOp)) / \(f($0.calloutsPerOp))" }
        }), terminator: "")
        let presetsMeasured = columns.compactMap { $0.preset?.name }
        if columns.contains(where: { $0.strategy == .bt }), !presetsMeasured.isEmpty {
            print("\nexit cost at which hw and bt cost the same per operation (hw cheaper below it)")
            print(TextTable.render(header: ["nanobenchmark"] + presetsMeasured.map { "hw (\($0)) vs bt" }, rows: table.map { g, cells in
                [g.name] + NanoCommand.crossovers(cells, model).map { model.exitCrossover(hw: $0.hw, bt: $0.bt) }
            }), terminator: "")
        }
        print("fastest of \(repetitions) runs per cell; cycles from the cost model (" +
              CostModel.parameterNames.map { "\($0)=\(f(model.value(of: $0)))" }.joined(separator: ", ") + ")" +
              (table.contains { $0.1.contains { !$0.equivalent } } ? "; (!) marks a run not equivalent to native" : ""))
    }
}

extension NanoCommand {
    /// Each hw preset's counters beside bt's, from one row's cells (none without a bt cell).
    static func crossovers(_ cells: [Cell], _ model: CostModel) -> [(preset: String, hw: CellCounters, bt: CellCounters)] {
        guard let bt = cells.first(where: { $0.column.strategy == .bt }) else { return [] }
        return cells.compactMap { c in c.column.preset.map { ($0.name, c.counters, bt.counters) } }
    }
}

extension CostModel {
    /// The parameter called `name` (one of `parameterNames`).
    func value(of name: String) -> Double {
        switch name {
        case "direct": return direct
        case "trap": return trap
        case "interpreted": return interpreted
        case "callout": return callout
        case "translated": return translated
        case "translation": return translation
        case "exit": return exit
        case "guestTrap": return guestTrap
        default: preconditionFailure("no cost parameter \(name)")
        }
    }
}
