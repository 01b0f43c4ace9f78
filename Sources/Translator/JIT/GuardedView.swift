import Machine
#if canImport(Glibc)
import Glibc
#endif

/// A second mapping of a VM's storage window, l ..< l + limit of its
/// bytes, with nothing accessible around it: the window's pages sit in a
/// reservation that reaches `below` bytes under guest address 0 and `reach`
/// bytes and more above it, the rest inaccessible. Code generated for guarded
/// views (`JITCodeGenerator.guarded`) accesses guest address x + imm at
/// view + x + imm (in 64 bits) with no bounds check: an access past the
/// window, below its first byte, or at an address that wrapped at 2^32,
/// faults inside the reservation, and the fault handler
/// (`thirdgen_fault_table`) resumes the code at the block's step tail, for
/// the reference interpreter to step the op exactly (the trap with its
/// value, or the access the guest made where its address wrapped).
///
/// Only whole pages of the window are mapped: where l starts mid-page, the
/// window's first partial page is left out (mapping it would map the bytes
/// before the window, which a negative displacement could reach), and the
/// window ends at its last page boundary; bytes of those partial pages
/// fault like those outside the window, and are stepped (correct, slower).
/// VMs of a multiple of 4096 bytes under page-aligned relocations have none.
final class GuardedView {
    /// The window's first byte in its memory file, and the window's size: what the view was made for.
    let file: StorageFile, limit: Int
    /// Guest address 0.
    let base: UnsafeMutableRawPointer
    /// The reservation: [reservation, reservation + reserved).
    let reservation: UnsafeMutableRawPointer
    let reserved: Int

    private static let page = 4096
    /// Past `reach`: the largest displacement (2047) and access (4 bytes), rounded up.
    private static let slack = 64 * 1024

    /// How far past guest address 0 generated code may address: a base and
    /// an index each below 2^32, the index scaled by up to 8 (a load folded
    /// with the `slli` and `add` that make its address, `scaledLoad`), and a
    /// displacement below 2048, computed in 64 bits. Every such address lies
    /// inside the reservation, so one the guest's 32-bit arithmetic would
    /// have wrapped faults there (and is stepped) instead of reaching
    /// whatever the host mapped next.
    static let reach = 9 << 32
    /// How far below guest address 0 generated code may address: a
    /// displacement down to -2048 from a register holding 0, rounded up to pages.
    static let below = 4 * 4096

    /// Maps the window of `limit` bytes at `file`; nil if the host refuses.
    init?(file: StorageFile, limit: Int) {
        #if os(Linux) && arch(x86_64)
        let offset = file.offset, page = GuardedView.page
        let skew = offset % page, first = offset - skew
        let start = skew == 0 ? first : first + page // the window's first page boundary
        let end = (offset + limit) / page * page // its last
        reserved = GuardedView.below + page + GuardedView.reach + GuardedView.slack
        // SAFETY: a fresh inaccessible reservation, MAP_NORESERVE (it commits nothing); unmapped in deinit.
        guard let r = mmap(nil, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), r != MAP_FAILED else {
            return nil
        }
        // Guest address 0, file offset `offset`, is at r + below + skew: file offset f at r + below + (f - first).
        if end > start {
            let at = r + GuardedView.below + (start - first)
            // SAFETY: MAP_FIXED inside our own reservation (below + page + end - start <= reserved); the file
            // holds bytes start ..< end (the window lies inside the storage it was made for).
            guard mmap(at, end - start, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file.descriptor, off_t(start)) == at else {
                munmap(r, reserved)
                return nil
            }
        }
        reservation = r
        base = r + GuardedView.below + skew
        self.file = file
        self.limit = limit
        #else
        return nil
        #endif
    }

    deinit {
        #if os(Linux) && arch(x86_64)
        // SAFETY: the reservation made in init; no generated code runs with this view once it is dropped.
        munmap(reservation, reserved)
        #endif
    }

    /// The reservation's host address range, for the fault table.
    var guardRange: (low: UInt, high: UInt) {
        (UInt(bitPattern: reservation), UInt(bitPattern: reservation) + UInt(reserved))
    }
}
