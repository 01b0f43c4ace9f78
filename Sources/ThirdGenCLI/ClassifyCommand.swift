import Experiments
import ArgumentParser
import Classifier
import Machine

/// `bench classify --profile v|h|x|FILE [--json]`: Popek and Goldberg's
/// classification of every instruction, derived by execution, and the theorems.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Derive privileged, sensitive and innocuous instructions by execution, and check Theorems 1 and 3.",
        usage: "bench classify --profile <profile> [<options>]",
        discussion: """
            Every instruction of the table is executed over generated states (random and edge: both \
            modes, relocations r and r shifted by x, bounds up to the edge of memory) on a machine of the \
            profile. Nothing is looked up in a list: change the profile file and the verdicts follow.
            """)

    @Option(name: .long, help: "Profile: v, h, x (pg32v, pg32h, pg32x) or a profile JSON file.", transform: ProfileArgument.parse)
    var profile: ProfileArgument

    @Option(name: .long, help: "Generated states per instruction.")
    var trials = 200

    @Option(name: .long, help: "Seed of the generated states.")
    var seed: UInt64 = 0x5EED

    @Flag(name: .long, help: "Print JSON (SPEC section 10).")
    var json = false

    func validate() throws {
        guard (1...100_000).contains(trials) else { throw ValidationError("--trials must be between 1 and 100000") }
    }

    func run() throws {
        let c = Classifier.classify(profile.profile, trials: trials, seed: seed)
        print(json ? ClassifyCommand.json(c).rendered(pretty: true) : ClassifyCommand.table(c), terminator: json ? "\n" : "")
    }

    static func json(_ c: Classification) -> JSON {
        func violations(_ list: [InstructionClassification], _ sensitivity: (InstructionClassification) -> String?) -> JSON {
            .array(list.map {
                .object([("instruction", .string($0.name)), ("witness", .string(sensitivity($0) ?? "")),
                         ("unprivilegedWitness", .string($0.witnesses["notPrivileged"] ?? ""))])
            })
        }
        return .object([
            ("profile", .string(c.profile.name)),
            ("instructions", .array(c.instructions.map { i in
                .object([
                    ("name", .string(i.name)), ("privileged", .bool(i.privileged)),
                    ("controlSensitive", .bool(i.controlSensitive)), ("behaviorSensitive", .bool(i.behaviorSensitive)),
                    ("locationSensitive", .bool(i.locationSensitive)), ("modeSensitive", .bool(i.modeSensitive)),
                    ("userSensitive", .bool(i.userSensitive)), ("innocuous", .bool(i.innocuous)),
                    ("witnesses", .object(i.witnesses.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
                ])
            })),
            ("theorem1", .bool(c.theorem1)),
            ("theorem3", .bool(c.theorem3)),
            ("theorem1Violations", violations(c.theorem1Violations) { $0.sensitivityWitness }),
            ("theorem3Violations", violations(c.theorem3Violations) { $0.witnesses["userSensitive"] }),
            ("trials", .int(Int64(c.trials))),
            ("seed", .uint(c.seed)),
        ])
    }

    static func table(_ c: Classification) -> String {
        func mark(_ b: Bool) -> String { b ? "yes" : "-" }
        let rows = c.instructions.filter { !$0.innocuous || $0.privileged }.map { i in
            [i.name, mark(i.privileged), mark(i.controlSensitive), mark(i.locationSensitive), mark(i.modeSensitive), mark(i.userSensitive)]
        }
        let innocuous = c.instructions.filter { $0.innocuous && !$0.privileged }.count
        var out = "\(c.profile.name): \(c.trials) generated states per instruction, seed \(c.seed)\n"
        out += TextTable.render(header: ["instruction", "privileged", "control", "location", "mode", "user-sensitive"], rows: rows)
        out += "\(innocuous) more instructions are innocuous and unprivileged (the RV32IM core).\n\n"
        func verdict(_ name: String, _ holds: Bool, _ list: [InstructionClassification], _ kind: String,
                     _ what: String, _ witness: (InstructionClassification) -> String?) {
            out += "\(name): \(holds ? "holds" : "fails") (\(what))\n"
            for v in list {
                out += "  \(v.name) is \(kind): \(witness(v) ?? "")\n"
                out += "  \(String(repeating: " ", count: v.name.count)) and not privileged: \(v.witnesses["notPrivileged"] ?? "")\n"
            }
        }
        verdict("Theorem 1", c.theorem1, c.theorem1Violations, "sensitive",
                "every sensitive instruction privileged: a trap-and-emulate monitor exists") { $0.sensitivityWitness }
        verdict("Theorem 3", c.theorem3, c.theorem3Violations, "user sensitive",
                "every user-sensitive instruction privileged: a hybrid monitor exists") { $0.witnesses["userSensitive"] }
        return out
    }
}
