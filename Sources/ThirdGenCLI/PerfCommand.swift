import Experiments
import ArgumentParser
import Foundation
import Guests
import Machine

/// `bench perf`: the reference interpreter against the same C compiled
/// natively for the host by clang -O2, measured side by side in one run.
struct PerfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "perf",
        abstract: "Measure the bare PG32 machine and the monitors against host-native code on the compute guests.",
        usage: "bench perf [--strategy <strategy>] [--hardware <hardware>] [<options>]",
        discussion: """
            Each compute guest runs REPEAT times on the bare machine of the chosen processor (--hardware; a fresh machine each time) and \
            REPEAT times natively (the same C source, clang -O2, in-process repetitions); the fastest \
            of each is compared. Build with -c release for meaningful numbers.
            """)

    @Option(name: .customLong("repeat"), help: "Repetitions per side; the fastest counts.")
    var repetitions: Int = 5

    @Option(name: .long, parsing: .upToNextOption, help: "Guests to measure (default: every compute guest).")
    var guests: [String] = []

    @Option(name: .long, help: "Monitor strategies to time beside the bare machine (comma list).")
    var strategy: StrategyList = StrategyList([.trap, .hybrid])

    @OptionGroup var processor: HardwareOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...1000).contains(repetitions) else { throw ValidationError("--repeat must be between 1 and 1000") }
        for g in guests where Guests.named(g) == nil { throw ValidationError("no built-in guest '\(g)'") }
    }

    struct Row {
        var guest: String
        /// Seconds under each monitor strategy, in `strategy` order.
        var monitorSeconds: [Double]
        var instructions: UInt64
        var interpreterSeconds: Double
        var nativeSeconds: Double
        var scalarNativeSeconds: Double
        var outputsAgree: Bool
        var slowdown: Double { interpreterSeconds / nativeSeconds }
        var scalarSlowdown: Double { interpreterSeconds / scalarNativeSeconds }
    }

    func run() throws {
        let toolchain = try GuestToolchain.locate()
        let strategies = strategy.strategies.filter { $0 != .native }
        let rows = try Timing.withScratchFolder("perf") { work in try measure(Timing.computeGuests(guests), strategies, toolchain, work) }
        report(rows, strategies)
    }

    private func measure(_ selected: [BuiltinGuest], _ strategies: [Strategy], _ toolchain: GuestToolchain, _ work: URL) throws -> [Row] {
        var rows: [Row] = []
        for g in selected {
            let hw = processor.hardware
            let interpreted = try Timing.fastest(g, strategy: .native, repetitions: repetitions, hardware: hw)
            let monitored = try strategies.map { try Timing.fastest(g, strategy: $0, repetitions: repetitions, hardware: hw) }
            for m in monitored where Verdict(run: m.snapshot, reference: interpreted.snapshot) != .equivalent {
                throw UsageError("\(g.name) is not equivalent under \(m.strategy): the timing would be meaningless")
            }
            let best = interpreted.seconds
            let snapshot: Snapshot? = interpreted.snapshot
            let binary = work.appendingPathComponent(g.name).path
            try toolchain.buildNative(source: Guests.source(of: g), output: URL(fileURLWithPath: binary), libc: g.libc)
            let native = try PerfCommand.runNative(binary, repetitions: repetitions)
            // The same, without SIMD: separates vectorization from interpretation cost.
            try toolchain.buildNative(source: Guests.source(of: g), output: URL(fileURLWithPath: binary + "-scalar"),
                                      extraFlags: ["-fno-vectorize", "-fno-slp-vectorize"], libc: g.libc)
            let scalar = try PerfCommand.runNative(binary + "-scalar", repetitions: repetitions)
            let s = snapshot!
            let agree = [native, scalar].allSatisfy { $0.console == s.console && $0.exitCode == s.outcome.exitCode }
            rows.append(Row(guest: g.name, monitorSeconds: monitored.map(\.seconds), instructions: s.instructions, interpreterSeconds: best,
                            nativeSeconds: native.seconds, scalarNativeSeconds: scalar.seconds, outputsAgree: agree))
            if !json {
                FileHandle.standardError.write(Data("measured \(g.name)\n".utf8))
            }
        }
        return rows
    }

    private func report(_ rows: [Row], _ strategies: [Strategy]) {
        let geomean = Timing.geometricMean(rows.map(\.slowdown))
        let scalarGeomean = Timing.geometricMean(rows.map(\.scalarSlowdown))
        let monitorGeomeans = strategies.indices.map { i in Timing.geometricMean(rows.map { $0.monitorSeconds[i] / $0.interpreterSeconds }) }
        let mhz = Timing.cpuMHz()
        if json {
            print(JSON.object([
                ("rows", .array(rows.map { r in
                    .object([("guest", .string(r.guest)), ("guestInstructions", .uint(r.instructions)),
                             ("interpreterSeconds", .double(r.interpreterSeconds)), ("nativeSeconds", .double(r.nativeSeconds)),
                             ("slowdown", .double(r.slowdown)), ("scalarNativeSeconds", .double(r.scalarNativeSeconds)),
                             ("scalarSlowdown", .double(r.scalarSlowdown)),
                             ("monitors", .object(zip(strategies, r.monitorSeconds).map { s, t in
                                 (s.rawValue, .object([("seconds", .double(t)), ("overBare", .double(t / r.interpreterSeconds))]))
                             })),
                             ("outputsAgree", .bool(r.outputsAgree))])
                })),
                ("geomeanSlowdown", .double(geomean)),
                ("geomeanScalarSlowdown", .double(scalarGeomean)),
                ("geomeanOverBare", .object(zip(strategies, monitorGeomeans).map { ($0.rawValue, .double($1)) })),
                ("cpuMHz", mhz.map { .double($0) } ?? .null),
                ("hardware", .string(processor.hardware.rawValue)),
            ]).rendered(pretty: true))
            return
        }
        var table: [[String]] = rows.map { r in
            let nsPerInstruction = r.interpreterSeconds * 1e9 / Double(r.instructions)
            return [r.guest, String(r.instructions), String(format: "%.4f", r.interpreterSeconds),
                    String(format: "%.0f", Double(r.instructions) / r.interpreterSeconds / 1e6),
                    String(format: "%.2f", nsPerInstruction),
                    mhz.map { String(format: "%.1f", nsPerInstruction * $0 / 1000) } ?? "-",
                    String(format: "%.5f", r.nativeSeconds), String(format: "%.1fx", r.slowdown),
                    String(format: "%.5f", r.scalarNativeSeconds), String(format: "%.1fx", r.scalarSlowdown),
                ] + r.monitorSeconds.map { String(format: "%.3f", $0 / r.interpreterSeconds) } + [
                    r.outputsAgree ? "yes" : "NO"]
        }
        table.append(["geomean", "", "", "", "", "", "", String(format: "%.1fx", geomean), "", String(format: "%.1fx", scalarGeomean),
                     ] + monitorGeomeans.map { String(format: "%.3f", $0) } + [""])
        print(TextTable.render(header: ["guest", "guest instr", "bare \(processor.hardware.rawValue) s", "MIPS", "ns/instr", "cycles/instr",
                                        "native s", "slowdown", "scalar s", "vs scalar"] + strategies.map { "\($0.rawValue)/bare" } + ["same output"],
                               rows: table), terminator: "")
        print("fastest of \(repetitions) runs each side; native = same C source, clang -O2 for the host; " +
              "scalar = the same with -fno-vectorize -fno-slp-vectorize; X/bare = under monitor X vs the bare machine, " +
              "all on the \(processor.hardware == .jit ? "JIT" : "reference interpreter") as the real processor" +
              (mhz.map { String(format: "; cycles at the nominal %.0f MHz", $0) } ?? ""))
    }

    /// Runs a harness (host.c natively, or linux.c under `emulator`); returns its console, exit code and fastest time.
    static func runNative(_ binary: String, repetitions: Int, under emulator: String? = nil) throws
        -> (console: [UInt8], exitCode: UInt32?, seconds: Double, firstSeconds: Double?) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: emulator ?? binary)
        p.arguments = (emulator == nil ? [] : [binary]) + [String(repetitions)]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let console = out.fileHandleForReading.readDataToEndOfFile()
        let report = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        var code: UInt32?, ns: Double?, first: Double?
        for field in report.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            if field.hasPrefix("first=0x") { first = UInt64(field.dropFirst(8), radix: 16).map { Double($0) / 1e9 } }
            if field.hasPrefix("exit=") { code = UInt32(field.dropFirst(5)) }
            if field.hasPrefix("ns=0x") {
                ns = UInt64(field.dropFirst(5), radix: 16).map { Double($0) } // the riscv32 Linux harness prints hex
            } else if field.hasPrefix("ns=") {
                ns = Double(field.dropFirst(3))
            }
        }
        guard let ns else { throw UsageError("native run of \(binary) reported no time: \(report)") }
        return ([UInt8](console), code, ns / 1e9, first)
    }
}
