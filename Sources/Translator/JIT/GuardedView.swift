import Machine
import Synchronization
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
    /// The low reservation, if the view lies there (`LowReservation`).
    let low: LowReservation?
    /// The pages of the window mapped: [address, address + bytes).
    fileprivate let window: Window
    fileprivate typealias Window = (address: UnsafeMutableRawPointer, bytes: Int)

    static let page = 4096
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

    /// Bytes a view's reservation takes.
    static let reservationBytes = below + page + reach + slack

    /// Maps the window of `limit` bytes at `file`; nil if the host refuses.
    /// In `low` (the process's low reservation, which this engine holds), the
    /// view replaces whatever view was there; elsewhere it has a reservation of its own.
    init?(file: StorageFile, limit: Int, in low: LowReservation? = nil) {
        #if os(Linux) && arch(x86_64)
        let offset = file.offset, page = GuardedView.page
        let skew = offset % page, first = offset - skew
        let start = skew == 0 ? first : first + page // the window's first page boundary
        let end = (offset + limit) / page * page // its last
        reserved = GuardedView.reservationBytes
        let r: UnsafeMutableRawPointer
        if let low {
            low.vacate() // the view there before goes (its window inaccessible again)
            r = low.address
        } else {
            // SAFETY: a fresh inaccessible reservation, MAP_NORESERVE (it commits nothing), unmapped in deinit.
            guard let fresh = mmap(nil, reserved, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
                  fresh != MAP_FAILED else { return nil }
            r = fresh
        }
        // Guest address 0, file offset `offset`, is at r + below + skew: file offset f at r + below + (f - first).
        let at = r + GuardedView.below + (start - first)
        window = (at, max(0, end - start))
        if end > start {
            // SAFETY: MAP_FIXED inside the reservation (below + page + end - start <= reserved), over pages
            // inaccessible until now (a fresh reservation, or a vacated low one); the file holds bytes
            // start ..< end (the window lies inside the storage it was made for).
            guard mmap(at, end - start, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, file.descriptor, off_t(start)) == at else {
                // The low reservation stays reserved, inaccessible (a failed MAP_FIXED may have left a hole).
                if low == nil { munmap(r, reserved) } else { GuardedView.close(window) }
                return nil
            }
        }
        reservation = r
        base = r + GuardedView.below + skew
        self.file = file
        self.limit = limit
        self.low = low
        precondition(low == nil || UInt(bitPattern: base) <= LowReservation.highestBase,
                     "the low view lies too high for a displacement")
        low?.occupy(self)
        #else
        return nil
        #endif
    }

    deinit {
        #if os(Linux) && arch(x86_64)
        // SAFETY: the reservation made in init; no generated code runs with this view once it is dropped.
        // In the low reservation, which stays, only this view's window goes (if a later view has not replaced it).
        if let low { low.vacate(self) } else { munmap(reservation, reserved) }
        #endif
    }

    /// Makes `window` inaccessible again: the reservation's pages there anonymous, PROT_NONE, nothing
    /// committed (the memory file's pages no longer mapped there).
    fileprivate static func close(_ window: Window) {
        #if os(Linux) && arch(x86_64)
        guard window.bytes > 0 else { return }
        // SAFETY: MAP_FIXED over a view's own window, inside its reservation.
        let r = mmap(window.address, window.bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0)
        precondition(r == window.address, "a guarded view's window could not be made inaccessible again")
        #endif
    }

    /// Guest address 0's host address as a 32-bit displacement, for a view in the low
    /// reservation (`JITCodeGenerator.viewAddress`); nil for one anywhere else.
    var displacement: Int32? { low == nil ? nil : Int32(truncatingIfNeeded: UInt(bitPattern: base)) }

    /// The reservation's host address range, for the fault table.
    var guardRange: (low: UInt, high: UInt) {
        (UInt(bitPattern: reservation), UInt(bitPattern: reservation) + UInt(reserved))
    }
}

/// The one reservation of the process whose guest address 0 lies below 2
/// GiB of host addresses, for one engine's guarded view at a time: code
/// generated for a view there names the view's host address in each access's
/// 32-bit displacement, `[x + view + imm]`, instead of adding a base register,
/// `[r13 + x + imm]`. An address with a base and an index takes the host a
/// cycle more to load from (5 cycles instead of 4 on the AMD EPYC here,
/// measured with a pointer chase in C), and a walk along a linked list
/// (coremark's list, a hash chain) waits for each load in turn.
///
/// Only one, because each view reserves `GuardedView.reservationBytes` (more
/// than 36 GiB) and only its start need lie low. The first guarded engine to
/// ask holds it (an instance of this class is its hold) until it goes; the
/// others use views anywhere, with r13. The reservation itself is made once
/// and kept for the life of the process, inaccessible but for the window of
/// the view in it: making and unmapping 36 GiB of address space for each
/// short run cost a few microseconds of it (`bench nano`'s callret).
/// `THIRDGEN_JIT_LOW=off` in the environment leaves it unused (an experiment knob).
final class LowReservation {
    let address: UnsafeMutableRawPointer

    /// The process's reservation (its address, once made), whether making it was tried, and whether an engine holds it.
    private struct Shared {
        var address: UInt?
        var tried = false
        var held = false
    }
    private static let shared = Mutex(Shared())

    /// The view whose window is mapped in the reservation now, and that window.
    private var occupant: (view: ObjectIdentifier, window: GuardedView.Window)?

    /// Where it is tried, in turn: the first range the host has free (MAP_FIXED_NOREPLACE).
    /// Each leaves guest address 0 (at most `below` plus a page in) far enough below 2^31
    /// that every displacement from it, -2048 to 2047 and the scaled load's, fits in 32 bits.
    static let candidates: [UInt] = [0x1000_0000, 0x2000_0000, 0x4000_0000]

    /// The highest host address of guest address 0 a displacement can name.
    static let highestBase = UInt(Int32.max) - 4096

    /// The reservation, if no engine holds it, it is not switched off, and the host had a candidate range free.
    static func acquire() -> LowReservation? {
        #if os(Linux) && arch(x86_64)
        if let setting = getenv("THIRDGEN_JIT_LOW"), String(cString: setting) == "off" { return nil }
        let address: UInt? = shared.withLock { s in
            if s.held { return nil }
            if !s.tried {
                s.tried = true
                s.address = reserve()
            }
            if s.address != nil { s.held = true }
            return s.address
        }
        return address.flatMap(UnsafeMutableRawPointer.init(bitPattern:)).map(LowReservation.init)
        #else
        return nil
        #endif
    }

    /// Reserves the range at the first candidate the host has free: its address, or nil.
    private static func reserve() -> UInt? {
        #if os(Linux) && arch(x86_64)
        let size = GuardedView.reservationBytes
        for candidate in candidates {
            let want = UnsafeMutableRawPointer(bitPattern: candidate)
            // SAFETY: MAP_FIXED_NOREPLACE never replaces a mapping; a kernel without it takes the address as a
            // hint, so anything else it returns is given back. Kept (inaccessible) for the life of the process.
            guard let r = mmap(want, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | mapFixedNoReplace, -1, 0),
                  r != MAP_FAILED else { continue }
            if r == want { return candidate }
            munmap(r, size)
        }
        #endif
        return nil
    }

    private init(address: UnsafeMutableRawPointer) { self.address = address }

    deinit {
        vacate() // no view of this hold is left (each holds it); a window of one that was replaced is closed already
        LowReservation.shared.withLock { $0.held = false }
    }

    /// `view`'s window is mapped in the reservation now.
    fileprivate func occupy(_ view: GuardedView) { occupant = (ObjectIdentifier(view), view.window) }

    /// Closes the window mapped in the reservation, if any (see `GuardedView.close`).
    fileprivate func vacate() {
        if let o = occupant { GuardedView.close(o.window) }
        occupant = nil
    }

    /// Closes `view`'s window, unless a later view has replaced it.
    fileprivate func vacate(_ view: GuardedView) {
        if occupant?.view == ObjectIdentifier(view) { vacate() }
    }

    /// Linux's MAP_FIXED_NOREPLACE (since 4.17), which Glibc's module does not export.
    private static let mapFixedNoReplace: Int32 = 0x10_0000
}
