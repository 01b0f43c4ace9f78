#if canImport(Glibc)
import Glibc
#endif

/// Host memory for generated code, never writable and executable at once
/// (W^X): it is mapped read+write, filled, then made read+execute; every
/// later write (a new block, a patched jump) makes just the pages it touches
/// writable, writes, and makes them executable again. The JIT is single
/// threaded per engine, so no code runs from a page while it is writable.
final class CodeMemory {
    /// The first byte.
    let base: UnsafeMutableRawPointer
    /// Bytes mapped.
    let capacity: Int
    /// Bytes handed out so far.
    private(set) var used = 0
    private static let pageSize = 4096

    /// Why code memory could not be had.
    struct Unavailable: Error, CustomStringConvertible {
        /// What failed.
        let description: String
    }

    /// Maps `capacity` bytes (rounded up to pages).
    init(capacity: Int) throws {
        #if os(Linux) && arch(x86_64)
        let size = (capacity + CodeMemory.pageSize - 1) / CodeMemory.pageSize * CodeMemory.pageSize
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it. Unmapped in deinit.
        let p = mmap(nil, size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else {
            throw Unavailable(description: "mmap of \(size) bytes of code memory failed (errno \(errno))")
        }
        base = p
        self.capacity = size
        #else
        throw Unavailable(description: "the JIT emits x86-64 code and runs on x86-64 Linux only")
        #endif
    }

    deinit {
        #if os(Linux) && arch(x86_64)
        // SAFETY: the mapping made in init; no generated code runs once its engine is gone.
        munmap(base, capacity)
        #endif
    }

    /// Host address of offset `o`.
    func address(_ o: Int) -> UInt { UInt(bitPattern: base) + UInt(o) }

    /// Bytes still free.
    var free: Int { capacity - used }

    /// Forgets every block (the cache was flushed); keeps the first `keep` bytes (the trampolines).
    func reset(keeping keep: Int) { used = keep }

    /// Appends `code` (assembled for address `address(used)`); returns its offset.
    func append(_ code: [UInt8]) -> Int {
        precondition(code.count <= free, "the caller checks room before assembling")
        let at = used
        write(code, at: at)
        used += code.count
        return at
    }

    /// Overwrites 4 bytes at host address `address` (a jump's rel32 or a compare's imm32) inside the used part.
    func patch32(atAddress address: UInt, _ value: UInt32) {
        let o = Int(address - UInt(bitPattern: base))
        precondition(o >= 0 && o + 4 <= used, "patch outside the code")
        write(withUnsafeBytes(of: value.littleEndian, Array.init), at: o)
    }

    /// Makes the pages covering [o, o + bytes.count) writable (not executable), copies, and makes them executable again.
    private func write(_ code: [UInt8], at o: Int) {
        #if os(Linux) && arch(x86_64)
        let first = o / CodeMemory.pageSize * CodeMemory.pageSize
        let last = (o + code.count + CodeMemory.pageSize - 1) / CodeMemory.pageSize * CodeMemory.pageSize
        // SAFETY: [first, last) lies inside the mapping (o + count <= capacity, capacity is page-rounded).
        // While it is writable no generated code runs (this thread is here, not in it).
        guard mprotect(base + first, last - first, PROT_READ | PROT_WRITE) == 0 else {
            fatalError("mprotect to read+write failed (errno \(errno))")
        }
        code.withUnsafeBytes { (base + o).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        guard mprotect(base + first, last - first, PROT_READ | PROT_EXEC) == 0 else {
            fatalError("mprotect to read+execute failed (errno \(errno))")
        }
        #endif
    }
}

extension CodeMemory {
    /// The 4 bytes at host address `address` inside the used part.
    func load32(atAddress address: UInt) -> UInt32 {
        let o = Int(address - UInt(bitPattern: base))
        precondition(o >= 0 && o + 4 <= used, "read outside the code")
        // SAFETY: inside the mapping, which is always readable.
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }
}
