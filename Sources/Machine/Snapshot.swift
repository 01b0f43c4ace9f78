/// How a run ended (SPEC section 8).
public enum Outcome: Sendable, Hashable, CustomStringConvertible {
    case halted(UInt32)
    case checkstop
    /// Out of budget: the run is inconclusive.
    case budget

    /// The SPEC section 10 status string: halted, checkstop or budget.
    public var name: String {
        switch self {
        case .halted: return "halted"
        case .checkstop: return "checkstop"
        case .budget: return "budget"
        }
    }

    /// HALT's code, if the run halted.
    public var exitCode: UInt32? {
        if case .halted(let c) = self { return c }
        return nil
    }

    /// `halted(3)`, `checkstop`, `budget`.
    public var description: String {
        if case .halted(let c) = self { return "halted(\(c))" }
        return name
    }
}

/// Everything SPEC section 8 compares, taken at the end of a run. Under a
/// monitor the PSW is the monitor's record of the virtual PSW and the storage
/// is the VM's region, so snapshots of every strategy compare alike.
public struct Snapshot: Sendable {
    /// How the run ended.
    public var outcome: Outcome
    /// Console bytes, in order.
    public var console: [UInt8]
    /// x0..x31.
    public var registers: [UInt32]
    /// The (virtual) PSW.
    public var psw: PSW
    /// Guest storage E[0..w), as an image that stores only non-zero pages.
    public var storage: StorageImage
    /// Guest instructions counted (not compared).
    public var instructions: UInt64
    /// G's PSW, when the run ended by budget in guest mode (SPEC section 11); `psw` is then the host's at its VMRUN.
    public var guestPSW: PSW?

    /// Makes a snapshot from its parts.
    public init(outcome: Outcome, console: [UInt8], registers: [UInt32], psw: PSW, storage: StorageImage, instructions: UInt64,
                guestPSW: PSW? = nil) {
        self.outcome = outcome
        self.console = console
        self.registers = registers
        self.psw = psw
        self.storage = storage
        self.instructions = instructions
        self.guestPSW = guestPSW
    }

    /// The same from storage bytes.
    public init(outcome: Outcome, console: [UInt8], registers: [UInt32], psw: PSW, storage: [UInt8], instructions: UInt64,
                guestPSW: PSW? = nil) {
        self.init(outcome: outcome, console: console, registers: registers, psw: psw, storage: StorageImage(storage),
                  instructions: instructions, guestPSW: guestPSW)
    }

    /// Hex SHA-256 of the guest storage.
    public var storageSHA256: String { storage.sha256 }

    /// The first difference between this run and `other`, in words, with this
    /// run's value first: status, console, registers, PSW, then storage.
    /// Nil when they agree on everything SPEC section 8 compares.
    public func firstDifference(from other: Snapshot) -> String? {
        if outcome != other.outcome { return "status differs: \(outcome) vs \(other.outcome)" }
        if console != other.console {
            let n = zip(console, other.console).prefix { $0 == $1 }.count
            func at(_ c: [UInt8]) -> String { n < c.count ? quoted(c[n]) : "end of output" }
            return "console differs at byte \(n): \(at(console)) vs \(at(other.console))"
        }
        for r in 0..<32 where registers[r] != other.registers[r] {
            return "x\(r) = \(hex(registers[r])) vs \(hex(other.registers[r]))"
        }
        if psw != other.psw {
            if psw.mode != other.psw.mode {
                return "PSW mode differs: \(psw.mode == .user ? "user" : "supervisor") vs \(other.psw.mode == .user ? "user" : "supervisor")"
            }
            if psw.pc != other.psw.pc { return "PSW pc = \(hex(psw.pc)) vs \(hex(other.psw.pc))" }
            if psw.l != other.psw.l { return "PSW l = \(hex(psw.l)) vs \(hex(other.psw.l))" }
            return "PSW b = \(hex(psw.b)) vs \(hex(other.psw.b))"
        }
        if guestPSW != other.guestPSW {
            func describe(_ p: PSW?) -> String { p.map(\.description) ?? "not in guest mode" }
            return "guest PSW \(describe(guestPSW)) vs \(describe(other.guestPSW))"
        }
        if storage.count != other.storage.count {
            return "storage size differs: \(storage.count) vs \(other.storage.count) bytes"
        }
        if let i = storage.firstMismatch(other.storage) {
            return "storage differs at guest address \(hex(i)): \(hex(storage[i])) vs \(hex(other.storage[i]))"
        }
        return nil
    }
}

extension StorageImage {
    /// Hex SHA-256 of the bytes.
    public var sha256: String {
        var h = SHA256.Hasher()
        forEachPage { h.update($0) }
        return SHA256.hex(digest: h.finish())
    }
}

/// Digests of the storage images of one command's runs: every strategy
/// that is equivalent leaves the same storage, so each distinct image is
/// hashed once (a comparison reads only the pages that hold data; a hash
/// reads all w bytes).
public final class StorageDigests {
    private var known: [(image: StorageImage, digest: String)] = []

    public init() {}

    /// The hex SHA-256 of `image`, reusing the digest of an equal image seen before.
    public func sha256(_ image: StorageImage) -> String {
        if let k = known.first(where: { $0.image == image }) { return k.digest }
        let d = image.sha256
        known.append((image, d))
        return d
    }
}

/// A run's verdict against the reference run (SPEC section 8).
public enum Verdict: Sendable, Hashable {
    case equivalent
    /// The first difference, in words.
    case divergent(String)
    /// One of the runs ran out of budget: no verdict.
    case inconclusive

    /// Compares `run` with `reference`: inconclusive if either ran out of budget.
    public init(run: Snapshot, reference: Snapshot) {
        if run.outcome == .budget || reference.outcome == .budget {
            self = .inconclusive
        } else if let d = run.firstDifference(from: reference) {
            self = .divergent(d)
        } else {
            self = .equivalent
        }
    }
}

/// A console byte as the user reads it: 'U', or 0x0a for non-printing bytes.
func quoted(_ b: UInt8) -> String {
    (0x20..<0x7F).contains(b) ? "'\(Character(Unicode.Scalar(b)))'" : hex(b)
}

/// Index of the first differing byte of two arrays (up to the shorter's end), compared a word at a time.
func firstDifferingByte(_ a: [UInt8], _ b: [UInt8]) -> Int? {
    a.withUnsafeBytes { pa in
        b.withUnsafeBytes { pb in
            let n = min(pa.count, pb.count)
            var i = 0
            while i + 8 <= n {
                if pa.loadUnaligned(fromByteOffset: i, as: UInt64.self) != pb.loadUnaligned(fromByteOffset: i, as: UInt64.self) { break }
                i += 8
            }
            while i < n {
                if pa[i] != pb[i] { return i }
                i += 1
            }
            return nil
        }
    }
}

extension Machine {
    /// The state SPEC section 8 compares, for a bare machine: the real PSW and
    /// storage E[0..q). `outcome` is how the run ended.
    public func snapshot(outcome: Outcome) -> Snapshot {
        Snapshot(outcome: outcome, console: console, registers: registers, psw: psw,
                 storage: storage.image(0..<storage.size), instructions: instructionCount, guestPSW: guestPSW)
    }

    /// Runs a bare machine to its end within `budget` instructions and snapshots it.
    public func runToEnd(budget: UInt64) -> Snapshot {
        snapshot(outcome: Outcome(run(budget: budget)))
    }
}

extension Outcome {
    /// How a bare machine's run ended (`.trap` and `.system` happen only under
    /// a monitor's trap policy; they count as unfinished).
    public init(_ exit: RunExit) {
        switch exit {
        case .halted(let c): self = .halted(c)
        case .checkstop: self = .checkstop
        case .budget, .trap, .system: self = .budget
        }
    }
}
