import Machine
import XCTest

/// A host that runs one guest under VX (SPEC section 11): host code at 0x1000
/// does `VMRUN x5` with the control block at 0x2000, then `HALT x0`; G lives
/// at k = 0x10000, w = 0x8000, its code at G's 0x1000 and a handler at G's
/// 0x800 that halts with 0x55 (so a trap taken in G ends in exit 6, value 0x55).
struct VXRig {
    static let k = 0x10000, w = 0x8000, block = 0x2000, q = 0x20000
    static let vmrunPC: UInt32 = 0x1008
    let m: Machine

    init(_ guest: [Instruction], profile: Profile = .pg32v, psw: PSW? = nil, controls: ExitControls = .none,
         quota: UInt32 = 0, entryPending: Bool = false, k: UInt32 = UInt32(VXRig.k), w: UInt32 = UInt32(VXRig.w)) {
        m = machine(Asm.li(5, UInt32(VXRig.block)) + [Instruction(.vmrun, rs1: 5), Asm.halt(0)],
                    profile: profile, memory: VXRig.q)
        let g = PSW(mode: .supervisor, pc: 0x1000, l: 0, b: UInt32(VXRig.w))
        ControlBlock(psw: psw ?? g, k: k, w: w, controls: controls, quota: quota, trapEntryPending: entryPending)
            .store(into: m.storage, at: VXRig.block)
        place(guest, in: m, at: UInt32(VXRig.k) + 0x1000)
        place(Asm.li(31, 0x55) + [Asm.halt(31)], in: m, at: UInt32(VXRig.k) + 0x800)
        setGuestNewPSW(PSW(mode: .supervisor, pc: 0x800, l: 0, b: UInt32(VXRig.w)))
    }

    func setGuestNewPSW(_ psw: PSW) {
        for (i, w) in psw.words.enumerated() { m.storage.store32(VXRig.k + LowCore.newPSW + 4 * i, w) }
    }

    /// The block as the exit left it.
    var exit: ControlBlock { ControlBlock(loadingFrom: m.storage, at: VXRig.block) }

    /// Runs the host to its HALT (fails the test otherwise) and returns the exit.
    @discardableResult
    func run(file: StaticString = #filePath, line: UInt = #line) -> ControlBlock {
        let r = m.run(budget: 10_000)
        XCTAssertEqual(r, .halted(0), "the host halts after its VMRUN", file: file, line: line)
        XCTAssertEqual(m.psw.pc, VXRig.vmrunPC + 8, "the host went on after its VMRUN", file: file, line: line)
        return exit
    }
}

final class VXTests: XCTestCase {
    let gcode: UInt32 = 0x1000

    func testHaltAndOutExits() {
        let halt = VXRig(Asm.li(10, 7) + [Asm.halt(10)])
        var e = halt.run()
        XCTAssertEqual(e.exitReason, .halt)
        XCTAssertEqual(e.value, 7)
        XCTAssertEqual(e.word, Asm.halt(10).encoded)
        XCTAssertEqual(e.psw.pc, gcode + 12, "P + 4")
        // Host: li (2), VMRUN, HALT; G: li (2), HALT.
        XCTAssertEqual(halt.m.instructionCount, 7)

        let out = VXRig(Asm.li(10, 0x1241) + [Instruction(.out, rs1: 10)])
        e = out.run()
        XCTAssertEqual(e.exitReason, .out)
        XCTAssertEqual(e.value, 0x41, "the low byte")
        XCTAssertEqual(e.psw.pc, gcode + 12)
        XCTAssertTrue(out.m.console.isEmpty, "OUT in G is an exit, not the host's console")
    }

    func testTrapExitOrDeliveryInG() {
        let exits = VXRig([Instruction(.ecall)], controls: .on(.svc))
        var e = exits.run()
        XCTAssertEqual(e.exitReason, .svc)
        XCTAssertEqual(e.value, 0)
        XCTAssertEqual(e.word, InstructionTable.ecallWord)
        XCTAssertEqual(e.psw.pc, gcode, "the trapping instruction")
        XCTAssertEqual(exits.m.instructionCount, 5, "the trapping instruction counts")
        XCTAssertEqual(exits.m.storage.load32(VXRig.k + LowCore.cause), 0, "not taken in G")

        let delivered = VXRig([Instruction(.ecall)])
        e = delivered.run()
        XCTAssertEqual(e.exitReason, .halt)
        XCTAssertEqual(e.value, 0x55, "G's own handler ran")
        let s = delivered.m.storage
        XCTAssertEqual(s.load32(VXRig.k + LowCore.cause), TrapCause.svc.rawValue)
        XCTAssertEqual(s.load32(VXRig.k + LowCore.oldPSW + 4), gcode, "G's old PSW in G's low core")
        for a in stride(from: 0, to: LowCore.end, by: 4) where a < LowCore.newPSW || a >= LowCore.cause {
            XCTAssertEqual(s.load32(a), 0, "host low core at \(hex(a)) untouched: an exit is not a trap")
        }
    }

    func testMemoryExitsCarryTheAddressAndTheWord() {
        let load = Instruction(.lw, rd: 1, rs1: 2, imm: 0)
        let data = VXRig(Asm.li(2, 0x8000) + [load], controls: .on(.memory))
        var e = data.run()
        XCTAssertEqual(e.exitReason, .memory)
        XCTAssertEqual(e.value, 0x8000, "G's bound is its w, not the host's q")
        XCTAssertEqual(e.word, load.encoded)
        XCTAssertEqual(e.psw.pc, gcode + 8)

        // A fetch that fails: value P, word 0, not counted.
        let fetch = VXRig([], psw: PSW(mode: .supervisor, pc: 0x9000, l: 0, b: 0x10000), controls: .on(.memory))
        e = fetch.run()
        XCTAssertEqual(e.exitReason, .memory)
        XCTAssertEqual(e.value, 0x9000)
        XCTAssertEqual(e.word, 0)
        XCTAssertEqual(fetch.m.instructionCount, 4, "host only: the failed fetch is not counted")
    }

    func testSystemInstructionExitsAndExecution() {
        let setr = Instruction(.setr, rs1: 0, rs2: 6)
        let exits = VXRig(Asm.li(6, 0x4000) + [setr, Asm.halt(0)], controls: .on(.setr))
        var e = exits.run()
        XCTAssertEqual(e.exitReason, .system)
        XCTAssertEqual(e.value, 0)
        XCTAssertEqual(e.word, setr.encoded)
        XCTAssertEqual(e.psw.pc, gcode + 8, "at the instruction")
        XCTAssertEqual(e.psw.b, UInt32(VXRig.w), "not executed")

        let runs = VXRig(Asm.li(6, 0x4000) + [setr, Asm.halt(0)], controls: .on(.lpsw))
        e = runs.run()
        XCTAssertEqual(e.exitReason, .halt)
        XCTAssertEqual(e.psw.b, 0x4000, "executed on G's own PSW")

        let vmrun = Instruction(.vmrun, rs1: 3)
        e = VXRig([vmrun]).run()
        XCTAssertEqual(e.exitReason, .vmrun)
        XCTAssertEqual(e.word, vmrun.encoded)
        XCTAssertEqual(e.psw.pc, gcode, "the hardware does not nest: VMRUN is not executed")
    }

    func testUserModeGETLInGRevealsGsOwnRelocation() {
        let user = PSW(mode: .user, pc: 0x1000, l: 0x1000, b: 0x4000)
        let r = VXRig([], profile: .pg32x, psw: user, controls: .on(.svc))
        place([Instruction(.getl, rd: 10), Instruction(.getm, rd: 11), Instruction(.ecall)], in: r.m,
              at: UInt32(VXRig.k) + 0x2000)
        let e = r.run()
        XCTAssertEqual(e.exitReason, .svc)
        XCTAssertEqual(r.m[register: 10], 0x1000, "G's l, not the host's 0 nor k + l")
        XCTAssertEqual(r.m[register: 11], 1, "G's mode")

        // On pg32v the same GETL traps PRIVILEGED in G: exit 3 with the word as value and word.
        let v = VXRig([], profile: .pg32v, psw: user, controls: .on(.privileged))
        place([Instruction(.getl, rd: 10)], in: v.m, at: UInt32(VXRig.k) + 0x2000)
        let ev = v.run()
        XCTAssertEqual(ev.exitReason, .privileged)
        XCTAssertEqual(ev.value, Instruction(.getl, rd: 10).encoded)
        XCTAssertEqual(ev.word, ev.value)
    }

    func testQuotaCountsFetches() {
        let loop = VXRig([Instruction(.jal, rd: 0, imm: 0)], quota: 10)
        let e = loop.run()
        XCTAssertEqual(e.exitReason, .quota)
        XCTAssertEqual(e.quota, 0, "used up")
        XCTAssertEqual(e.word, 0)
        XCTAssertEqual(loop.m.instructionCount, 4 + 10)

        let partial = VXRig(Asm.li(10, 3) + [Asm.halt(10)], quota: 100)
        XCTAssertEqual(partial.run().quota, 97, "what is left")
    }

    func testCheckstopComesFirstAndTheEntryStateBitCarriesIt() {
        // ECALL taken in G with a quota of 1: the trap entry completes, then the quota exit
        // comes before its first fetch: entry state 1, the (unusable) new PSW stored.
        let unusable = PSW(mode: .supervisor, pc: 0x802, l: 0, b: UInt32(VXRig.w))
        let r = VXRig([Instruction(.ecall)], controls: .all, quota: 1)
        r.setGuestNewPSW(unusable)
        // With every exit control set ECALL would exit; clear svc so it is taken in G.
        var b = r.exit
        b.controls = ExitControls(rawValue: ExitControls.all.rawValue & ~ExitControls.on(.svc).rawValue)
        b.store(into: r.m.storage, at: VXRig.block)
        var e = r.run()
        XCTAssertEqual(e.exitReason, .quota)
        XCTAssertEqual(e.entryState, 1)
        XCTAssertEqual(e.psw, unusable)

        // Re-entered with the bit set: checkstop, whatever the exit controls say (memory exits are on).
        let again = VXRig([], psw: unusable, controls: .all, quota: 5, entryPending: true)
        again.setGuestNewPSW(unusable)
        e = again.run()
        XCTAssertEqual(e.exitReason, .checkstop)
        XCTAssertEqual(e.entryState, 1)
        XCTAssertEqual(e.psw, unusable)
        XCTAssertEqual([e.value, e.word], [0, 0])
        XCTAssertEqual(e.quota, 5, "nothing ran")

        // Entered with the bit clear: an ordinary fetch, so a memory trap taken in G,
        // whose own entry then fails: checkstop with G's low core holding the memory trap.
        let ordinary = VXRig([], psw: unusable, quota: 5)
        ordinary.setGuestNewPSW(unusable)
        e = ordinary.run()
        XCTAssertEqual(e.exitReason, .checkstop)
        XCTAssertEqual(ordinary.m.storage.load32(VXRig.k + LowCore.cause), TrapCause.memory.rawValue)
        XCTAssertEqual(ordinary.m.storage.load32(VXRig.k + LowCore.value), 0x802)

        // A spent quota exits before even a fetch that would fail: a quota of 1 spent by the
        // ECALL above, re-entered pending with a quota of 1 that one good instruction spends.
        let spentFirst = VXRig([Instruction(.addi)], quota: 1)
        spentFirst.setGuestNewPSW(unusable)
        place([Instruction(.jal, rd: 0, imm: 0x800 - 0x1004)], in: spentFirst.m, at: UInt32(VXRig.k) + 0x1004)
        XCTAssertEqual(spentFirst.run().exitReason, .quota, "the next fetch is never attempted")
    }

    func testRefusedEntriesWriteOnlyReasonValueAndWord() {
        let q = UInt32(VXRig.q)
        let cases: [(k: UInt32, w: UInt32, why: String)] = [
            (0x10000, 0x8001, "w not a multiple of 4096"),
            (0x10000, 0, "w < 4096"),
            (0x10000, 0x800, "w < 4096"),
            (q - 0x1000, 0x2000, "k + w > q"),
            (0xFFFF_F000, 0x2000, "k + w overflows 32 bits"),
        ]
        for c in cases {
            let r = VXRig([Asm.halt(0)], k: c.k, w: c.w)
            r.m.storage.store32(VXRig.block + ControlBlock.Offset.mode, 0x77) // must survive
            r.m.storage.store32(VXRig.block + ControlBlock.Offset.reason, 0x99)
            r.m.storage.store32(VXRig.block + ControlBlock.Offset.entryState, 1)
            let e = r.run()
            XCTAssertEqual(e.exitReason, .refused, c.why)
            XCTAssertEqual([e.value, e.word], [0, 0], c.why)
            XCTAssertEqual(r.m.storage.load32(VXRig.block + ControlBlock.Offset.mode), 0x77, c.why)
            XCTAssertEqual(r.m.storage.load32(VXRig.block + ControlBlock.Offset.entryState), 1, c.why)
            XCTAssertEqual(r.m.instructionCount, 4, "\(c.why): no guest instruction ran")
        }
    }

    func testTheControlBlockIsOneAccessAtTheBound() {
        // R = (0, 0x2030): a block at 0x2000 has 48 bytes exactly up to the bound.
        let fits = VXRig([Asm.halt(0)])
        fits.m.psw.b = UInt32(VXRig.block + ControlBlock.size)
        XCTAssertEqual(fits.m.run(budget: 100), .halted(0), "VMRUN ran; the host's HALT at 0x100c is in bounds too")
        XCTAssertEqual(fits.exit.exitReason, .halt)

        let over = VXRig([Asm.halt(0)])
        over.m.psw.b = UInt32(VXRig.block + ControlBlock.size - 1)
        over.m.storage.store32(VXRig.block + ControlBlock.Offset.reason, 0x99)
        XCTAssertEqual(over.m.run(budget: 100), .halted(0xEE), "the host's handler took the memory trap")
        XCTAssertEqual(over.m.storage.load32(LowCore.cause), TrapCause.memory.rawValue)
        XCTAssertEqual(over.m.storage.load32(LowCore.value), UInt32(VXRig.block), "value x[rs1]")
        XCTAssertEqual(oldPSW(over.m).pc, VXRig.vmrunPC, "P at the VMRUN")
        XCTAssertEqual(over.m.storage.load32(VXRig.block + ControlBlock.Offset.reason), 0x99, "nothing else happened")
    }

    func testNothingOutsideGsStorageIsTouched() {
        // G stores at both ends of its storage and traps (taken in G) a few times.
        let program = Asm.li(1, 0xDEAD_BEEF) + Asm.li(2, UInt32(VXRig.w - 4)) + [
            Instruction(.sw, rs1: 0, rs2: 1, imm: 0x40),
            Instruction(.sw, rs1: 2, rs2: 1, imm: 0),
            Instruction(.sb, rs1: 2, rs2: 1, imm: 3),
            Instruction(.lw, rd: 3, rs1: 2, imm: 4), // traps MEMORY in G: handler halts 0x55
        ]
        let r = VXRig(program)
        let s = r.m.storage
        let canaryRanges = [0x3000..<VXRig.k, VXRig.k + VXRig.w..<VXRig.q]
        for range in canaryRanges { s.fill(range, with: 0xA5) }
        let e = r.run()
        XCTAssertEqual(e.exitReason, .halt)
        XCTAssertEqual(e.value, 0x55)
        XCTAssertEqual(s.load32(VXRig.k + VXRig.w - 4), 0xEFAD_BEEF, "sw, then sb over its top byte")
        for range in canaryRanges {
            XCTAssertTrue(s.bytes(range).allSatisfy { $0 == 0xA5 }, "storage \(range) outside E[k..k+w) touched")
        }
    }

    func testBudgetStopsInGuestModeAndResumes() {
        let program = Asm.li(10, 0) + [
            Instruction(.addi, rd: 10, rs1: 10, imm: 1),
            Instruction(.blt, rs1: 10, rs2: 11, imm: -4),
            Asm.halt(10),
        ]
        let whole = VXRig(program)
        whole.m[register: 11] = 50
        whole.run()
        let total = whole.m.instructionCount

        let split = VXRig(program)
        split.m[register: 11] = 50
        XCTAssertEqual(split.m.run(budget: 20), .budget)
        XCTAssertEqual(split.m.psw.pc, VXRig.vmrunPC, "the host's PSW at its VMRUN")
        XCTAssertNotNil(split.m.guestPSW)
        XCTAssertNotNil(split.m.snapshot(outcome: .budget).guestPSW)
        XCTAssertEqual(split.m.run(budget: 10_000), .halted(0))
        XCTAssertEqual(split.m.instructionCount, total)
        XCTAssertEqual(split.exit, whole.exit)
        XCTAssertNil(split.m.guestPSW)

        // Budget and quota spent at the same fetch: the budget stops the run, no exit.
        let both = VXRig([Instruction(.jal, rd: 0, imm: 0)], quota: 6)
        both.m.storage.store32(VXRig.block + ControlBlock.Offset.reason, 0x99)
        XCTAssertEqual(both.m.run(budget: 4 - 1 + 6), .budget)
        XCTAssertEqual(both.m.storage.load32(VXRig.block + ControlBlock.Offset.reason), 0x99, "no exit written")
        XCTAssertNotNil(both.m.guestPSW)
        XCTAssertEqual(both.m.run(budget: 100), .halted(0))
        XCTAssertEqual(both.exit.exitReason, .quota)
    }

    /// A host keeps its last G (and G shares its registers) without a
    /// reference cycle: a machine that ran VMRUN is freed like any other.
    func testAHostAndItsGAreFreed() {
        weak var host: Machine?, g: Machine?
        do {
            let r = VXRig(Asm.li(10, 7) + [Asm.halt(10)])
            r.run()
            host = r.m
            g = r.m.guestMachine
            XCTAssertNotNil(g)
        }
        XCTAssertNil(host, "the host leaked")
        XCTAssertNil(g, "its G leaked")
    }

    func testVMRUNInUserModeTrapsAndExitControlsBits() {
        XCTAssertTrue(ExitControls.all.exits(on: .setm))
        XCTAssertFalse(ExitControls(rawValue: 0xFFFF_FFFF).exits(on: .halt), "HALT has no control bit")
        XCTAssertFalse(ExitControls(rawValue: 0xFFFF_FFFF).exits(on: .out), "OUT has no control bit")
        XCTAssertEqual(ExitControls.on(.lpsw).rawValue, 1 << 9)
        XCTAssertEqual(ExitControls.on(.illegal).rawValue, 1 << 5)
        XCTAssertEqual(Instruction(.vmrun, rs1: 5).description, "vmrun   t0")
    }
}
