import Foundation

/// Why a guest could not be built. Each description is the one-line message.
public enum ToolchainError: Error, CustomStringConvertible {
    /// No clang was found at all.
    case clangNotFound(searched: [String])
    /// clang was found but has no RISC-V backend.
    case noRISCV32(clang: String)
    /// ld.lld is not beside clang.
    case lldNotFound(near: String)
    /// A compile or link step failed; `output` is what the tool printed.
    case stepFailed(command: String, output: String)
    /// A file shipped with ThirdGen is missing.
    case missingResource(String)
    /// The source's extension is neither .c nor .S/.s.
    case unknownSourceType(String)
    /// `--libc` needs a library that is not installed.
    case libraryMissing(what: String, looked: String, package: String)

    /// The message.
    public var description: String {
        switch self {
        case .clangNotFound(let searched):
            return "no clang found (looked at \(searched.joined(separator: ", "))); set PG32_CLANG to a clang that can target riscv32"
        case .noRISCV32(let clang):
            return "clang at \(clang) cannot target riscv32 (its `--print-targets` lists no riscv32); use the clang inside the Swift toolchain or set PG32_CLANG"
        case .lldNotFound(let dir):
            return "ld.lld not found next to clang in \(dir); PG32 guests are linked with ld.lld"
        case .stepFailed(let command, let output):
            let first = output.split(separator: "\n").first { $0.contains("error") } ?? output.split(separator: "\n").first ?? ""
            return "build failed: \(first.trimmingCharacters(in: .whitespaces)) (command: \(command))"
        case .missingResource(let path):
            return "missing file shipped with ThirdGen: \(path) (rebuild the package)"
        case .unknownSourceType(let path):
            return "cannot build \(path): guest sources end in .c, .S or .s (objects and libraries built for PG32 in .o and .a)"
        case .libraryMissing(let what, let looked, let package):
            return "--libc needs \(what) (not found at \(looked)): install it with `apt-get install \(package)`"
        }
    }
}

/// The guest toolchain: the clang and ld.lld that ship inside the Swift
/// toolchain, driven with PG32's flags. One place knows the flags; `bench
/// build`, the benchmark's native builds and the images-are-current test all
/// come through here.
public struct GuestToolchain: Sendable {
    /// Path of clang.
    public let clang: String
    /// Path of ld.lld.
    public let lld: String

    /// Flags for every guest compile.
    public static let targetFlags = [
        "--target=riscv32", "-march=rv32im", "-mabi=ilp32", "-mno-relax",
        "-ffreestanding", "-nostdlib", "-fno-delete-null-pointer-checks",
        // Each function and object in its own section, so the link drops what a guest does not use.
        "-ffunction-sections", "-fdata-sections",
    ]

    /// Finds clang: $PG32_CLANG, else beside `swift` on PATH, else `clang` on PATH;
    /// then checks it can target riscv32 and has ld.lld beside it.
    public static func locate() throws -> GuestToolchain {
        var candidates: [String] = []
        let env = ProcessInfo.processInfo.environment
        if let c = env["PG32_CLANG"], !c.isEmpty { candidates.append(c) }
        let path = (env["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path where FileManager.default.isExecutableFile(atPath: dir + "/swift") {
            candidates.append(dir + "/clang")
        }
        for dir in path { candidates.append(dir + "/clang") }
        guard let clang = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ToolchainError.clangNotFound(searched: Array(candidates.prefix(4)))
        }
        let targets = (try? run(clang, ["--print-targets"]))?.output ?? ""
        guard targets.contains("riscv32") else { throw ToolchainError.noRISCV32(clang: clang) }
        let dir = (clang as NSString).deletingLastPathComponent
        let lld = dir + "/ld.lld"
        guard FileManager.default.isExecutableFile(atPath: lld) else { throw ToolchainError.lldNotFound(near: dir) }
        return GuestToolchain(clang: clang, lld: lld)
    }

    /// The clang version line, which decides whether rebuilt images can match the shipped ones byte for byte.
    public func version() throws -> String {
        try GuestToolchain.run(clang, ["--version"]).output.split(separator: "\n").first.map(String.init) ?? ""
    }

    /// Compiles and links guest `sources` (C or assembly; objects and
    /// archives built for PG32 are linked as they are) with the runtime into
    /// the ELF at `output`, with the archives at the paths in `libraries`;
    /// with `libc`, against picolibc and libgcc through the board file
    /// `runtime/libc/` (hosted C: no -ffreestanding).
    /// `extraFlags` go to every compile, `sourceFlags` to the compiles of
    /// `sources` only (after the others: a user's -std or -W flags, which the
    /// runtime's own files need not obey). `commands`, if given, is told each
    /// command line before it runs.
    public func build(sources: [URL], output: URL, optimization: String = "-O2", extraFlags: [String] = [],
                      sourceFlags: [String] = [], libraries: [String] = [], libc: GuestLibC? = nil,
                      commands: ((String) -> Void)? = nil) throws {
        let runtime = Guests.runtimeDirectory
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pg32-build-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let common = GuestToolchain.compileFlags(optimization: optimization, extraFlags: extraFlags, libc: libc)
        var objects: [String] = [], linked: [String] = []
        func compile(_ src: URL, _ flags: [String]) throws {
            let ext = src.pathExtension
            if ext == "o" || ext == "a" { // built already: linked as it is, after the runtime and the sources
                linked.append(src.path)
                return
            }
            let obj = work.appendingPathComponent("\(objects.count)-\(src.deletingPathExtension().lastPathComponent).o").path
            try compileOne(src, to: obj, flags: common + flags, commands: commands)
            objects.append(obj)
        }
        let libcRuntime = runtime.appendingPathComponent("libc")
        if libc != nil {
            try compile(libcRuntime.appendingPathComponent("start.S"), [])
            try compile(libcRuntime.appendingPathComponent("board.c"), ["-Wall"])
            try compile(libcRuntime.appendingPathComponent("common.c"), ["-Wall"])
        } else {
            try compile(runtime.appendingPathComponent("crt0.S"), [])
        }
        try compile(runtime.appendingPathComponent("rt.c"), ["-fno-builtin"])
        try compile(runtime.appendingPathComponent("kernel.S"), [])
        try compile(runtime.appendingPathComponent("hv-entry.S"), [])
        for s in sources { try compile(s, GuestToolchain.ownSourceFlags(sourceFlags)) }
        let script = libc != nil ? libcRuntime.appendingPathComponent("pg32-libc.ld") : runtime.appendingPathComponent("pg32.ld")
        // Debian builds picolibc with debug information: drop it and the library's local symbols, which made
        // a small program's image 350 KB (too large for a guest monitor's payload area); global symbols stay.
        let archives = linked + libraries + (libc?.archives ?? [])
        let group = (libc != nil ? ["--strip-debug", "--discard-all"] : [])
            + (archives.isEmpty ? [] : ["--start-group"] + archives + ["--end-group"]) // in any order, as each needs the others
        try GuestToolchain.check(lld, ["-m", "elf32lriscv", "-T", script.path,
                                       "--build-id=none", "-static", "--gc-sections", "-o", output.path] + objects + group,
                                 echo: commands)
    }

    /// The flags of every guest compile: the target's, then `optimization`
    /// and `extraFlags`, then the runtime's include folder (after the user's
    /// -I folders: their own header of a runtime header's name wins); hosted
    /// C against picolibc with `libc`.
    static func compileFlags(optimization: String, extraFlags: [String], libc: GuestLibC?) -> [String] {
        var common = targetFlags + [optimization] + extraFlags + ["-I", Guests.runtimeDirectory.path]
        if let libc {
            common.removeAll { $0 == "-ffreestanding" }
            common += ["-DPG_LIBC", "-isystem", libc.includeDirectory]
        }
        return common
    }

    /// Compiles each of `sources` (C or assembly) to the object at the same
    /// index of `outputs`, with the flags `build` compiles a guest's own
    /// sources with, so that `build` can link the objects later.
    public func compile(sources: [URL], outputs: [URL], optimization: String = "-O2", extraFlags: [String] = [],
                        sourceFlags: [String] = [], libc: GuestLibC? = nil, commands: ((String) -> Void)? = nil) throws {
        precondition(sources.count == outputs.count, "one object per source")
        let common = GuestToolchain.compileFlags(optimization: optimization, extraFlags: extraFlags, libc: libc)
        for (src, obj) in zip(sources, outputs) {
            try compileOne(src, to: obj.path, flags: common + GuestToolchain.ownSourceFlags(sourceFlags), commands: commands)
        }
    }

    /// What a guest's own sources are compiled with beyond the common flags: warnings, then the user's (`sourceFlags`).
    private static func ownSourceFlags(_ sourceFlags: [String]) -> [String] { ["-Wall"] + sourceFlags }

    /// Compiles one C or assembly source to the object at `obj` with `flags`.
    private func compileOne(_ src: URL, to obj: String, flags: [String], commands: ((String) -> Void)?) throws {
        guard ["c", "S", "s"].contains(src.pathExtension) else { throw ToolchainError.unknownSourceType(src.path) }
        try GuestToolchain.check(clang, flags + ["-c", src.path, "-o", obj], echo: commands)
    }

    /// Builds a built-in guest's image from its source (with the C library if it needs it);
    /// `commands`, if given, is told each command line before it runs.
    public func build(guest: BuiltinGuest, output: URL, commands: ((String) -> Void)? = nil) throws {
        try build(sources: [Guests.source(of: guest)], output: output, libc: guest.libc ? try GuestLibC.locate() : nil,
                  commands: commands)
    }

    /// Builds the same C source natively for the host with `-O2` and the host
    /// harness, for the speed comparison. A `libc` guest uses the host's C
    /// library, its stdout captured as the console (host.c, PG_HOST_LIBC).
    public func buildNative(source: URL, output: URL, extraFlags: [String] = [], libc: Bool = false) throws {
        let runtime = Guests.runtimeDirectory
        let hosted = libc ? ["-DPG_HOST_LIBC", "-Dmain=pg_guest_main"] : []
        try GuestToolchain.check(clang, ["-O2"] + extraFlags + hosted + [
            "-DPG_HOST", "-I", runtime.path, source.path,
            runtime.appendingPathComponent("rt.c").path, runtime.appendingPathComponent("host.c").path,
            "-o", output.path,
        ] + (libc ? ["-lm"] : []))
    }

    /// Builds the same C source as a static riscv32 Linux program (the
    /// runtime's `linux.c` harness), for QEMU's user-mode translator in the
    /// peer comparison. Same ISA and -O2 as a PG32 guest; no libc, or with
    /// `libc` the same picolibc and libgcc as `bench build --libc`, through
    /// `libc/linux-board.c` and the same link script placed higher.
    public func buildRISCVLinux(source: URL, output: URL, libc: GuestLibC? = nil) throws {
        let runtime = Guests.runtimeDirectory
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("pg32-linux-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var flags = ["--target=riscv32-unknown-linux-gnu", "-march=rv32im", "-mabi=ilp32", "-mno-relax", "-O2",
                     "-ffreestanding", "-nostdlib", "-DPG_HOST", "-DPG_LINUX", "-I", runtime.path]
        var sources: [(URL, [String])] = [(source, ["-Wall"]), (runtime.appendingPathComponent("rt.c"), ["-fno-builtin"]),
                                          (runtime.appendingPathComponent("linux.c"), ["-fno-builtin"]),
                                          (runtime.appendingPathComponent("linux-start.S"), [])]
        if let libc {
            flags.removeAll { $0 == "-ffreestanding" }
            flags += ["-DPG_LIBC", "-fno-pic", "-isystem", libc.includeDirectory]
            sources[0].1 += ["-Dmain=pg_guest_main"]
            sources += [(runtime.appendingPathComponent("libc/linux-board.c"), ["-Wall"]),
                        (runtime.appendingPathComponent("libc/common.c"), ["-Wall"])]
        }
        var objects: [String] = []
        for (src, extra) in sources {
            let obj = work.appendingPathComponent("\(objects.count).o").path
            try GuestToolchain.check(clang, flags + extra + ["-c", src.path, "-o", obj])
            objects.append(obj)
        }
        let link = libc.map { ["-T", runtime.appendingPathComponent("libc/pg32-libc.ld").path, "--defsym=__pg_link_base=0x10000",
                               "-z", "norelro", "--gc-sections"] + objects + ["--start-group"] + $0.archives + ["--end-group"] } ?? objects
        try GuestToolchain.check(lld, ["-m", "elf32lriscv", "-static", "--build-id=none", "-o", output.path] + link)
    }

    /// `word` as a POSIX shell word: as it is if it needs no quoting, else in single quotes.
    static func shellQuoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=,:+@%".contains($0) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Runs a tool, returning its status and combined output.
    public static func run(_ tool: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private static func check(_ tool: String, _ args: [String], echo: ((String) -> Void)? = nil) throws {
        echo?(([tool] + args).map(GuestToolchain.shellQuoted).joined(separator: " "))
        let r = try run(tool, args)
        guard r.status == 0 else {
            throw ToolchainError.stepFailed(command: ([(tool as NSString).lastPathComponent] + args).joined(separator: " "), output: r.output)
        }
    }
}
