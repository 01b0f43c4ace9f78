import Experiments
import Foundation

/// The suite's one self-contained HTML page: tables and SVG charts, no network.
enum SuiteReport {
    static func html(_ r: SuiteResults) -> String {
        let profiles = SuiteOutput.unique(r.cells.map(\.profile))
        let strategies = SuiteOutput.unique(r.cells.filter { $0.strategy != "native" }.map(\.column))
        let processor = processorName(r)
        var body = "<h1>ThirdGen suite, on \(processor) as the real processor</h1>"
        body += "<p>Every guest under every profile and strategy: wall time relative to native (the bare machine on \(processor)), "
            + "the verdict of SPEC section 8, and the monitors' counters. \(r.repeats) measured run(s) per cell"
            + (r.quick ? " (quick: no warm-up)" : " after a warm-up") + "; medians shown, spread in the tables.</p>"
        body += "<h2>Summary</h2><ul>" + summary(r).map { "<li>\(SVG.escape($0))</li>" }.joined() + "</ul>"
        body += table(["cpu", "cores", "memory", "swift", "commit", "date", "os"], [[
            r.environment.cpu, "\(r.environment.cores)", "\(r.environment.memoryBytes >> 30) GiB", r.environment.swift,
            r.environment.commit, r.environment.date, r.environment.os]])
        if let sources = r.sources {
            body += "<h2>Shards merged</h2><p>The cells below come from these shards; each cell also names its node and commit.</p>"
            body += table(["shard", "node", "commit", "cpu", "cores", "date"], sources.map {
                ["\($0.index)", $0.node, $0.commit, $0.cpu, "\($0.cores)", $0.date]
            })
        }
        if let missing = r.missingShards {
            body += "<p><strong>Incomplete: shards \(missing.map(String.init).joined(separator: ", ")) are missing "
                + "(merged with --allow-partial); their guest-profile pairs have no cells.</strong></p>"
        }

        body += "<h2>Overhead per guest and strategy</h2>"
        for p in profiles {
            let guests = SuiteOutput.unique(r.cells.filter { $0.profile == p }.map(\.guest))
            let values: [[Double?]] = strategies.map { s in
                guests.map { g in r.cells.first { $0.profile == p && $0.guest == g && $0.column == s }.flatMap { r.overNative($0) } }
            }
            body += SVG.bars(title: "\(p) on \(processor): time over native (log scale; dashed line = native)", categories: guests,
                             series: strategies, values: values, logScale: true, unit: "x native", reference: 1)
        }

        body += "<h2>Equivalence matrix</h2><p>One matrix per profile: does each strategy give the bare machine's "
            + "outcome, console, registers, storage and PSW (SPEC section 8)?</p>"
        let colors = ["equivalent": "#b7e1a1", "diverges": "#f4a6a6", "refused": "#d9d9d9", "inconclusive": "#f7e08a"]
        for p in profiles {
            let guests = SuiteOutput.unique(r.cells.filter { $0.profile == p }.map(\.guest))
            let matrix: [[(String, String)]] = guests.map { g in
                strategies.map { s in
                    guard let c = r.cells.first(where: { $0.guest == g && $0.profile == p && $0.column == s }) else { return ("", "#ffffff") }
                    return (c.verdict, colors[c.verdict] ?? "#ffffff")
                }
            }
            body += SVG.matrix(title: "\(p) on \(processor): guest x strategy", rows: guests, columns: strategies, cells: matrix)
        }
        let divergent = r.cells.filter { $0.verdict == "diverges" }
        if !divergent.isEmpty {
            body += "<p>First differences:</p>" + table(["guest", "profile", "strategy", "first difference"],
                                                         divergent.map { [$0.guest, $0.profile, $0.column, $0.divergence ?? ""] })
        }

        let nano = r.cells.filter { $0.iterations > 0 && $0.strategy != "native" }
        if let p = profiles.first, !nano.isEmpty {
            body += "<h2>Nanobenchmarks: the monitor's cost per operation</h2>"
            let names = SuiteOutput.unique(nano.filter { $0.profile == p }.map(\.guest))
            let values: [[Double?]] = strategies.map { s in
                names.map { g in nano.first { $0.profile == p && $0.guest == g && $0.column == s }
                    .flatMap { r.monitorNanosecondsPerOperation($0) }.flatMap { $0 > 0 ? $0 : nil } }
            }
            body += SVG.bars(title: "\(p) on \(processor): monitor ns per operation (strategy minus native; log scale)", categories: names,
                             series: strategies, values: values, logScale: true, unit: "ns / operation")
        }

        body += softwareAndHardwareSection(r)
        body += costModelSection(r)
        body += nestSection(r)
        body += "<h2>All cells</h2><details><summary>Every cell's times and counters (the same as results.csv, one row per cell)</summary>"
        body += table(["guest", "profile", "strategy", "median s", "min s", "max s", "x native", "verdict", "instructions",
                       "direct", "interpreted", "translated", "traps", "callouts", "translated once", "simulated cycles", "node", "commit"],
                      r.cells.map { c in
                          [c.guest, c.profile, c.column, fmt(c.median), fmt(c.minimum), fmt(c.maximum),
                           r.overNative(c).map { String(format: "%.3f", $0) } ?? "", c.verdict, "\(c.guestInstructions)",
                           "\(c.counters.direct)", "\(c.counters.interpreted)", "\(c.counters.translated)", "\(c.counters.traps)",
                           "\(c.counters.callouts)", "\(c.counters.instructionsTranslated)", String(format: "%.3g", r.costModel.cycles(c.counters)),
                           c.node ?? "", c.commit ?? ""]
                      })
        body += "</details>"
        return """
            <!DOCTYPE html><html><head><meta charset="utf-8"><title>ThirdGen suite (\(processor))</title>
            <style>body{font-family:sans-serif;margin:24px;max-width:1400px}table{border-collapse:collapse;margin:8px 0 20px;font-size:12px}
            td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f2f2f2}svg{display:block;margin:10px 0 24px}</style>
            </head><body>\(body)</body></html>
            """
    }

    /// The real processor(s) the cells ran on, in words.
    static func processorName(_ r: SuiteResults) -> String {
        let processors = SuiteOutput.unique(r.cells.compactMap(\.hardware))
        return processors.isEmpty ? "the reference interpreter"
            : processors.map { $0 == "jit" ? "the JIT" : "the reference interpreter" }.joined(separator: " and ")
    }

    /// "40 to 9600", or "40" when both ends are one number.
    static func span(_ lo: Double, _ hi: Double) -> String {
        SVG.number(lo) == SVG.number(hi) ? SVG.number(lo) : "\(SVG.number(lo)) to \(SVG.number(hi))"
    }

    /// What a reader should take away, one sentence per finding, from the data alone.
    static func summary(_ r: SuiteResults) -> [String] {
        var out: [String] = []
        let profiles = SuiteOutput.unique(r.cells.map(\.profile))
        let strategies = SuiteOutput.unique(r.cells.filter { $0.strategy != "native" }.map(\.column))
        for s in strategies {
            var parts: [String] = [], clean: [String] = []
            for p in profiles {
                let cells = r.cells.filter { $0.profile == p && $0.column == s }
                let bad = cells.filter { $0.verdict != "equivalent" }
                if cells.isEmpty { continue }
                if bad.isEmpty { clean.append(p) } else {
                    parts.append("on \(p) " + bad.map { "\($0.guest) \($0.verdict == "diverges" ? "diverges" : "is \($0.verdict)")" }
                        .joined(separator: ", "))
                }
            }
            out.append("\(s): " + (clean.isEmpty ? "" : "equivalent for every guest on \(clean.joined(separator: ", "))")
                + (clean.isEmpty || parts.isEmpty ? "" : "; ") + parts.joined(separator: "; ") + ".")
        }
        if let p = profiles.first {
            let compute = r.cells.filter { $0.profile == p && $0.kind == "compute" && $0.verdict == "equivalent" }
            let ranges: [String] = strategies.compactMap { s in
                let xs = compute.filter { $0.column == s }.compactMap { r.overNative($0) }
                guard let lo = xs.min(), let hi = xs.max() else { return nil }
                let geo = exp(xs.map { log($0) }.reduce(0, +) / Double(xs.count))
                return String(format: "%@ %.2f-%.2fx (geometric mean %.2fx)", s, lo, hi, geo)
            }
            if !ranges.isEmpty { out.append("Compute guests on \(p), time over native: " + ranges.joined(separator: ", ") + ".") }
            let m = r.costModel
            let trapCrossings = r.cells.filter { $0.profile == p && $0.strategy == "trap" && $0.counters.traps > 0 }.compactMap { t in
                r.sibling(of: t, strategy: "bt").flatMap { m.crossoverTrapCost(t.counters, $0.counters) }
            }
            if let lo = trapCrossings.min(), let hi = trapCrossings.max() {
                out.append("Trap-and-emulate costs less than translation while a trap round trip costs under "
                    + span(lo, hi) + " cycles, depending on the guest (the cost model's sweep below).")
            }
            let nanoHW = r.cells.filter { $0.profile == p && $0.iterations > 0 && $0.strategy == "hw" }
            for preset in SuiteOutput.unique(nanoHW.map(\.column)) {
                let xs = nanoHW.filter { $0.column == preset }.compactMap { h in
                    r.sibling(of: h, strategy: "bt").flatMap { m.crossoverExitCost(h.counters, $0.counters) }
                }
                if let lo = xs.min(), let hi = xs.max() {
                    out.append("\(preset) costs less than bt on the nanobenchmarks while an exit costs under " + span(lo, hi)
                        + " cycles (the default is \(SVG.number(m.exit))).")
                }
            }
        }
        return out
    }

    /// The cost model's parameters, and the trap-cost sweep where trap-and-emulate and translation cross.
    static func costModelSection(_ r: SuiteResults) -> String {
        let m = r.costModel
        var s = "<h2>Cost model</h2><p>Simulated cycles = direct x D + interpreted x I + translated x X + traps x T + callouts x C "
            + "+ instructions translated x L + VX exits x E + traps delivered by the hardware (in guest mode, and a bare machine's own) x G, "
            + "from each run's counters. Set with <code>bench suite --cost trap=5000,exit=4000,...</code>; "
            + "the defaults and their sources are in the README.</p>"
        s += table(["direct D", "trap T", "interpreted I", "callout C", "translated X", "translation L", "exit E", "guest trap G"],
                   [[m.direct, m.trap, m.interpreted, m.callout, m.translated, m.translation, m.exit, m.guestTrap].map { SVG.number($0) }])
        // Counters do not depend on the processor: one processor's cells are enough.
        let first = r.cells.first?.hardware
        let candidates = r.cells.filter { $0.strategy == "trap" && $0.counters.traps > 0 && $0.hardware == first }
        var rows: [[String]] = []
        var chart = ""
        for t in candidates {
            guard let bt = r.sibling(of: t, strategy: "bt") else { continue }
            let x = m.crossoverTrapCost(t.counters, bt.counters)
            rows.append([t.guest, t.profile, "\(t.counters.traps)", x.map { SVG.number($0) + " cycles" } ?? "none"])
            if chart.isEmpty && (t.guest == "syscall" || candidates.count == 1) {
                let xs = (0...60).map { pow(10, 1 + 4 * Double($0) / 60) }
                var series: [(String, [Double])] = [("trap", xs.map { m.cycles(t.counters, trapCost: $0) })]
                if let h = r.sibling(of: t, strategy: "hybrid") {
                    series.append(("hybrid", xs.map { m.cycles(h.counters, trapCost: $0) }))
                }
                series.append(("bt", xs.map { m.cycles(bt.counters, trapCost: $0) }))
                chart = SVG.lines(title: "\(t.guest) on \(t.profile), \(processorName(r)): simulated cycles as the trap cost grows",
                                  xs: xs, series: series, xLabel: "trap round trip, cycles", yLabel: "simulated cycles (log)",
                                  marks: x.map { [($0, "trap = bt at \(SVG.number($0))")] } ?? [])
            }
        }
        s += chart
        s += "<details><summary>Per guest: the trap cost where trap-and-emulate and binary translation cost the same "
            + "(below it, traps win; above it, translation)</summary>"
        s += table(["guest", "profile", "traps", "crossover trap cost"], rows) + "</details>"
        return s
    }

    /// Recursive virtualization: time and traps against depth.
    static func nestSection(_ r: SuiteResults) -> String {
        guard let nest = r.nest, !nest.isEmpty else { return "" }
        let strategies = SuiteOutput.unique(nest.map(\.strategy))
        let depths = SuiteOutput.unique(nest.map { "depth \($0.depth)" })
        func value(_ s: String, _ d: String, _ f: (NestCell) -> Double) -> Double? {
            nest.first { $0.strategy == s && "depth \($0.depth)" == d }.map(f)
        }
        var out = "<h2>Recursive virtualization (Theorem 2)</h2><p>\(SVG.escape(nest[0].guest)) on pg32v under 0 to "
            + "\(nest.map(\.depth).max() ?? 0) levels of the guest monitor (src/vmm.c), the outermost level under each strategy; "
            + "each depth compared with the bare run.</p>"
        out += SVG.bars(title: "time against depth on \(processorName(r)) (log scale)", categories: depths, series: strategies,
                        values: strategies.map { s in depths.map { value(s, $0) { $0.seconds * 1000 } } }, logScale: true, unit: "ms")
        out += table(["strategy", "depth", "seconds", "guest instructions", "real traps", "verdict"], nest.map {
            [$0.strategy, "\($0.depth)", fmt($0.seconds), "\($0.guestInstructions)", "\($0.traps)",
             $0.equivalent ? "equivalent" : "diverges: \($0.divergence ?? "")"]
        })
        return out
    }

    static func fmt(_ v: Double) -> String { v.isNaN ? "" : String(format: "%.5f", v) }

    /// Adams and Agesen's comparison from the suite's own nanobenchmark cells
    /// (first profile): simulated cycles per operation under the cost model,
    /// with the exits, traps and callouts per operation that make them, and
    /// for each row the strategy that wins, in those terms.
    static func softwareAndHardwareSection(_ r: SuiteResults) -> String {
        guard let p = SuiteOutput.unique(r.cells.map(\.profile)).first else { return "" }
        let nano = r.cells.filter { $0.iterations > 0 && $0.profile == p }
        guard !nano.isEmpty else { return "" }
        let strategies = SuiteOutput.unique(nano.map(\.column))
        var body = "<h2>Software and hardware VMMs (after Adams and Agesen, 2006)</h2>"
        body += "<p>Per operation of each nanobenchmark on \(SVG.escape(p)): simulated cycles under the cost model "
            + "(exit = \(Int(r.costModel.exit)), trap = \(Int(r.costModel.trap)), callout = \(Int(r.costModel.callout)) cycles), "
            + "then exits / traps / callouts per operation; hw once per exit preset the suite ran (none and shadow by default). "
            + "No number here is Adams and Agesen's: theirs are cycles on a Pentium 4 and are not transcribed.</p>"
        func perOp(_ c: SuiteCell, _ x: UInt64) -> Double { Double(x) / Double(c.iterations) }
        var rows: [[String]] = [], findings: [String] = []
        for g in SuiteOutput.unique(nano.map(\.guest)) {
            let cells = strategies.compactMap { s in nano.first { $0.guest == g && $0.column == s } }
            rows.append([g] + cells.map { c in
                String(format: "%.0f (%.1f / %.1f / %.1f)", r.costModel.cycles(c.counters) / Double(c.iterations),
                       perOp(c, c.counters.exits), perOp(c, c.counters.traps), perOp(c, c.counters.callouts))
            })
            let monitors = cells.filter { $0.strategy != "native" && $0.strategy != "native-jit" && $0.verdict == "equivalent" }
            if let best = monitors.min(by: { r.costModel.cycles($0.counters) < r.costModel.cycles($1.counters) }) {
                let c = best.counters
                var finding = "\(g): \(best.column) costs least, with \(String(format: "%.1f", perOp(best, c.exits))) exits, "
                    + "\(String(format: "%.1f", perOp(best, c.traps))) traps and \(String(format: "%.1f", perOp(best, c.callouts))) callouts per operation."
                for hw in cells where hw.strategy == "hw" {
                    guard let bt = r.sibling(of: hw, strategy: "bt") else { continue }
                    finding += " \(hw.column) and bt cost the same at an exit cost of: "
                        + "\(r.costModel.exitCrossover(hw: hw.counters, bt: bt.counters)) (hw cheaper below it)."
                }
                findings.append(finding)
            }
        }
        body += table(["nanobenchmark"] + strategies, rows)
        body += "<ul>" + findings.map { "<li>\(SVG.escape($0))</li>" }.joined() + "</ul>"
        // The exit-cost sweep for the row where the presets part most (privreg, else the first with exits): hw lines against bt's.
        let sweepGuest = SuiteOutput.unique(nano.map(\.guest)).first { $0 == "privreg" }
            ?? nano.first { $0.strategy == "hw" && $0.counters.exits > 0 }?.guest
        if let g = sweepGuest, let bt = nano.first(where: { $0.guest == g && $0.strategy == "bt" }) {
            let hws = nano.filter { $0.guest == g && $0.strategy == "hw" }
            let xs = (0...60).map { pow(10, 1 + 4 * Double($0) / 60) }
            func perOpCycles(_ c: SuiteCell, exit e: Double) -> Double {
                var m = r.costModel
                m.exit = e
                return m.cycles(c.counters) / Double(c.iterations)
            }
            let series = hws.map { h in (h.column, xs.map { perOpCycles(h, exit: $0) }) } + [("bt", xs.map { perOpCycles(bt, exit: $0) })]
            let marks = hws.compactMap { h in r.costModel.crossoverExitCost(h.counters, bt.counters).map { ($0, "\(h.column) = bt at \(SVG.number($0))") } }
            body += SVG.lines(title: "\(g) on \(p), \(processorName(r)): simulated cycles per operation as the exit cost grows", xs: xs, series: series,
                              xLabel: "VX exit round trip, cycles", yLabel: "cycles per operation (log)", marks: marks)
        }
        // One chart per nanobenchmark, as Adams and Agesen draw theirs: simulated cycles per operation, log scale.
        for g in SuiteOutput.unique(nano.map(\.guest)) {
            let cells = strategies.map { s in nano.first { $0.guest == g && $0.column == s } }
            body += SVG.bars(title: "\(g) on \(p), \(processorName(r)): simulated cycles per operation", categories: [g], series: strategies,
                             values: cells.map { c in [c.map { r.costModel.cycles($0.counters) / Double($0.iterations) }.flatMap { $0 > 0 ? $0 : nil }] },
                             logScale: true, unit: "cycles / operation")
        }
        return body
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        "<table><tr>" + header.map { "<th>\(SVG.escape($0))</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\(SVG.escape($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }
}
