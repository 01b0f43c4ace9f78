import Machine
import XCTest

/// The nine system instructions in both modes under all three profiles (SPEC sections 5 and 6).
final class SystemInstructionTests: XCTestCase {
    /// Runs `inst` in user mode at 0x1000 under `profile`: returns the machine after
    /// one instruction, and whether it trapped PRIVILEGED.
    private func inUserMode(_ inst: Instruction, profile: Profile, setup: (Machine) -> Void = { _ in }) -> (Machine, trapped: Bool) {
        let m = machine([inst, Asm.halt(0)], profile: profile, mode: .user)
        setup(m)
        m.trapPolicy = .takeAndExit
        let exit = m.run(budget: 1)
        if case .trap(.privileged, let value) = exit {
            XCTAssertEqual(value, inst.encoded, "a PRIVILEGED trap's value is the instruction word")
            return (m, true)
        }
        return (m, false)
    }

    func testEveryProfileMatchesSection6() {
        let expectedExecutes: [String: Set<SystemInstruction>] = [
            "pg32v": [],
            "pg32h": [.jrstu],
            "pg32x": [.getm, .getl, .getb, .jrstu, .setm],
        ]
        for profile in Profile.builtIn {
            for s in SystemInstruction.allCases {
                let (_, trapped) = inUserMode(Instruction(s.opcode, rd: 7, rs1: 5, rs2: 6), profile: profile) { m in
                    m[register: 5] = 0x1000
                    m[register: 6] = 0x2000
                }
                XCTAssertEqual(!trapped, expectedExecutes[profile.name]!.contains(s), "\(s) in user mode on \(profile.name)")
            }
        }
    }

    func testSupervisorSemantics() {
        let m = machine(Asm.li(5, 0x5A) + [
            Instruction(.out, rs1: 5),
            Instruction(.getm, rd: 7),
            Instruction(.getl, rd: 8),
            Instruction(.getb, rd: 9),
            Instruction(.getb, rd: 0),
            Asm.halt(5),
        ])
        XCTAssertEqual(m.run(budget: 100), .halted(0x5A))
        XCTAssertEqual(m.console, [0x5A])
        XCTAssertEqual(m[register: 7], 0)
        XCTAssertEqual(m[register: 8], 0)
        XCTAssertEqual(m[register: 9], 65536)
        XCTAssertEqual(m[register: 0], 0)
        XCTAssertEqual(m.psw.pc, 0x1000 + 4 * 8, "HALT (at 0x101c) advances P")
        XCTAssertEqual(m.status, .halted(0x5A))
    }

    func testSetrRelocatesTheNextFetch() {
        // SETR (0x1000, 0x2000): the next P (0x100C) is read under the new R, at physical 0x200C.
        let m = machine(Asm.li(5, 0x1000) + [Instruction(.lui, rd: 6, imm: 0x2000), Instruction(.setr, rs1: 5, rs2: 6)])
        place(Asm.li(7, 77) + [Asm.halt(7)], in: m, at: 0x200C)
        XCTAssertEqual(m.run(budget: 100), .halted(77))
        XCTAssertEqual(m.psw, PSW(mode: .supervisor, pc: 0x1018, l: 0x1000, b: 0x2000))
    }

    func testLpswLoadsAllFourWordsAndMasksTheMode() {
        let m = machine(Asm.li(5, 0x4000) + [Instruction(.lpsw, rs1: 5)])
        for (i, w) in [UInt32(0xFFFF_FFFF), 0x100, 0x3000, 0x1000].enumerated() { m.storage.store32(0x4000 + 4 * i, w) }
        m.trapPolicy = .takeAndExit
        // In user mode at l = 0x3000: P = 0x100 is physical 0x3100, where SVC traps.
        place([Instruction(.ecall)], in: m, at: 0x3100)
        XCTAssertEqual(m.run(budget: 100), .trap(.svc, value: 0))
        XCTAssertEqual(oldPSW(m), PSW(mode: .user, pc: 0x100, l: 0x3000, b: 0x1000))
    }

    func testLpswOutOfBoundsIsAMemoryTrapOnX_rs1() {
        let m = machine(Asm.li(5, 65536 - 12) + [Instruction(.lpsw, rs1: 5)])
        m.trapPolicy = .takeAndExit
        XCTAssertEqual(m.run(budget: 100), .trap(.memory, value: 65536 - 12), "16 bytes checked as one access")
        XCTAssertEqual(oldPSW(m).pc, 0x1008)
    }

    func testJrstuEntersUserModeAndSetmChangesModeInSupervisor() {
        let m = machine(Asm.li(5, 0x1010) + [Instruction(.jrstu, rs1: 5), Asm.halt(0), Instruction(.getm, rd: 7)])
        m.trapPolicy = .takeAndExit
        // getm in user mode on pg32v traps PRIVILEGED: proves the mode changed.
        XCTAssertEqual(m.run(budget: 100), .trap(.privileged, value: Instruction(.getm, rd: 7).encoded))
        XCTAssertEqual(oldPSW(m), PSW(mode: .user, pc: 0x1010, l: 0, b: 65536))

        let s = machine(Asm.li(5, 1) + [Instruction(.setm, rs1: 5), Instruction(.getm, rd: 7)])
        s.trapPolicy = .takeAndExit
        XCTAssertEqual(s.run(budget: 100), .trap(.privileged, value: Instruction(.getm, rd: 7).encoded))
    }

    func testPg32xUserModeRevealsRealStateAndIgnoresSetm() {
        // Relocated user code at l = 0x2000: the GETL at P = 0x1000 is physical 0x3000.
        let (m, trapped) = inUserMode(Instruction(.getl, rd: 7), profile: .pg32x) { m in
            m.psw.l = 0x2000
            m.psw.b = 0x4000
            place([Instruction(.getl, rd: 7)], in: m, at: 0x3000)
        }
        XCTAssertFalse(trapped)
        XCTAssertEqual(m[register: 7], 0x2000, "the real l, not a virtual one")
        let (s, t2) = inUserMode(Instruction(.setm, rs1: 0), profile: .pg32x)
        XCTAssertFalse(t2)
        XCTAssertEqual(s.psw.mode, .user, "SETM 0 in user mode on pg32x leaves the mode alone")
        XCTAssertEqual(s.psw.pc, 0x1004)
    }

    func testPg32hJrstuInUserModeStaysInUserMode() {
        let (m, trapped) = inUserMode(Instruction(.jrstu, rs1: 5), profile: .pg32h) { m in m[register: 5] = 0x1004 }
        XCTAssertFalse(trapped)
        XCTAssertEqual(m.psw.mode, .user)
        XCTAssertEqual(m.psw.pc, 0x1004)
    }

    func testUserProfileFromData() throws {
        let json = #"{"name": "setr-open", "user": {"SETR": "execute", "LPSW": "ignore-mode"}}"#
        let p = try JSONDecoder().decode(Profile.self, from: Data(json.utf8))
        XCTAssertEqual(p.action(for: .setr), .execute)
        XCTAssertEqual(p.action(for: .lpsw), .ignoreMode)
        XCTAssertEqual(p.action(for: .halt), .trap)
        let (m, trapped) = inUserMode(Instruction(.setr, rs1: 5, rs2: 6), profile: p) { m in
            m[register: 5] = 0
            m[register: 6] = 0x3000
        }
        XCTAssertFalse(trapped)
        XCTAssertEqual(m.psw.b, 0x3000)
        // ignore-mode LPSW: loads P and R, keeps user mode
        let (l, t2) = inUserMode(Instruction(.lpsw, rs1: 5), profile: p) { m in
            m[register: 5] = 0x4000
            for (i, w) in [UInt32(0), 0x1004, 0, 0x8000].enumerated() { m.storage.store32(0x4000 + 4 * i, w) }
        }
        XCTAssertFalse(t2)
        XCTAssertEqual(l.psw, PSW(mode: .user, pc: 0x1004, l: 0, b: 0x8000))
        XCTAssertThrowsError(try JSONDecoder().decode(Profile.self, from: Data(#"{"name":"x","user":{"SETX":"trap"}}"#.utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(Profile.self, from: Data(#"{"name":"x","user":{"SETR":"maybe"}}"#.utf8)))
    }

    func testIllegalComesBeforePrivileged() {
        let word: UInt32 = 0x1400_000B // funct7 10: no instruction
        let m = machine([], mode: .user)
        m.storage.store32(0x1000, word)
        m.trapPolicy = .takeAndExit
        XCTAssertEqual(m.run(budget: 10), .trap(.illegal, value: word))
    }

    func testVMRUNIsPrivilegedInUserModeOnEveryProfile() {
        let word: UInt32 = 0x1200_000B // funct7 9: VMRUN x0 (SPEC version 2)
        for profile in Profile.builtIn + [Profile(name: "open", user: [.vmrun: .execute])] {
            let m = Machine(memorySize: 1 << 16, profile: profile)
            m.psw = PSW(mode: .user, pc: 0x1000, l: 0, b: 1 << 16)
            m.storage.store32(0x1000, word)
            m.trapPolicy = .takeAndExit
            XCTAssertEqual(m.run(budget: 10), .trap(.privileged, value: word), profile.name)
        }
        XCTAssertThrowsError(try JSONDecoder().decode(Profile.self, from: Data(#"{"name":"x","user":{"VMRUN":"execute"}}"#.utf8))) { e in
            XCTAssertTrue("\(e)".contains("every profile"), "\(e)")
        }
    }
}
