import Experiments
import ArgumentParser
import Foundation
import Machine
import Translator

/// `bench fuzz --count N --seed S [--profile P] [--strategy LIST] [--json]`
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Differential fuzzing: random PG32 programs under every strategy the theorems promise.",
        usage: "bench fuzz [--count <count>] [--seed <seed>] [<options>]",
        discussion: """
            Each program runs natively and under each strategy promised equivalence on its profile \
            (trap if Theorem 1 holds, hybrid if Theorem 3 holds, bt, jit and hw always; derived by the \
            classifier), hw with random exit controls, the monitors on the interpreter and the JIT every \
            other program, and native-jit (the JIT as the bare machine) against the interpreter; \
            with a budget of 3000 instructions; canaries around the VM are checked. A divergence is \
            shrunk and saved as an ELF with the command that replays it, and the exit status is 1. \
            Programs go to the profiles in turn unless --profile is given. \
            With --images N, fuzzes the loader instead: N images mutated from the built-in guests, each \
            refused in one line or run under native and trap (exit status 1 on a divergence or a bad message).
            """)

    @Option(name: .long, help: "Programs to generate.")
    var count = 1000

    @Option(name: .long, help: "Seed: the same seed generates the same programs.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Generate but skip the programs before this index (to replay program N of a campaign: --first N --count N+1).")
    var first = 0

    @Option(name: .long, help: "Only this profile (v, h, x or a profile file); default: all three in turn.",
            transform: ProfileArgument.parse)
    var profile: ProfileArgument?

    @Option(name: .long, help: "Strategies to test where promised (comma list).")
    var strategy: StrategyList = StrategyList([.trap, .hybrid, .bt, .jit, .hw, .nativeJit].filter { $0.unavailableReason == nil })

    @Option(name: .long, help: "Folder for shrunk reproducers.")
    var out = "fuzz-divergences"

    @Option(name: .long, help: "Fuzz the loader with this many mutated images instead of generating programs.")
    var images = 0

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must not be negative") }
        guard images >= 0 else { throw ValidationError("--images must not be negative") }
        guard first >= 0 else { throw ValidationError("--first must not be negative") }
    }

    func run() throws {
        if images > 0 { return try runLoader() }
        try checkOutputFolder(out, option: "--out") // before the campaign, not after it
        let profiles = profile.map { [$0.profile] } ?? Profile.builtIn
        let promised = profiles.map { Fuzzer.promised($0, among: strategy.strategies) }
        var rng = SplitMix64(seed: seed)
        var findings: [FuzzFinding] = []
        var runs = 0, enteringGuestMode = 0
        let progress = Progress(total: count, enabled: !json)
        let started = ContinuousClock.now
        for n in 0..<count {
            let p = n % profiles.count
            var program = FuzzProgram.generate(using: &rng)
            // The monitors run on both processors, every other program each (where the JIT runs).
            if JITTranslator.unavailableReason == nil && n % 2 == 1 { program.hardware = .jit }
            if n < first { continue }
            let (bare, entries) = Fuzzer.bareRun(program, profiles[p])
            if entries > 0 { enteringGuestMode += 1 }
            for s in promised[p] {
                runs += 1
                if let d = try Fuzzer.difference(program, profiles[p], s, bare: bare) {
                    findings.append(Fuzzer.shrink(FuzzFinding(program: program, profile: profiles[p], strategy: s, difference: d)))
                }
            }
            progress.update(n + 1, note: "\(findings.count) divergences")
        }
        progress.finish()
        let seconds = (ContinuousClock.now - started).seconds
        var saved: [(FuzzFinding, String, String)] = []
        if !findings.isEmpty {
            try prepareOutputFolder(out, option: "--out")
            for (i, f) in findings.enumerated() {
                let path = "\(out)/divergence-seed\(seed)-\(i)-\(f.strategy.rawValue)-\(f.profile.name).elf"
                do {
                    try Data(f.program.image.elfBytes).write(to: URL(fileURLWithPath: path))
                } catch {
                    throw UsageError("cannot write \(path): \(plainFileError(error))")
                }
                saved.append((f, path, f.replay(path)))
            }
        }
        if json {
            print(JSON.object([
                ("count", .int(Int64(count))), ("seed", .uint(seed)),
                ("profiles", .array(zip(profiles, promised).map { p, s in
                    .object([("profile", .string(p.name)), ("strategies", .array(s.map { .string($0.rawValue) }))])
                })),
                ("runs", .int(Int64(runs))), ("seconds", .double(seconds)),
                ("programsEnteringGuestMode", .int(Int64(enteringGuestMode))),
                ("divergences", .array(saved.map { f, path, replay in
                    .object([("profile", .string(f.profile.name)), ("strategy", .string(f.strategy.rawValue)),
                             ("difference", .string(f.difference)), ("reproducer", .string(path)), ("replay", .string(replay))])
                })),
            ]).rendered(pretty: true))
        } else {
            for (p, s) in zip(profiles, promised) {
                print("\(p.name): promised equivalence under \(s.map(\.rawValue).joined(separator: ", "))")
            }
            print("\(count) programs (\(enteringGuestMode) entered VX guest mode), \(runs) runs against native in \(String(format: "%.1f", seconds)) s: \(saved.count) divergences")
            for (f, path, replay) in saved {
                print("DIVERGENCE \(f.strategy.rawValue) on \(f.profile.name): \(f.difference)\n  saved \(path)\n  replay: \(replay)")
            }
        }
        if !saved.isEmpty { throw ExitCode(1) }
    }

    /// `--images N`: the loader fuzzer.
    private func runLoader() throws {
        let started = ContinuousClock.now
        let s = try LoaderFuzzer.run(count: images, seed: seed, progress: Progress(total: images, enabled: !json))
        let seconds = (ContinuousClock.now - started).seconds
        if json {
            print(JSON.object([
                ("images", .int(Int64(s.images))), ("seed", .uint(seed)), ("refused", .int(Int64(s.refused))),
                ("ran", .int(Int64(s.ran))), ("seconds", .double(seconds)),
                ("divergences", .array(s.divergences.map { .string($0) })), ("badMessages", .array(s.badMessages.map { .string($0) })),
                ("reasons", .object(s.reasons.sorted { $0.value > $1.value }.map { ($0.key, .int(Int64($0.value))) })),
            ]).rendered(pretty: true))
        } else {
            print("\(s.images) mutated images in \(String(format: "%.1f", seconds)) s: \(s.refused) refused in one line, \(s.ran) ran under native and trap")
            for (reason, n) in s.reasons.sorted(by: { $0.value > $1.value }).prefix(8) { print(String(format: "%6d  %@", n, reason)) }
            for d in s.divergences { print("DIVERGENCE \(d)") }
            for m in s.badMessages { print("BAD MESSAGE \(m)") }
        }
        if !s.divergences.isEmpty || !s.badMessages.isEmpty { throw ExitCode(1) }
    }
}

/// A progress line on a terminal (stderr), plain lines every 10% otherwise.
final class Progress {
    private let total: Int
    private let enabled: Bool
    private let terminal = isatty(2) != 0
    private var lastTenth = -1

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled && total > 0
    }

    func update(_ done: Int, note: String) {
        guard enabled else { return }
        if terminal {
            if done % max(1, total / 200) == 0 || done == total {
                let width = 30, filled = done * width / total
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) \(note)".utf8))
            }
        } else if done * 10 / total > lastTenth {
            lastTenth = done * 10 / total
            FileHandle.standardError.write(Data("\(done)/\(total) \(note)\n".utf8))
        }
    }

    func finish() {
        if enabled && terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
