import Machine
import Testing

/// SPEC section 6's table, cell by cell, for the built-in profiles (Swift Testing, parameterized).
struct ProfileDispositionTests {
    /// Which system instructions execute in user mode on each profile (all others trap).
    static let executesInUserMode: [String: Set<SystemInstruction>] = [
        "pg32v": [],
        "pg32h": [.jrstu],
        "pg32x": [.getm, .getl, .getb, .jrstu, .setm],
    ]

    @Test("every cell of the privilege map", arguments: Profile.builtIn)
    func userModeDispositions(profile: Profile) throws {
        let executes = try #require(Self.executesInUserMode[profile.name])
        for inst in SystemInstruction.allCases {
            let d = profile.disposition(of: inst, in: .user)
            if executes.contains(inst) {
                #expect(d != .trap, "\(inst) executes in user mode on \(profile.name)")
            } else {
                #expect(d == .trap, "\(inst) traps in user mode on \(profile.name)")
            }
            #expect(profile.disposition(of: inst, in: .supervisor) == .execute(keepMode: false),
                    "supervisor mode executes \(inst) on \(profile.name)")
        }
    }

    @Test("pg32x's SETM keeps the mode; nothing else does")
    func onlySetmIgnoresTheMode() {
        for profile in Profile.builtIn {
            for inst in SystemInstruction.allCases {
                let keeps = profile.disposition(of: inst, in: .user) == .execute(keepMode: true)
                #expect(keeps == (profile == .pg32x && inst == .setm), "\(inst) on \(profile.name)")
            }
        }
    }

    @Test("index and init(index:) are inverse, and follow funct7", arguments: SystemInstruction.allCases)
    func indexRoundTrip(inst: SystemInstruction) {
        #expect(SystemInstruction(index: inst.index) == inst)
        #expect(UInt32(inst.index) == inst.opcode.info.funct7)
    }
}
