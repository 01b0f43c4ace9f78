import Foundation

/// What a built-in guest is for.
public enum GuestKind: String, Sendable, CaseIterable {
    /// A compute workload: innocuous instructions, then HALT.
    case compute
    /// A guest kernel with user processes: traps, relocation, LPSW.
    case kernel
    /// A nanobenchmark after Adams and Agesen (ASPLOS 2006): one monitor cost, repeated.
    case nano
    /// A demonstration of a profile's non-virtualizable instructions.
    case demo
    /// Self-modifying code: stores into code that then runs.
    case selfModifying = "smc"
    /// A monitor that runs as a guest (not run on its own).
    case monitor
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
    /// The profile the expected values hold for (a demonstration behaves differently on others).
    public var profile: String = "pg32v"
    /// For a nanobenchmark: how many times it repeats the operation it measures.
    public var iterations: Int = 0
    /// Built with `bench build --libc` (picolibc and libgcc); its prebuilt
    /// image runs without them, rebuilding it needs them.
    public var libc: Bool = false
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
        BuiltinGuest(name: "chase", summary: "pointer chasing: a shuffled 8192-node list walked 48 times, a 4096-key search tree",
                     kind: .compute, expectedExitCode: 51, expectedLine: "chase checksum 2f1d7133"),
        BuiltinGuest(name: "parse", summary: "byte-wise strings: tokenising 40 KiB of records, naive and Horspool search",
                     kind: .compute, expectedExitCode: 23, expectedLine: "parse checksum 6aca8717"),
        BuiltinGuest(name: "stackvm", summary: "a bytecode interpreter: switch dispatch over 18 opcodes, 0.5M bytecodes",
                     kind: .compute, expectedExitCode: 168, expectedLine: "stackvm checksum 001da2a8"),
        BuiltinGuest(name: "bignum", summary: "64-bit arithmetic: 2048-bit multiplication, a Q31 FIR filter, powmod mod 2^61-1",
                     kind: .compute, expectedExitCode: 176, expectedLine: "bignum checksum 3522d2b0"),
        BuiltinGuest(name: "nbody", summary: "five bodies under gravity, 200 steps in double precision (soft float), printf (--libc)",
                     kind: .compute, expectedExitCode: 153,
                     expectedLine: "nbody: 200 steps, energy -0.169075164 -> -0.169026909, jupiter at (2.981780, 3.999158, -0.083360)",
                     libc: true),
        BuiltinGuest(name: "wordfreq", summary: "word frequencies of a generated text: malloc, strtok, qsort, sprintf (--libc)",
                     kind: .compute, expectedExitCode: 100, expectedLine: "wordfreq: 6000 words, 1025 distinct, checksum ea510664",
                     libc: true),
        BuiltinGuest(name: "kernel", summary: "multi-process kernel: 4 relocated processes, SVC, yield, exit, a memory fault", kind: .kernel,
                     expectedExitCode: 59, expectedLine: "all processes done, kernel checksum 686c673b"),
        BuiltinGuest(name: "syscall", summary: "4000 null system calls from user mode to the guest kernel", kind: .nano,
                     expectedExitCode: 160, expectedLine: "syscall: 4000 null system calls", iterations: 4000),
        BuiltinGuest(name: "divzero", summary: "4000 BREAKs from user mode delivered to the guest kernel (divzero)", kind: .nano,
                     expectedExitCode: 4000 & 0xFF, expectedLine: "divzero: 4000 exceptions delivered", iterations: 4000),
        BuiltinGuest(name: "privreg", summary: "4000 SETR + GETL pairs in the kernel (cr8wr)", kind: .nano,
                     expectedExitCode: 48, expectedLine: "privreg: 4000 SETR+GETL pairs, checksum e5082630", iterations: 4000),
        BuiltinGuest(name: "out", summary: "4000 OUT instructions from the kernel (in)", kind: .nano,
                     expectedExitCode: 216, expectedLine: "out: checksum 004598d8", iterations: 4000),
        BuiltinGuest(name: "memtrap", summary: "4000 user memory traps handled by the guest kernel (pgfault)", kind: .nano,
                     expectedExitCode: 160, expectedLine: "memtrap: 4000 memory traps, last at ffffff3c", iterations: 4000),
        BuiltinGuest(name: "callret", summary: "20000 calls and returns: the innocuous baseline", kind: .nano,
                     expectedExitCode: 17, expectedLine: "callret: 20000 calls, checksum 3b619511", iterations: 20000),
        BuiltinGuest(name: "forkwait", summary: "200 processes created by copying their image, run and destroyed", kind: .nano,
                     expectedExitCode: 228, expectedLine: "forkwait: 200 processes, checksum c4a84ae4", iterations: 200),
        BuiltinGuest(name: "jrstu", summary: "pg32h demo: kernel enters user mode with JRSTU, user runs OUT", kind: .demo,
                     expectedExitCode: 3, expectedLine: "trap cause 3 from user mode", profile: "pg32h"),
        BuiltinGuest(name: "smc", summary: "self-modifying code: a rewritten code buffer, an instruction patched ahead in its block", kind: .selfModifying,
                     expectedExitCode: 12, expectedLine: "smc checksum ee4d380c"),
        BuiltinGuest(name: "getl", summary: "pg32x demo: GETM in supervisor mode, GETL in user mode", kind: .demo,
                     expectedExitCode: 0, expectedLine: "user-mode GETL = 00000000", profile: "pg32x"),
        BuiltinGuest(name: "hv", summary: "hardware-assisted hypervisor on VX: two guest kernels under VMRUN, quota round-robin, emulated exits",
                     kind: .kernel, expectedExitCode: 0x21, expectedLine: "hv: exits 0 12 0 0 0 0 2 34 2 12 0 0"),
    ]

    /// The guest-level monitor (`src/vmm.c`) that `bench nest` stacks: not a
    /// guest on its own (without a payload it only says so), so not in `all`.
    public static let guestMonitor = BuiltinGuest(
        name: "vmm", summary: "a VMM that runs as a guest (Theorem 2); its guest is a payload bench nest adds",
        kind: .monitor, expectedExitCode: 0xEE, expectedLine: "vmm: no guest image at 0x20000")

    /// The guest-level monitor on VX (`src/vxvmm.c`): the same payload as
    /// `vmm`, run under VMRUN instead of trap-and-emulate, so its towers work
    /// on every profile.
    public static let guestHypervisor = BuiltinGuest(
        name: "vxvmm", summary: "a VMM on VX that runs as a guest; its guest is a payload bench nest --monitor vxvmm adds",
        kind: .monitor, expectedExitCode: 0xEE, expectedLine: "vxvmm: no guest image at 0x20000")

    /// The monitors `bench nest` can stack.
    public static let guestMonitors = [guestMonitor, guestHypervisor]

    /// Every image this module builds: the guests and the guest monitors.
    public static var images: [BuiltinGuest] { all + guestMonitors }

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
