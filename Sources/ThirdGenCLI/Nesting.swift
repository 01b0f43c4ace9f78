import ArgumentParser
import Experiments
import Guests
import Machine

/// Towers of guest monitors (Theorem 2): `src/vmm.c` (trap-and-emulate) or
/// `src/vxvmm.c` (on VX) carrying a guest as its payload, which may itself be
/// the monitor carrying a guest, and so on. Both keep the same payload header
/// and state block.
enum Nesting {
    /// The guest-level monitor a tower is built of.
    enum Monitor: String, CaseIterable, ExpressibleByArgument, Sendable {
        case vmm, vxvmm
        var guest: BuiltinGuest { self == .vmm ? Guests.guestMonitor : Guests.guestHypervisor }
    }

    /// Where each level's monitor places its VM in its own storage.
    static let vmBase = 0x40000
    /// Where the payload (header, then the guest's ELF) sits in the monitor's storage.
    static let payloadBase: UInt32 = 0x20000
    static let payloadMagic: UInt32 = 0x4D56_5750
    static let stateBlock = 0x200
    static let stateMagic: UInt32 = 0x5356_5750

    /// The image of `guest` under `depth` guest monitors, and the memory the outermost needs.
    static func compose(guest: [UInt8], guestMemory: Int, depth: Int, monitor kind: Monitor = .vmm) throws -> (image: [UInt8], memory: Int) {
        let monitor = try Guests.image(of: kind.guest)
        var bytes = guest, memory = guestMemory
        for _ in 0..<depth {
            var image = try ELFImage(bytes: monitor, memorySize: Int(payloadBase))
            let room = vmBase - Int(payloadBase) - 16
            guard bytes.count <= room else {
                throw UsageError("the image to nest is \(bytes.count) bytes; a guest monitor's payload area holds \(room)")
            }
            var header = [UInt8]()
            for w in [payloadMagic, UInt32(bytes.count), UInt32(memory), 0] {
                header += (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * UInt32($0))) }
            }
            image.segments.append(ELFImage.Segment(address: payloadBase, bytes: header + bytes, memorySize: UInt32(16 + bytes.count)))
            bytes = image.elfBytes
            memory += vmBase
        }
        return (bytes, memory)
    }

    /// The innermost guest's comparable state, from the outermost run's: its
    /// storage is at depth x vmBase; its virtual PSW is in the deepest
    /// monitor's state block; registers, console and status pass through.
    static func innermost(_ s: Snapshot, depth: Int, guestMemory: Int) -> Snapshot {
        guard depth > 0 else { return s }
        func word(_ a: Int) -> UInt32 {
            UInt32(s.storage[a]) | UInt32(s.storage[a + 1]) << 8 | UInt32(s.storage[a + 2]) << 16 | UInt32(s.storage[a + 3]) << 24
        }
        let block = (depth - 1) * vmBase + stateBlock
        var psw = s.psw
        if word(block) == stateMagic {
            psw = PSW(mode: Mode(word: word(block + 4)), pc: word(block + 8), l: word(block + 12), b: word(block + 16))
        }
        let base = depth * vmBase
        return Snapshot(outcome: s.outcome, console: s.console, registers: s.registers, psw: psw,
                        storage: s.storage.image(base..<base + guestMemory), instructions: s.instructions)
    }

    /// Runs `guest` under `depth` guest monitors, the outermost under
    /// `strategy`, and compares the innermost state with `reference`.
    /// Returns the measurement and the memory the outermost level had.
    static func measure(_ guest: GuestImage, name: String, depth: Int, strategy: Strategy, profile: Profile,
                        guestMemory: Int, budget: UInt64, reference: Snapshot, hardware: Hardware = .default,
                        hwExits: ExitControls = .none, monitor: Monitor = .vmm) throws -> (NestCell, memory: Int) {
        let (bytes, memory) = try compose(guest: guest.bytes, guestMemory: guestMemory, depth: depth, monitor: monitor)
        let r = try strategy.execute(RunRequest(image: try ELFImage(bytes: bytes, memorySize: memory), profile: profile,
                                                memorySize: memory, budget: budget, hardware: hardware, hwExits: hwExits))
        let inner = innermost(r.snapshot, depth: depth, guestMemory: guestMemory)
        let (equivalent, divergence): (Bool, String?)
        switch Verdict(run: inner, reference: reference) {
        case .equivalent: (equivalent, divergence) = (true, nil)
        case .divergent(let why): (equivalent, divergence) = (false, why)
        case .inconclusive: (equivalent, divergence) = (false, "inconclusive: out of budget")
        }
        let cell = NestCell(guest: name, strategy: strategy.rawValue, depth: depth, seconds: r.seconds,
                            guestInstructions: r.snapshot.instructions, traps: r.monitor.map { $0.realTraps + $0.exits.reduce(0, +) } ?? 0,
                            equivalent: equivalent, divergence: divergence)
        return (cell, memory)
    }
}
