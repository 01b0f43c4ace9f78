import Experiments
import ArgumentParser
import Foundation
import Guests
import Machine
import Translator
import TrapVMM

/// `bench suite`: every built-in guest x profile x strategy, measured, with files to publish.
struct SuiteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suite",
        abstract: "Run every guest under every profile and strategy; write results.json, results.csv and report.html.",
        usage: "bench suite [--quick] [--out <out>] [<options>]",
        discussion: """
            Each cell runs once to warm up, then --repeat times; the median and spread are reported, with \
            the verdict against native and the monitor's counters. --shard I/N runs every Nth guest-profile \
            pair (I from 0), for batch-scheduler array jobs; `bench merge` joins the shards' folders.
            """)

    @Flag(name: .long, help: "One measured run per cell and no warm-up (under 2 minutes on 2 cores).")
    var quick = false

    @Option(name: .long, help: "Output folder.")
    var out = "out/suite"

    @Option(name: .customLong("repeat"), help: "Measured runs per cell after the warm-up (default 5; 1 with --quick).")
    var repetitions: Int?

    @Option(name: .long, parsing: .upToNextOption, help: "Profiles (v, h, x or profile files).", transform: ProfileArgument.parse)
    var profiles: [ProfileArgument] = Profile.builtIn.map { ProfileArgument(argument: $0.name)! }

    @Option(name: .long, help: "Strategies (comma list or all; default all this host runs).")
    var strategies: StrategyList = StrategyList(Strategy.available)

    @Option(name: .long, parsing: .upToNextOption, help: "Guests (default: every built-in guest).")
    var guests: [String] = []

    @Option(name: .long, help: "Run only shard I of N (I from 0), e.g. 3/8.")
    var shard: String?

    @Option(name: .long, help: "Cost model parameters, e.g. trap=5000,callout=40 (see the README).")
    var cost: String?

    @Option(name: .customLong("nest-depth"), help: "Recursive virtualization: depths 0 to N of the guest monitor (0: skip).")
    var nestDepth = 3

    @Option(name: .customLong("nest-guest"), help: "The guest the nesting runs.")
    var nestGuest = "kernel"

    @Option(name: .customLong("hw-exits"), help: "hw: the exit presets to run it with, comma separated (none, shadow, all).")
    var hwExits = "none,shadow"

    @Option(name: .long, help: ArgumentHelp("The real processor(s), comma separated: interp, jit, or both side by side.",
                                            valueName: "hardware"))
    var hardware: String = Hardware.default.rawValue

    /// The processors `--hardware` names, in order (`validate` refused any other list).
    private var processors: [Hardware] { (try? Hardware.list(hardware)) ?? [] }


    func validate() throws {
        _ = try HWExits.presets(hwExits)
        _ = try Hardware.list(hardware)
        if let r = repetitions, !(1...1000).contains(r) { throw ValidationError("--repeat must be between 1 and 1000") }
        for g in guests where Guests.named(g) == nil { throw ValidationError("no built-in guest '\(g)' (see bench list)") }
        if let shard { _ = try SuiteCommand.parseShard(shard) }
        if let cost { var m = CostModel(); try m.apply(cost) }
        guard (0...6).contains(nestDepth) else { throw ValidationError("--nest-depth must be between 0 and 6") }
        guard Guests.named(nestGuest) != nil else { throw ValidationError("no built-in guest '\(nestGuest)' for --nest-guest") }
    }

    static func parseShard(_ s: String) throws -> (Int, Int) {
        let parts = s.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, (0..<parts[1]).contains(parts[0]) else {
            throw ValidationError("--shard takes I/N with 0 <= I < N, e.g. 0/4")
        }
        return (parts[0], parts[1])
    }

    func run() throws {
        try SuiteOutput.prepare(out) // before any guest runs
        let repeats = repetitions ?? (quick ? 1 : 5)
        var model = CostModel()
        if let cost { try model.apply(cost) }
        let selected = guests.isEmpty ? Guests.all : guests.compactMap(Guests.named)
        var pairs: [(BuiltinGuest, Profile)] = []
        for g in selected { for p in profiles { pairs.append((g, p.profile)) } }
        if let shard {
            let (i, n) = try SuiteCommand.parseShard(shard)
            pairs = pairs.enumerated().filter { $0.offset % n == i }.map(\.element)
        }
        let strategyList = [.native] + strategies.strategies.filter { $0 != .native }
        // The suite's columns: each strategy, hw once per exit preset.
        let presets = try HWExits.presets(hwExits)
        let columns: [(strategy: Strategy, preset: HWExits?)] = strategyList.flatMap { s in
            s == .hw ? presets.map { (s, Optional($0)) } : [(s, nil)]
        }
        // With more than one processor, each column says which it ran on.
        let sideBySide = processors.count > 1
        func label(_ s: Strategy, _ preset: HWExits?, _ h: Hardware) -> String {
            (preset.map { "hw (\($0.name))" } ?? s.rawValue) + (sideBySide ? " on \(h.rawValue)" : "")
        }
        let environment = SuiteEnvironment.current()
        let options = SuiteOptions(guests: selected.map(\.name), profiles: profiles.map(\.profile.name),
                                   strategies: processors.flatMap { h in columns.map { label($0.strategy, $0.preset, h) } },
                                   repeats: repeats, quick: quick, costModel: model,
                                   nestDepth: nestDepth, nestGuest: nestGuest, hardware: processors.map(\.rawValue).joined(separator: ","))
        let progress = Progress(total: pairs.count * columns.count * processors.count, enabled: true)
        var cells: [SuiteCell] = []
        var done = 0
        for (g, p) in pairs {
          for h in processors {
            let request = try RunRequest.builtin(g, profile: p, hardware: h)
            var reference: Snapshot?
            for (s, preset) in columns {
                var configured = request
                if let preset { configured.hwExits = preset.controls }
                var cell = try SuiteCommand.measure(g, p, s, configured, repeats: repeats, warmUp: !quick, reference: &reference)
                cell.hwExits = preset?.name
                if sideBySide { cell.label = label(s, preset, h) }
                cell.node = environment.node
                cell.commit = environment.commit
                cells.append(cell)
                done += 1
                progress.update(done, note: "\(g.name) \(p.name) \(cell.column)")
            }
          }
        }
        progress.finish()
        var results = SuiteResults(environment: environment, repeats: repeats, quick: quick, shard: shard, costModel: model, cells: cells)
        results.options = options
        // Nesting runs once, in the first shard only, so a merge does not repeat it.
        if nestDepth > 0, (try shard.map(SuiteCommand.parseShard)?.0 ?? 0) == 0 {
            results.nest = try SuiteCommand.nest(nestGuest, depth: nestDepth,
                                                 strategies: strategyList.filter { [.native, .trap, .bt, .jit, .hw].contains($0) },
                                                 hardware: processors[0])
        }
        try SuiteOutput.write(results, to: out)
        print(SuiteOutput.summary(results), terminator: "")
        print("wrote \(out)/results.json, \(out)/results.csv, \(out)/report.html")
    }

    /// `guest` on pg32v under 0...depth guest monitors, the outermost under each strategy.
    static func nest(_ name: String, depth: Int, strategies: [Strategy], hardware: Hardware = .default) throws -> [NestCell] {
        let guest = try GuestImage(name)
        let w = RunRequest.defaultMemorySize
        let reference = try Strategy.native.execute(RunRequest(image: try guest.elf(memorySize: w), profile: .pg32v,
                                                               memorySize: w, hardware: hardware))
        var out: [NestCell] = []
        for s in strategies {
            for d in 0...depth {
                out.append(try Nesting.measure(guest, name: name, depth: d, strategy: s, profile: .pg32v, guestMemory: w,
                                               budget: RunRequest.defaultBudget, reference: reference.snapshot, hardware: hardware).0)
            }
        }
        return out
    }

    /// One cell: warm-up, measured runs, verdict against `reference` (set by the native cell).
    static func measure(_ g: BuiltinGuest, _ p: Profile, _ s: Strategy, _ request: RunRequest, repeats: Int, warmUp: Bool,
                        reference: inout Snapshot?) throws -> SuiteCell {
        var cell = SuiteCell(guest: g.name, kind: g.kind.rawValue, profile: p.name, strategy: s.rawValue, seconds: [],
                             verdict: "refused", divergence: nil, guestInstructions: 0, counters: CellCounters(), iterations: g.iterations,
                             hardware: request.hardware.rawValue)
        var last: RunResult?
        do {
            if warmUp { _ = try s.execute(request) }
            for _ in 0..<repeats {
                let r = try s.execute(request)
                cell.seconds.append(r.seconds)
                last = r
            }
        } catch let e as UsageError {
            cell.divergence = e.description // a monitor that cannot run this profile says why
            return cell
        }
        guard let r = last else { return cell }
        cell.guestInstructions = r.snapshot.instructions
        if s == .native {
            reference = r.snapshot
            cell.verdict = "reference"
            cell.counters = CellCounters(bare: r)
        } else if let ref = reference {
            switch Verdict(run: r.snapshot, reference: ref) {
            case .equivalent: cell.verdict = "equivalent"
            case .divergent(let d): (cell.verdict, cell.divergence) = ("diverges", d)
            case .inconclusive: cell.verdict = "inconclusive"
            }
        }
        if let m = r.monitor { cell.counters = CellCounters(m, translation: r.translation, entriesAreExits: s == .hw) }
        if s.isBare { cell.counters = CellCounters(bare: r) }
        return cell
    }
}

/// `bench merge DIR... --out DIR`: join shards' results into one set of
/// files, checking first that they are one suite's shards, each once, all
/// there, run with the same options from the same commit.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Merge the results.json of a suite's shards into one set of output files.",
        discussion: """
            Refuses, with one line, a set that misses a shard, has one twice, mixes shard counts, \
            options or commits, or includes a merged folder or an unsharded run. --allow-partial merges \
            what is there and records the missing shards in results.json and the report. Cells come out \
            in the suite's own order whatever the order of the folders.
            """)

    @Argument(help: "Folders holding results.json from `bench suite --shard I/N`.")
    var folders: [String]

    @Option(name: .long, help: "Output folder.")
    var out = "out/suite"

    @Flag(name: .customLong("allow-partial"), help: "Merge an incomplete set, recording which shards are missing.")
    var allowPartial = false

    func validate() throws {
        guard !folders.isEmpty else { throw ValidationError("give at least one folder with a results.json") }
    }

    func run() throws {
        var shards: [(folder: String, results: SuiteResults, index: Int, count: Int)] = []
        for f in folders {
            let path = f + "/results.json"
            guard let data = FileManager.default.contents(atPath: path) else { throw UsageError("no results.json in \(f)") }
            let r: SuiteResults
            do { r = try JSONDecoder().decode(SuiteResults.self, from: data) } catch {
                throw UsageError("\(path) is not a suite result (\(plainDecodingError(error)))")
            }
            if r.sources != nil { throw UsageError("\(f) is a merged result, not a shard: leave it out (merge the shards themselves)") }
            guard let shard = r.shard, let (i, n) = try? SuiteCommand.parseShard(shard) else {
                throw UsageError("\(f) is not a shard (it ran without --shard): merge only the folders of one sharded suite")
            }
            shards.append((f, r, i, n))
        }
        let first = shards[0]
        for s in shards.dropFirst() {
            if s.count != first.count {
                throw UsageError("\(s.folder) is shard \(s.index)/\(s.count) but \(first.folder) is \(first.index)/\(first.count): shards of different suites")
            }
            if s.results.options != first.results.options || s.results.repeats != first.results.repeats || s.results.quick != first.results.quick {
                throw UsageError("\(s.folder) ran with other options than \(first.folder) (guests, profiles, strategies, --repeat, --quick, --cost, nesting or --hardware): shards of different suites")
            }
            if s.results.environment.commit != first.results.environment.commit {
                throw UsageError("\(s.folder) ran from commit \(s.results.environment.commit), \(first.folder) from \(first.results.environment.commit): rerun the shards from one commit")
            }
        }
        var seen: [Int: String] = [:]
        for s in shards {
            if let other = seen[s.index] { throw UsageError("shard \(s.index)/\(s.count) is given twice: \(other) and \(s.folder)") }
            seen[s.index] = s.folder
        }
        let missing = (0..<first.count).filter { seen[$0] == nil }
        if !missing.isEmpty && !allowPartial {
            throw UsageError("shards \(missing.map { "\($0)/\(first.count)" }.joined(separator: ", ")) are missing: give every shard, or --allow-partial to merge what is there")
        }
        var merged = first.results
        merged.shard = nil
        merged.cells = shards.flatMap(\.results.cells)
        merged.nest = shards.first { $0.results.nest != nil }?.results.nest // the shard that ran it, whichever
        merged.sources = shards.sorted { $0.index < $1.index }.map {
            ShardSource(index: $0.index, node: $0.results.environment.node ?? "unknown", commit: $0.results.environment.commit,
                        cpu: $0.results.environment.cpu, cores: $0.results.environment.cores, date: $0.results.environment.date)
        }
        merged.missingShards = missing.isEmpty ? nil : missing
        if let options = merged.options { merged.cells = MergeCommand.inSuiteOrder(merged.cells, options) }
        try SuiteOutput.write(merged, to: out)
        print(SuiteOutput.summary(merged), terminator: "")
        print("merged \(shards.count) of \(first.count) shards into \(out)" + (missing.isEmpty ? "" : "; missing: \(missing)"))
    }

    /// Cells in the order an unsharded run writes them: guest, then profile, then strategy, as the options list them.
    static func inSuiteOrder(_ cells: [SuiteCell], _ o: SuiteOptions) -> [SuiteCell] {
        func position(_ list: [String], _ name: String) -> Int { list.firstIndex(of: name) ?? list.count }
        return cells.sorted {
            (position(o.guests, $0.guest), position(o.profiles, $0.profile), position(o.strategies, $0.column))
                < (position(o.guests, $1.guest), position(o.profiles, $1.profile), position(o.strategies, $1.column))
        }
    }
}


extension SuiteEnvironment {
    /// This host, this toolchain, this commit, now.
    static func current() -> SuiteEnvironment {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cpu = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }?
            .split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        func output(_ tool: String, _ args: [String]) -> String? {
            guard let r = try? GuestToolchain.run("/usr/bin/env", [tool] + args), r.status == 0 else { return nil }
            return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let commit = output("git", ["rev-parse", "--short", "HEAD"]) ?? "unknown"
        let swift = output("swift", ["--version"])?.split(separator: "\n").first.map(String.init) ?? "unknown"
        let formatter = ISO8601DateFormatter()
        return SuiteEnvironment(cpu: cpu, cores: ProcessInfo.processInfo.activeProcessorCount,
                                memoryBytes: ProcessInfo.processInfo.physicalMemory, swift: swift, commit: commit,
                                date: formatter.string(from: Date()), os: ProcessInfo.processInfo.operatingSystemVersionString,
                                node: ProcessInfo.processInfo.hostName)
    }
}
