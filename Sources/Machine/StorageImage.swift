#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Guest storage E[0..w) as a snapshot holds it: 4 KiB pages, the all-zero
/// ones not stored at all.
///
/// A run's storage is an anonymous mapping whose untouched pages cost
/// nothing (`Storage`); copying it whole into an array for every snapshot
/// made a 2 GB guest that touches a few hundred KiB cost gigabytes and
/// seconds per strategy. An image keeps only the pages that hold a non-zero
/// byte, shares them between copies (value semantics, copy on write per
/// page), compares page by page, and hashes zero pages from one shared
/// page, so a snapshot costs what the guest wrote.
public struct StorageImage: Sendable, RandomAccessCollection, Equatable, CustomStringConvertible {
    /// The page size of the image (PG32 has no pages; this is only how the image is stored).
    public static let pageSize = 4096

    /// Bytes in the image.
    public let byteCount: Int
    /// Page p holds bytes [p * pageSize, Swift.min((p + 1) * pageSize, byteCount)); nil means all zero.
    private var pages: [[UInt8]?]

    /// `count` zero bytes.
    public init(zeros count: Int) {
        precondition(count >= 0, "negative storage size")
        byteCount = count
        pages = Array(repeating: nil, count: (count + StorageImage.pageSize - 1) / StorageImage.pageSize)
    }

    /// The image of `bytes`.
    public init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { StorageImage(copying: $0) }
    }

    /// The image of the bytes at `source`: each page is scanned, and copied
    /// only if it holds a non-zero byte. `untouched(p)` may say that page p
    /// was never written (so it is zero without reading it).
    public init(copying source: UnsafeRawBufferPointer, untouched: (Int) -> Bool = { _ in false }) {
        self.init(zeros: source.count)
        let size = StorageImage.pageSize
        for p in pages.indices where !untouched(p) {
            let page = UnsafeRawBufferPointer(rebasing: source[(p * size)..<Swift.min((p + 1) * size, source.count)])
            if !StorageImage.isZero(page) { pages[p] = Array(page) }
        }
    }

    /// True if every byte of `bytes` is 0, read a word at a time.
    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0, any: UInt64 = 0
        while i + 32 <= bytes.count {
            any |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) | bytes.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
                | bytes.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self) | bytes.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)
            if any != 0 { return false }
            i += 32
        }
        while i < bytes.count {
            if bytes[i] != 0 { return false }
            i += 1
        }
        return true
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { byteCount }

    /// Byte `i`.
    public subscript(i: Int) -> UInt8 {
        get {
            precondition(i >= 0 && i < byteCount, "storage image index \(i) out of range")
            return pages[i / StorageImage.pageSize]?[i % StorageImage.pageSize] ?? 0
        }
        set {
            precondition(i >= 0 && i < byteCount, "storage image index \(i) out of range")
            let p = i / StorageImage.pageSize
            if pages[p] == nil {
                guard newValue != 0 else { return }
                pages[p] = Array(repeating: 0, count: Swift.min(StorageImage.pageSize, byteCount - p * StorageImage.pageSize))
            }
            pages[p]![i % StorageImage.pageSize] = newValue
        }
    }

    /// Pages that hold a non-zero byte (what the image costs, in pages).
    public var storedPages: Int { pages.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// The bytes `range` as an image of their own (pages shared when `range` starts on a page boundary).
    public func image(_ range: Range<Int>) -> StorageImage {
        precondition(range.lowerBound >= 0 && range.upperBound <= byteCount, "storage image range out of range")
        var out = StorageImage(zeros: range.count)
        let size = StorageImage.pageSize
        if range.lowerBound % size == 0 {
            let first = range.lowerBound / size
            for p in out.pages.indices {
                guard let page = pages[first + p] else { continue }
                let n = Swift.min(size, range.count - p * size)
                out.pages[p] = n == page.count ? page : Array(page[0..<n])
            }
        } else {
            for i in range where self[i] != 0 { out[i - range.lowerBound] = self[i] }
        }
        return out
    }

    /// Every byte, in order.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: byteCount)
        for (p, page) in pages.enumerated() {
            if let page { out.replaceSubrange((p * StorageImage.pageSize)..<(p * StorageImage.pageSize + page.count), with: page) }
        }
        return out
    }

    /// Calls `body` with the image's bytes in order, one page at a time (zero pages from one shared zero page).
    public func forEachPage(_ body: (UnsafeRawBufferPointer) -> Void) {
        let zeros = [UInt8](repeating: 0, count: StorageImage.pageSize)
        zeros.withUnsafeBytes { zero in
            for (p, page) in pages.enumerated() {
                if let page { page.withUnsafeBytes(body) } else {
                    body(UnsafeRawBufferPointer(rebasing: zero[0..<Swift.min(StorageImage.pageSize, byteCount - p * StorageImage.pageSize)]))
                }
            }
        }
    }

    /// The first index where this image and `other` differ, or nil if they
    /// agree up to the shorter one's end. Zero pages on both sides are not read.
    public func firstMismatch(_ other: StorageImage) -> Int? {
        let size = StorageImage.pageSize
        for p in 0..<Swift.min(pages.count, other.pages.count) {
            switch (pages[p], other.pages[p]) {
            case (nil, nil): continue
            case let (a?, b?):
                if let i = firstDifferingByte(a, b) { return p * size + i }
            case let (a?, nil):
                if let i = a.firstIndex(where: { $0 != 0 }) { return p * size + i }
            case let (nil, b?):
                if let i = b.firstIndex(where: { $0 != 0 }) { return p * size + i }
            }
        }
        return nil
    }

    public static func == (a: StorageImage, b: StorageImage) -> Bool {
        a.byteCount == b.byteCount && a.firstMismatch(b) == nil
    }

    public var description: String { "StorageImage(\(byteCount) bytes, \(storedPages) non-zero pages)" }
}

extension Storage {
    /// The image of physical bytes `range` (a snapshot's storage), costing the pages that hold data.
    ///
    /// Reading a page the guest never touched would make the kernel map it
    /// (a fault per page: a quarter of a second per 2 GB snapshot), so on
    /// Linux, when no swap is configured, pages the kernel reports not
    /// resident (`mincore`) are taken as zero unread: an anonymous private
    /// page that was never written is never resident, and without swap a
    /// written one cannot leave memory. With swap, every page is read.
    public func image(_ range: Range<Int>) -> StorageImage {
        precondition(range.lowerBound >= 0 && range.upperBound <= size, "physical range outside storage")
        // SAFETY: range checked above.
        let source = UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count)
        guard let resident = Storage.residency(source) else { return StorageImage(copying: source) }
        return StorageImage(copying: source) { resident[$0] & 1 == 0 }
    }

    /// One byte per page of `bytes` from mincore (bit 0: resident), or nil where that cannot be trusted or asked.
    private static func residency(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        #if os(Linux)
        guard Storage.swapIsOff, let start = bytes.baseAddress, Int(bitPattern: start) % StorageImage.pageSize == 0, bytes.count > 0 else { return nil }
        var vector = [UInt8](repeating: 1, count: (bytes.count + StorageImage.pageSize - 1) / StorageImage.pageSize)
        // SAFETY: `start` is page-aligned and the range lies in one mapping (or allocation) of this process.
        let ok = vector.withUnsafeMutableBufferPointer { mincore(UnsafeMutableRawPointer(mutating: start), bytes.count, $0.baseAddress) }
        return ok == 0 ? vector : nil
        #else
        return nil
        #endif
    }

    /// True when /proc/swaps lists no swap area (read once).
    private static let swapIsOff: Bool = {
        #if os(Linux)
        guard let f = fopen("/proc/swaps", "r") else { return false }
        defer { fclose(f) }
        var lines = 0
        var buffer = [CChar](repeating: 0, count: 512)
        while fgets(&buffer, Int32(buffer.count), f) != nil { lines += 1 }
        return lines == 1   // the header line only
        #else
        return false
        #endif
    }()
}
