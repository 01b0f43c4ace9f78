import Experiments
import ArgumentParser
import Foundation
import Machine
import TrapVMM
import Translator

/// `bench run IMAGE --profile v|h|x --strategy LIST [--memory BYTES] [--budget N] [--json]`
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a guest under one or more strategies and compare each with native.",
        usage: "bench run <images> ... [<options>]",
        discussion: """
            IMAGE is an ELF path or the name of a built-in guest (see `bench list`). Every strategy \
            other than native also runs native and is compared with it (SPEC section 8).
            With several images, or --vms N, trap, hybrid and bt run them as VMs of one monitor, \
            switching round-robin every --quantum guest instructions; each VM is compared with its \
            own native run.
            """)

    @Argument(help: "ELF image paths or built-in guest names.")
    var images: [String]

    @Option(name: .long, help: "Number of VMs: copies of one image, or as many as the images given.")
    var vms: Int?

    @Option(name: .long, help: "Guest instructions each VM runs before the monitor switches to the next.")
    var quantum: UInt64 = 100_000

    @OptionGroup var machine: MachineOptions

    @Option(name: .long, help: "Comma list of strategies (native, trap, hybrid, bt, jit, hw, native-jit) or 'all' (every one this host runs).")
    var strategy: StrategyList = StrategyList([.native])

    @Option(name: .customLong("bt-user"), help: "bt: run virtual user mode 'translated' (default) or 'direct' (VMware's choice).")
    var btUser: UserModeExecution = .translated

    @Option(name: .customLong("tcache-ops"), help: "bt and jit: micro-ops each VM's translation cache holds before it is flushed (12 bytes each; the JIT's code memory holds 48 bytes per op).")
    var translationCacheOps: Int = BinaryTranslator.defaultCacheOps

    @Flag(name: .long, help: "Print one JSON object (SPEC section 10) instead of a table.")
    var json = false

    func validate() throws {
        if let vms {
            guard vms >= 1 else { throw ValidationError("--vms must be at least 1") }
            guard images.count == 1 || images.count == vms else {
                throw ValidationError("--vms \(vms) with \(images.count) images: give one image (copied) or exactly \(vms)")
            }
        }
        guard quantum > 0 else { throw ValidationError("--quantum must be at least 1") }
        guard (256...(1 << 28)).contains(translationCacheOps) else {
            throw ValidationError("--tcache-ops must be between 256 and \(1 << 28)")
        }
        guard !images.isEmpty else { throw ValidationError("give a guest image") }
        // Several VMs must fit the allocator's real storage: say so before any guest runs.
        let count = vms ?? images.count
        if count > 1 {
            do { _ = try Allocator(vmCount: count, size: machine.memory.bytes) } catch let e as AllocationError {
                throw ValidationError(e.description)
            }
        }
    }

    func run() throws {
        let names = images.count == 1 ? Array(repeating: images[0], count: vms ?? 1) : images
        var requests: [RunRequest] = []
        for name in names {
            let guest = try GuestImage(name)
            requests.append(RunRequest(image: try guest.elf(memorySize: machine.memory.bytes),
                                       profile: machine.profile.profile,
                                       memorySize: machine.memory.bytes, budget: machine.budget,
                                       btUserMode: btUser, translationCacheOps: translationCacheOps,
                                       hardware: machine.hardware, hwExits: machine.hwExits.controls))
        }
        if requests.count == 1 {
            let results = try Experiment.compare(requests[0], strategies: strategy.strategies)
            if json {
                print(RunCommand.json(image: names[0], request: requests[0], results: results).rendered())
            } else {
                print(RunCommand.table(image: names[0], request: requests[0], results: results), terminator: "")
            }
            return
        }
        let perVM = try Experiment.compare(requests, strategies: strategy.strategies, quantum: quantum)
        if json {
            var runs: [JSON] = []
            let digests = StorageDigests()
            for (i, results) in perVM.enumerated() {
                for r in results {
                    guard case .object(let fields) = RunCommand.json(run: r, digests: digests) else { continue }
                    runs.append(.object([("vm", .int(Int64(i))), ("image", .string(names[i]))] + fields))
                }
            }
            print(JSON.object([("image", .string(names.joined(separator: " "))),
                               ("profile", .string(requests[0].profile.name)),
                               ("hardware", .string(requests[0].hardware.rawValue)), ("runs", .array(runs))]).rendered())
        } else {
            for (i, results) in perVM.enumerated() {
                print("VM \(i): ", terminator: "")
                print(RunCommand.table(image: names[i], request: requests[i], results: results), terminator: "")
                print()
            }
        }
    }

    /// The SPEC section 10 object.
    static func json(image: String, request: RunRequest, results: [RunResult]) -> JSON {
        let digests = StorageDigests()
        return .object([
            ("image", .string(image)),
            ("profile", .string(request.profile.name)),
            ("hardware", .string(request.hardware.rawValue)),
            ("runs", .array(results.map { json(run: $0, digests: digests) })),
        ])
    }

    static func json(run r: RunResult, digests: StorageDigests = StorageDigests()) -> JSON {
        let s = r.snapshot
        let equivalent: JSON, divergence: JSON
        switch r.verdict {
        case nil: (equivalent, divergence) = (.null, .null)
        case .equivalent?: (equivalent, divergence) = (.bool(true), .null)
        case .divergent(let d)?: (equivalent, divergence) = (.bool(false), .string(d))
        case .inconclusive?:
            (equivalent, divergence) = (.bool(false), .string("inconclusive: a run ran out of budget"))
        }
        return .object([
            ("strategy", .string(r.strategy)),
            ("status", .string(s.outcome.name)),
            ("exitCode", .optional(s.outcome.exitCode)),
            ("console", .string(String(latin1: s.console))),
            ("equivalent", equivalent),
            ("divergence", divergence),
            ("guestInstructions", .uint(s.instructions)),
            ("seconds", .double(r.seconds)),
            ("psw", json(psw: s.psw)),
        ] + (s.guestPSW.map { [("guestPsw", json(psw: $0))] } ?? []) + [
            ("registers", .array(s.registers.map { .uint(UInt64($0)) })),
            ("storageSha256", .string(digests.sha256(s.storage))),
            ("stats", .object(r.stats)),
        ])
    }

    /// `{"mode", "pc", "l", "b"}`.
    static func json(psw: PSW) -> JSON {
        .object([
            ("mode", .uint(UInt64(psw.mode.rawValue))), ("pc", .uint(UInt64(psw.pc))),
            ("l", .uint(UInt64(psw.l))), ("b", .uint(UInt64(psw.b))),
        ])
    }

    /// The human-readable form: one line per strategy, then the console.
    static func table(image: String, request: RunRequest, results: [RunResult]) -> String {
        var out = "\(image) on \(request.profile.name), hardware \(request.hardware.rawValue), memory \(request.memorySize) bytes, budget \(request.budget)\n"
        let rows = results.map { r -> [String] in
            let verdict: String
            switch r.verdict {
            case nil: verdict = "reference"
            case .equivalent?: verdict = "equivalent"
            case .divergent(let d)?: verdict = "DIVERGES: \(d)"
            case .inconclusive?: verdict = "inconclusive (out of budget)"
            }
            let s = r.snapshot
            let mips = r.seconds > 0 ? String(format: "%.0f", Double(s.instructions) / r.seconds / 1e6) : "-"
            return [r.strategy, s.outcome.description, String(s.instructions), String(format: "%.4f", r.seconds), mips, verdict]
        }
        out += TextTable.render(header: ["strategy", "status", "instructions", "seconds", "MIPS", "verdict"], rows: rows)
        if let first = results.first {
            let s = first.snapshot
            out += "final PSW \(s.psw); storage sha256 \(s.storageSHA256.prefix(16))...\n"
            out += "console (\(s.console.count) bytes):\n" + String(latin1: s.console)
            if let last = s.console.last, last != 0x0A { out += "\n" }
        }
        return out
    }
}
