// The cases of `SystemInstruction`, `index` and `opcode` are generated from the
// instruction-set description (InstructionSet.generated.swift).
extension SystemInstruction {
    /// The instruction at `index` (0...9, the funct7 encoding).
    @inlinable public init(index: Int) {
        precondition(SystemInstruction.byIndex.indices.contains(index), "no system instruction has index \(index)")
        self = SystemInstruction.byIndex[index]
    }

    /// `allCases`, made once (the synthesized `allCases` builds its array on each use).
    @usableFromInline static let byIndex = allCases

    /// False only for VMRUN, which traps PRIVILEGED in user mode on every
    /// profile (SPEC section 6): a profile cannot make it anything else.
    @inlinable public var profileMayChoose: Bool { self != .vmrun }

    /// The instructions a profile gives a user-mode behaviour (all but VMRUN).
    public static let profileChosen: [SystemInstruction] = allCases.filter(\.profileMayChoose)
}

/// What a system instruction does when executed in user mode.
public enum UserAction: String, Sendable, Codable, CaseIterable {
    /// Traps PRIVILEGED (value: the instruction word).
    case trap
    /// Executes exactly as in supervisor mode (SPEC section 5).
    case execute
    /// Executes, but any effect on the mode is silently dropped: the mode stays
    /// user (x86's POPF on the interrupt flag; pg32x's SETM).
    case ignoreMode = "ignore-mode"
}

/// What a system instruction does in a given mode under a profile.
public enum SystemDisposition: Sendable, Equatable {
    /// It traps PRIVILEGED.
    case trap
    /// It executes; with `keepMode`, its effect on the mode is dropped.
    case execute(keepMode: Bool)
}

/// A privilege map: the same machine, with each system instruction's
/// user-mode behaviour given as data (SPEC section 6). Users can define more.
public struct Profile: Sendable, Hashable, Codable {
    /// Short name, e.g. `pg32v`.
    public var name: String
    /// One line for listings.
    public var summary: String
    /// User-mode behaviour, indexed by `SystemInstruction.index`.
    private var actions: [UserAction]

    /// Builds a profile; instructions not named in `user` trap (are privileged),
    /// and so does VMRUN whatever `user` says (SPEC section 6).
    public init(name: String, summary: String = "", user: [SystemInstruction: UserAction] = [:]) {
        self.name = name
        self.summary = summary
        actions = SystemInstruction.allCases.map { $0.profileMayChoose ? user[$0] ?? .trap : .trap }
    }

    /// The user-mode behaviour of `instruction`.
    @inlinable public func action(for instruction: SystemInstruction) -> UserAction {
        userActions[instruction.index]
    }

    /// What `instruction` does in `mode`: supervisor mode always executes it
    /// (SPEC section 5); user mode does what the profile says.
    @inlinable public func disposition(of instruction: SystemInstruction, in mode: Mode) -> SystemDisposition {
        guard mode == .user else { return .execute(keepMode: false) }
        switch action(for: instruction) {
        case .trap: return .trap
        case .execute: return .execute(keepMode: false)
        case .ignoreMode: return .execute(keepMode: true)
        }
    }

    /// All ten user-mode behaviours in `SystemInstruction` order (VMRUN's is always `trap`).
    public var userActions: [UserAction] { actions }

    /// pg32v: every system instruction traps in user mode. Theorem 1 holds.
    public static let pg32v = Profile(
        name: "pg32v", summary: "virtualizable: every sensitive instruction is privileged")

    /// pg32h: JRSTU executes in user mode (the PDP-10's JRST 1). Only Theorem 3 holds.
    public static let pg32h = Profile(
        name: "pg32h", summary: "hybrid-virtualizable only (PDP-10 JRST 1)",
        user: [.jrstu: .execute])

    /// pg32x: GETM/GETL/GETB reveal the real state, SETM silently ignores the mode. Neither theorem holds.
    public static let pg32x = Profile(
        name: "pg32x", summary: "not virtualizable (x86's SGDT/SMSW/POPF family)",
        user: [.getm: .execute, .getl: .execute, .getb: .execute, .jrstu: .execute, .setm: .ignoreMode])

    /// The built-in profiles.
    public static let builtIn: [Profile] = [.pg32v, .pg32h, .pg32x]

    /// Looks up a built-in profile by `v`, `h`, `x` or its full name.
    public static func named(_ s: String) -> Profile? {
        switch s.lowercased() {
        case "v", "pg32v": return .pg32v
        case "h", "pg32h": return .pg32h
        case "x", "pg32x": return .pg32x
        default: return nil
        }
    }

    private enum CodingKeys: String, CodingKey { case name, summary, user }

    /// Decodes `{"name": ..., "summary": ..., "user": {"SETR": "execute", ...}}`;
    /// unknown instruction names or actions are errors, unlisted instructions trap.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .name)
        let summary = try c.decodeIfPresent(String.self, forKey: .summary) ?? ""
        let raw = try c.decodeIfPresent([String: String].self, forKey: .user) ?? [:]
        var user: [SystemInstruction: UserAction] = [:]
        for (k, v) in raw {
            guard let inst = SystemInstruction(rawValue: k.uppercased()) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .user, in: c,
                    debugDescription: "unknown system instruction '\(k)' (expected one of \(SystemInstruction.profileChosen.map(\.rawValue).joined(separator: ", ")))")
            }
            guard inst.profileMayChoose else {
                throw DecodingError.dataCorruptedError(
                    forKey: .user, in: c,
                    debugDescription: "\(k) cannot be given a user-mode action: it traps PRIVILEGED in user mode on every profile (SPEC section 6); remove it from \"user\"")
            }
            guard let action = UserAction(rawValue: v) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .user, in: c,
                    debugDescription: "unknown action '\(v)' for \(k) (expected trap, execute or ignore-mode)")
            }
            user[inst] = action
        }
        self.init(name: name, summary: summary, user: user)
    }

    /// Encodes in the same form `init(from:)` reads.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(summary, forKey: .summary)
        var user: [String: String] = [:]
        for inst in SystemInstruction.profileChosen { user[inst.rawValue] = action(for: inst).rawValue }
        try c.encode(user, forKey: .user)
    }
}
