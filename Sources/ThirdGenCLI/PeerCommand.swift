import Experiments
import ArgumentParser
import Foundation
import Guests
import Machine
import Translator

/// `bench peer`: the JIT against its peers on each compute guest, side by
/// side in one run: the same C source natively (clang -O2 for the host), as a
/// static riscv32 Linux program under QEMU's user-mode translator (TCG), and
/// on PG32 under jit, native-jit and bt.
struct PeerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Compare the JIT with native code and with QEMU's translator on the compute guests.",
        usage: "bench peer [--repeat <repeat>] [--guests <guests> ...] [<options>]",
        discussion: """
            Every column is the fastest of REPEAT runs. Native and QEMU repeat the guest's main \
            in-process, so process and emulator start-up are not measured; QEMU's translations are \
            warm after its first run, so QEMU is shown twice: its first run (cold: translating \
            included, like every PG32 run, which boots a fresh machine) and its fastest (warm). QEMU is qemu-riscv32 on PATH (Debian: apt-get install qemu-user), \
            or --qemu PATH; without it that column is left out with a note. Build with -c release.
            """)

    @Option(name: .customLong("repeat"), help: "Repetitions per column; the fastest counts.")
    var repetitions: Int = 5

    @Option(name: .long, parsing: .upToNextOption, help: "Guests to measure (default: every compute guest).")
    var guests: [String] = []

    @Option(name: .long, help: "Path of qemu-riscv32 (default: found on PATH).")
    var qemu: String?

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (1...1000).contains(repetitions) else { throw ValidationError("--repeat must be between 1 and 1000") }
        for g in guests where Guests.named(g) == nil { throw ValidationError("no built-in guest '\(g)'") }
        if let qemu, !FileManager.default.isExecutableFile(atPath: qemu) { throw ValidationError("--qemu \(qemu) is not an executable") }
        if let why = Strategy.jit.unavailableReason { throw ValidationError("the JIT is unavailable here: \(why)") }
    }

    struct Row {
        var guest: String
        var instructions: UInt64
        var native: Double
        /// QEMU's fastest (warm) run, and its first (cold) run.
        var qemu: Double?
        var qemuCold: Double?
        var jit: Double
        var nativeJIT: Double
        /// native-jit warm: translations kept from the run before (QEMU warm's counterpart).
        var nativeJITWarm: Double
        var bt: Double
        /// Translation time per guest instruction translated, under jit (ns).
        var translateNanoseconds: Double
        var outputsAgree: Bool
    }

    func run() throws {
        let toolchain = try GuestToolchain.locate()
        let emulator = qemu ?? PeerCommand.onPath("qemu-riscv32")
        let rows = try Timing.withScratchFolder("peer") { work in
            try Timing.computeGuests(guests).map { try measure($0, toolchain, emulator, work) }
        }
        report(rows, emulator: emulator)
    }

    private func measure(_ g: BuiltinGuest, _ toolchain: GuestToolchain, _ emulator: String?, _ work: URL) throws -> Row {
        if !json { FileHandle.standardError.write(Data("measuring \(g.name)\n".utf8)) }
        let jit = try Timing.fastest(g, strategy: .jit, repetitions: repetitions)
        let bare = try Timing.fastest(g, strategy: .nativeJit, repetitions: repetitions)
        let bt = try Timing.fastest(g, strategy: .bt, repetitions: repetitions)
        let warm = try Timing.fastestWarmBareJIT(g, repetitions: repetitions)
        let source = Guests.source(of: g)
        let host = work.appendingPathComponent(g.name).path
        try toolchain.buildNative(source: source, output: URL(fileURLWithPath: host), libc: g.libc)
        let native = try PerfCommand.runNative(host, repetitions: repetitions)
        var emulated: (console: [UInt8], exitCode: UInt32?, seconds: Double, firstSeconds: Double?)?
        if let emulator {
            let rv = work.appendingPathComponent(g.name + "-riscv32-linux").path
            try toolchain.buildRISCVLinux(source: source, output: URL(fileURLWithPath: rv), libc: g.libc ? try GuestLibC.locate() : nil)
            emulated = try PerfCommand.runNative(rv, repetitions: repetitions, under: emulator)
        }
        let s = jit.snapshot
        let agree = [bare.snapshot, bt.snapshot, warm.snapshot].allSatisfy { Verdict(run: $0, reference: s) == .equivalent }
            && native.console == s.console && native.exitCode == s.outcome.exitCode
            && (emulated.map { $0.console == s.console && $0.exitCode == s.outcome.exitCode } ?? true)
        let t = jit.translation ?? TranslationCounters()
        return Row(guest: g.name, instructions: s.instructions, native: native.seconds, qemu: emulated?.seconds,
                   qemuCold: emulated?.firstSeconds,
                   jit: jit.seconds, nativeJIT: bare.seconds, nativeJITWarm: warm.seconds, bt: bt.seconds,
                   translateNanoseconds: Double(t.translationNanoseconds) / Double(max(t.instructionsTranslated, 1)),
                   outputsAgree: agree)
    }

    private func report(_ rows: [Row], emulator: String?) {
        let g = Timing.geometricMean
        func mean(_ f: (Row) -> Double?) -> Double? {
            let xs = rows.compactMap(f)
            return xs.count == rows.count && !xs.isEmpty ? g(xs) : nil
        }
        let jitOverNative = mean { $0.jit / $0.native }!
        let bareOverNative = mean { $0.nativeJIT / $0.native }!
        let warmOverNative = mean { $0.nativeJITWarm / $0.native }!
        let btOverNative = mean { $0.bt / $0.native }!
        let qemuOverNative = mean { r in r.qemu.map { $0 / r.native } }
        let qemuColdOverNative = mean { r in r.qemuCold.map { $0 / r.native } }
        let coldSpeedup = mean { r in r.qemuCold.map { $0 / r.jit } }
        let warmSpeedup = mean { r in r.qemu.map { $0 / r.nativeJITWarm } }
        if json {
            print(JSON.object([
                ("rows", .array(rows.map { r in
                    .object([("guest", .string(r.guest)), ("guestInstructions", .uint(r.instructions)),
                             ("nativeSeconds", .double(r.native)), ("qemuSeconds", r.qemu.map { .double($0) } ?? .null),
                             ("qemuColdSeconds", r.qemuCold.map { .double($0) } ?? .null),
                             ("jitSeconds", .double(r.jit)), ("nativeJitSeconds", .double(r.nativeJIT)),
                             ("nativeJitWarmSeconds", .double(r.nativeJITWarm)), ("btSeconds", .double(r.bt)),
                             ("jitOverNative", .double(r.jit / r.native)),
                             ("qemuOverNative", r.qemu.map { .double($0 / r.native) } ?? .null),
                             ("jitFasterThanQemuCold", r.qemuCold.map { .bool(r.jit < $0) } ?? .null),
                             ("warmJitFasterThanQemuWarm", r.qemu.map { .bool(r.nativeJITWarm < $0) } ?? .null),
                             ("translateNanosecondsPerInstruction", .double(r.translateNanoseconds)),
                             ("outputsAgree", .bool(r.outputsAgree))])
                })),
                ("geomeanJitOverNative", .double(jitOverNative)),
                ("geomeanNativeJitOverNative", .double(bareOverNative)),
                ("geomeanNativeJitWarmOverNative", .double(warmOverNative)),
                ("geomeanBtOverNative", .double(btOverNative)),
                ("geomeanQemuOverNative", qemuOverNative.map { .double($0) } ?? .null),
                ("geomeanQemuColdOverNative", qemuColdOverNative.map { .double($0) } ?? .null),
                ("qemu", emulator.map { .string($0) } ?? .null),
                ("repetitions", .int(Int64(repetitions))),
            ]).rendered(pretty: true))
            return
        }
        func x(_ v: Double?) -> String { v.map { String(format: "%.2fx", $0) } ?? "-" }
        func ms(_ v: Double?) -> String { v.map { String(format: "%.2f", $0 * 1e3) } ?? "-" }
        var table: [[String]] = rows.map { r in
            [r.guest, String(r.instructions), ms(r.native),
             ms(r.qemuCold), ms(r.jit), x(r.qemuCold.map { $0 / r.jit }),
             ms(r.qemu), ms(r.nativeJITWarm), x(r.qemu.map { $0 / r.nativeJITWarm }),
             x(r.jit / r.native), x(r.nativeJIT / r.native), x(r.bt / r.native),
             String(format: "%.0f", r.translateNanoseconds), r.outputsAgree ? "yes" : "NO"]
        }
        table.append(["geomean", "", "", x(qemuColdOverNative), "", x(coldSpeedup), x(qemuOverNative), x(warmOverNative),
                      x(warmSpeedup), x(jitOverNative), x(bareOverNative), x(btOverNative), "", ""])
        print(TextTable.render(header: ["guest", "guest instr", "native ms",
                                        "qemu cold ms", "jit ms", "qemu cold/jit",
                                        "qemu warm ms", "native-jit warm ms", "qemu warm/warm",
                                        "jit/native", "native-jit/native", "bt/native", "translate ns/instr", "same output"],
                               rows: table), terminator: "")
        print("fastest of \(repetitions) each; native = clang -O2 for the host; qemu = \(emulator ?? "not found") running the same C " +
              "as a static riscv32 Linux program: cold = its first run (translating), warm = its fastest; jit = under the " +
              "control program, a fresh machine each run (translating); native-jit warm = the JIT as the bare machine with " +
              "the previous run's translations; X/Y above 1: Y is faster; geomean row: ratios to native, then speedups")
        if emulator == nil { print("note: qemu-riscv32 not found, QEMU columns left out (Debian: apt-get install qemu-user)") }
    }

    /// The first executable `name` on PATH.
    static func onPath(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let p = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }
}
