import Experiments
import Foundation
import Guests
import Machine
import Translator

/// Side-by-side timing of guests under strategies, shared by `bench perf` and `bench nano`.
enum Timing {
    /// The fastest of `repetitions` runs of `guest` under `strategy` (each run from a fresh boot).
    static func fastest(_ guest: BuiltinGuest, strategy: Strategy, profile: Profile = .pg32v,
                        repetitions: Int, budget: UInt64 = 20_000_000_000,
                        btUserMode: UserModeExecution = .translated, hardware: Hardware = .default,
                        hwExits: ExitControls = .none) throws -> RunResult {
        let request = try RunRequest.builtin(guest, profile: profile, budget: budget, btUserMode: btUserMode,
                                             hardware: hardware, hwExits: hwExits)
        var best: RunResult?
        for _ in 0..<repetitions {
            let r = try strategy.execute(request)
            if best == nil || r.seconds < best!.seconds { best = r }
        }
        return best!
    }

    /// The fastest of `repetitions` warm runs of `guest` on the JIT as the
    /// bare machine: each boots the guest afresh but keeps the translations
    /// of the run before (verified, not remade), like an emulator's second
    /// in-process run. One cold run first, not counted. Returns its snapshot too.
    static func fastestWarmBareJIT(_ guest: BuiltinGuest, repetitions: Int,
                                   budget: UInt64 = 20_000_000_000) throws -> (seconds: Double, snapshot: Snapshot) {
        let image = try ELFImage(bytes: try Guests.image(of: guest), memorySize: RunRequest.defaultMemorySize)
        var previous: BareJIT?
        var best: (seconds: Double, snapshot: Snapshot)?
        for i in 0...repetitions {
            let machine = Machine(booting: image, memorySize: RunRequest.defaultMemorySize, profile: .pg32v)
            let jit = try previous.map { try BareJIT(machine: machine, reusingTranslationsOf: $0) } ?? BareJIT(machine: machine)
            var exit = RunExit.budget
            let seconds = ContinuousClock().measure { exit = jit.run(budget: budget) }.seconds
            if i > 0, best == nil || seconds < best!.seconds { best = (seconds, machine.snapshot(outcome: Outcome(exit))) }
            previous = jit
        }
        return best!
    }

    /// The nominal clock from /proc/cpuinfo, for converting to cycles.
    static func cpuMHz() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("cpu MHz") {
            return line.split(separator: ":").last.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        }
        return nil
    }

    /// The built-in guests named (every compute guest if none): what `perf` and `peer` measure.
    static func computeGuests(_ names: [String]) -> [BuiltinGuest] {
        names.isEmpty ? Guests.all.filter { $0.kind == .compute } : names.compactMap(Guests.named)
    }

    /// Runs `body` with a fresh scratch folder for native builds, removed afterwards.
    static func withScratchFolder<T>(_ name: String, _ body: (URL) throws -> T) throws -> T {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pg32-\(name)-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        return try body(work)
    }

    static func geometricMean(_ xs: [Double]) -> Double { exp(xs.map(log).reduce(0, +) / Double(max(xs.count, 1))) }
}
