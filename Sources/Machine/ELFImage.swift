/// Why a guest image was rejected (SPEC section 7). Each case's description is
/// the one-line message the user sees.
public enum ImageError: Error, Equatable, CustomStringConvertible {
    /// The file is shorter than an ELF header.
    case truncatedHeader(size: Int)
    /// The first four bytes are not 0x7F 'E' 'L' 'F'.
    case notELF
    /// EI_CLASS is not ELFCLASS32.
    case wrongClass(UInt8)
    /// EI_DATA is not little-endian.
    case wrongEndianness(UInt8)
    /// e_machine is not EM_RISCV (243).
    case wrongMachine(UInt16)
    /// e_type is not ET_EXEC.
    case notExecutable(UInt16)
    /// The program header table lies outside the file or has a bad entry size.
    case badProgramHeaders(String)
    /// A segment's file bytes lie outside the file.
    case segmentOutsideFile(index: Int)
    /// A segment has p_filesz > p_memsz.
    case fileSizeExceedsMemorySize(index: Int, filesz: UInt32, memsz: UInt32)
    /// A segment does not lie inside [0, w).
    case segmentOutsideMemory(index: Int, start: UInt64, end: UInt64, memory: Int)

    /// The message.
    public var description: String {
        switch self {
        case .truncatedHeader(let n):
            return "not a guest image: \(n) bytes is too short for an ELF header (52 bytes)"
        case .notELF:
            return "not a guest image: the file does not start with the ELF magic 0x7f 'ELF'"
        case .wrongClass(let c):
            return "wrong ELF class \(c): PG32 images are ELFCLASS32 (1)"
        case .wrongEndianness(let d):
            return "wrong ELF data encoding \(d): PG32 images are little-endian (1)"
        case .wrongMachine(let m):
            return "wrong ELF machine \(m): PG32 images are RISC-V (EM_RISCV = 243)"
        case .notExecutable(let t):
            return "wrong ELF type \(t): PG32 images are executables (ET_EXEC = 2), link with ld.lld"
        case .badProgramHeaders(let why):
            return "malformed program headers: \(why)"
        case .segmentOutsideFile(let i):
            return "segment \(i): its file bytes lie outside the file (truncated image?)"
        case .fileSizeExceedsMemorySize(let i, let f, let m):
            return "segment \(i): p_filesz \(f) exceeds p_memsz \(m)"
        case .segmentOutsideMemory(let i, let s, let e, let w):
            return "segment \(i) [\(hex(s)), \(hex(e))) lies outside guest memory [0x0, \(hex(w))): raise --memory or relink"
        }
    }
}

/// A validated PG32 guest image: its entry point and loadable segments.
public struct ELFImage: Sendable {
    /// One PT_LOAD segment.
    public struct Segment: Sendable {
        /// Physical load address (p_paddr).
        public var address: UInt32
        /// The p_filesz bytes from the file.
        public var bytes: [UInt8]
        /// p_memsz: bytes past `bytes.count` are zero.
        public var memorySize: UInt32

        /// A segment of `bytes` at `address`, `memorySize` bytes in memory (>= bytes.count).
        public init(address: UInt32, bytes: [UInt8], memorySize: UInt32) {
            self.address = address
            self.bytes = bytes
            self.memorySize = memorySize
        }
    }

    /// e_entry: the boot P.
    public var entry: UInt32
    /// Non-empty PT_LOAD segments, in file order.
    public var segments: [Segment]

    /// An image made in memory (tests, fuzzers): one segment of little-endian
    /// `words` at `address`, entered there. The caller keeps it inside the guest's memory.
    public init(words: [UInt32], at address: UInt32, entry: UInt32? = nil) {
        let bytes = words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * UInt32($0))) } }
        self.entry = entry ?? address
        segments = [Segment(address: address, bytes: bytes, memorySize: UInt32(bytes.count))]
    }

    /// Parses and checks an image against SPEC section 7 for a guest of
    /// `memorySize` bytes. Throws `ImageError` naming the problem.
    public init(bytes data: [UInt8], memorySize w: Int) throws {
        // The magic first: a text file is "not ELF" before it is "too short".
        let magic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
        guard zip(data, magic).allSatisfy({ $0 == $1 }), !data.isEmpty else {
            throw data.isEmpty ? ImageError.truncatedHeader(size: 0) : ImageError.notELF
        }
        guard data.count >= 52 else { throw ImageError.truncatedHeader(size: data.count) }
        guard data[4] == 1 else { throw ImageError.wrongClass(data[4]) }
        guard data[5] == 1 else { throw ImageError.wrongEndianness(data[5]) }
        func u16(_ o: Int) -> UInt16 { UInt16(data[o]) | UInt16(data[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt32 {
            UInt32(data[o]) | UInt32(data[o + 1]) << 8 | UInt32(data[o + 2]) << 16 | UInt32(data[o + 3]) << 24
        }
        let type = u16(16), machine = u16(18)
        guard machine == 243 else { throw ImageError.wrongMachine(machine) }
        guard type == 2 else { throw ImageError.notExecutable(type) }
        entry = u32(24)
        let phoff = Int(u32(28)), phentsize = Int(u16(42)), phnum = Int(u16(44))
        if phnum > 0 {
            guard phentsize >= 32 else {
                throw ImageError.badProgramHeaders("entry size \(phentsize) is smaller than 32 bytes")
            }
            guard phoff + phnum * phentsize <= data.count else {
                throw ImageError.badProgramHeaders("table at offset \(phoff) with \(phnum) entries runs past the end of the \(data.count)-byte file")
            }
        }
        var segments: [Segment] = []
        for i in 0..<phnum {
            let h = phoff + i * phentsize
            guard u32(h) == 1 else { continue } // PT_LOAD only
            let offset = Int(u32(h + 4)), paddr = u32(h + 12), filesz = u32(h + 16), memsz = u32(h + 20)
            if memsz == 0 && filesz == 0 { continue } // empty segments are ignored
            guard filesz <= memsz else {
                throw ImageError.fileSizeExceedsMemorySize(index: i, filesz: filesz, memsz: memsz)
            }
            let end = UInt64(paddr) + UInt64(memsz)
            guard end <= UInt64(w) else {
                throw ImageError.segmentOutsideMemory(index: i, start: UInt64(paddr), end: end, memory: w)
            }
            guard offset + Int(filesz) <= data.count else { throw ImageError.segmentOutsideFile(index: i) }
            segments.append(Segment(address: paddr, bytes: Array(data[offset..<offset + Int(filesz)]), memorySize: memsz))
        }
        self.segments = segments
    }
}

extension Machine {
    /// Boots `image` on a fresh machine of `memorySize` bytes (SPEC section 7):
    /// segments loaded at their physical addresses, M = supervisor,
    /// P = e_entry, R = (0, w), registers 0, console empty.
    public convenience init(booting image: ELFImage, memorySize: Int, profile: Profile) {
        self.init(memorySize: memorySize, profile: profile)
        image.load(into: storage, at: 0)
        psw = PSW(mode: .supervisor, pc: image.entry, l: 0, b: UInt32(memorySize))
    }
}

extension ELFImage {
    /// Copies every segment into `storage` at physical `base` + p_paddr, zero-filling up to p_memsz.
    /// The image was validated for a memory of at most `storage.size - base` bytes.
    public func load(into storage: Storage, at base: Int) {
        for s in segments {
            let start = base + Int(s.address)
            storage.write(s.bytes, at: start)
            storage.fill(start + s.bytes.count..<start + Int(s.memorySize), with: 0)
        }
    }
}

extension ELFImage {
    /// The image as an ELF32 RISC-V executable that `init(bytes:memorySize:)`
    /// reads back: one PT_LOAD per segment (for saving generated guests, such
    /// as a fuzzer's reproducers).
    public var elfBytes: [UInt8] {
        var out = [UInt8]()
        func u16(_ v: UInt16) { out += [UInt8(v & 0xFF), UInt8(v >> 8)] }
        func u32(_ v: UInt32) { for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(i)))) } }
        out += [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        u16(2); u16(243); u32(1); u32(entry)
        u32(52)                                     // e_phoff
        u32(0); u32(0)                              // e_shoff, e_flags
        u16(52); u16(32); u16(UInt16(segments.count)); u16(40); u16(0); u16(0)
        var offset = UInt32(52 + 32 * segments.count)
        for s in segments {
            u32(1); u32(offset); u32(s.address); u32(s.address)
            u32(UInt32(s.bytes.count)); u32(s.memorySize); u32(7); u32(4)
            offset += UInt32(s.bytes.count)
        }
        for s in segments { out += s.bytes }
        return out
    }
}
