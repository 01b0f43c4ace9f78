import Foundation

/// What a built-in guest is for.
public enum GuestKind: String, Sendable, CaseIterable {
    /// A compute workload: innocuous instructions, then HALT.
    case compute
}

/// One built-in guest: a C (or assembly) program in `src/`, prebuilt into `images/`.
public struct BuiltinGuest: Sendable {
    /// The name `bench run NAME` takes; also the source and image file stem.
    public let name: String
    /// What the guest does, for `bench list`.
    public let summary: String
    /// Its category.
    public let kind: GuestKind
    /// The HALT code a correct run ends with.
    public let expectedExitCode: UInt32
    /// A line the console must contain (the checksum line).
    public let expectedLine: String
}

/// The built-in guests and their sources, runtime and prebuilt images, all
/// shipped as this module's resources so `bench` finds them from anywhere.
public enum Guests {
    /// Every built-in guest, in listing order. Expected values were taken from
    /// the same C source compiled natively (`bench perf` checks they still agree).
    public static let all: [BuiltinGuest] = [
        BuiltinGuest(name: "sieve", summary: "sieve of Eratosthenes up to 400000", kind: .compute,
                     expectedExitCode: 154, expectedLine: "sieve checksum 55cb319a"),
        BuiltinGuest(name: "crc32", summary: "table-driven CRC-32 over 128 KiB, six passes", kind: .compute,
                     expectedExitCode: 186, expectedLine: "crc32 checksum fdb246ba"),
        BuiltinGuest(name: "matmul", summary: "80x80 integer matrix multiply, twice", kind: .compute,
                     expectedExitCode: 104, expectedLine: "matmul checksum 136efc68"),
        BuiltinGuest(name: "qsort", summary: "quicksort of 60000 integers", kind: .compute,
                     expectedExitCode: 62, expectedLine: "qsort checksum 3947ad3e"),
        BuiltinGuest(name: "sha256", summary: "SHA-256 of a 96 KiB message, three rounds", kind: .compute,
                     expectedExitCode: 8, expectedLine: "sha256 checksum 78131a08"),
        BuiltinGuest(name: "coremark", summary: "linked lists, matrix and state machine (CoreMark-like)", kind: .compute,
                     expectedExitCode: 235, expectedLine: "coremark checksum dd58d6eb"),
    ]

    /// The built-in guest called `name`, if there is one.
    public static func named(_ name: String) -> BuiltinGuest? { all.first { $0.name == name } }

    /// The folder holding the runtime (`pg32.h`, `crt0.S`, `rt.c`, `pg32.ld`, `host.c`).
    public static var runtimeDirectory: URL { resource("runtime") }
    /// The folder holding the guests' sources.
    public static var sourceDirectory: URL { resource("src") }
    /// The folder holding the prebuilt images.
    public static var imageDirectory: URL { resource("images") }

    /// The source file of a built-in guest (`.c`, else `.S`).
    public static func source(of guest: BuiltinGuest) -> URL {
        let c = sourceDirectory.appendingPathComponent(guest.name + ".c")
        return FileManager.default.fileExists(atPath: c.path) ? c : sourceDirectory.appendingPathComponent(guest.name + ".S")
    }

    /// The prebuilt image bytes of a built-in guest.
    public static func image(of guest: BuiltinGuest) throws -> [UInt8] {
        let url = imageDirectory.appendingPathComponent(guest.name + ".elf")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ToolchainError.missingResource(url.path)
        }
        return [UInt8](data)
    }

    private static func resource(_ name: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent(name)
    }
}
