import CodeMemorySupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Physical storage E: q bytes, byte-addressed, little-endian (SPEC section 1).
///
/// One allocation, made once; the interpreter reaches it through `base`
/// with every access checked against the relocation-bounds register first.
/// Where the host allows, the allocation is a memory file mapped shared, so
/// that the JIT can map a second view of a VM's bytes with nothing
/// accessible around them (`file`).
public final class Storage {
    /// Size q in bytes: a multiple of 4096, at least 4096.
    public let size: Int
    /// First byte. Valid for `size` bytes for the lifetime of this object.
    public let base: UnsafeMutableRawPointer
    /// For a view: the storage whose bytes these are, kept alive. Nil if this owns its allocation.
    private let owner: Storage?
    /// True if `base` is a mapping (unmapped in deinit), false if allocated.
    private let mapped: Bool
    /// The memory file the bytes are (shared-)mapped from, if they are: so
    /// that another view of them can be mapped (the JIT's guarded views). Nil
    /// for allocated storage. Owned (closed in deinit) unless a view's.
    public let file: StorageFile?

    /// Zero-filled storage of `size` bytes. The caller has validated `size`
    /// (`Storage.validate`); an invalid size is a programming error.
    ///
    /// An anonymous mapping: the kernel supplies zero pages on first touch,
    /// so storage a guest never touches costs neither time nor memory (a
    /// 2 GB machine running a small guest is as cheap as a 1 MiB one).
    public init(size: Int) {
        precondition(Storage.validate(size: size) == nil, "invalid storage size \(size)")
        self.size = size
        owner = nil
        // Preferably a memory file of `size` bytes (sparse: zero pages on first touch), mapped shared.
        let fd = thirdgen_memfd("thirdgen-storage")
        if fd >= 0 {
            // SAFETY: a fresh memory file nothing else refers to, mapped whole; unmapped and closed in deinit.
            var status = stat()
            if ftruncate(fd, off_t(size)) == 0, fstat(fd, &status) == 0,
               let region = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0), region != MAP_FAILED {
                base = region
                mapped = true
                file = StorageFile(descriptor: fd, offset: 0, identity: UInt64(status.st_ino))
                return
            }
            close(fd)
        }
        file = nil
        // SAFETY: a fresh private anonymous mapping of `size` bytes, zero-filled by the kernel,
        // unmapped in deinit; MAP_NORESERVE so that untouched pages are never committed.
        let region = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        if let region, region != MAP_FAILED {
            base = region
            self.mapped = true
        } else {
            // SAFETY: as above, from the allocator when the kernel refuses the mapping.
            base = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 4096)
            base.initializeMemory(as: UInt8.self, repeating: 0, count: size)
            self.mapped = false
        }
    }

    /// A view of `range` of another storage: a VM's region seen as the whole
    /// storage of a machine of that size (a monitor's software interpreter).
    public init(viewing storage: Storage, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= storage.size, "view outside storage")
        precondition(Storage.validate(size: range.count) == nil, "invalid view size \(range.count)")
        size = range.count
        owner = storage
        mapped = false
        file = storage.file?.advanced(by: range.lowerBound)
        // SAFETY: inside `storage`'s allocation (checked above), which `owner` keeps alive.
        base = storage.base + range.lowerBound
    }

    deinit {
        guard owner == nil else { return }
        // SAFETY: this object made the mapping (or allocation) in init and nothing else frees it.
        if mapped { munmap(base, size) } else { base.deallocate() }
        if let file { close(file.descriptor) }
    }

    /// The largest storage a PG32 machine can have: the bound b is a 32-bit
    /// register, so a guest of w bytes needs w < 2^32 (and w is page-sized).
    public static let maximumSize = (1 << 32) - 4096

    /// Why `size` cannot be a machine's storage size, or nil if it can.
    public static func validate(size: Int) -> String? {
        if size < 4096 { return "memory size \(size) is below the minimum of 4096 bytes" }
        if size % 4096 != 0 { return "memory size \(size) is not a multiple of 4096" }
        if size > maximumSize { return "memory size \(size) exceeds the largest 32-bit memory, \(maximumSize) bytes" }
        return nil
    }

    /// Reads the little-endian word at physical `address`; the caller checks `address + 4 <= size`.
    @inlinable public func load32(_ address: Int) -> UInt32 {
        precondition(address >= 0 && address + 4 <= size, "physical load outside storage")
        // SAFETY: bounds checked above; unaligned loads are allowed.
        return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: address, as: UInt32.self))
    }

    /// Writes the little-endian word at physical `address`; the caller checks `address + 4 <= size`.
    @inlinable public func store32(_ address: Int, _ value: UInt32) {
        precondition(address >= 0 && address + 4 <= size, "physical store outside storage")
        // SAFETY: bounds checked above; unaligned stores are allowed.
        base.storeBytes(of: value.littleEndian, toByteOffset: address, as: UInt32.self)
    }

    /// Reads one byte at physical `address`.
    @inlinable public subscript(address: Int) -> UInt8 {
        get {
            precondition(address >= 0 && address < size, "physical load outside storage")
            // SAFETY: bounds checked above.
            return base.load(fromByteOffset: address, as: UInt8.self)
        }
        set {
            precondition(address >= 0 && address < size, "physical store outside storage")
            // SAFETY: bounds checked above.
            base.storeBytes(of: newValue, toByteOffset: address, as: UInt8.self)
        }
    }

    /// Copies physical bytes `range` out.
    public func bytes(_ range: Range<Int>) -> [UInt8] {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "physical range outside storage")
        // SAFETY: range checked above.
        return Array(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// Copies `bytes` in at physical `address`.
    public func write(_ bytes: some Collection<UInt8>, at address: Int) {
        precondition(address >= 0 && address + bytes.count <= size, "physical range outside storage")
        // SAFETY: range checked above.
        let dst = UnsafeMutableRawBufferPointer(start: base + address, count: bytes.count)
        dst.copyBytes(from: bytes)
    }

    /// Fills physical bytes `range` with `value`.
    public func fill(_ range: Range<Int>, with value: UInt8) {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "physical range outside storage")
        // SAFETY: range checked above.
        (base + range.lowerBound).initializeMemory(as: UInt8.self, repeating: value, count: range.count)
    }
}

/// Where storage bytes lie in a memory file: its descriptor, the file offset
/// of the first byte, and the file's identity (its inode: unique while the
/// file exists, which a mapping of it keeps; descriptor numbers are reused).
public struct StorageFile: Sendable, Equatable {
    public let descriptor: Int32
    public let offset: Int
    public let identity: UInt64

    public init(descriptor: Int32, offset: Int, identity: UInt64) {
        self.descriptor = descriptor
        self.offset = offset
        self.identity = identity
    }

    /// The same file, `n` bytes further on.
    public func advanced(by n: Int) -> StorageFile { StorageFile(descriptor: descriptor, offset: offset + n, identity: identity) }
}
