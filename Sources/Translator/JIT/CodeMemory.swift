import CodeMemorySupport
#if canImport(Glibc)
import Glibc
#endif

/// Host memory for generated code, never writable and executable at once
/// (W^X). Preferably the same pages are mapped twice from an anonymous
/// memory file: a read+write view the JIT writes through and a
/// read+execute view the code runs from, so writing a block or patching a
/// jump costs no system call. Where that is refused, one mapping is
/// flipped: the pages a write touches are made read+write, written, and
/// made read+execute again (the JIT is single threaded per engine, so no
/// code runs from a page while it is writable).
///
/// One read+write page of data sits just below the code, never executable,
/// so that generated code reaches it RIP-relatively (it holds the JIT's
/// context block, and rbx is free to cache a guest register).
final class CodeMemory {
    /// The first byte, as code runs from it (read+execute).
    let base: UnsafeMutableRawPointer
    /// The data page just below `base` (read+write, never executable).
    let data: UnsafeMutableRawPointer
    /// Bytes in the data page.
    static let dataBytes = 4096
    /// The same bytes, writable, in the dual mapping; nil when flipping protections.
    private let writable: UnsafeMutableRawPointer?
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

    /// `capacity` rounded up to whole pages: the capacity code memory made for it has.
    static func rounded(_ capacity: Int) -> Int { (capacity + pageSize - 1) / pageSize * pageSize }

    /// Maps `capacity` bytes (rounded up to pages).
    init(capacity: Int) throws {
        #if os(Linux) && arch(x86_64)
        let size = CodeMemory.rounded(capacity)
        self.capacity = size
        // The data page, then the code: one private anonymous mapping, its first page read+write.
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it. Unmapped in deinit.
        guard let region = mmap(nil, CodeMemory.dataBytes + size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              region != MAP_FAILED else {
            throw Unavailable(description: "mmap of \(size) bytes of code memory failed (errno \(errno))")
        }
        guard mprotect(region, CodeMemory.dataBytes, PROT_READ | PROT_WRITE) == 0 else {
            munmap(region, CodeMemory.dataBytes + size)
            throw Unavailable(description: "mprotect of the JIT's data page failed (errno \(errno))")
        }
        data = region
        base = region + CodeMemory.dataBytes
        let fd = thirdgen_memfd("thirdgen-jit")
        if fd >= 0 {
            defer { close(fd) }
            // SAFETY: two shared mappings of a fresh memory file nothing else refers to: one never
            // executable (anywhere), one never writable (over the code part of the region, MAP_FIXED
            // replacing our own anonymous pages). Both unmapped in deinit.
            if ftruncate(fd, off_t(size)) == 0 {
                if mmap(base, size, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED, fd, 0) == base,
                   let rw = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), rw != MAP_FAILED {
                    writable = rw
                    return
                }
                // Put anonymous code pages back (a failed MAP_FIXED may have taken them): one flipped mapping.
                guard mmap(base, size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == base else {
                    munmap(region, CodeMemory.dataBytes + size)
                    throw Unavailable(description: "mmap of \(size) bytes of code memory failed (errno \(errno))")
                }
            }
        }
        writable = nil
        #else
        throw Unavailable(description: "the JIT emits x86-64 code and runs on x86-64 Linux only")
        #endif
    }

    deinit {
        #if os(Linux) && arch(x86_64)
        // SAFETY: the mappings made in init; no generated code runs once its engine is gone.
        munmap(data, CodeMemory.dataBytes + capacity)
        if let writable { munmap(writable, capacity) }
        #endif
    }

    /// True if the code is written through a second, writable view.
    var isDualMapped: Bool { writable != nil }

    /// Host address of offset `o`.
    func address(_ o: Int) -> UInt { UInt(bitPattern: base) + UInt(o) }

    /// Bytes still free.
    var free: Int { capacity - used }

    /// Forgets every block (the cache was flushed); keeps the first `keep` bytes (the trampolines).
    func reset(keeping keep: Int) { used = keep }

    /// Appends `code` (assembled for address `address(used)`); returns its offset.
    func append(_ code: UnsafeRawBufferPointer) -> Int {
        precondition(code.count <= free, "the caller checks room before assembling")
        let at = used
        write(code, at: at)
        used += code.count
        return at
    }

    /// Pads with int3 (never executed) up to a multiple of `n` (at most 64)
    /// bytes, room permitting.
    func align(to n: Int) {
        precondition(n <= CodeMemory.int3s.count, "alignment \(n) exceeds the padding kept")
        let pad = (n - used % n) % n
        guard pad > 0, pad <= free else { return }
        CodeMemory.int3s.withUnsafeBytes { write(UnsafeRawBufferPointer(rebasing: $0[..<pad]), at: used) }
        used += pad
    }

    /// Padding, made once rather than for every block.
    private static let int3s = [UInt8](repeating: 0xCC, count: 64)

    /// Overwrites 4 bytes at host address `address` (a jump's rel32) inside the used part.
    func patch32(atAddress address: UInt, _ value: UInt32) {
        let o = Int(address - UInt(bitPattern: base))
        precondition(o >= 0 && o + 4 <= used, "patch outside the code")
        withUnsafeBytes(of: value.littleEndian) { write($0, at: o) }
    }

    /// The 4 bytes at host address `address` inside the used part.
    func load32(atAddress address: UInt) -> UInt32 {
        let o = Int(address - UInt(bitPattern: base))
        precondition(o >= 0 && o + 4 <= used, "read outside the code")
        // SAFETY: inside the mapping, which is always readable.
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }

    /// Copies `bytes` to offset `o`: through the writable view, or by flipping the pages' protection.
    private func write(_ bytes: UnsafeRawBufferPointer, at o: Int) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if let writable {
            // SAFETY: o + count <= capacity (checked by the callers); the view is read+write.
            (writable + o).copyMemory(from: source, byteCount: bytes.count)
            return
        }
        #if os(Linux) && arch(x86_64)
        let first = o / CodeMemory.pageSize * CodeMemory.pageSize
        let last = (o + bytes.count + CodeMemory.pageSize - 1) / CodeMemory.pageSize * CodeMemory.pageSize
        // SAFETY: [first, last) lies inside the mapping (o + count <= capacity, capacity is page-rounded).
        // While it is writable no generated code runs (this thread is here, not in it).
        guard mprotect(base + first, last - first, PROT_READ | PROT_WRITE) == 0 else {
            fatalError("mprotect to read+write failed (errno \(errno))")
        }
        (base + o).copyMemory(from: source, byteCount: bytes.count)
        guard mprotect(base + first, last - first, PROT_READ | PROT_EXEC) == 0 else {
            fatalError("mprotect to read+execute failed (errno \(errno))")
        }
        #endif
    }
}
