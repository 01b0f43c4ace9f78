import Experiments
import ArgumentParser
import Foundation
import Guests
import Machine

/// `bench riscv-tests SUITE`: the official RISC-V tests of a checkout of
/// riscv-software-src/riscv-tests, built against the runtime's
/// `riscv_test.h` and run under every strategy, profile and processor.
struct RiscvTestsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "riscv-tests",
        abstract: "Build the official RISC-V tests (rv32ui, rv32um) from a checkout of riscv-tests and run each under every strategy.",
        discussion: """
            SUITE is a checkout of https://github.com/riscv-software-src/riscv-tests (the folder holding \
            isa/). Each isa/rv32ui/*.S and isa/rv32um/*.S is built with `bench build` against the \
            runtime's riscv_test.h and the suite's isa/macros/scalar, then run under each strategy on \
            each profile and processor. A test passes when every run halts with 0 (the suite's pass) \
            and every run but native's is equivalent to native's; a failing test halts with the number \
            of its failing case (TESTNUM), which is shown. Exit status 1 if any test fails.
            """)

    @Argument(help: "A checkout of riscv-tests: the folder holding isa/.")
    var suite: String

    @Option(name: .long, parsing: .upToNextOption, help: "Only these tests (file names without .S, e.g. add lw div).")
    var tests: [String] = []

    @Option(name: .long, parsing: .upToNextOption, help: "Profiles (v, h, x or profile files; default all three).",
            transform: ProfileArgument.parse)
    var profiles: [ProfileArgument] = Profile.builtIn.map { ProfileArgument(argument: $0.name)! }

    @Option(name: .long, help: "Strategies (comma list or all; default all this host runs).")
    var strategies: StrategyList = StrategyList(Strategy.available)

    @Option(name: .long, help: ArgumentHelp("The real processor(s), comma separated: interp, jit, or both.", valueName: "hardware"))
    var hardware: String = Hardware.default.rawValue

    @Option(name: .long, help: "Stop a run after this many guest instructions (a test runs a few thousand; a run that stops here fails, inconclusive).")
    var budget: UInt64 = 10_000_000

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    /// The test folders of the suite that are RV32IM: user-level integer and multiply.
    static let folders = ["isa/rv32ui", "isa/rv32um"]
    /// Where the suite keeps test_macros.h.
    static let macros = "isa/macros/scalar"

    private var root: URL { URL(fileURLWithPath: suite) }

    func validate() throws {
        for f in RiscvTestsCommand.folders + [RiscvTestsCommand.macros] where folderAt(root.appendingPathComponent(f).path) != true {
            throw ValidationError("no \(f) in \(suite): give a checkout of riscv-software-src/riscv-tests")
        }
        _ = try Hardware.list(hardware)
        guard budget > 0 else { throw ValidationError("--budget must be at least 1") }
        let known = Set(try testFiles().map { $0.deletingPathExtension().lastPathComponent })
        for t in tests where !known.contains(t) {
            throw ValidationError("no test '\(t)' in \(RiscvTestsCommand.folders.joined(separator: " or "))")
        }
    }

    /// The suite's .S files in the RV32IM folders, in name order (rv32ui first).
    func testFiles() throws -> [URL] {
        try RiscvTestsCommand.folders.flatMap { f -> [URL] in
            let dir = root.appendingPathComponent(f)
            return try FileManager.default.contentsOfDirectory(atPath: dir.path)
                .filter { $0.hasSuffix(".S") }.sorted().map { dir.appendingPathComponent($0) }
        }
    }

    /// One test's result: the runs that did not pass (empty if it passed), or why it did not build.
    struct TestResult {
        let name: String
        var runs = 0
        var failures: [(profile: String, hardware: Hardware, run: RunResult)] = []
        var buildError: String?
        var passed: Bool { buildError == nil && failures.isEmpty }
    }

    func run() throws {
        let toolchain = try GuestToolchain.locate()
        let processors = try Hardware.list(hardware)
        let files = try testFiles().filter { tests.isEmpty || tests.contains($0.deletingPathExtension().lastPathComponent) }
        let macros = root.appendingPathComponent(RiscvTestsCommand.macros).path
        let progress = Progress(total: files.count, enabled: !json)
        var outcomes: [TestResult] = []
        try Timing.withScratchFolder("riscv-tests") { work in
            for (i, file) in files.enumerated() {
                let name = file.deletingPathExtension().lastPathComponent
                let folder = file.deletingLastPathComponent().lastPathComponent
                var outcome = TestResult(name: "\(folder)/\(name)")
                let elf = work.appendingPathComponent("\(folder)-\(name).elf")
                do {
                    try toolchain.build(sources: [file], output: elf, extraFlags: ["-I", macros])
                    let image = try ELFImage(bytes: [UInt8](try Data(contentsOf: elf)), memorySize: RunRequest.defaultMemorySize)
                    for p in profiles {
                        for h in processors {
                            let request = RunRequest(image: image, profile: p.profile, budget: budget, hardware: h)
                            for r in try Experiment.compare(request, strategies: strategies.strategies) {
                                outcome.runs += 1
                                if !RiscvTestsCommand.passes(r) { outcome.failures.append((p.profile.name, h, r)) }
                            }
                        }
                    }
                } catch let e as ToolchainError {
                    // The assembler's first line; the command line (temporary paths) is `bench build -v`'s to show.
                    let first = e.description.split(separator: "\n").first.map(String.init) ?? e.description
                    outcome.buildError = first.components(separatedBy: " (command: ").first ?? first
                }
                outcomes.append(outcome)
                progress.update(i + 1, note: "\(outcomes.filter { !$0.passed }.count) failing")
            }
        }
        progress.finish()
        if json { print(RiscvTestsCommand.json(outcomes, suite: suite).rendered(pretty: true)) } else { print(report(outcomes, processors)) }
        if outcomes.contains(where: { !$0.passed }) { throw ExitCode(1) }
    }

    /// A run passes when it halted with 0 and, but for native's own, is equivalent to native's.
    static func passes(_ r: RunResult) -> Bool {
        guard r.snapshot.outcome == .halted(0) else { return false }
        switch r.verdict {
        case nil, .equivalent?: return true
        case .divergent?, .inconclusive?: return false
        }
    }

    /// What a failed run did, in words: its status and code (the failing case, for a halt), its verdict.
    static func describe(_ r: RunResult) -> String {
        if r.snapshot.outcome == .budget { return "no HALT within --budget (\(r.snapshot.instructions) instructions)" }
        var s = r.snapshot.outcome.name
        if let code = r.snapshot.outcome.exitCode { s += code == 0 ? " 0" : " in case \(code)" }
        switch r.verdict {
        case .divergent(let d)?: s += ", not equivalent: \(d)"
        case .inconclusive?: s += ", inconclusive"
        case nil, .equivalent?: break
        }
        return s
    }

    func report(_ outcomes: [TestResult], _ processors: [Hardware]) -> String {
        var lines: [String] = []
        let width = outcomes.map(\.name.count).max() ?? 4
        for o in outcomes {
            let padded = o.name.padding(toLength: width, withPad: " ", startingAt: 0)
            if let e = o.buildError {
                lines.append("\(padded)  BUILD FAILED: \(e)")
            } else if o.passed {
                lines.append("\(padded)  pass (\(o.runs) runs)")
            } else {
                let first = o.failures[0]
                lines.append("\(padded)  FAIL in \(o.failures.count) of \(o.runs) runs; first: \(first.run.strategy) on "
                             + "\(first.profile) (\(first.hardware.rawValue)): \(RiscvTestsCommand.describe(first.run))")
            }
        }
        let passed = outcomes.filter(\.passed).count, runs = outcomes.map(\.runs).reduce(0, +)
        lines.append("\(passed) of \(outcomes.count) tests pass: \(runs) runs, strategies "
                     + strategies.strategies.map(\.rawValue).joined(separator: ", ")
                     + "; profiles " + profiles.map(\.profile.name).joined(separator: ", ")
                     + "; processors " + processors.map(\.rawValue).joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    static func json(_ outcomes: [TestResult], suite: String) -> JSON {
        .object([
            ("suite", .string(suite)),
            ("passed", .int(Int64(outcomes.filter(\.passed).count))),
            ("failed", .int(Int64(outcomes.filter { !$0.passed }.count))),
            ("tests", .array(outcomes.map { o in
                .object([
                    ("name", .string(o.name)), ("passed", .bool(o.passed)), ("runs", .int(Int64(o.runs))),
                    ("buildError", o.buildError.map(JSON.string) ?? .null),
                    ("failures", .array(o.failures.map { f in
                        .object([("profile", .string(f.profile)), ("hardware", .string(f.hardware.rawValue)),
                                 ("strategy", .string(f.run.strategy)), ("status", .string(f.run.snapshot.outcome.name)),
                                 ("exitCode", .optional(f.run.snapshot.outcome.exitCode)),
                                 ("what", .string(describe(f.run)))])
                    })),
                ])
            })),
        ])
    }
}
