#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Machine

/// `count` zeroed elements from calloc. A process's first large tables are
/// fresh pages the kernel zeroes on first touch; once glibc has raised its
/// mmap threshold (it does when a large block is freed), they come from the
/// heap and calloc clears them, which is why a gone cache's tables are
/// recycled (`TranslationCache.recycled`). (Mapping them instead cost more:
/// every store's code-map check then touched a page never used.)
private func zeroed<T>(_ count: Int, of _: T.Type) -> UnsafeMutablePointer<T> {
    // SAFETY: calloc returns suitably aligned, zeroed memory for count elements, or nil (a host out of memory: fatal).
    guard let p = calloc(max(count, 1), MemoryLayout<T>.stride) else { fatalError("out of memory for a translation cache") }
    return p.bindMemory(to: T.self, capacity: max(count, 1))
}

/// A translation cache's zeroed tables: made for it, or kept from a cache
/// that is gone (`TranslationCache.recycled`).
private struct ZeroedTables {
    var buckets: UnsafeMutablePointer<Int32>, bucketCount: Int
    var frontKeys: UnsafeMutablePointer<UInt64>, frontBlocks: UnsafeMutablePointer<Int32>
    var codeBits: UnsafeMutablePointer<UInt32>, codeBitWords: Int
    var codeMap: UnsafeMutablePointer<UInt8>, codeMapBytes: Int

    /// New tables of these sizes.
    static func make(bucketCount: Int, codeBitWords: Int, codeMapBytes: Int) -> ZeroedTables {
        ZeroedTables(buckets: zeroed(bucketCount, of: Int32.self), bucketCount: bucketCount,
                     frontKeys: zeroed(TranslationCache.frontSize, of: UInt64.self),
                     frontBlocks: zeroed(TranslationCache.frontSize, of: Int32.self),
                     codeBits: zeroed(codeBitWords, of: UInt32.self), codeBitWords: codeBitWords,
                     codeMap: zeroed(codeMapBytes, of: UInt8.self), codeMapBytes: codeMapBytes)
    }

    /// True if these are tables of the sizes given.
    func fit(bucketCount: Int, codeBitWords: Int, codeMapBytes: Int) -> Bool {
        self.bucketCount == bucketCount && self.codeBitWords == codeBitWords && self.codeMapBytes == codeMapBytes
    }

    /// Frees the tables.
    func release() {
        for p in [UnsafeMutableRawPointer(buckets), UnsafeMutableRawPointer(frontKeys), UnsafeMutableRawPointer(frontBlocks),
                  UnsafeMutableRawPointer(codeBits), UnsafeMutableRawPointer(codeMap)] {
            free(p)
        }
    }
}

/// One translated guest block: a straight run of guest instructions inside
/// one page, ending at a control transfer, a system instruction, a
/// trap-raising instruction, the page end or the size limit.
struct Block {
    /// Virtual P of the first instruction.
    var pc: UInt32
    /// The relocation l it was translated under (part of its key).
    var l: UInt32
    /// P just past the last instruction: the block is fetchable under R iff end <= min(b, w - l).
    var end: UInt32
    /// Index of its first op in the op buffer (and of its first word in the word buffer).
    var first: Int32
    /// Guest instructions in it (its ops may end with one extra `fallthrough`).
    var count: Int32
    /// The guest page (relative to the VM's base) that holds it.
    var page: Int32
    /// Chained successors of the block's last op: [0] the jal target, [1] the
    /// fall-through of `continueAt`; -1 if not linked. (Taken branches and jalr
    /// leave through their op's verified link in `TranslationCache.links`.)
    var next0: Int32
    var next1: Int32
    /// The cache epoch it was last verified in.
    var epoch: UInt32
    /// False once invalidated.
    var valid: Bool
}

/// Translation statistics, bumped where they happen.
public struct TranslationCounters: Sendable {
    /// Blocks translated (including retranslations).
    public var blocksTranslated: UInt64 = 0
    /// Guest instructions translated.
    public var instructionsTranslated: UInt64 = 0
    /// Guest instructions executed from translations.
    public var instructionsExecuted: UInt64 = 0
    /// Guest instructions run by the reference interpreter instead (budget tails, shrunken bounds).
    public var instructionsStepped: UInt64 = 0
    /// Lookups the direct-mapped front cache answered.
    public var frontHits: UInt64 = 0
    /// Lookups the hash table answered.
    public var tableHits: UInt64 = 0
    /// Lookups that had to translate.
    public var misses: UInt64 = 0
    /// Transitions through a chained link (or a loop on itself), with no lookup.
    public var chained: UInt64 = 0
    /// Blocks invalidated because their guest words were written.
    public var invalidations: UInt64 = 0
    /// Times the whole cache was dropped because it was full.
    public var flushes: UInt64 = 0
    /// Time spent translating.
    public var translationNanoseconds: UInt64 = 0
    /// JIT only: loops given a choice of cached registers of their own (entered
    /// and left through a switch of the cached registers; see `JITCodeGenerator.chooseRegions`).
    public var loopAllocations: UInt64 = 0
    /// Zeroed counters.
    public init() {}
}

/// The translation cache of one VM: blocks keyed by (virtual P, l), a small
/// direct-mapped front cache before the hash table, chaining with incoming
/// lists for unchaining, a bit per guest word saying "translated code was
/// made from this word" for detecting self-modifying stores in software (a
/// page map was too coarse: guests put data beside code), and a size limit
/// that flushes.
final class TranslationCache {
    /// Ops (and guest words) it may hold before it flushes.
    let opCapacity: Int
    let ops: UnsafeMutablePointer<MicroOp>
    /// The guest word each op came from, to verify blocks after outside writes.
    let words: UnsafeMutablePointer<UInt32>
    /// Per op that can leave its block by a computed or side exit (a taken
    /// branch, jalr): the block it led to last time, or -1. A one-entry
    /// inline cache, checked (valid, same P) before every use, so it needs no
    /// unchaining; block ids are not reused before a flush.
    let links: UnsafeMutablePointer<Int32>
    @exclusivity(unchecked) var opCount = 0
    let blockCapacity: Int
    let blocks: UnsafeMutablePointer<Block>
    @exclusivity(unchecked) var blockCount = 0
    /// The hash table behind the front cache: per bucket, the newest block
    /// hashed there (id + 1, so zeroed memory is empty), and per block the
    /// next one in its bucket's chain (id + 1, or 0). Plain memory rather
    /// than a Dictionary: its inserts (and rehashes while it grew) were a
    /// fifth of translation time.
    private let buckets: UnsafeMutablePointer<Int32>
    private let chain: UnsafeMutablePointer<Int32>
    private let bucketBits: Int
    static let frontSize = 4096
    /// The front cache's keys, stored complemented so that zeroed memory is empty (no real key is all ones).
    private let frontKeys: UnsafeMutablePointer<UInt64>
    private let frontBlocks: UnsafeMutablePointer<Int32>
    @exclusivity(unchecked) private var incoming: [[Int32]] = []
    @exclusivity(unchecked) private var pageBlocks: [[Int32]]
    /// One bit per guest word (bit `i & 31` of entry `i >> 5` for word i): set
    /// while a valid block was translated from that word.
    let codeBits: UnsafeMutablePointer<UInt32>
    let codeBitWords: Int
    /// For generated code, a byte per guest physical byte x: nonzero if a
    /// store of up to 4 bytes starting at x may touch a word translations
    /// were made from, that is if word x / 4 or word (x + 3) / 4 is code.
    /// One compare at the store's own address tells it whether to look
    /// closer; derived from `codeBits` near each change, so it is exact.
    /// (4 bytes of slack at the end.)
    let codeMap: UnsafeMutablePointer<UInt8>
    let codeMapBytes: Int
    /// Called with each block id as it is invalidated (the JIT unchains its native code).
    var blockInvalidated: ((Int32) -> Void)?
    /// Called after a flush (the JIT drops its native code).
    var flushed: (() -> Void)?
    let pageCount: Int
    /// Bumped when the VM's storage may have been written behind the translator's back.
    @exclusivity(unchecked) var epoch: UInt32 = 0
    @exclusivity(unchecked) var counters = TranslationCounters()

    /// The zeroed tables of caches that are gone, for the next cache of the
    /// same sizes. A fresh machine's cache cleared 1.3 MB with a 1 MiB guest
    /// (the code map alone is a byte per guest byte; calloc clears what comes
    /// from the heap), half of making a JIT engine; a cache that goes clears
    /// only what its blocks set (`clearTables`, as a flush does) and hands the
    /// tables on.
    private static let recycled = Recycler<ZeroedTables>(keepingAtMost: 2) { $0.release() }
    /// How many caches have been made with tables an earlier one had (for tests).
    static var tablesReused: Int { recycled.taken }

    /// The longest block, in guest instructions.
    static let maximumBlock = 64

    init(storageSize: Int, opCapacity: Int) {
        self.opCapacity = max(opCapacity, 4 * TranslationCache.maximumBlock)
        blockCapacity = self.opCapacity / 4 // blocks average well over 4 ops
        pageCount = (storageSize + 4095) / 4096
        // SAFETY: every buffer below is allocated here, initialized before use, freed in deinit.
        ops = .allocate(capacity: self.opCapacity)
        words = .allocate(capacity: self.opCapacity)
        links = .allocate(capacity: self.opCapacity)
        blocks = .allocate(capacity: blockCapacity)
        bucketBits = min(30, max(4, Int.bitWidth - (blockCapacity - 1).leadingZeroBitCount))
        chain = .allocate(capacity: blockCapacity)
        codeBitWords = (storageSize / 4 + 31) / 32
        codeMapBytes = storageSize + 4
        let bucketCount = 1 << bucketBits, codeBitWords = codeBitWords, codeMapBytes = codeMapBytes
        let t = TranslationCache.recycled.take { $0.fit(bucketCount: bucketCount, codeBitWords: codeBitWords, codeMapBytes: codeMapBytes) }
            ?? ZeroedTables.make(bucketCount: bucketCount, codeBitWords: codeBitWords, codeMapBytes: codeMapBytes)
        (buckets, frontKeys, frontBlocks, codeBits, codeMap) = (t.buckets, t.frontKeys, t.frontBlocks, t.codeBits, t.codeMap)
        pageBlocks = Array(repeating: [], count: pageCount)
    }

    deinit {
        let tables = ZeroedTables(buckets: buckets, bucketCount: 1 << bucketBits, frontKeys: frontKeys, frontBlocks: frontBlocks,
                                  codeBits: codeBits, codeBitWords: codeBitWords, codeMap: codeMap, codeMapBytes: codeMapBytes)
        if TranslationCache.recycled.wants(codeMapBytes) {
            clearTables() // only tables that are kept need it
            TranslationCache.recycled.keep(tables)
        } else {
            tables.release()
        }
        ops.deallocate()
        words.deallocate()
        links.deallocate()
        blocks.deallocate()
        chain.deallocate()
    }

    /// Zeroes the buckets, front-cache keys, code-map bytes and code bits that
    /// the blocks there are set: only those were ever set, so the tables are
    /// then as calloc made them (the front cache's block slots are read only
    /// behind a matching key).
    private func clearTables() {
        for i in 0..<blockCount {
            let b = blocks[i]
            buckets[bucket(b.pc, b.l)] = 0
            frontKeys[TranslationCache.slot(b.pc, b.l)] = 0
            let (words, bytes) = codeRanges(of: b)
            if !bytes.isEmpty { codeMap.advanced(by: bytes.lowerBound).update(repeating: 0, count: bytes.count) }
            for w in stride(from: words.lowerBound >> 5, through: (words.upperBound - 1) >> 5, by: 1) { codeBits[w] = 0 }
        }
    }

    /// True if every bucket, front-cache key, code-map byte and code bit is
    /// zero: what a new cache must start from (a check for tests; it reads
    /// every table whole).
    var tablesAreClear: Bool {
        (0..<(1 << bucketBits)).allSatisfy { buckets[$0] == 0 }
            && (0..<TranslationCache.frontSize).allSatisfy { frontKeys[$0] == 0 }
            && (0..<codeBitWords).allSatisfy { codeBits[$0] == 0 }
            && (0..<codeMapBytes).allSatisfy { codeMap[$0] == 0 }
    }

    /// Bytes the cache's buffers occupy.
    var memoryBytes: Int {
        opCapacity * (MemoryLayout<MicroOp>.stride + 8) + blockCapacity * MemoryLayout<Block>.stride
            + TranslationCache.frontSize * 12 + codeBitWords * 4 + codeMapBytes
    }

    /// Bytes of ops and blocks in use now.
    var usedBytes: Int { opCount * (MemoryLayout<MicroOp>.stride + 8) + blockCount * MemoryLayout<Block>.stride }

    @inline(__always) private static func key(_ pc: UInt32, _ l: UInt32) -> UInt64 { UInt64(l) << 32 | UInt64(pc) }
    @inline(__always) private static func slot(_ pc: UInt32, _ l: UInt32) -> Int {
        Int(((pc >> 2) ^ (l >> 12)) & UInt32(frontSize - 1))
    }
    /// The hash table bucket of (pc, l).
    @inline(__always) private func bucket(_ pc: UInt32, _ l: UInt32) -> Int {
        Int(truncatingIfNeeded: ((pc >> 2) ^ (l &* 0x9E37_79B1)) &* 0x85EB_CA6B) >> (32 - bucketBits)
            & (1 << bucketBits - 1)
    }

    /// The newest valid block for (pc, l) in the hash table.
    private func tableLookup(pc: UInt32, l: UInt32) -> Int32? {
        var next = buckets[bucket(pc, l)]
        while next != 0 {
            let id = next - 1
            let b = blocks[Int(id)]
            if b.pc == pc, b.l == l, b.valid { return id }
            next = chain[Int(id)]
        }
        return nil
    }

    /// Takes block `id` out of its bucket's chain.
    private func tableRemove(_ id: Int32) {
        let b = blocks[Int(id)]
        var link = buckets + bucket(b.pc, b.l)
        while link.pointee != 0 {
            if link.pointee == id + 1 {
                link.pointee = chain[Int(id)]
                return
            }
            link = chain + Int(link.pointee - 1)
        }
    }

    /// The valid block for (pc, l), if translated.
    @inline(__always) func lookup(pc: UInt32, l: UInt32) -> Int32? {
        let k = TranslationCache.key(pc, l), s = TranslationCache.slot(pc, l)
        if frontKeys[s] == ~k {
            counters.frontHits += 1
            return frontBlocks[s]
        }
        guard let id = tableLookup(pc: pc, l: l) else { return nil }
        counters.tableHits += 1
        frontKeys[s] = ~k
        frontBlocks[s] = id
        return id
    }

    /// True if `ops` more ops and one more block fit.
    func hasRoom(forOps n: Int) -> Bool { opCount + n <= opCapacity && blockCount < blockCapacity }

    /// Appends an op (and the guest word it came from). The caller checked `hasRoom`.
    @inline(__always) func append(_ op: MicroOp, word: UInt32) {
        ops[opCount] = op
        words[opCount] = word
        links[opCount] = -1
        opCount += 1
    }

    /// Registers the block whose ops were just appended from `first`.
    func register(pc: UInt32, l: UInt32, first: Int, count: Int, page: Int) -> Int32 {
        let id = Int32(blockCount)
        blocks[blockCount] = Block(pc: pc, l: l, end: pc &+ UInt32(4 * count), first: Int32(first), count: Int32(count),
                                   page: Int32(page), next0: -1, next1: -1, epoch: epoch, valid: true)
        blockCount += 1
        incoming.append([])
        let k = TranslationCache.key(pc, l), s = TranslationCache.slot(pc, l), h = bucket(pc, l)
        chain[Int(id)] = buckets[h]
        buckets[h] = id + 1
        frontKeys[s] = ~k
        frontBlocks[s] = id
        let b = blocks[blockCount - 1]
        for p in TranslationCache.pages(of: b) { pageBlocks[p].append(id) }
        markCode(b, set: true)
        return id
    }

    /// The guest physical bytes block `b` was translated from.
    @inline(__always) static func bytes(of b: Block) -> Range<Int> {
        let start = Int(b.l) + Int(b.pc)
        return start..<start + 4 * Int(b.count)
    }

    /// The pages holding `b`'s bytes: its own, and the next when its first
    /// instruction straddles a page boundary (an l that is not a multiple of 4).
    @inline(__always) static func pages(of b: Block) -> ClosedRange<Int> {
        let bytes = bytes(of: b)
        return (bytes.lowerBound >> 12)...((bytes.upperBound - 1) >> 12)
    }

    /// The code words `b` covers (every physical word one of its bytes is in:
    /// two per instruction under an l that is not a multiple of 4), and the
    /// code-map bytes it makes code: those words' bytes and the three before
    /// them, where a store of up to 4 bytes reaching into the first starts.
    private func codeRanges(of b: Block) -> (words: Range<Int>, mapBytes: Range<Int>) {
        let bytes = TranslationCache.bytes(of: b)
        let words = (bytes.lowerBound >> 2)..<((bytes.upperBound + 3) >> 2)
        return (words, max(0, 4 * words.lowerBound - 3)..<min(codeMapBytes, 4 * words.upperBound))
    }

    /// True if guest physical word `index` has translations.
    @inline(__always) func isCode(word index: Int) -> Bool {
        codeBits[index >> 5] & (1 << UInt32(index & 31)) != 0
    }

    /// Sets or clears the code bits of the words `b` covers, and the code map with them.
    private func markCode(_ b: Block, set: Bool) {
        let (words, bytes) = codeRanges(of: b)
        for w in words {
            if set { codeBits[w >> 5] |= 1 << UInt32(w & 31) } else { codeBits[w >> 5] &= ~(1 << UInt32(w & 31)) }
        }
        if set {
            // Every byte there is now code (a store starting there reaches a code word).
            if !bytes.isEmpty { codeMap.advanced(by: bytes.lowerBound).update(repeating: 1, count: bytes.count) }
        } else {
            refreshCodeMap(bytes: bytes)
        }
    }

    /// Recomputes the code map's bytes `range` from the code bits.
    private func refreshCodeMap(bytes range: Range<Int>) {
        // Byte 4w is code iff word w is; bytes 4w + 1 ... 4w + 3 iff word w or word w + 1 is.
        let words = codeBitWords * 32
        var x = range.lowerBound
        while x < range.upperBound {
            let w = x >> 2
            let here = w < words && isCode(word: w), next = w + 1 < words && isCode(word: w + 1)
            if x & 3 == 0 {
                codeMap[x] = here ? 1 : 0
                x += 1
            }
            let end = min(range.upperBound, (w + 1) << 2), value: UInt8 = here || next ? 1 : 0
            while x < end {
                codeMap[x] = value
                x += 1
            }
        }
    }

    /// Chains `from`'s exit `slot` (0 jal, 1 fall-through) to `to`, recording
    /// the link for unchaining.
    func link(_ from: Int32, slot: Int, to: Int32) {
        if slot == 0 { blocks[Int(from)].next0 = to } else { blocks[Int(from)].next1 = to }
        incoming[Int(to)].append(from << 1 | Int32(slot))
    }

    /// Invalidates every block of guest page `page` that was translated from
    /// guest physical bytes `bytes` (all of the page's blocks if nil): out of
    /// the table and the front cache, unchained from its predecessors.
    func invalidate(page: Int, overlapping bytes: Range<Int>? = nil) {
        guard page >= 0, page < pageCount, !pageBlocks[page].isEmpty else { return }
        var kept: [Int32] = []
        var neighbours = page...page // pages whose code words an invalidated block also covered
        for id in pageBlocks[page] where blocks[Int(id)].valid {
            let b = blocks[Int(id)]
            if let bytes, !bytes.overlaps(TranslationCache.bytes(of: b)) {
                kept.append(id)
                continue
            }
            let pages = TranslationCache.pages(of: b)
            neighbours = min(neighbours.lowerBound, pages.lowerBound)...max(neighbours.upperBound, pages.upperBound)
            tableRemove(id)
            blocks[Int(id)].valid = false
            let s = TranslationCache.slot(b.pc, b.l)
            if frontBlocks[s] == id { frontKeys[s] = 0 }
            for link in incoming[Int(id)] {
                let from = Int(link >> 1)
                if link & 1 == 0 { blocks[from].next0 = -1 } else { blocks[from].next1 = -1 }
            }
            incoming[Int(id)] = []
            markCode(b, set: false)
            counters.invalidations += 1
            blockInvalidated?(id)
        }
        // Blocks may overlap (a jump into the middle of another block), and under an l that is not
        // a multiple of 4 share a word with blocks next to them, in this page or the next: the
        // blocks kept keep their bits.
        for id in kept { markCode(blocks[Int(id)], set: true) }
        for q in neighbours where q != page {
            for id in pageBlocks[q] where blocks[Int(id)].valid { markCode(blocks[Int(id)], set: true) }
        }
        pageBlocks[page] = kept
    }

    /// Drops every translation (the cache is full).
    func flush() {
        // Only the buckets, front-cache slots, code-map bytes and code bits of the blocks
        // there are were ever set: clear those, not the whole tables (a flush cleared more
        // than a megabyte with a 1 MiB guest).
        clearTables()
        incoming.removeAll(keepingCapacity: true)
        for p in 0..<pageCount where !pageBlocks[p].isEmpty { pageBlocks[p] = [] }
        opCount = 0
        blockCount = 0
        counters.flushes += 1
        flushed?()
    }
}
