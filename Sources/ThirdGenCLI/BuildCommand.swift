import Experiments
import ArgumentParser
import Foundation
import Guests

/// `bench build my.c -o my.elf`: compile a user's guest against the PG32 runtime.
struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Compile C or assembly guest sources against the PG32 runtime into an ELF image.",
        usage: "bench build [--libc] <sources> ... -o <output> [<options>]\nbench build -c [--libc] <sources> ... [-o <object>] [<options>]",
        discussion: """
            Uses the clang and ld.lld inside the Swift toolchain (or $PG32_CLANG). Sources include \
            "pg32.h" for the system instructions; main's return value is the HALT code.
            With --libc, the sources are ordinary hosted C against picolibc and libgcc's soft-float \
            routines (Debian: apt-get install picolibc-riscv64-unknown-elf gcc-riscv64-unknown-elf): \
            stdout and stderr go to the console, exit(n) and a return from main halt with n, abort() \
            and a failed assert halt with 0x186, malloc's heap runs from the image's end to 64 KiB \
            below the top of storage (the stack) and returns NULL past it, time() and clock() \
            return -1 (PG32 has no clock).
            Flags only a C compiler reads (-W..., -w, -pedantic, -std=..., -g, -f..., -UNAME, and \
            -march=rv32im, -mabi=ilp32, -mcmodel=, -mno-relax) reach clang for your sources as they \
            are, as with -Xcc (another -march or -mabi is refused: PG32 is RV32IM); objects (.o) and archives (.a) among the \
            sources, and -L DIR -l NAME, are linked; -c compiles to objects only.
            With --builtins DIR, rebuilds every built-in guest's image into DIR, each with its own \
            flags (only -v applies).
            """)

    @Argument(help: "C (.c) or assembly (.S, .s) sources, and objects (.o) and static libraries (.a) built for PG32 to link with them.")
    var sources: [String] = []

    @Option(name: .shortAndLong, help: "Output ELF path.")
    var output: String?

    @Flag(name: .long, help: "Link against the C library (picolibc) and libgcc.")
    var libc = false

    @Option(name: .customShort("I", allowingJoined: true), help: ArgumentHelp("Add a folder to the include path (repeatable).", valueName: "dir"))
    var includes: [String] = []

    @Option(name: .customShort("D"), help: ArgumentHelp("Define a preprocessor macro (repeatable).", valueName: "name[=value]"))
    var defines: [String] = []

    @Option(name: [.customShort("O", allowingJoined: true), .customLong("optimization")],
            help: ArgumentHelp("Optimization level: 0, 1, 2, 3, s or z (-O 2, or -O2 as clang spells it; default 2).",
                               valueName: "level"))
    var optimization: String?

    @Option(name: .customLong("Xcc", withSingleDash: true), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("Pass a flag to clang when it compiles your sources (repeatable): -Xcc -std=c99 -Xcc -Wno-unused.",
                               valueName: "flag"))
    var clangFlags: [String] = []

    @Option(name: .customShort("l", allowingJoined: true),
            help: ArgumentHelp("Link the static library libNAME.a from an -L folder (repeatable): -lfoo. With --libc, -lm, -lc and -lgcc name what --libc links already (picolibc holds its math) and add nothing.",
                               valueName: "name"))
    var libraries: [String] = []

    @Option(name: .customShort("L", allowingJoined: true), help: ArgumentHelp("Add a folder to the library search path of -l (repeatable).", valueName: "dir"))
    var libraryFolders: [String] = []

    @Flag(name: .customShort("c"), help: "Compile only: each source to an object (with -o, one source's; else NAME.o in the current folder), to link later as a source of `bench build`.")
    var compileOnly = false

    @Flag(name: [.customShort("v"), .long], help: "Print each clang and ld.lld command line (to stderr) before it runs.")
    var verbose = false

    @Option(name: .long, help: "Rebuild every built-in guest into this folder (e.g. Sources/Guests/images).")
    var builtins: String?

    /// `arguments` as a C compiler's command line spells them, made ours:
    /// each `-DNAME[=VALUE]` split into `-D` and its value (joined -I, -O and
    /// -l the parser takes as they are; a joined -D it cannot, as it splits
    /// the value at its `=`), and each flag only clang reads (warnings
    /// `-W...`, `-w`, `-pedantic`, `-std=...`, `-g...`, `-f...`, `-UNAME`, and
    /// the target's `-march=`, `-mabi=`, `-mcmodel=`, `-mno-relax`) passed
    /// to it as an -Xcc would, so that a Makefile's CFLAGS work unchanged.
    /// The value of an -Xcc is clang's, and stays as it is; a linker flag
    /// (`-Wl,...`) is not clang's to compile with, and stays for the parser to refuse.
    static func normalizedArguments(_ arguments: [String]) -> [String] {
        var out: [String] = [], afterXcc = false
        for a in arguments {
            if !afterXcc, a.count > 2, a.hasPrefix("-D") {
                out += ["-D", String(a.dropFirst(2))]
            } else if !afterXcc, BuildCommand.isClangFlag(a) {
                out += ["-Xcc", a]
            } else {
                out.append(a)
            }
            afterXcc = !afterXcc && a == "-Xcc"
        }
        return out
    }

    /// True for a flag of a C compile that only clang reads (see `normalizedArguments`).
    static func isClangFlag(_ a: String) -> Bool {
        if a == "-w" || a == "-pedantic" || a == "-g" || a == "-mno-relax" { return true }
        if a.hasPrefix("-march=") || a.hasPrefix("-mabi=") || a.hasPrefix("-mcmodel=") { return true } // checked in validate
        if a.hasPrefix("-W") { return a.count > 2 && !a.hasPrefix("-Wl,") && !a.hasPrefix("-Wa,") && !a.hasPrefix("-Wp,") }
        return a.hasPrefix("-std=") || a.hasPrefix("-pedantic-") || (a.hasPrefix("-g") && a.count > 2)
            || (a.hasPrefix("-f") && a.count > 2) || (a.hasPrefix("-U") && a.count > 2)
    }

    /// The -march and -mabi values clang may be given: PG32's core is RV32IM (SPEC section 4), soft float.
    static let architectures: Set<String> = ["rv32i", "rv32im"], abis: Set<String> = ["ilp32"]

    func validate() throws {
        for f in clangFlags {
            if f.hasPrefix("-march="), !BuildCommand.architectures.contains(String(f.dropFirst(7))) {
                throw ValidationError("\(f): PG32 runs RV32IM (SPEC section 4), so clang must not emit other extensions; "
                                      + "give -march=rv32im (the default) or -march=rv32i")
            }
            if f.hasPrefix("-mabi="), !BuildCommand.abis.contains(String(f.dropFirst(6))) {
                throw ValidationError("\(f): PG32 guests use the ilp32 ABI (no floating-point registers); give -mabi=ilp32 or none")
            }
        }
        if builtins == nil {
            guard !sources.isEmpty else { throw ValidationError("give at least one source file (or --builtins DIR)") }
            guard output != nil || compileOnly else { throw ValidationError("give the output image path with -o") }
            if compileOnly {
                let linked = sources.filter { ["o", "a"].contains(URL(fileURLWithPath: $0).pathExtension) }
                guard linked.isEmpty, libraries.isEmpty, libraryFolders.isEmpty else {
                    throw ValidationError("-c compiles sources only; objects, libraries, -l and -L are for the link")
                }
                guard output == nil || sources.count == 1 else {
                    throw ValidationError("-c with -o compiles one source; without -o each source becomes NAME.o here")
                }
            }
        } else {
            // The built-in guests are built as the tests expect them, byte for byte: a flag here would be ignored.
            let ignored = [(!sources.isEmpty, "sources"), (output != nil, "-o"), (libc, "--libc"), (!includes.isEmpty, "-I"),
                           (!defines.isEmpty, "-D"), (optimization != nil, "-O"), (!clangFlags.isEmpty, "-Xcc"),
                           (!libraries.isEmpty, "-l"), (!libraryFolders.isEmpty, "-L"), (compileOnly, "-c")]
                .filter(\.0).map(\.1)
            guard ignored.isEmpty else {
                throw ValidationError("--builtins builds each built-in guest with its own flags; it takes no "
                                      + ignored.joined(separator: ", ") + " (only -v)")
            }
        }
        if let output {
            // ld.lld would say so only after every compile, in a line naming its temporary files.
            let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
            guard let isFolder = folderAt(folder) else { throw ValidationError("-o \(output): no such folder \(folder)") }
            guard isFolder else { throw ValidationError("-o \(output): \(folder) is a file, not a folder") }
        }
        for s in sources where !FileManager.default.fileExists(atPath: s) {
            throw ValidationError("no such source file: \(s)")
        }
        guard BuildCommand.levels.contains(level) else {
            throw ValidationError("-O takes 0, 1, 2, 3, s or z, not '\(optimization ?? "")'")
        }
        for d in includes where folderAt(d) != true { throw ValidationError("-I \(d): no such folder") }
        for d in libraryFolders where folderAt(d) != true { throw ValidationError("-L \(d): no such folder") }
        _ = try libraryArchives()
        for d in defines {
            let name = d.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            guard let first = name.first, first == "_" || first.isLetter,
                  name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) else {
                throw ValidationError("-D \(d): a macro name is letters, digits and _, not starting with a digit")
            }
        }
    }

    /// What --libc links already, and -l may name again as a hosted build does (`cc prog.c -lm`).
    static let libcLibraries: Set<String> = ["c", "m", "gcc"]

    /// The archive each -l names (none for what --libc links already): lib<name>.a in the first -L folder
    /// that holds one. PG32 guests are linked statically: a shared library is no use.
    private func libraryArchives() throws -> [String] {
        try libraries.compactMap { name in
            guard !name.isEmpty, !name.contains("/") else { throw ValidationError("-l takes a library name (-lfoo for libfoo.a), not '\(name)'") }
            if libc, BuildCommand.libcLibraries.contains(name) { return nil }
            let file = "lib\(name).a"
            if let dir = libraryFolders.first(where: { folderAt($0 + "/" + file) == false }) { return dir + "/" + file }
            if BuildCommand.libcLibraries.contains(name) {
                throw ValidationError("-l\(name): the C library (picolibc, its math included) and libgcc are linked with --libc")
            }
            let shared = libraryFolders.contains { folderAt($0 + "/lib\(name).so") == false }
            throw ValidationError("-l\(name): no \(file) in " + (libraryFolders.isEmpty ? "any -L folder (give its folder with -L)"
                                                                : "the -L folders (\(libraryFolders.joined(separator: ", ")))")
                                  + (shared ? "; lib\(name).so is there, but PG32 guests are linked statically" : ""))
        }
    }

    static let levels: Set<String> = ["0", "1", "2", "3", "s", "z"]
    /// The level without the "-O" an old script may still pass (`--optimization -O2`).
    private var level: String {
        let o = optimization ?? "2"
        return o.hasPrefix("-O") ? String(o.dropFirst(2)) : o
    }
    private var flags: [String] { includes.flatMap { ["-I", $0] } + defines.map { "-D" + $0 } }

    func run() throws {
        let toolchain = try GuestToolchain.locate()
        let echo: ((String) -> Void)? = verbose ? { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } : nil
        if let dir = builtins {
            try prepareOutputFolder(dir, option: "--builtins")
            for g in Guests.images {
                let out = URL(fileURLWithPath: dir).appendingPathComponent(g.name + ".elf")
                try toolchain.build(guest: g, output: out, commands: echo)
                print("built \(out.path)")
            }
            // Rebuilt images match byte for byte only with the same clang; the test checks this first.
            try (try toolchain.version() + "\n").write(toFile: dir + "/clang-version.txt", atomically: true, encoding: .utf8)
            return
        }
        let libc = self.libc ? try GuestLibC.locate() : nil
        if compileOnly {
            let inputs = sources.map { URL(fileURLWithPath: $0) }
            let outputs = output.map { [URL(fileURLWithPath: $0)] }
                ?? inputs.map { URL(fileURLWithPath: $0.deletingPathExtension().lastPathComponent + ".o") }
            try toolchain.compile(sources: inputs, outputs: outputs, optimization: "-O" + level, extraFlags: flags,
                                  sourceFlags: clangFlags, libc: libc, commands: echo)
            for o in outputs { print("compiled \(o.path)") }
            return
        }
        let out = URL(fileURLWithPath: output!)
        try toolchain.build(sources: sources.map { URL(fileURLWithPath: $0) }, output: out, optimization: "-O" + level,
                            extraFlags: flags, sourceFlags: clangFlags, libraries: try libraryArchives(),
                            libc: libc, commands: echo)
        print("built \(out.path)")
    }
}
