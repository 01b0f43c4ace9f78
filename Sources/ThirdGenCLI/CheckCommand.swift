import Experiments
import ArgumentParser
import Classifier
import Foundation
import Guests
import Machine

/// `bench check --profile P`: the theorems' predictions beside measured equivalence.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare what Theorems 1 and 3 predict with the equivalence measured over the guest suite.",
        usage: "bench check --profile <profile> [<options>]",
        discussion: """
            trap is promised equivalence when Theorem 1 holds, hybrid when Theorem 3 holds, bt and jit always \
            (they run no guest instruction on the real machine), hw always (VX virtualizes every sensitive \
            instruction in guest mode: a promise independent of the theorems). A cell where a promise is broken is \
            flagged; where there is no promise, a divergence is what theory allows.
            """)

    @Option(name: .long, help: "Profile: v, h, x (pg32v, pg32h, pg32x) or a profile JSON file.", transform: ProfileArgument.parse)
    var profile: ProfileArgument

    @Option(name: .long, help: "Generated states per instruction for the classification.")
    var trials = 200

    @Option(name: .long, parsing: .upToNextOption, help: "Guests (default: all built-in guests but the compute ones).")
    var guests: [String] = []

    @Flag(name: .long, help: "Include the compute guests (slow in debug builds).")
    var compute = false

    @OptionGroup var processor: HardwareOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        // As classify: no states, no classification (every instruction would look innocuous).
        guard (1...100_000).contains(trials) else { throw ValidationError("--trials must be between 1 and 100000") }
        for g in guests where Guests.named(g) == nil { throw ValidationError("no built-in guest '\(g)'") }
    }

    func run() throws {
        let p = profile.profile
        let c = Classifier.classify(p, trials: trials)
        let promised: [(Strategy, Bool)] = ([Strategy.trap, .hybrid, .bt, .jit, .hw].filter { $0.unavailableReason == nil }).map { ($0, c.promisesEquivalence(under: $0)) }
        let selected = guests.isEmpty ? Guests.all.filter { compute || $0.kind != .compute } : guests.compactMap(Guests.named)
        var rows: [[String]] = [], cells: [JSON] = [], disagreements = 0
        for g in selected {
            let request = try RunRequest.builtin(g, profile: p, hardware: processor.hardware)
            let native = try Strategy.native.execute(request)
            var row = [g.name]
            for (s, promise) in promised {
                let verdict: String
                do {
                    let r = try s.execute(request)
                    switch Verdict(run: r.snapshot, reference: native.snapshot) {
                    case .equivalent: verdict = "equivalent"
                    case .divergent: verdict = "diverges"
                    case .inconclusive: verdict = "inconclusive"
                    }
                } catch let e as UsageError where e.description.contains("confine") {
                    verdict = "refused"
                }
                let disagrees = promise && verdict != "equivalent"
                if disagrees { disagreements += 1 }
                row.append(verdict + (disagrees ? " (!)" : ""))
                cells.append(.object([("guest", .string(g.name)), ("strategy", .string(s.rawValue)), ("promised", .bool(promise)),
                                      ("verdict", .string(verdict)), ("disagrees", .bool(disagrees))]))
            }
            rows.append(row)
        }
        if json {
            print(JSON.object([("profile", .string(p.name)), ("hardware", .string(processor.hardware.rawValue)),
                               ("theorem1", .bool(c.theorem1)), ("theorem3", .bool(c.theorem3)),
                               ("cells", .array(cells)), ("disagreements", .int(Int64(disagreements)))]).rendered(pretty: true))
            return
        }
        func promise(_ b: Bool) -> String { b ? "promised" : "no promise" }
        print("\(p.name): Theorem 1 \(c.theorem1 ? "holds" : "fails"), Theorem 3 \(c.theorem3 ? "holds" : "fails")")
        print(TextTable.render(header: ["guest"] + promised.map { s, p in "\(s.rawValue) (\(promise(p)))" },
                               rows: rows), terminator: "")
        print(disagreements == 0 ? "theory and experiment agree on every cell"
                                 : "\(disagreements) cell(s) marked (!) break a promise of the theorems")
    }
}

extension Classification {
    /// Whether the theorems promise equivalence under `strategy`: trap iff
    /// Theorem 1 holds, hybrid iff Theorem 3 holds, bt always (it runs no
    /// guest instruction on the real machine), and so do jit and hw (VX);
    /// native is the reference itself, and native-jit is the same bare machine
    /// on the other processor, which must agree with it exactly.
    func promisesEquivalence(under strategy: Strategy) -> Bool {
        switch strategy {
        case .trap: return theorem1
        case .hybrid: return theorem3
        case .bt, .jit: return true
        // VX virtualizes every sensitive instruction in guest mode (SPEC section 11): a promise
        // independent of the theorems, which speak of the machine without VX.
        case .hw: return true
        // The same bare machine on the other processor: identical state, always (SPEC section 8).
        case .nativeJit: return true
        case .native: return false
        }
    }
}
