import Machine

/// Why a set of VMs cannot be placed. The description is the message.
public enum AllocationError: Error, Equatable, CustomStringConvertible {
    /// A VM's size is not a valid machine size.
    case invalidSize(String)
    /// The VMs, the monitor's page and the guard gaps exceed what a PG32 machine can address.
    case doesNotFit(vms: Int, each: Int, needed: Int)
    /// No VMs were asked for.
    case noVMs

    /// The message.
    public var description: String {
        switch self {
        case .invalidSize(let why): return "cannot create the VM: \(why)"
        case .doesNotFit(let n, let w, let needed):
            return "\(n) VMs of \(w) bytes need \(needed) bytes of real storage with the monitor's page and guard gaps, more than the \(Storage.maximumSize) a PG32 machine addresses: use fewer VMs or a smaller --memory"
        case .noVMs: return "no VMs to run"
        }
    }
}

/// One VM's place in real storage: physical base k and size w (SPEC section 9).
public struct VMRegion: Sendable, Hashable {
    /// Physical base k.
    public let base: Int
    /// Size w of the VM's storage.
    public let size: Int

    /// A region at physical `base` of `size` bytes.
    public init(base: Int, size: Int) {
        self.base = base
        self.size = size
    }

    /// The physical range [k, k + w).
    public var range: Range<Int> { base..<base + size }

    /// The real relocation-bounds register for a virtual R = (l, b): the
    /// standard VM map, <k + l, min(b, w - l)>, with bound 0 when l >= w, so
    /// an access past the guest's memory traps exactly where it would on a
    /// bare machine of size w.
    @inlinable public func realRelocation(l: UInt32, b: UInt32) -> (l: UInt32, b: UInt32) {
        guard Int(l) < size else { return (UInt32(base), 0) }
        return (UInt32(base + Int(l)), min(b, UInt32(size - Int(l))))
    }

    /// The physical address of an n-byte access at virtual `address` under
    /// the virtual `psw`'s R, or nil if the guest's bare machine of size w
    /// would trap (`PSW.relocate`, applied to the region).
    @inlinable public func physical(_ address: UInt32, size n: Int, under psw: PSW) -> Int? {
        psw.relocate(address, size: n, storageSize: size).map { base + $0 }
    }
}

/// The allocator A: owns real storage and decides where each VM lives.
///
/// Layout: the monitor's reserved page [0, 4096) (real low core at its
/// bottom), then each VM in a region of its own, each followed by a guard gap
/// of canary storage. Nothing of one VM is reachable from another: every
/// real R the allocator computes lies inside its VM's region.
public struct Allocator: Sendable {
    /// The monitor's reserved page.
    public static let monitorPage = 4096
    /// Canary storage after each VM.
    public static let guardGap = 4096
    /// The byte canary storage is filled with.
    public static let canary: UInt8 = 0xA5

    /// Where each VM lives, in VM order.
    public let regions: [VMRegion]
    /// Size q of the real machine's storage.
    public let realMemorySize: Int

    /// Places `count` VMs of `size` bytes each, or refuses with a clear message.
    public init(vmCount count: Int, size: Int) throws {
        guard count > 0 else { throw AllocationError.noVMs }
        if let why = Storage.validate(size: size) { throw AllocationError.invalidSize(why) }
        let (perVM, o1) = (size + Allocator.guardGap).multipliedReportingOverflow(by: count)
        let needed = Allocator.monitorPage + perVM
        guard !o1, needed <= Storage.maximumSize else {
            throw AllocationError.doesNotFit(vms: count, each: size, needed: o1 ? Int.max : needed)
        }
        regions = (0..<count).map { VMRegion(base: Allocator.monitorPage + $0 * (size + Allocator.guardGap), size: size) }
        realMemorySize = needed
    }

    /// Real storage that belongs to no VM and is not real low core: the
    /// monitor's page above low core and every guard gap.
    public var canaryRanges: [Range<Int>] {
        [LowCore.end..<Allocator.monitorPage] + regions.map { $0.base + $0.size..<$0.base + $0.size + Allocator.guardGap }
    }

    /// Fills every canary range.
    public func plantCanaries(in storage: Storage) {
        for r in canaryRanges { storage.fill(r, with: Allocator.canary) }
    }

    /// The physical addresses of canary bytes that changed (empty when isolation held).
    public func damagedCanaries(in storage: Storage) -> [Int] {
        var damaged: [Int] = []
        for r in canaryRanges {
            for (i, byte) in storage.bytes(r).enumerated() where byte != Allocator.canary { damaged.append(r.lowerBound + i) }
        }
        return damaged
    }
}
