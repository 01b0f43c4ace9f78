import Experiments
import ArgumentParser
import Foundation
import Guests

/// `bench build my.c -o my.elf`: compile a user's guest against the PG32 runtime.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Compile C or assembly guest sources against the PG32 runtime into an ELF image.",
        usage: "bench build <sources> ... -o <output> [<options>]",
        discussion: """
            Uses the clang and ld.lld inside the Swift toolchain (or $PG32_CLANG). Sources include \
            "pg32.h" for the system instructions; main's return value is the HALT code.
            With --builtins DIR, rebuilds every built-in guest's image into DIR.
            """)

    @Argument(help: "C (.c) or assembly (.S) sources.")
    var sources: [String] = []

    @Option(name: .shortAndLong, help: "Output ELF path.")
    var output: String?

    @Option(name: .long, help: "Optimization flag passed to clang.")
    var optimization = "-O2"

    @Option(name: .long, help: "Rebuild every built-in guest into this folder (e.g. Sources/Guests/images).")
    var builtins: String?

    func validate() throws {
        if builtins == nil {
            guard !sources.isEmpty else { throw ValidationError("give at least one source file (or --builtins DIR)") }
            guard output != nil else { throw ValidationError("give the output image path with -o") }
        }
        for s in sources where !FileManager.default.fileExists(atPath: s) {
            throw ValidationError("no such source file: \(s)")
        }
    }

    func run() throws {
        let toolchain = try GuestToolchain.locate()
        if let dir = builtins {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for g in Guests.images {
                let out = URL(fileURLWithPath: dir).appendingPathComponent(g.name + ".elf")
                try toolchain.build(sources: [Guests.source(of: g)], output: out)
                print("built \(out.path)")
            }
            // Rebuilt images match byte for byte only with the same clang; the test checks this first.
            try (try toolchain.version() + "\n").write(toFile: dir + "/clang-version.txt", atomically: true, encoding: .utf8)
            return
        }
        let out = URL(fileURLWithPath: output!)
        try toolchain.build(sources: sources.map { URL(fileURLWithPath: $0) }, output: out, optimization: optimization)
        print("built \(out.path)")
    }
}
