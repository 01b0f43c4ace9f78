import Experiments
import Foundation

/// Writes a suite's three files and its summary table.
enum SuiteOutput {
    static func write(_ r: SuiteResults, to dir: String) throws {
        try prepare(dir)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try encoder.encode(r).write(to: URL(fileURLWithPath: dir + "/results.json"))
            try csv(r).write(toFile: dir + "/results.csv", atomically: true, encoding: .utf8)
            try SuiteReport.html(r).write(toFile: dir + "/report.html", atomically: true, encoding: .utf8)
        } catch {
            throw UsageError("cannot write the results into \(dir): \(plainFileError(error))")
        }
    }

    /// Creates `dir` and checks that a file can be written there, before any
    /// guest runs: a suite that fails at its end has wasted its time.
    static func prepare(_ dir: String) throws { try prepareOutputFolder(dir, option: "--out") }

    /// One row per measurement.
    static func csv(_ r: SuiteResults) -> String {
        var out = "guest,kind,profile,strategy,repeat,seconds,verdict,guest_instructions,direct,interpreted,translated,traps,callouts,instructions_translated,simulated_cycles,exits,guest_traps,hardware,node,commit,hw_exits\n"
        for c in r.cells {
            let n = c.counters
            for (i, s) in c.seconds.enumerated() {
                out += "\(c.guest),\(c.kind),\(c.profile),\(c.strategy),\(i),\(s),\(c.verdict),\(c.guestInstructions),"
                out += "\(n.direct),\(n.interpreted),\(n.translated),\(n.traps),\(n.callouts),\(n.instructionsTranslated),\(r.costModel.cycles(n)),"
                out += "\(n.exits),\(n.guestTraps),\(c.hardware ?? ""),\(c.node ?? ""),\(c.commit ?? ""),\(c.hwExits ?? "")\n"
            }
            if c.seconds.isEmpty {
                out += "\(c.guest),\(c.kind),\(c.profile),\(c.strategy),,,\(c.verdict),,,,,,,,,,,\(c.hardware ?? ""),\(c.node ?? ""),\(c.commit ?? ""),\(c.hwExits ?? "")\n"
            }
        }
        return out
    }

    /// Per profile: guest x strategy, time over native and verdict, with the counters that explain it.
    static func summary(_ r: SuiteResults) -> String {
        var out = ""
        for profile in unique(r.cells.map(\.profile)) {
            let cells = r.cells.filter { $0.profile == profile }
            let strategies = unique(cells.filter { $0.strategy != "native" }.map(\.column))
            var rows: [[String]] = []
            for g in unique(cells.map(\.guest)) {
                var row = [g]
                for s in strategies {
                    guard let c = cells.first(where: { $0.guest == g && $0.column == s }) else { row.append("-"); continue }
                    let rel = r.overNative(c).map { String(format: "%.2fx", $0) } ?? "-"
                    let v = c.verdict == "equivalent" ? "ok" : c.verdict.uppercased()
                    let n = c.counters
                    let detail = [n.traps > 0 ? "\(n.traps)t" : nil, n.interpreted > 0 ? "\(n.interpreted)i" : nil,
                                  n.callouts > 0 ? "\(n.callouts)c" : nil, n.instructionsTranslated > 0 ? "\(n.instructionsTranslated)x" : nil,
                                  n.exits > 0 ? "\(n.exits)e" : nil]
                        .compactMap { $0 }.joined(separator: " ")
                    row.append("\(rel) \(v) \(detail)")
                }
                rows.append(row)
            }
            out += "\(profile): time over native, verdict, then traps (t), interpreted (i), callouts (c), instructions translated (x), exits (e)\n"
            out += TextTable.render(header: ["guest"] + strategies, rows: rows) + "\n"
        }
        return out
    }

    static func unique(_ xs: [String]) -> [String] {
        var seen = Set<String>()
        return xs.filter { seen.insert($0).inserted }
    }
}
