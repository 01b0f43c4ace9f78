import Foundation
import Guests
import Machine
import Translator

/// Side-by-side timing of guests under strategies, shared by `bench perf` and `bench nano`.
enum Timing {
    /// The fastest of `repetitions` runs of `guest` under `strategy` (each run from a fresh boot).
    static func fastest(_ guest: BuiltinGuest, strategy: Strategy, profile: Profile = .pg32v,
                        repetitions: Int, budget: UInt64 = 20_000_000_000,
                        btUserMode: UserModeExecution = .translated) throws -> RunResult {
        let request = RunRequest(image: try ELFImage(bytes: try Guests.image(of: guest), memorySize: 1 << 20),
                                 profile: profile, memorySize: 1 << 20, budget: budget, btUserMode: btUserMode)
        var best: RunResult?
        for _ in 0..<repetitions {
            let r = try strategy.execute(request)
            if best == nil || r.seconds < best!.seconds { best = r }
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
