import Machine
#if canImport(Glibc)
import Glibc
#endif

/// A second mapping of a VM's storage window, l ..< l + limit of its
/// bytes, with nothing accessible past it: the window's pages sit at the
/// start of a reservation of `reach` bytes and more, the rest inaccessible. Code
/// generated for guarded views (`JITCodeGenerator.guarded`) accesses guest
/// address a at view + a with no bounds check: an access past the window, or
/// at an address that wrapped at 2^32, faults inside the reservation, and the
/// fault handler (`thirdgen_fault_table`) resumes the code at the block's
/// step tail, for the reference interpreter to step the op exactly (the trap
/// with its value, or the access the guest made where its address wrapped).
///
/// The window starts mid-page where l does (the bytes before it in its first
/// page are mapped, below the view, and generated code never addresses below
/// the view: see `guardedAddress`), and ends at the last page boundary
/// inside it: bytes of the window's last partial page fault like those past
/// it, and are stepped (correct, slower).
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

    /// Maps the window of `limit` bytes at `file`; nil if the host refuses.
    init?(file: StorageFile, limit: Int) {
        #if os(Linux) && arch(x86_64)
        let offset = file.offset
        let skew = offset % GuardedView.page, first = offset - skew
        let end = (offset + limit) / GuardedView.page * GuardedView.page // the window's last page boundary
        reserved = GuardedView.page + GuardedView.reach + GuardedView.slack
        // SAFETY: a fresh inaccessible reservation, MAP_NORESERVE (it commits nothing); unmapped in deinit.
        guard let r = mmap(nil, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), r != MAP_FAILED else {
            return nil
        }
        if end > first {
            // SAFETY: MAP_FIXED over the start of our own reservation; the file holds bytes first ..< end
            // (the window lies inside the storage it was made for).
            guard mmap(r, end - first, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file.descriptor, off_t(first)) == r else {
                munmap(r, reserved)
                return nil
            }
        }
        reservation = r
        base = r + skew
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
