// ThirdGen's tracked benchmarks: each engine on a compute guest and on a
// trap-heavy one, the JIT's translation cost, and a monitor round trip.
//
// Every iteration is one whole run of a guest on a fresh machine, through
// the experiment library exactly as `bench run` makes it (so translation is
// included, as in `bench perf`), and checked: a run that does not halt with
// the guest's expected exit code stops the benchmark rather than timing a
// broken engine. Thresholds are relative to a saved baseline
// (`swift package benchmark baseline compare NAME`), wide enough for a
// shared, noisy host.
import Benchmark
import Experiments
import Foundation
import Guests
import Machine

/// A built-in guest's run configuration on `hardware`.
func request(_ name: String, profile: Profile = .pg32v, hardware: Hardware) -> RunRequest {
    guard let guest = Guests.named(name) else { fatalError("no built-in guest \(name)") }
    do {
        let image = try ELFImage(bytes: Guests.image(of: guest), memorySize: RunRequest.defaultMemorySize)
        return RunRequest(image: image, profile: profile, hardware: hardware)
    } catch {
        fatalError("\(name): \(error)")
    }
}

/// Runs `request` under `strategy` and checks that it ended as the guest must.
@discardableResult
func run(_ strategy: Strategy, _ request: RunRequest, expecting code: UInt32) -> RunResult {
    do {
        let r = try strategy.execute(request)
        guard r.snapshot.outcome == .halted(code) else {
            fatalError("\(strategy.rawValue) ended \(r.snapshot.outcome), not halted(\(code)): the engine is broken, not slow")
        }
        return r
    } catch {
        fatalError("\(strategy.rawValue): \(error)")
    }
}

/// The host's own speed, measured beside every run: a table-driven CRC-32
/// of 128 KiB, six passes, in Swift (the crc32 guest's work, on the host).
/// On a shared host the machine's speed drifts by tens of percent over
/// minutes; a run's time over the yardstick's, taken in the same iteration,
/// does not drift with it. The fastest of three.
func yardstickSeconds() -> Double {
    var table = [UInt32](repeating: 0, count: 256)
    for i in 0..<256 {
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        table[i] = c
    }
    let data = (0..<(128 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
    return (0..<3).map { _ in
        ContinuousClock().measure {
            var crc: UInt32 = 0
            for _ in 0..<6 {
                crc = ~crc
                for b in data { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
                crc = ~crc
            }
            blackHole(crc)
        }.seconds
    }.min()!
}

/// A run's time over the host yardstick's, in percent (smaller is better):
/// the metric the thresholds watch.
var overYardstick: BenchmarkMetric { BenchmarkMetric.custom("% of host yardstick", polarity: .prefersSmaller, useScalingFactor: false) }

/// Host picoseconds per guest instruction (smaller is better; picoseconds,
/// because the JIT runs a guest instruction in well under a nanosecond).
var psPerGuestInstruction: BenchmarkMetric { BenchmarkMetric.custom("ps per guest instruction", polarity: .prefersSmaller, useScalingFactor: false) }
/// The JIT's translation time per guest instruction translated.
var translationNs: BenchmarkMetric { BenchmarkMetric.custom("translation ns per instruction", polarity: .prefersSmaller, useScalingFactor: false) }
/// Host nanoseconds per system call round trip (guest user mode to its kernel and back), as `bench nano` reports it.
var roundTripNs: BenchmarkMetric { BenchmarkMetric.custom("ns per round trip", polarity: .prefersSmaller, useScalingFactor: false) }

/// A configuration measuring `metrics` and the run's time over the host
/// yardstick, with thresholds on the yardstick ratio only: 20% on the
/// median, 25% on the 75th percentile. Absolute times are reported, not
/// checked: between runs of one build here their median moved by up to
/// 39% (the host's speed, not the code's); over the yardstick, most moved
/// by under 10%, a few by up to 25%, and the syscall round trips under bt
/// and hw are bimodal (two runs of one build: 136 and 215).
func measuring(_ metrics: [BenchmarkMetric]) -> Benchmark.Configuration {
    var thresholds = Dictionary(uniqueKeysWithValues: metrics.map { ($0, BenchmarkThresholds.none) })
    thresholds[overYardstick] = BenchmarkThresholds(relative: [.p50: 20.0, .p75: 25.0])
    return .init(metrics: metrics + [overYardstick], thresholds: thresholds)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock],
        timeUnits: .microseconds,
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 25,
    )
    let jitRuns = Strategy.jit.unavailableReason == nil
    let processors: [Hardware] = jitRuns ? [.interp, .jit] : [.interp]

    // The engines, on a compute guest (innocuous instructions almost only) and
    // on a trap-heavy one (4000 system calls into its guest kernel).
    for (guest, code) in [("crc32", Guests.named("crc32")!.expectedExitCode),
                          ("syscall", Guests.named("syscall")!.expectedExitCode)] {
        // The bare machine on each processor: the interpreter and the JIT as hardware.
        for hardware in processors {
            let req = request(guest, hardware: hardware)
            Benchmark("\(guest): native on \(hardware.rawValue)",
                      configuration: measuring([.wallClock, psPerGuestInstruction])) { benchmark in
                let yardstick = yardstickSeconds()
                benchmark.startMeasurement() // the wall clock times the run alone
                let r = run(.native, req, expecting: code)
                benchmark.measurement(psPerGuestInstruction, Int(r.seconds * 1e12 / Double(r.snapshot.instructions)))
                benchmark.measurement(overYardstick, Int(r.seconds / yardstick * 100))
            }
        }
        // The monitors, on the default processor (the JIT where it runs): what `bench` measures by default.
        let strategies: [Strategy] = [.trap, .hybrid, .bt, .hw] + (jitRuns ? [.jit] : [])
        for strategy in strategies {
            let req = request(guest, hardware: .default)
            Benchmark("\(guest): \(strategy.rawValue) on \(Hardware.default.rawValue)",
                      configuration: measuring([.wallClock, psPerGuestInstruction])) { benchmark in
                let yardstick = yardstickSeconds()
                benchmark.startMeasurement() // the wall clock times the run alone
                let r = run(strategy, req, expecting: code)
                benchmark.measurement(psPerGuestInstruction, Int(r.seconds * 1e12 / Double(r.snapshot.instructions)))
                benchmark.measurement(overYardstick, Int(r.seconds / yardstick * 100))
            }
        }
    }

    // The JIT's translation cost: a cold bare-machine run of a guest with
    // much code (coremark), on a fresh processor each iteration.
    if jitRuns {
        let coremark = request("coremark", hardware: .jit), code = Guests.named("coremark")!.expectedExitCode
        Benchmark("coremark: JIT translation", configuration: measuring([.wallClock, translationNs])) { benchmark in
            let yardstick = yardstickSeconds()
            benchmark.startMeasurement()
            let r = run(.native, coremark, expecting: code)
            guard let t = r.translation, t.instructionsTranslated > 0 else { fatalError("the JIT reported no translation") }
            benchmark.measurement(translationNs, Int(t.translationNanoseconds / t.instructionsTranslated))
            benchmark.measurement(overYardstick, Int(Double(t.translationNanoseconds) / 1e9 / yardstick * 100))
        }
    }

    // A round trip: the syscall nanobenchmark's system calls from user mode
    // to the guest kernel and back, on the bare machine and under each
    // monitor, per call, as `bench nano`'s ns/op column (the fastest of three
    // runs: one short run is mostly the host's jitter).
    let syscall = Guests.named("syscall")!
    for strategy: Strategy in [.native, .trap, .hw, .bt] {
        let req = request("syscall", hardware: .default)
        Benchmark("syscall round trip: \(strategy.rawValue)", configuration: measuring([roundTripNs])) { benchmark in
            let yardstick = yardstickSeconds()
            let fastest = (0..<3).map { _ in run(strategy, req, expecting: syscall.expectedExitCode).seconds }.min()!
            benchmark.measurement(roundTripNs, Int(fastest * 1e9 / Double(syscall.iterations)))
            benchmark.measurement(overYardstick, Int(fastest / yardstick * 100))
        }
    }
}
