import Foundation

/// The C library a guest built with `bench build --libc` links against:
/// picolibc's rv32im/ilp32 build and libgcc's soft-float and 64-bit routines
/// for the same multilib, both as Debian packages them. Nothing here is
/// ours: `runtime/libc/` holds only the board file that ties them to PG32.
public struct GuestLibC: Sendable {
    /// picolibc's headers.
    public let includeDirectory: String
    /// picolibc's `libc.a` (its math functions included: Debian's `libm.a`
    /// is an empty placeholder, and not even an rv32 one), then `libgcc.a`.
    public let archives: [String]

    /// The Debian packages, named in the error when a part is missing.
    public static let picolibcPackage = "picolibc-riscv64-unknown-elf"
    public static let libgccPackage = "gcc-riscv64-unknown-elf"
    /// The multilib PG32 needs (SPEC section 4: RV32IM, no floating point).
    public static let multilib = "rv32im/ilp32"

    /// Finds both: $PG32_PICOLIBC (picolibc's `riscv64-unknown-elf` folder)
    /// else Debian's /usr/lib/picolibc/riscv64-unknown-elf, and $PG32_LIBGCC
    /// (a libgcc.a) else the newest /usr/lib/gcc/riscv64-unknown-elf/*/rv32im/ilp32.
    public static func locate() throws -> GuestLibC {
        let env = ProcessInfo.processInfo.environment
        let fm = FileManager.default
        let picolibc = env["PG32_PICOLIBC"].flatMap { $0.isEmpty ? nil : $0 } ?? "/usr/lib/picolibc/riscv64-unknown-elf"
        let include = picolibc + "/include", lib = picolibc + "/lib/" + multilib
        guard fm.fileExists(atPath: include + "/stdio.h"), fm.fileExists(atPath: lib + "/libc.a") else {
            throw ToolchainError.libraryMissing(what: "picolibc for \(multilib)", looked: lib, package: picolibcPackage)
        }
        var libgcc = env["PG32_LIBGCC"].flatMap { $0.isEmpty ? nil : $0 }
        if libgcc == nil {
            let root = "/usr/lib/gcc/riscv64-unknown-elf"
            let versions = ((try? fm.contentsOfDirectory(atPath: root)) ?? [])
                .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
            libgcc = versions.map { "\(root)/\($0)/\(multilib)/libgcc.a" }.first { fm.fileExists(atPath: $0) }
        }
        guard let gcc = libgcc, fm.fileExists(atPath: gcc) else {
            throw ToolchainError.libraryMissing(what: "libgcc for \(multilib)", looked: libgcc ?? "/usr/lib/gcc/riscv64-unknown-elf/*/\(multilib)/libgcc.a",
                                                package: libgccPackage)
        }
        return GuestLibC(includeDirectory: include, archives: [lib + "/libc.a", gcc])
    }
}
