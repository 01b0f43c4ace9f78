import ArgumentParser
import Foundation
import Guests
import Machine
import Translator

/// `bench nano`: the cost of one operation of each nanobenchmark under each strategy.
struct NanoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nano",
        abstract: "Measure the nanobenchmarks (after Adams and Agesen) under each strategy.",
        discussion: """
            For each nanobenchmark and strategy: the run's time per operation (one null system call \\
            round trip, one SETR+GETL pair, ...) and the monitor's own cost per operation, which is \\
            that time minus the bare machine's (the guest kernel's own instructions cost the same \\
            on both). Fastest of --repeat runs each. Build with -c release.
            """)

    @Option(name: .customLong("repeat"), help: "Runs per cell; the fastest counts.")
    var repetitions: Int = 5

    @Option(name: .long, help: "Strategies to compare with native (comma list).")
    var strategy: StrategyList = StrategyList([.trap])

    @Option(name: .customLong("bt-user"), help: "bt: run virtual user mode 'translated' (default) or 'direct' (VMware's choice).")
    var btUser: UserModeExecution = .translated

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...1000).contains(repetitions) else { throw ValidationError("--repeat must be between 1 and 1000") }
    }

    func run() throws {
        let mhz = Timing.cpuMHz()
        var rows: [[String]] = []
        var records: [JSON] = []
        for g in Guests.all where g.kind == .nano {
            let native = try Timing.fastest(g, strategy: .native, repetitions: repetitions)
            let n = Double(g.iterations)
            let nativePerOp = native.seconds / n * 1e9
            for s in strategy.strategies where s != .native {
                let r = try Timing.fastest(g, strategy: s, repetitions: repetitions, btUserMode: btUser)
                let perOp = r.seconds / n * 1e9
                let overhead = perOp - nativePerOp
                let equivalent = Verdict(run: r.snapshot, reference: native.snapshot) == .equivalent
                rows.append([g.name, s.rawValue, String(format: "%.1f", nativePerOp), String(format: "%.1f", perOp),
                             String(format: "%.1f", overhead), mhz.map { String(format: "%.0f", overhead * $0 / 1000) } ?? "-",
                             equivalent ? "yes" : "NO"])
                records.append(.object([
                    ("guest", .string(g.name)), ("strategy", .string(s.rawValue)), ("iterations", .int(Int64(g.iterations))),
                    ("nativeNsPerOp", .double(nativePerOp)), ("nsPerOp", .double(perOp)),
                    ("monitorNsPerOp", .double(overhead)), ("monitorCyclesPerOp", mhz.map { .double(overhead * $0 / 1000) } ?? .null),
                    ("equivalent", .bool(equivalent)),
                ]))
            }
        }
        if json {
            print(JSON.object([("rows", .array(records)), ("cpuMHz", mhz.map { .double($0) } ?? .null)]).rendered(pretty: true))
            return
        }
        print(TextTable.render(header: ["guest", "strategy", "bare ns/op", "ns/op", "monitor ns/op", "monitor cycles/op", "equivalent"],
                               rows: rows), terminator: "")
        print("fastest of \(repetitions) runs; monitor = strategy minus bare machine, per operation" +
              (mhz.map { String(format: "; cycles at the nominal %.0f MHz", $0) } ?? ""))
    }
}
