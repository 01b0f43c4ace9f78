import ArgumentParser
import Foundation
import Machine

/// `bench run IMAGE --profile v|h|x --strategy LIST [--memory BYTES] [--budget N] [--json]`
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a guest under one or more strategies and compare each with native.",
        discussion: """
            IMAGE is an ELF path or the name of a built-in guest (see `bench list`). Every strategy \
            other than native also runs native and is compared with it (SPEC section 8).
            """)

    @Argument(help: "ELF image path or built-in guest name.")
    var image: String

    @OptionGroup var machine: MachineOptions

    @Option(name: .long, help: "Comma list of strategies (native, trap, hybrid, bt, jit) or 'all'.")
    var strategy: StrategyList = StrategyList([.native])

    @Flag(name: .long, help: "Print one JSON object (SPEC section 10) instead of a table.")
    var json = false

    func run() throws {
        let guest = try GuestImage(image)
        let request = RunRequest(image: try guest.elf(memorySize: machine.memory.bytes),
                                 profile: machine.profile.profile,
                                 memorySize: machine.memory.bytes, budget: machine.budget)
        let results = try RunCommand.runAll(request, strategies: strategy.strategies)
        if json {
            print(RunCommand.json(image: image, profile: request.profile, results: results).rendered())
        } else {
            print(RunCommand.table(image: image, request: request, results: results), terminator: "")
        }
    }

    /// Runs native first (the reference), then every other strategy, each compared with native.
    static func runAll(_ request: RunRequest, strategies: [Strategy]) throws -> [RunResult] {
        // Refuse a strategy that is not built before spending time on the others.
        for s in strategies where s.pendingIssue != nil { _ = try s.execute(request) }
        let reference = try Strategy.native.execute(request)
        var results: [RunResult] = []
        for s in strategies {
            if s == .native {
                results.append(reference)
                continue
            }
            var r = try s.execute(request)
            r.verdict = Verdict(run: r.snapshot, reference: reference.snapshot)
            results.append(r)
        }
        return results
    }

    /// The SPEC section 10 object.
    static func json(image: String, profile: Profile, results: [RunResult]) -> JSON {
        .object([
            ("image", .string(image)),
            ("profile", .string(profile.name)),
            ("runs", .array(results.map(json(run:)))),
        ])
    }

    static func json(run r: RunResult) -> JSON {
        let s = r.snapshot
        let equivalent: JSON, divergence: JSON
        switch r.verdict {
        case nil: (equivalent, divergence) = (.null, .null)
        case .equivalent?: (equivalent, divergence) = (.bool(true), .null)
        case .divergent(let d)?: (equivalent, divergence) = (.bool(false), .string(d))
        case .inconclusive?:
            (equivalent, divergence) = (.bool(false), .string("inconclusive: a run ran out of budget"))
        }
        return .object([
            ("strategy", .string(r.strategy)),
            ("status", .string(s.outcome.name)),
            ("exitCode", .optional(s.outcome.exitCode)),
            ("console", .string(String(latin1: s.console))),
            ("equivalent", equivalent),
            ("divergence", divergence),
            ("guestInstructions", .uint(s.instructions)),
            ("seconds", .double(r.seconds)),
            ("psw", .object([
                ("mode", .uint(UInt64(s.psw.mode.rawValue))), ("pc", .uint(UInt64(s.psw.pc))),
                ("l", .uint(UInt64(s.psw.l))), ("b", .uint(UInt64(s.psw.b))),
            ])),
            ("registers", .array(s.registers.map { .uint(UInt64($0)) })),
            ("storageSha256", .string(s.storageSHA256)),
            ("stats", .object(r.stats)),
        ])
    }

    /// The human-readable form: one line per strategy, then the console.
    static func table(image: String, request: RunRequest, results: [RunResult]) -> String {
        var out = "\(image) on \(request.profile.name), memory \(request.memorySize) bytes, budget \(request.budget)\n"
        let rows = results.map { r -> [String] in
            let verdict: String
            switch r.verdict {
            case nil: verdict = "reference"
            case .equivalent?: verdict = "equivalent"
            case .divergent(let d)?: verdict = "DIVERGES: \(d)"
            case .inconclusive?: verdict = "inconclusive (out of budget)"
            }
            let s = r.snapshot
            let mips = r.seconds > 0 ? String(format: "%.0f", Double(s.instructions) / r.seconds / 1e6) : "-"
            return [r.strategy, s.outcome.description, String(s.instructions), String(format: "%.4f", r.seconds), mips, verdict]
        }
        out += TextTable.render(header: ["strategy", "status", "instructions", "seconds", "MIPS", "verdict"], rows: rows)
        if let first = results.first {
            let s = first.snapshot
            out += "final PSW \(s.psw); storage sha256 \(s.storageSHA256.prefix(16))...\n"
            out += "console (\(s.console.count) bytes):\n" + String(latin1: s.console)
            if let last = s.console.last, last != 0x0A { out += "\n" }
        }
        return out
    }
}

/// Left-aligned text columns.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { c in
                c == row.count - 1 ? row[c] : row[c] + String(repeating: " ", count: widths[c] - row[c].count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
