#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Linux perf's map of JIT code, `/tmp/perf-<pid>.map`: one line per block
/// compiled, "address size name", so `perf report` names samples in
/// generated code by guest P and relocation (`pg32:<P>@<l>`) instead of
/// leaving them unknown. QEMU's `-perfmap` does the same. Written only when
/// the environment has `THIRDGEN_PERF_MAP=1`; a flush makes addresses
/// reused, and perf keeps the last name given to an address.
enum PerfMap {
    /// The open map, or nil when not asked for (or it could not be opened).
    nonisolated(unsafe) private static let file: UnsafeMutablePointer<FILE>? = {
        guard let setting = getenv("THIRDGEN_PERF_MAP"), String(cString: setting) == "1" else { return nil }
        return fopen("/tmp/perf-\(getpid()).map", "a")
    }()

    /// Records that `size` bytes at `address` are the code of the block at guest P `pc` under relocation `l`.
    private static func record(address: UInt, size: Int, pc: UInt32, l: UInt32) {
        guard let file else { return }
        let line = "\(String(address, radix: 16)) \(String(size, radix: 16)) pg32:\(hex(pc))@\(hex(l))\n"
        fputs(line, file)
        fflush(file)
    }

    /// The folder `THIRDGEN_JIT_DUMP` names, where each block's code is written as
    /// `pg32-<P>@<l>.bin` (raw x86-64: `llvm-objdump -D -b binary -m i386:x86-64 --adjust-vma=<address>`), or nil.
    private static let dumpFolder: String? = {
        guard let setting = getenv("THIRDGEN_JIT_DUMP") else { return nil }
        return String(cString: setting)
    }()

    /// True if blocks are being recorded (in the map, the dump folder or both).
    static var isOn: Bool { file != nil || dumpFolder != nil }

    /// Records block code `bytes` at `address`, made from guest P `pc` under relocation `l`.
    static func record(_ bytes: UnsafeRawBufferPointer, address: UInt, pc: UInt32, l: UInt32) {
        record(address: address, size: bytes.count, pc: pc, l: l)
        guard let dumpFolder, let out = fopen("\(dumpFolder)/pg32-\(hex(pc))@\(hex(l)).bin", "w") else { return }
        fwrite(bytes.baseAddress, 1, bytes.count, out)
        fclose(out)
    }

    private static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }
}
