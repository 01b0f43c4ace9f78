import Foundation
import Guests
import Machine
@testable import Translator
import TrapVMM
import XCTest

/// What only the native backend does: generated code for every innocuous
/// instruction against the reference interpreter, the JIT as the hardware
/// of a bare run, chaining, and W^X.
final class JITTests: XCTestCase {
    override func setUpWithError() throws {
        if let why = JITTranslator.unavailableReason { throw XCTSkip(why) }
    }

    /// Whether the runs use guarded views (no access checked, faults caught)
    /// or check every access; the tests named `...WithCheckedAccesses` run a test of the other with false.
    private var guarded = true

    func testRandomProgramsWithCheckedAccesses() throws { guarded = false; try testRandomProgramsMatchTheReferenceInterpreter() }
    func testBudgetsWithCheckedAccesses() throws { guarded = false; try testJumpsInsideABlockChargeTheBudgetExactly() }
    func testLoopRegistersWithCheckedAccesses() throws { guarded = false; try testLoopsWithRegistersOfTheirOwn() }
    func testElidedChecksWithCheckedAccesses() throws { guarded = false; try testElidedBoundChecksTrapWhereTheReferenceDoes() }
    func testRunsWithCheckedAccesses() throws { guarded = false; try testChecksForSeveralAccessesStepWhereOneIsOut() }
    func testOperandShapesWithCheckedAccesses() throws { guarded = false; try testEveryOperandShapeIncludingX0() }
    func testTheEdgeWithCheckedAccesses() throws { guarded = false; try testBoundsChecksAtTheEdge() }
    func testOffsetsWithCheckedAccesses() throws { guarded = false; try testOneAccessAtAnOffsetAroundTheBound() }
    func testNarrowedBoundWithCheckedAccesses() throws { guarded = false; try testOffsetChecksFollowANarrowedBound() }
    func testShrunkenBoundWithCheckedAccesses() throws { guarded = false; try testLinkedJumpPastAShrunkenBoundTraps() }
    func testStoresIntoCodeWithCheckedAccesses() throws { guarded = false; try testStoresOverlappingTranslatedCodeAtEveryOffset() }
    func testBoundInsideAPageWithCheckedAccesses() throws { guarded = false; try testABoundInsideAPage() }
    func testUnalignedRelocationWithCheckedAccesses() throws { guarded = false; try testStoresIntoCodeUnderAnUnalignedRelocation() }
    func testScaledLoadsWithCheckedAccesses() throws { guarded = false; try testScaledLoadsStepWhereTheGuestsAddressWraps() }
    func testBelowAddressZeroWithCheckedAccesses() throws { guarded = false; try testAccessesBelowAddressZeroTrapUnderEveryRelocation() }
    func testWarmStartWithCheckedAccesses() throws { guarded = false; try testAWarmStartReadsTheNewStorage() }
    func testCallsAndReturnsWithCheckedAccesses() throws { guarded = false; try testCallsAndReturnsInEveryShape() }

    /// Storage is a memory file here, so the JIT runs with guarded views
    /// (unless THIRDGEN_JIT_GUARD=off): no access of a block is checked, and
    /// one past the bound faults into the reference interpreter, which traps.
    func testGuardedViewsAreUsedAndFaultIntoTheInterpreter() throws {
        guard JITTranslator.guardedViewsByDefault else { throw XCTSkip("THIRDGEN_JIT_GUARD=off") }
        let code = JITTests.li(1, UInt32(JITTests.memory) - 2) + [Instruction(.jal, imm: 4), Instruction(.lw, rd: 2, rs1: 1, imm: 0),
                                                                   Instruction(.halt, rs1: 0)]
        let img = JITTests.image(code)
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 100)
        XCTAssertEqual(reference.outcome, .halted(TrapCause.memory.rawValue))
        let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
        XCTAssertNotNil(machine.storage.file, "storage is a memory file")
        let jit = try BareJIT(machine: machine)
        let exit = jit.run(budget: 100)
        XCTAssertTrue(jit.processor.state(for: machine).code.guarded)
        XCTAssertNil(machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference))
        XCTAssertEqual(jit.counters.instructionsStepped, 1, "the load faulted and was stepped")
    }

    /// One engine at a time holds the low reservation, whose view code names
    /// in displacements (`LowReservation`): the first guarded engine; one
    /// made while it lives uses a view anywhere, with r13; once the first is
    /// gone the next takes it. Each run ends as the reference does: a loop of
    /// loads and stores over the data, then a load past the bound that faults
    /// in the view and is stepped into the trap.
    func testTheLowReservationIsOneEnginesAtATime() throws {
        guard JITTranslator.guardedViewsByDefault, getenv("THIRDGEN_JIT_LOW") == nil else {
            throw XCTSkip("guarded views or the low reservation are switched off")
        }
        let img = JITTests.image(JITTests.sumsTheData)
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
        XCTAssertEqual(reference.outcome, .halted(TrapCause.memory.rawValue))
        func engine() throws -> BareJIT {
            let jit = try BareJIT(machine: Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v))
            let exit = jit.run(budget: 10_000)
            XCTAssertNil(jit.machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference))
            XCTAssertEqual(jit.counters.instructionsStepped, 1, "the load past the bound faulted and was stepped")
            return jit
        }
        func holds(_ jit: BareJIT) -> Bool { jit.processor.state(for: jit.machine).code.holdsLowReservation }
        var first: BareJIT? = try engine()
        XCTAssertTrue(holds(first!), "the first engine holds the low reservation")
        let second = try engine()
        XCTAssertFalse(holds(second), "one engine at a time")
        first = nil
        XCTAssertTrue(holds(try engine()), "the next engine takes it once the first is gone")
    }

    /// The low reservation outlives its engines, so the window of the last
    /// view made there must go when its engine does: engine A loads its
    /// storage's word at 0x5000 and goes; engine B runs under a bound of
    /// 0x4000 (its window smaller), and the same load, past its bound, traps
    /// as the reference's does instead of reading A's storage through pages
    /// left mapped.
    func testTheLowReservationKeepsNoWindowOfAnEngineGone() throws {
        guard JITTranslator.guardedViewsByDefault, getenv("THIRDGEN_JIT_LOW") == nil else {
            throw XCTSkip("guarded views or the low reservation are switched off")
        }
        let code = JITTests.li(1, 0x5000) + [Instruction(.jal, imm: 4), Instruction(.lw, rd: 2, rs1: 1, imm: 0),
                                              Instruction(.halt, rs1: 0)]
        let img = JITTests.image(code, words: [(0x5000, 0x5EC7_E7)])
        func machine(bound b: UInt32) -> Machine {
            let m = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
            m.psw = PSW(mode: m.psw.mode, pc: m.psw.pc, l: 0, b: b)
            return m
        }
        var a: BareJIT? = try BareJIT(machine: machine(bound: UInt32(JITTests.memory)))
        _ = a!.run(budget: 1_000)
        XCTAssertEqual(a!.machine.registers[2], 0x5EC7_E7, "A read its word")
        XCTAssertTrue(a!.processor.state(for: a!.machine).code.holdsLowReservation, "A held the low reservation")
        a = nil
        let reference = machine(bound: 0x4000).runToEnd(budget: 1_000)
        XCTAssertEqual(reference.outcome, .halted(TrapCause.memory.rawValue), "the load past B's bound traps")
        let b = try BareJIT(machine: machine(bound: 0x4000))
        let exit = b.run(budget: 1_000)
        XCTAssertTrue(b.processor.state(for: b.machine).code.holdsLowReservation, "B holds it after A")
        XCTAssertNil(b.machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference))
    }

    /// Blocks whose accesses name their view's address cache a guest register
    /// in r13, so a block of theirs remade with checks after a fault must
    /// name it too, never add r13: block A, ten registers used all over it,
    /// jumps to block B, whose scaled load faulted once (its index, -1,
    /// wraps the guest's address at 32 bits and the fused 64-bit one past
    /// the view), and each later turn enters the checked B from A, chained,
    /// with A's guest register in r13.
    func testACheckedBlockAfterOneCachingR13NamesTheView() throws {
        let regs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 16]
        var code: [Instruction] = []
        for (i, r) in regs.enumerated() { code += JITTests.li(r, 0x1357_9BDF &* UInt32(i + 1)) }
        code += JITTests.li(17, 0xFFFF_FFFF) + JITTests.li(18, 0x3004) + JITTests.li(12, 6)
        code.append(Instruction(.jal, imm: 4))
        let a = code.count // block A
        for round in 0..<2 {
            for (i, r) in regs.enumerated() {
                code.append(Instruction(round == 0 ? .add : .xor, rd: r, rs1: r, rs2: regs[(i + 1) % regs.count]))
            }
        }
        code.append(Instruction(.jal, imm: 4))
        let b = code.count // block B: x13 = word at x18 + 4 * x17, summed into x14
        code += [Instruction(.slli, rd: 15, rs1: 17, imm: 2), Instruction(.add, rd: 15, rs1: 18, rs2: 15),
                 Instruction(.lw, rd: 13, rs1: 15, imm: 0), Instruction(.add, rd: 14, rs1: 14, rs2: 13),
                 Instruction(.addi, rd: 12, rs1: 12, imm: -1), Instruction(.bne, rs1: 12, rs2: 0, imm: Int32(4 * (a - b - 5))),
                 Instruction(.halt, rs1: 0)]
        let img = JITTests.image(code, words: [(0x3000, 0x0BAD_F00D)])
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
        XCTAssertEqual(reference.outcome, .halted(0))
        XCTAssertEqual(reference.registers[14], 6 &* 0x0BAD_F00D, "six loads from 0x3000")
        let jit = try assertBothJITsEnd(like: reference, img, budget: 10_000)
        if guarded {
            XCTAssertEqual(jit.counters.invalidations, 1, "the block whose load faulted was remade with checks, once")
            XCTAssertLessThanOrEqual(jit.counters.instructionsStepped, 6, "B's six ops stepped from the shift once; none since")
        }
    }

    /// Two computed-jump targets whose P share a set of the jump cache
    /// (0x1400 and 0x1C00, 2 KiB apart), called in turn a hundred times: both
    /// stay in the set's two ways, so only the first calls miss (a
    /// direct-mapped cache missed every call), and the run ends as the
    /// reference's does.
    func testJumpTargetsSharingASetAreBothFound() throws {
        var code = JITTests.li(5, 0x1400) + JITTests.li(6, 0x1C00) + JITTests.li(7, 100)
        let loop = code.count
        code += [Instruction(.jalr, rd: 1, rs1: 5, imm: 0), Instruction(.jalr, rd: 1, rs1: 6, imm: 0),
                 Instruction(.addi, rd: 7, rs1: 7, imm: -1)]
        code += [Instruction(.bne, rs1: 7, rs2: 0, imm: Int32(4 * (loop - code.count))), Instruction(.halt, rs1: 0)]
        let routines = [(0x1400, Instruction(.addi, rd: 8, rs1: 8, imm: 1)), (0x1C00, Instruction(.addi, rd: 9, rs1: 9, imm: 2))]
        let words = routines.flatMap { at, body in [(at, body.encoded), (at + 4, Instruction(.jalr, rs1: 1, imm: 0).encoded)] }
        XCTAssertEqual(JumpCache.set(0x1400), JumpCache.set(0x1C00), "the two routines share a set")
        let img = JITTests.image(code, words: words)
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
        XCTAssertEqual(reference.outcome, .halted(0))
        XCTAssertEqual([reference.registers[8], reference.registers[9]], [100, 200])
        let jit = try assertBothJITsEnd(like: reference, img, budget: 10_000)
        XCTAssertLessThanOrEqual(jit.processor.state(for: jit.machine).code.jumpCacheMisses, 8, "misses only while the cache fills")
    }

    /// A jalr whose target the block itself sets (`auipc; jalr`, a call the
    /// linker did not relax; `lui; jalr`; a jalr from x0) becomes a direct
    /// jump in the front end, shared by both backends; one whose register a
    /// branch of the block may reach with another value (the branch lands
    /// between the constant and the jalr), or whose target is not a multiple
    /// of 4, stays computed. Each case is its own block; the ops are checked,
    /// and the bare JIT, the jit monitor and bt end where the reference does
    /// (the misaligned target's fetch trap included).
    func testJumpsWhoseTargetTheBlockSetsGoDirect() throws {
        let a = 0x1400, b = 0x1500
        func routine(_ at: Int, _ r: Int) -> [(Int, UInt32)] { // x[r] += 1, return through ra
            [(at, Instruction(.addi, rd: r, rs1: r, imm: 1).encoded), (at + 4, Instruction(.jalr, rs1: 1, imm: 0).encoded)]
        }
        var code: [Instruction] = [], cases: [(start: Int, jalr: Int, direct: UInt32?)] = []
        func block(_ body: [Instruction], direct: UInt32?) {
            code.append(Instruction(.jal, imm: 4)) // the case starts a block
            cases.append((code.count, code.count + body.count - 1, direct))
            code += body
        }
        // A call: auipc ra, 0 then jalr ra, (a - P)(ra); then rd = rs1 = ra.
        block([Instruction(.auipc, rd: 1, imm: 0), Instruction(.jalr, rd: 1, rs1: 1, imm: Int32(a - 0x1000 - 4 * (code.count + 1)))],
              direct: UInt32(a))
        // lui t0, 0x1000 then a jalr t0-relative with an op between; the routine returns to ra, set here.
        block([Instruction(.lui, rd: 5, imm: 0x1000), Instruction(.addi, rd: 6, rs1: 6, imm: 3),
               Instruction(.jalr, rd: 1, rs1: 5, imm: Int32(b - 0x1000))], direct: UInt32(b))
        // From x0: an absolute target, below 2 KiB.
        block([Instruction(.jalr, rd: 1, rs1: 0, imm: 0x700)], direct: 0x700)
        // A branch of the block skips the constant: t0 keeps what leads to routine a, set before.
        code += JITTests.li(5, UInt32(a - (b - 0x1000)))
        block([Instruction(.beq, rs1: 0, rs2: 0, imm: 8), Instruction(.lui, rd: 5, imm: 0x1000),
               Instruction(.jalr, rd: 1, rs1: 5, imm: Int32(b - 0x1000))], direct: nil)
        // A misaligned target (P + 6): not folded; the reference's fetch traps there.
        let trapAt = code.count + 1
        block([Instruction(.auipc, rd: 7, imm: 0), Instruction(.jalr, rd: 0, rs1: 7, imm: 10)], direct: nil)
        code += [Instruction(.halt, rs1: 0)]
        let img = JITTests.image(code, words: routine(a, 8) + routine(b, 9) + routine(0x700, 10))
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
        XCTAssertEqual(reference.registers[8], 2, "routine a ran twice (the call, and where the branch skipped the constant)")
        XCTAssertEqual(reference.registers[9], 1, "routine b ran once")
        XCTAssertEqual(reference.registers[10], 1, "the routine at 0x700 ran once")
        guard case .halted = reference.outcome else { return XCTFail("the reference stops at the misaligned fetch's trap") }
        XCTAssertEqual(reference.registers[20], TrapCause.memory.rawValue, "the misaligned target's fetch traps")
        XCTAssertEqual(reference.registers[21], UInt32(0x1000 + 4 * trapAt + 10), "with the target as its value")

        let cache = TranslationCache(storageSize: JITTests.memory, opCapacity: 4096)
        let storage = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).storage
        for c in cases {
            let id = try XCTUnwrap(cache.translate(pc: UInt32(0x1000 + 4 * c.start), l: 0, limit: JITTests.memory,
                                                   memory: storage.base))
            let op = cache.ops[Int(cache.blocks[Int(id)].first) + c.jalr - c.start]
            if let target = c.direct {
                XCTAssertEqual(op.kind, .jal, "case at op \(c.start)")
                XCTAssertEqual(op.imm, target, "case at op \(c.start)")
                XCTAssertEqual(Int(op.rs2), c.jalr - c.start + 1, "its place in the block, for the portable executor's link")
            } else {
                XCTAssertEqual(op.kind, .jalr, "case at op \(c.start) stays computed")
            }
        }
        try assertBothJITsEnd(like: reference, img, budget: 10_000)
        let (cp, _) = try BinaryTranslation.controlProgram(images: [img], profile: .pg32v, memorySize: JITTests.memory, budget: 10_000)
        cp.run()
        XCTAssertEqual(Verdict(run: cp.vms[0].snapshot(), reference: reference), .equivalent, "bt")
    }

    /// Calls and returns in each shape a guest can make them: a return past
    /// the call's next instruction (ra changed), calls and returns through t0
    /// (x5, RISC-V's other link register), an indirect call, a return straight
    /// to the caller's caller (a longjmp), a callee that rewrites the
    /// instruction it returns to (its block translated by the turn before), a
    /// call in a loop, and a recursion 1,500 deep. The bare JIT and the jit
    /// monitor end where the reference does; the bare JIT stops where it does
    /// for every budget through the shapes before the recursion, so that a
    /// budget runs out in a callee, at a return's target and between. (It was
    /// written for a return stack, measured and not kept: see the README.)
    func testCallsAndReturnsInEveryShape() throws {
        let skip = 0x1500, milli = 0x1580, viaPointer = 0x1600, outer = 0x1680, inner = 0x1700, rewrite = 0x1780,
            leaf = 0x1800, recurse = 0x1880
        func jal(_ rd: Int, to target: Int, from index: Int) -> Instruction {
            Instruction(.jal, rd: rd, imm: Int32(target - (0x1000 + 4 * index)))
        }
        let ret = Instruction(.jalr, rs1: 1, imm: 0)
        let bumped = Instruction(.addi, rd: 24, rs1: 24, imm: 7).encoded, plain = Instruction(.addi, rd: 24, rs1: 24, imm: 1).encoded
        var code = JITTests.li(2, 0x7000)
        code.append(jal(1, to: skip, from: code.count))
        code += [Instruction(.addi, rd: 18, rs1: 18, imm: 100), Instruction(.addi, rd: 19, rs1: 19, imm: 1)] // the first is skipped
        code.append(jal(5, to: milli, from: code.count))
        code += JITTests.li(15, UInt32(viaPointer)) + [Instruction(.jalr, rd: 1, rs1: 15, imm: 0)]
        code.append(jal(1, to: outer, from: code.count))
        code.append(Instruction(.addi, rd: 23, rs1: 23, imm: 1))
        code += JITTests.li(27, plain) + JITTests.li(28, 2)
        let rewriting = code.count
        code.append(jal(1, to: rewrite, from: code.count))
        code.append(Instruction(.addi, rd: 24, rs1: 24, imm: 1)) // rewritten by the second call, after its block ran once
        code += JITTests.li(27, bumped)
        code += [Instruction(.addi, rd: 28, rs1: 28, imm: -1)]
        code.append(Instruction(.bne, rs1: 28, rs2: 0, imm: Int32(4 * (rewriting - code.count))))
        code += [Instruction(.addi, rd: 25, rs1: 0, imm: 50)]
        let looping = code.count
        code.append(jal(1, to: leaf, from: code.count))
        code += [Instruction(.addi, rd: 25, rs1: 25, imm: -1)]
        code.append(Instruction(.bne, rs1: 25, rs2: 0, imm: Int32(4 * (looping - code.count))))
        let beforeRecursion = code.count
        code += [Instruction(.addi, rd: 10, rs1: 0, imm: 1500)]
        code.append(jal(1, to: recurse, from: code.count))
        code.append(Instruction(.halt, rs1: 0))
        func routine(_ at: Int, _ body: [Instruction]) -> [(Int, UInt32)] { body.enumerated().map { (at + 4 * $0, $1.encoded) } }
        var words = routine(skip, [Instruction(.addi, rd: 1, rs1: 1, imm: 4), ret])
        words += routine(milli, [Instruction(.addi, rd: 20, rs1: 20, imm: 1), Instruction(.jalr, rs1: 5, imm: 0)])
        words += routine(viaPointer, [Instruction(.addi, rd: 21, rs1: 21, imm: 1), ret])
        words += routine(outer, [Instruction(.addi, rd: 26, rs1: 1, imm: 0), Instruction(.jal, rd: 1, imm: Int32(inner - outer - 4)),
                                 Instruction(.addi, rd: 22, rs1: 22, imm: 100)]) // never reached: inner returns to outer's caller
        words += routine(inner, [Instruction(.addi, rd: 1, rs1: 26, imm: 0), ret])
        words += routine(rewrite, [Instruction(.sw, rs1: 1, rs2: 27, imm: 0), ret])
        words += routine(leaf, [Instruction(.addi, rd: 29, rs1: 29, imm: 1), ret])
        words += routine(recurse, [Instruction(.beq, rs1: 10, rs2: 0, imm: 32), Instruction(.addi, rd: 2, rs1: 2, imm: -8),
                                   Instruction(.sw, rs1: 2, rs2: 1, imm: 0), Instruction(.addi, rd: 10, rs1: 10, imm: -1),
                                   Instruction(.jal, rd: 1, imm: -16), Instruction(.lw, rd: 1, rs1: 2, imm: 0),
                                   Instruction(.addi, rd: 2, rs1: 2, imm: 8), Instruction(.addi, rd: 8, rs1: 8, imm: 1), ret])
        let img = JITTests.image(code, words: words)
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 100_000)
        XCTAssertEqual(reference.outcome, .halted(0))
        XCTAssertEqual([18, 19, 20, 21, 22, 23, 24, 29, 8].map { reference.registers[$0] }, [0, 1, 1, 1, 0, 1, 8, 50, 1500],
                       "skipped, t0's routine, the pointer's, past outer, the rewrite, 50 leaf calls, 1,500 levels")
        try assertBothJITsEnd(like: reference, img, budget: 100_000)
        // Every budget through the shapes before the recursion.
        let shapes = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
        while shapes.psw.pc != UInt32(0x1000 + 4 * beforeRecursion) { _ = shapes.run(budget: 1) }
        for budget in 1...shapes.instructionCount + 3 {
            let stop = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: budget)
            let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
            let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: budget)
            let difference = machine.snapshot(outcome: Outcome(exit)).firstDifference(from: stop)
            XCTAssertNil(difference, "budget \(budget)")
            if difference != nil { return }
        }
    }

    /// A block invalidated while the jump cache holds it in its set's second
    /// way leaves that way too: routine A (0x1400) is called, then B (0x1C00,
    /// the same set), which pushes A to the second way; a store rewrites A's
    /// first instruction, and the next call of A runs the new one.
    func testAnInvalidatedTargetLeavesEitherWay() throws {
        let rewritten = Instruction(.addi, rd: 8, rs1: 8, imm: 5)
        var code = JITTests.li(5, 0x1400) + JITTests.li(6, 0x1C00)
        code += [Instruction(.jalr, rd: 1, rs1: 5, imm: 0), Instruction(.jalr, rd: 1, rs1: 6, imm: 0)]
        code += JITTests.li(10, rewritten.encoded) + [Instruction(.sw, rs1: 5, rs2: 10, imm: 0)]
        code += [Instruction(.jalr, rd: 1, rs1: 5, imm: 0), Instruction(.halt, rs1: 0)]
        let routines = [(0x1400, Instruction(.addi, rd: 8, rs1: 8, imm: 1)), (0x1C00, Instruction(.addi, rd: 9, rs1: 9, imm: 2))]
        let words = routines.flatMap { at, body in [(at, body.encoded), (at + 4, Instruction(.jalr, rs1: 1, imm: 0).encoded)] }
        let img = JITTests.image(code, words: words)
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
        XCTAssertEqual(reference.outcome, .halted(0))
        XCTAssertEqual(reference.registers[8], 6, "A's first run added 1, its rewritten one 5")
        try assertBothJITsEnd(like: reference, img, budget: 10_000)
    }

    /// A warm start (`BareJIT(machine:reusingTranslationsOf:)`) runs the
    /// blocks of the run before over a new machine's storage: the view (in the
    /// low reservation, where the first engine holds it) is made again over
    /// the new storage, whose data differ, and the sums are the new ones.
    func testAWarmStartReadsTheNewStorage() throws {
        let first = JITTests.image(JITTests.sumsTheData)
        let second = JITTests.image(JITTests.sumsTheData, words: (0..<64).map { (0x3000 + 4 * $0, UInt32($0) &* 0x0101_0101) })
        let reference = Machine(booting: second, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
        XCTAssertNotEqual(reference.registers[4], Machine(booting: first, memorySize: JITTests.memory, profile: .pg32v)
            .runToEnd(budget: 10_000).registers[4], "the data differ")
        let cold = try BareJIT(machine: Machine(booting: first, memorySize: JITTests.memory, profile: .pg32v), guardedViews: guarded)
        _ = cold.run(budget: 10_000)
        let warm = try BareJIT(machine: Machine(booting: second, memorySize: JITTests.memory, profile: .pg32v), reusingTranslationsOf: cold)
        let exit = warm.run(budget: 10_000)
        XCTAssertNil(warm.machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference))
        XCTAssertEqual(warm.counters.instructionsTranslated, cold.counters.instructionsTranslated, "no block was translated again")
    }

    /// Sums the 64 words at 0x3000 into x4, storing each partial sum 0x400
    /// on and loading a halfword just before each word; then loads a word
    /// across the bound (a memory trap, which the handler halts with).
    private static let sumsTheData: [Instruction] = {
        var code = li(1, 0x3000) + li(2, 64)
        code += [Instruction(.lw, rd: 3, rs1: 1, imm: 0), Instruction(.add, rd: 4, rs1: 4, rs2: 3),
                 Instruction(.sw, rs1: 1, rs2: 4, imm: 0x400), Instruction(.lhu, rd: 5, rs1: 1, imm: -2),
                 Instruction(.addi, rd: 1, rs1: 1, imm: 4), Instruction(.addi, rd: 2, rs1: 2, imm: -1),
                 Instruction(.bne, rs1: 2, rs2: 0, imm: -24)]
        return code + li(6, UInt32(memory) - 2) + [Instruction(.lw, rd: 7, rs1: 6, imm: 0), Instruction(.halt, rs1: 0)]
    }()

    /// Code at 0x1000, data at 0x3000, a trap handler at 0x800 that halts
    /// with the cause (x20) after saving the trap value and old P (x21, x22).
    private static let memory = 0x8000
    /// `words` (address, value) replace what the image has there, then `bytes` (address, value).
    private static func image(_ code: [Instruction], words patches: [(Int, UInt32)] = [],
                              bytes: [(Int, UInt8)] = []) -> ELFImage {
        var words = [UInt32](repeating: 0, count: memory / 4)
        for (i, w) in PSW(mode: .supervisor, pc: 0x800, l: 0, b: UInt32(memory)).words.enumerated() { words[4 + i] = w }
        let handler = [Instruction(.lw, rd: 20, rs1: 0, imm: 0x20), Instruction(.lw, rd: 21, rs1: 0, imm: 0x24),
                       Instruction(.lw, rd: 22, rs1: 0, imm: 0x04), Instruction(.halt, rs1: 20)]
        for (i, inst) in handler.enumerated() { words[0x800 / 4 + i] = inst.encoded }
        for (i, inst) in code.enumerated() { words[0x1000 / 4 + i] = inst.encoded }
        for i in 0..<256 { words[0x3000 / 4 + i] = UInt32(truncatingIfNeeded: i &* 0x9E37_79B9) }
        for (address, w) in patches { words[address / 4] = w }
        for (address, b) in bytes {
            let shift = 8 * UInt32(address % 4)
            words[address / 4] = words[address / 4] & ~(0xFF << shift) | UInt32(b) << shift
        }
        return ELFImage(words: words, at: 0, entry: 0x1000)
    }

    private static func li(_ rd: Int, _ value: UInt32) -> [Instruction] {
        let lo = Int32(bitPattern: value << 20) >> 20
        let hi = value &- UInt32(bitPattern: lo)
        return [Instruction(.lui, rd: rd, imm: Int32(bitPattern: hi)), Instruction(.addi, rd: rd, rs1: rd, imm: lo)]
    }

    /// Stores `psw`'s words at x11 (through x10), for an LPSW from there: three instructions per word.
    private static func store(_ psw: PSW) -> [Instruction] {
        psw.words.enumerated().flatMap { i, w in li(10, w) + [Instruction(.sw, rs1: 11, rs2: 10, imm: Int32(4 * i))] }
    }

    /// `img` ends as `reference` did both on the bare JIT and under the control program's. Returns the bare JIT.
    @discardableResult
    private func assertBothJITsEnd(like reference: Snapshot, _ img: ELFImage, budget: UInt64,
                                   _ what: @autoclosure () -> String = "") throws -> BareJIT {
        let jit = try BareJIT(machine: Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v), guardedViews: guarded)
        let exit = jit.run(budget: budget)
        XCTAssertEqual(Verdict(run: jit.machine.snapshot(outcome: Outcome(exit)), reference: reference), .equivalent,
                       "native-jit \(what())")
        let (cp, _) = try JITTranslation.controlProgram(images: [img], profile: .pg32v, memorySize: JITTests.memory, budget: budget,
                                                        guardedViews: guarded)
        cp.run()
        XCTAssertEqual(Verdict(run: cp.vms[0].snapshot(), reference: reference), .equivalent, "jit \(what())")
        return jit
    }

    /// `code` (ending in a halt, below the data at 0x3000) halts with 0 on the
    /// reference machine, and the bare JIT ends exactly where it did. Returns the JIT.
    @discardableResult
    private func assertBareJITHaltsLikeTheReference(_ code: [Instruction], _ what: @autoclosure () -> String) throws -> BareJIT {
        XCTAssertLessThan(0x1000 + 4 * code.count, 0x3000, "the code runs into the data: \(what())")
        let img = JITTests.image(code)
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 100_000)
        XCTAssertEqual(reference.outcome, .halted(0), what())
        let jit = try BareJIT(machine: Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v), guardedViews: guarded)
        let exit = jit.run(budget: 100_000)
        XCTAssertNil(jit.machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference), what())
        return jit
    }

    /// Every innocuous opcode, many times, on edge values (0, ±1, INT_MIN,
    /// INT_MAX, shift counts past 31, addresses at and past the bound):
    /// the JIT as hardware ends exactly where the reference machine does.
    func testRandomProgramsMatchTheReferenceInterpreter() throws {
        let edges: [UInt32] = [0, 1, 0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 31, 32, 33, 0x3000, 0x3002, 0x7FFC, 0x7FFE, 0x8000]
        let innocuous = Opcode.allCases.filter {
            switch $0.group {
            case .system: return false
            default: return ![.jal, .jalr, .ecall, .ebreak, .fence, .fenceI].contains($0)
            }
        }
        var rng = SplitMix64(seed: 0x5EED)
        for trial in 0..<300 {
            var code: [Instruction] = []
            for r in 1...15 {
                let v = Bool.random(using: &rng) ? edges[Int.random(in: 0..<edges.count, using: &rng)] : UInt32.random(in: 0...UInt32.max, using: &rng)
                code += JITTests.li(r, v)
            }
            code += JITTests.li(16, 0x3000) // a base that keeps most accesses in bounds
            for _ in 0..<48 {
                var inst = Instruction.random(innocuous[Int.random(in: 0..<innocuous.count, using: &rng)], registers: 1...16, using: &rng)
                switch inst.op.info.format {
                case .load, .store:
                    inst = Instruction(inst.op, rd: inst.rd, rs1: Bool.random(using: &rng) ? 16 : inst.rs1, rs2: inst.rs2,
                                       imm: inst.imm & 0x3FF)
                case .branch:
                    inst = Instruction(inst.op, rs1: inst.rs1, rs2: inst.rs2, imm: 4 * Int32.random(in: 1...6, using: &rng))
                default:
                    break
                }
                if inst.rd == 16 { inst = Instruction(inst.op, rd: 17, rs1: inst.rs1, rs2: inst.rs2, imm: inst.imm) }
                code.append(inst)
            }
            code += [Instruction](repeating: Instruction(.addi, rd: 18, rs1: 18, imm: 1), count: 6)
            code.append(Instruction(.halt, rs1: 0))
            let img = JITTests.image(code)
            let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
            let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
            let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: 10_000)
            let snapshot = machine.snapshot(outcome: Outcome(exit))
            XCTAssertEqual(Verdict(run: snapshot, reference: reference), .equivalent, "trial \(trial)")
            if Verdict(run: snapshot, reference: reference) != .equivalent { return }
        }
    }

    /// Jumps that stay inside their block: loops back to the block's start or
    /// to an op in its middle (nested, with a forward skip inside), a jal
    /// back, forward skips over loads, stores and traps; each program run to
    /// its end and stopped by every budget from one block's length on, so
    /// that the budget runs out in every turn of every loop. Each stop must
    /// be the reference machine's: same registers, P, storage.
    func testJumpsInsideABlockChargeTheBudgetExactly() throws {
        var rng = SplitMix64(seed: 0x100B)
        let alu: [Opcode] = [.add, .sub, .xor, .or, .and, .sll, .srl, .sra, .slt, .sltu, .mul, .addi, .xori, .slli, .srai]
        for trial in 0..<40 {
            func some(_ n: ClosedRange<Int>) -> [Instruction] {
                (0..<Int.random(in: n, using: &rng)).map { _ in
                    switch Int.random(in: 0..<10, using: &rng) {
                    case 0: Instruction(.lw, rd: Int.random(in: 1...9, using: &rng), rs1: 16, imm: 4 * Int32.random(in: 0...15, using: &rng))
                    case 1: Instruction(.sw, rs1: 16, rs2: Int.random(in: 1...9, using: &rng), imm: 4 * Int32.random(in: 0...15, using: &rng))
                    // Sometimes past the bound: a memory trap inside a loop's turn.
                    case 2 where Int.random(in: 0..<8, using: &rng) == 0: Instruction(.lw, rd: 1, rs1: 17, imm: 0)
                    default: Instruction.random(alu[Int.random(in: 0..<alu.count, using: &rng)], registers: 1...9, using: &rng)
                    }
                }
            }
            /// A skip over `body` when x1 and x2 compare as `op` says.
            func skip(_ body: [Instruction]) -> [Instruction] {
                let op = [Opcode.beq, .bne, .blt, .bge, .bltu, .bgeu][Int.random(in: 0..<6, using: &rng)]
                return [Instruction(op, rs1: 1, rs2: 2, imm: 4 * Int32(body.count + 1))] + body
            }
            /// A loop of `turns` on counter x`r` around `body`; `jal` closes it with a jump back (the block's last op).
            func loop(_ r: Int, turns: UInt32, _ body: [Instruction], jal: Bool = false) -> [Instruction] {
                let head = JITTests.li(r, turns)
                if jal {
                    let exit = Instruction(.beq, rs1: r, rs2: 0, imm: 4 * Int32(body.count + 3))
                    let inner = [exit] + body + [Instruction(.addi, rd: r, rs1: r, imm: -1)]
                    return head + inner + [Instruction(.jal, imm: -4 * Int32(inner.count))]
                }
                let inner = body + [Instruction(.addi, rd: r, rs1: r, imm: -1)]
                return head + inner + [Instruction(.bne, rs1: r, rs2: 0, imm: -4 * Int32(inner.count))]
            }
            var code: [Instruction] = []
            for r in 1...9 { code += JITTests.li(r, UInt32.random(in: 0...UInt32.max, using: &rng) >> UInt32.random(in: 0...31, using: &rng)) }
            code += JITTests.li(16, 0x3000) + JITTests.li(17, UInt32(JITTests.memory))
            // The block starts here (a jump to it, so its first op is a loop target in some programs).
            let start = code.count + 1
            code.append(Instruction(.jal, imm: 4))
            var body = some(0...3)
            switch trial % 4 {
            case 0: // the loop on the block's own start
                body = loop(10, turns: UInt32.random(in: 1...6, using: &rng), some(1...4) + skip(some(1...3)) + some(0...3))
            case 1: // a loop on an op in the middle, with a nested one
                body += loop(10, turns: UInt32.random(in: 1...4, using: &rng),
                             some(0...2) + loop(11, turns: UInt32.random(in: 1...4, using: &rng), some(1...3) + skip(some(1...2))) + some(0...2))
            case 2: // closed by a jal back
                body += loop(10, turns: UInt32.random(in: 1...5, using: &rng), some(1...4) + skip(some(0...2)), jal: true)
            default: // forward skips only
                body += skip(some(1...4)) + some(0...3) + skip(some(1...5))
            }
            code += body + some(0...3) + [Instruction(.halt, rs1: 0)]
            let img = JITTests.image(code)
            let full = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
            let total = Int(full.instructions)
            for budget in Set([total, total + 1] + (start...max(start, total)).filter { _ in Int.random(in: 0..<3, using: &rng) == 0 }) {
                let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: UInt64(budget))
                let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
                let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: UInt64(budget))
                let difference = machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference)
                XCTAssertNil(difference, "trial \(trial), budget \(budget) of \(total)")
                if difference != nil { return }
            }
        }
    }

    /// Inner loops whose registers the block's choice leaves uncached (an
    /// outer loop's body uses nine others more) get a choice of their own,
    /// switched to at the loop's first op and back where it is left: by
    /// falling out of it, by a break to the outer body, by a taken branch out
    /// of the block, by a memory trap (loads past the bound), by a store into
    /// the block's own code (the same word written back), and by the budget
    /// running out in any turn. Each stop must be the reference machine's; each
    /// program's block must have got its loop allocation (the counter), or
    /// the test would check nothing new.
    func testLoopsWithRegistersOfTheirOwn() throws {
        var rng = SplitMix64(seed: 0x100C)
        let alu: [Opcode] = [.add, .sub, .xor, .or, .and, .sll, .srl, .sra, .slt, .sltu, .mul, .addi, .xori, .slli, .srai]
        func ops(_ n: Int, _ registers: ClosedRange<Int>) -> [Instruction] {
            (0..<n).map { _ in Instruction.random(alu[Int.random(in: 0..<alu.count, using: &rng)], registers: registers, using: &rng) }
        }
        for trial in 0..<24 {
            var code: [Instruction] = []
            for r in 1...9 { code += JITTests.li(r, UInt32.random(in: 0...UInt32.max, using: &rng)) }
            for r in 18...23 { code += JITTests.li(r, UInt32.random(in: 0...UInt32.max, using: &rng) >> UInt32.random(in: 0...31, using: &rng)) }
            code += JITTests.li(16, 0x3000) + JITTests.li(17, UInt32(JITTests.memory))
            code.append(Instruction(.jal, imm: 4)) // the block starts at the outer loop's head
            let start = code.count
            code += JITTests.li(10, UInt32.random(in: 1...4, using: &rng))
            let outer = code.count
            code += ops(24, 1...9)
            code += JITTests.li(11, UInt32.random(in: 1...6, using: &rng))
            let inner = code.count
            var body = ops(Int.random(in: 4...8, using: &rng), 18...23)
            switch trial % 4 {
            case 0: body.insert(Instruction(.lw, rd: 19, rs1: 16, imm: 4 * Int32.random(in: 0...15, using: &rng)), at: 1)
            case 1 where trial % 8 == 1: body.insert(Instruction(.lw, rd: 19, rs1: 17, imm: 0), at: 2) // past the bound: a trap
            case 1: body.insert(Instruction(.sw, rs1: 16, rs2: 20, imm: 4 * Int32.random(in: 0...15, using: &rng)), at: 2)
            case 2: // the same word stored over the loop's first instruction: a store into translated code
                let here = 0x1000 + 4 * UInt32(inner)
                body = JITTests.li(24, here) + [Instruction(.lw, rd: 25, rs1: 24, imm: 0), Instruction(.sw, rs1: 24, rs2: 25, imm: 0)] + body
            default: break
            }
            // Sometimes, when two of the loop's registers compare so, a break: to the outer body (past the
            // loop's last two ops), to the halt after the outer loop, or out of the block (the zero word
            // after the halt: an illegal instruction).
            let tail = 2 + Int.random(in: 0...2, using: &rng)
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: body.append(Instruction(.blt, rs1: 18, rs2: 19, imm: 4 * 3))
            case 1: body.append(Instruction(.bltu, rs1: 20, rs2: 21, imm: 4 * Int32(2 + tail + 3 + 1)))
            case 2: body.append(Instruction(.bgeu, rs1: 22, rs2: 23, imm: 4 * Int32(2 + tail + 3 + 2)))
            default: break
            }
            body.append(Instruction(.addi, rd: 11, rs1: 11, imm: -1))
            code += body + [Instruction(.bne, rs1: 11, rs2: 0, imm: -4 * Int32(body.count))]
            code += ops(tail, 1...9)
            code += [Instruction(.add, rd: 1, rs1: 1, rs2: 18), Instruction(.addi, rd: 10, rs1: 10, imm: -1)]
            code.append(Instruction(.bne, rs1: 10, rs2: 0, imm: -4 * Int32(code.count - outer)))
            code.append(Instruction(.halt, rs1: 0))
            XCTAssertLessThan(code.count - start, TranslationCache.maximumBlock, "trial \(trial): one block")
            let img = JITTests.image(code)
            let full = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 20_000)
            let total = Int(full.instructions)
            var allocated: UInt64 = 0
            for budget in Set([total, total + 1] + (start...max(start, total)).filter { _ in Int.random(in: 0..<4, using: &rng) == 0 }) {
                let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: UInt64(budget))
                let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
                let jit = try BareJIT(machine: machine, guardedViews: guarded)
                let exit = jit.run(budget: UInt64(budget))
                allocated = max(allocated, jit.counters.loopAllocations)
                let difference = machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference)
                XCTAssertNil(difference, "trial \(trial), budget \(budget) of \(total)")
                if difference != nil { return }
            }
            XCTAssertGreaterThan(allocated, 0, "trial \(trial): the inner loop got no registers of its own")
        }
    }

    /// Checks left out because an earlier access from the same base register
    /// covered the bytes: bases just below the bound and just below 2^32 (so
    /// that offsets wrap), runs of accesses at nearby offsets and widths, the
    /// base rewritten between them (by arithmetic and by a load into it), and
    /// forward skips and loops in between; each run ends where the
    /// reference machine's does (a memory trap at the same instruction, with
    /// the same address, or a halt), with the same registers and storage.
    func testElidedBoundChecksTrapWhereTheReferenceDoes() throws {
        var rng = SplitMix64(seed: 0xB0B5)
        let m = UInt32(JITTests.memory)
        let bases: [UInt32] = [m - 4, m - 8, m - 12, m - 16, 0xFFFF_FFF8, 0xFFFF_FFFC, 0xFFFF_FFF0, 0x3000, 4, 0]
        let accesses: [Opcode] = [.lb, .lbu, .lh, .lhu, .lw, .sb, .sh, .sw]
        // First the plainest cases: a skipped access checked nothing for the one after the skip; an
        // access before a loop checked nothing for the same access in the loop's later turns.
        let skipped = JITTests.li(1, m - 4) + [Instruction(.jal, imm: 4), Instruction(.beq, rs1: 9, rs2: 9, imm: 8),
                                              Instruction(.lw, rd: 5, rs1: 1, imm: 4), Instruction(.lw, rd: 6, rs1: 1, imm: 4),
                                              Instruction(.halt, rs1: 0)]
        let looped = JITTests.li(1, m - 8) + [Instruction(.jal, imm: 4), Instruction(.lw, rd: 5, rs1: 1, imm: 0),
                                             Instruction(.lw, rd: 6, rs1: 1, imm: 0), Instruction(.addi, rd: 1, rs1: 1, imm: 4),
                                             Instruction(.jal, imm: -8)]
        for program in [skipped, looped] {
            let img = JITTests.image(program)
            let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 100)
            XCTAssertEqual(reference.outcome, .halted(TrapCause.memory.rawValue), "a load traps at the bound")
            let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
            XCTAssertNil(machine.snapshot(outcome: Outcome(try BareJIT(machine: machine, guardedViews: guarded).run(budget: 100))).firstDifference(from: reference))
        }
        for trial in 0..<300 {
            var code: [Instruction] = []
            for r in 1...4 { code += JITTests.li(r, bases[Int.random(in: 0..<bases.count, using: &rng)]) }
            code += JITTests.li(9, UInt32.random(in: 0...UInt32.max, using: &rng))
            code += JITTests.li(10, 3) // a loop counter
            code.append(Instruction(.jal, imm: 4)) // the block starts here
            func access(_ base: Int) -> Instruction {
                let op = accesses[Int.random(in: 0..<accesses.count, using: &rng)], imm = Int32.random(in: -12...12, using: &rng)
                return op.info.format == .store ? Instruction(op, rs1: base, rs2: 9, imm: imm)
                                                : Instruction(op, rd: Int.random(in: 5...8, using: &rng), rs1: base, imm: imm)
            }
            var loopHead = code.count
            for i in 0..<Int.random(in: 4...14, using: &rng) {
                let base = Int.random(in: 1...2, using: &rng) // few bases, so that accesses share them
                if i == 2 { loopHead = code.count } // loops come back here, after accesses they must not rely on
                switch Int.random(in: 0..<12, using: &rng) {
                case 0: code.append(Instruction(.addi, rd: base, rs1: base, imm: Int32.random(in: -8...8, using: &rng)))
                case 1: code.append(Instruction(.lw, rd: base, rs1: 0, imm: 0x300 + 4 * Int32.random(in: 0...3, using: &rng)))
                case 2: // a skip over an access (always taken, or when x9 is nonzero), so what it checked is not known after
                    code += [Instruction(Bool.random(using: &rng) ? .beq : .bne, rs1: 9, rs2: Bool.random(using: &rng) ? 9 : 0, imm: 8),
                             access(base)]
                default: code.append(access(base))
                }
            }
            if trial % 2 == 0 { // back to an op in the middle, moving a base each turn: a loop
                let r = Int.random(in: 1...2, using: &rng)
                code += [Instruction(.addi, rd: r, rs1: r, imm: 4 * Int32.random(in: -2...2, using: &rng)),
                         Instruction(.addi, rd: 10, rs1: 10, imm: -1)]
                code.append(Instruction(.bne, rs1: 10, rs2: 0, imm: -4 * Int32(code.count - loopHead)))
            }
            code.append(Instruction(.halt, rs1: 0))
            let img = JITTests.image(code)
            let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
            let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
            let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: 10_000)
            let difference = machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference)
            XCTAssertNil(difference, "trial \(trial)")
            if difference != nil { return }
        }
    }

    /// A run of accesses from one base at offsets from 0 up is checked once,
    /// for its highest byte; where that check fails the block leaves for the
    /// reference interpreter, which must end exactly where the reference
    /// does: the first access in bounds done (a store written), the trap at
    /// the first one out, with its address; or no trap at all where the
    /// guest's addresses wrap at 2^32 back into storage (the check is made
    /// without wrapping). Runs in both orders, at offsets from 0 up and from
    /// -12 up, bases cached (used often) and not, every base from 20 bytes
    /// below the limit to 4 past it, near 0 (where a negative offset wraps)
    /// and near 2^32. Some runs must have been stepped, or the path went untested.
    func testChecksForSeveralAccessesStepWhereOneIsOut() throws {
        let m = UInt32(JITTests.memory)
        var stepped: UInt64 = 0
        let bases = Array((m - 20)...(m + 4)) + Array(0...16) + [0xFFFF_FFF0, 0xFFFF_FFF4, 0xFFFF_FFF8, 0xFFFF_FFFC, 0x3000]
        for base in bases {
            for (descending, cached, shift) in [(false, false, 0), (false, true, 0), (true, false, 0), (true, true, 0),
                                                (false, false, -12), (true, true, -12)] as [(Bool, Bool, Int32)] {
                var run = [Instruction(.sw, rs1: 1, rs2: 9, imm: 0 + shift), Instruction(.lw, rd: 5, rs1: 1, imm: 4 + shift),
                           Instruction(.sb, rs1: 1, rs2: 9, imm: 9 + shift), Instruction(.lh, rd: 6, rs1: 1, imm: 10 + shift),
                           Instruction(.lw, rd: 7, rs1: 1, imm: 12 + shift)]
                if descending { run.reverse() }
                var code = JITTests.li(1, base) + JITTests.li(9, 0xA5C3_E187)
                code.append(Instruction(.jal, imm: 4)) // the block starts here
                if cached { code += [Instruction](repeating: Instruction(.add, rd: 8, rs1: 8, rs2: 1), count: 4) }
                code += run + [Instruction(.add, rd: 8, rs1: 5, rs2: 7), Instruction(.halt, rs1: 0)]
                let img = JITTests.image(code)
                let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 1000)
                let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
                let jit = try BareJIT(machine: machine, guardedViews: guarded)
                let exit = jit.run(budget: 1000)
                stepped += jit.counters.instructionsStepped
                let difference = machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference)
                XCTAssertNil(difference, "base \(String(base, radix: 16)), descending \(descending), cached \(cached), offsets from \(shift)")
                if difference != nil { return }
            }
        }
        XCTAssertGreaterThan(stepped, 0, "no run left a block for the interpreter")
    }

    /// Every register-register and register-immediate op with each of its
    /// operands x0, a cached register (x1, x2: used throughout the block) or
    /// an uncached one (x5, x6: used once), aliased every way, each
    /// combination in a block of its own: x0 reads as 0 and its writes
    /// vanish, whatever form the code takes (a compare straight from memory,
    /// a memory-destination op, a zero constant).
    func testEveryOperandShapeIncludingX0() throws {
        let ops = Opcode.allCases.filter {
            guard $0.group == .core, $0 != .jalr else { return false }
            switch $0.info.format {
            case .r, .i, .shift: return true
            default: return false
            }
        }
        XCTAssertGreaterThan(ops.count, 20)
        let registers = [0, 1, 2, 5, 6]
        for op in ops {
            var code = JITTests.li(16, 0x3000), results = 0
            for rd in registers {
                for rs1 in registers {
                    for rs2 in op.info.format == .r ? registers : [0] {
                        for (r, v) in [(1, 0x8000_0001), (2, 0xFFFF_FFF7), (5, 0x7FFF_FFFE), (6, 33)] as [(Int, UInt32)] {
                            code += JITTests.li(r, v)
                        }
                        code.append(Instruction(.jal, imm: 4)) // a block for this combination
                        let imm: Int32 = op.info.format == .shift ? 5 : op.info.format == .i ? -3 : 0
                        code.append(Instruction(op, rd: rd, rs1: rs1, rs2: rs2, imm: imm))
                        // Uses that keep x1, x2 cached; the result is stored by the next block (storage is
                        // compared), so that here x5 and x6 are used by the op alone.
                        code += [Instruction(.add, rd: 4, rs1: 1, rs2: 2), Instruction(.xor, rd: 4, rs1: 4, rs2: 1),
                                 Instruction(.or, rd: 4, rs1: 4, rs2: 2), Instruction(.jal, imm: 4),
                                 Instruction(.sw, rs1: 16, rs2: rd, imm: Int32(4 * (results % 512)))]
                        results += 1
                    }
                }
            }
            code.append(Instruction(.halt, rs1: 0))
            let img = JITTests.image(code)
            let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 100_000)
            let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
            let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: 100_000)
            XCTAssertNil(machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference), "\(op)")
        }
    }

    /// An add and its carry with an op between them (`spreadCarry`): random
    /// triples over a few registers, so that the op in the middle reads the
    /// sum, or writes the add's operands, its sum or the carry, or neither
    /// (only then is it moved first); each triple is its own block, on edge
    /// values, and the bare JIT ends exactly where the reference does.
    func testCarriesWithAnOpBetween() throws {
        var rng = SplitMix64(seed: 0xCA44)
        let registers = [0, 1, 2, 5, 6], values: [UInt32] = [0, 1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFF7, 33]
        let middles: [Opcode] = [.add, .xor, .sltu, .mul, .addi, .slli, .srai, .lui]
        var moved = 0
        for program in 0..<6 {
            var code = JITTests.li(16, 0x3000)
            for t in 0..<60 {
                let d = [1, 2, 5, 6].randomElement(using: &rng)!
                let a0 = registers.randomElement(using: &rng)!, b0 = registers.randomElement(using: &rng)!
                guard let x = [a0, b0].filter({ $0 != d }).randomElement(using: &rng) else { continue }
                let c = registers.randomElement(using: &rng)!
                var m = Instruction.random(middles.randomElement(using: &rng)!, registers: 0...6, using: &rng)
                if Bool.random(using: &rng) { m.rd = [d, a0, b0, c].randomElement(using: &rng)! }
                if Bool.random(using: &rng) { m.rs1 = d }
                let readsD = m.op.format != .u && m.rs1 == d || m.op.format == .r && m.rs2 == d
                if !readsD, ![d, a0, b0].contains(m.rd) { moved += 1 }
                for r in [1, 2, 5, 6] { code += JITTests.li(r, values.randomElement(using: &rng)!) }
                code.append(Instruction(.jal, imm: 4)) // a block for this triple
                code += [Instruction(.add, rd: d, rs1: a0, rs2: b0), m, Instruction(.sltu, rd: c, rs1: d, rs2: x)]
                code.append(Instruction(.jal, imm: 4))
                for (i, r) in [1, 2, 5, 6].enumerated() { code.append(Instruction(.sw, rs1: 16, rs2: r, imm: Int32(16 * t + 4 * i))) }
            }
            try assertBareJITHaltsLikeTheReference(code + [Instruction(.halt, rs1: 0)], "program \(program)")
        }
        XCTAssertGreaterThan(moved, 50, "many triples have an op that may go first")
    }

    /// `add d, a, b; sltu c, d, x` (x = a or b) takes its carry from the add:
    /// every aliasing of d, a, b, c and x among cached registers (x1, x2),
    /// registers only the pair uses (x5, x6) and x0, on sums that carry and
    /// sums that do not; d and c are stored and compared, and so is every register.
    func testCarryPairs() throws {
        let registers = [0, 1, 2, 5, 6]
        var shapes = 0
        for values in [[0x8000_0001, 0xFFFF_FFF7, 0x7FFF_FFFE, 33], [1, 2, 0x7FFF_FFFF, 0x8000_0000]] as [[UInt32]] {
            for d in registers where d != 0 {
                for a0 in registers { // a program per (values, d, a): the code must fit below the data at 0x3000
                    var code = JITTests.li(16, 0x3000), results = 0
                    for b0 in registers {
                        for x in Set([a0, b0]) where x != d {
                            for c in registers {
                                for (r, v) in zip([1, 2, 5, 6], values) { code += JITTests.li(r, v) }
                                code.append(Instruction(.jal, imm: 4)) // a block for this combination
                                code += [Instruction(.add, rd: d, rs1: a0, rs2: b0), Instruction(.sltu, rd: c, rs1: d, rs2: x)]
                                code += [Instruction(.add, rd: 4, rs1: 1, rs2: 2), Instruction(.xor, rd: 4, rs1: 4, rs2: 1),
                                         Instruction(.or, rd: 4, rs1: 4, rs2: 2), Instruction(.jal, imm: 4),
                                         Instruction(.sw, rs1: 16, rs2: d, imm: Int32(8 * results)),
                                         Instruction(.sw, rs1: 16, rs2: c, imm: Int32(8 * results + 4))]
                                results += 1
                            }
                        }
                    }
                    shapes += results
                    try assertBareJITHaltsLikeTheReference(code + [Instruction(.halt, rs1: 0)], "values \(values), d = x\(d), a = x\(a0)")
                }
            }
        }
        XCTAssertGreaterThan(shapes, 300)
    }

    /// `mulhu h, a, b` or `mulh h, a, b` next to `mul l, a, b` (either op
    /// first, the operands in either order): one x86 `mul` or `imul` for
    /// both halves (`wideProduct`). Every aliasing of h and l with the
    /// operands and x0 (where the first op writes an operand of the second,
    /// the pair must not be fused), cached and crowded out, on values at
    /// the signed and unsigned edges.
    func testWideProducts() throws {
        let operands = [0, 1, 5], results = [1, 2, 5, 6]
        var shapes = 0
        for values in [[0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, 3], [0xDEAD_BEEF, 0xFFFF_FFFE, 1, 0x8000_0001]] as [[UInt32]] {
            for high in [Opcode.mulhu, .mulh] {
                for highFirst in [true, false] {
                    for a0 in operands { // a program per (values, kind, order, a): the code must fit below the data at 0x3000
                        var code = JITTests.li(16, 0x3000), n = 0
                        for b0 in operands {
                            for h in results {
                                for l in results where l != h {
                                    let crowded = (h + l + b0) % 3 == 0
                                    for (r, v) in zip([1, 2, 5, 6], values) { code += JITTests.li(r, v) }
                                    code.append(Instruction(.jal, imm: 4)) // a block for this combination
                                    let heat = crowded ? (17...26).map { Instruction(.add, rd: $0, rs1: $0, rs2: $0) } : []
                                    let hi = Instruction(high, rd: h, rs1: a0, rs2: b0)
                                    let lo = Instruction(.mul, rd: l, rs1: n % 2 == 0 ? a0 : b0, rs2: n % 2 == 0 ? b0 : a0)
                                    code += heat + heat + (highFirst ? [hi, lo] : [lo, hi]) + heat
                                    code += [Instruction(.add, rd: 4, rs1: h, rs2: l), Instruction(.xor, rd: 4, rs1: 4, rs2: h),
                                             Instruction(.jal, imm: 4),
                                             Instruction(.sw, rs1: 16, rs2: h, imm: Int32(8 * n)),
                                             Instruction(.sw, rs1: 16, rs2: l, imm: Int32(8 * n + 4))]
                                    n += 1
                                }
                            }
                        }
                        shapes += n
                        try assertBareJITHaltsLikeTheReference(code + [Instruction(.halt, rs1: 0)],
                                                               "values \(values), \(high), \(highFirst ? "high first" : "low first"), a = x\(a0)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(shapes, 300)
    }

    /// `slli t, x, s; srai t, t, 31; and t, t, m`: (x & 1 << (31 - s)) != 0 ?
    /// m : 0 as a test and a cmov (`bitMask`). Each shift at the edges, x with
    /// the bit set and clear, t aliasing x, m aliasing x, m = x0, the and's
    /// operands in either order, cached and crowded out; and the near misses
    /// that must not be fused (srai by 30, an and into another register, the
    /// broadcast bit masked with itself), all against the reference.
    func testBitMasks() throws {
        let x = 5, m = 6, t = 9
        var code: [Instruction] = [], n = 0
        for s: Int32 in [0, 1, 15, 30, 31] {
            for xv: UInt32 in [0, 1, 0x8000_0000, 0xFFFF_FFFF, 0x1234_5678, 0x7FFF_FFFE] {
                for (i, (xr, mr, tr)) in [(x, m, t), (t, m, t), (x, x, t), (x, 0, t), (m, m, t)].enumerated() {
                    let swapped = (i + Int(s)) % 2 == 1, crowded = (i + Int(xv & 7)) % 3 == 0
                    code += JITTests.li(x, xv) + JITTests.li(m, 0xEDB8_8320) + JITTests.li(t, xv ^ 0x5555_5555)
                    if xr == t { code += JITTests.li(t, xv) } // x is t: the shift reads t
                    code.append(Instruction(.jal, imm: 4)) // a block for this case
                    let heat = crowded ? [11, 12, 13, 14, 15, 17, 18, 19, 20, 21].map { Instruction(.add, rd: $0, rs1: $0, rs2: $0) } : []
                    code += heat + heat
                    code += [Instruction(.slli, rd: tr, rs1: xr, imm: s), Instruction(.srai, rd: tr, rs1: tr, imm: 31),
                             swapped ? Instruction(.and, rd: tr, rs1: mr, rs2: tr) : Instruction(.and, rd: tr, rs1: tr, rs2: mr)]
                    code += [Instruction(.xor, rd: 26, rs1: 26, rs2: tr), Instruction(.slli, rd: 26, rs1: 26, imm: 1),
                             Instruction(.add, rd: 27, rs1: 27, rs2: xr)] + heat
                    code += [Instruction(.jal, imm: 4), Instruction(.sw, rs1: 16, rs2: tr, imm: Int32(4 * (n % 256)))]
                    n += 1
                }
                // Near misses: srai by 30; the and into another register (t stays visible); t masked with itself.
                code += JITTests.li(x, xv) + JITTests.li(m, 0xEDB8_8320) + [Instruction(.jal, imm: 4)]
                code += [Instruction(.slli, rd: t, rs1: x, imm: s), Instruction(.srai, rd: t, rs1: t, imm: 30),
                         Instruction(.and, rd: t, rs1: t, rs2: m), Instruction(.xor, rd: 28, rs1: 28, rs2: t),
                         Instruction(.slli, rd: t, rs1: x, imm: s), Instruction(.srai, rd: t, rs1: t, imm: 31),
                         Instruction(.and, rd: 10, rs1: t, rs2: m), Instruction(.xor, rd: 28, rs1: 28, rs2: t),
                         Instruction(.add, rd: 28, rs1: 28, rs2: 10),
                         Instruction(.slli, rd: t, rs1: x, imm: s), Instruction(.srai, rd: t, rs1: t, imm: 31),
                         Instruction(.and, rd: t, rs1: t, rs2: t), Instruction(.xor, rd: 28, rs1: 28, rs2: t)]
            }
            try assertBareJITHaltsLikeTheReference(JITTests.li(16, 0x3000) + code + [Instruction(.halt, rs1: 0)], "s=\(s)")
            code = []
        }
        XCTAssertEqual(n, 5 * 6 * 5)
    }

    /// slt, sltu, slti and sltiu followed by `xori rd, rd, 1` (one setcc of
    /// the opposite condition), with rd cached, uncached and x0, aliasing
    /// each operand, on values either side of the signed and unsigned
    /// boundaries, after an op that leaves ecx (setcc's scratch) nonzero;
    /// and an xori into another register, which must see the set value.
    func testNegatedLessPairs() throws {
        let registers = [0, 1, 2, 5, 6]
        for kind in [Opcode.slt, .sltu, .slti, .sltiu] {
            for values in [[0x8000_0001, 0xFFFF_FFF7, 0x7FFF_FFFE, 33], [1, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF]] as [[UInt32]] {
                for rd in registers { // a program per rd: the code must fit below the data at 0x3000
                    var code = JITTests.li(16, 0x3000), results = 0
                    for rs1 in registers {
                        for rs2 in kind.info.format == .r ? registers : [0] {
                            for into in Set([rd, 6]) {
                                for (r, v) in zip([1, 2, 5, 6], values) { code += JITTests.li(r, v) }
                                code.append(Instruction(.jal, imm: 4)) // a block for this combination
                                // sll's count goes through ecx: a scratch register full of ones before the pair.
                                code += [Instruction(.sll, rd: 4, rs1: 1, rs2: 2),
                                         Instruction(kind, rd: rd, rs1: rs1, rs2: rs2, imm: -3),
                                         Instruction(.xori, rd: into, rs1: rd, imm: 1)]
                                code += [Instruction(.add, rd: 4, rs1: 1, rs2: 2), Instruction(.xor, rd: 4, rs1: 4, rs2: 1),
                                         Instruction(.jal, imm: 4),
                                         Instruction(.sw, rs1: 16, rs2: rd, imm: Int32(8 * results)),
                                         Instruction(.sw, rs1: 16, rs2: into, imm: Int32(8 * results + 4))]
                                results += 1
                            }
                        }
                    }
                    try assertBareJITHaltsLikeTheReference(code + [Instruction(.halt, rs1: 0)], "\(kind) \(values) rd x\(rd)")
                }
            }
        }
    }

    /// Each access width at every address around the bound: in bounds runs, one byte past traps, as on the reference.
    func testBoundsChecksAtTheEdge() throws {
        for op in [Opcode.lb, .lbu, .lh, .lhu, .lw, .sb, .sh, .sw] {
            for a in UInt32(JITTests.memory - 6)...UInt32(JITTests.memory + 1) {
                let access = op.info.format == .store ? Instruction(op, rs1: 1, rs2: 3, imm: 0) : Instruction(op, rd: 2, rs1: 1, imm: 0)
                let code = JITTests.li(1, a) + JITTests.li(3, 0x1234_5678) + [access, Instruction(.halt, rs1: 0)]
                let img = JITTests.image(code)
                let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 100)
                let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
                let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: 100)
                XCTAssertEqual(Verdict(run: machine.snapshot(outcome: Outcome(exit)), reference: reference), .equivalent,
                               "\(op) at \(String(a, radix: 16))")
            }
        }
    }

    /// An access at x + imm, imm > 0, is checked against the context's
    /// limit - (imm + n) and addresses memory + x + imm (no lea); where the
    /// check fails the reference interpreter steps it. Each width, offsets
    /// in the limit table and past it (253 and up for words), every base from
    /// 4 bytes below the edge to 1 past it, and bases near 2^32 whose sum
    /// wraps into storage (a valid access at a small address) or past the
    /// bound: the same end, trap value and storage as the reference's.
    func testOneAccessAtAnOffsetAroundTheBound() throws {
        let m = UInt32(JITTests.memory)
        var stepped: UInt64 = 0
        for op in [Opcode.lb, .lbu, .lh, .lhu, .lw, .sb, .sh, .sw] {
            for imm: UInt32 in [1, 3, 252, 253, 2047] {
                let edge = m - imm // x + imm = m: the first address past the bound
                let bases = Array((edge - 4)...(edge + 1)) + [0 &- imm, 4 &- imm, edge &- m, (m - 4) &- imm &- m]
                for base in bases {
                    let access = op.info.format == .store ? Instruction(op, rs1: 1, rs2: 3, imm: Int32(imm))
                                                          : Instruction(op, rd: 2, rs1: 1, imm: Int32(imm))
                    let code = JITTests.li(1, base) + JITTests.li(3, 0x1234_5678)
                        + [Instruction(.jal, imm: 4), access, Instruction(.halt, rs1: 0)]
                    let img = JITTests.image(code)
                    let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 100)
                    let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
                    let jit = try BareJIT(machine: machine, guardedViews: guarded)
                    let exit = jit.run(budget: 100)
                    stepped += jit.counters.instructionsStepped
                    XCTAssertNil(machine.snapshot(outcome: Outcome(exit)).firstDifference(from: reference),
                                 "\(op) \(imm)(\(String(base, radix: 16)))")
                }
            }
        }
        XCTAssertGreaterThan(stepped, 0, "no check failed into the interpreter")
    }

    /// The limit table generated code compares with follows the bound: a
    /// block with a load at x + 8 runs once in bounds, LPSW narrows the bound
    /// so that the same load (same block, same base) is past it, and the
    /// block's next run must trap there, with the address.
    func testOffsetChecksFollowANarrowedBound() throws {
        var code = JITTests.li(1, 0x1FF8) + JITTests.li(11, 0x2100)
        code.append(Instruction(.jal, imm: 4)) // the load starts a block, in both passes
        let load = 0x1000 + 4 * UInt32(code.count)
        code += [Instruction(.lw, rd: 5, rs1: 1, imm: 8), Instruction(.addi, rd: 6, rs1: 6, imm: 1)]
        code += JITTests.store(PSW(mode: .supervisor, pc: load, l: 0, b: 0x2000))
        code += [Instruction(.lpsw, rs1: 11), Instruction(.halt, rs1: 0)]
        let img = JITTests.image(code)
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
        XCTAssertEqual(reference.outcome, .halted(TrapCause.memory.rawValue), "the load traps under the narrowed bound")
        XCTAssertEqual(reference.registers[6], 1, "after one pass in bounds")
        XCTAssertEqual(reference.registers[21], 0x2000, "the trap value: the load's address")
        try assertBothJITsEnd(like: reference, img, budget: 10_000)
    }

    /// A bound inside a page (b = 0x1FFE): a guarded view maps whole pages
    /// only, so the bytes of the last partial page fault and are stepped, and
    /// the ones past b trap. A halfword at 0x1FFC is read; one at 0x1FFD traps.
    func testABoundInsideAPage() throws {
        var code = JITTests.li(1, 0x1FFC) + JITTests.li(11, 0x2100)
        let words = PSW(mode: .supervisor, pc: 0, l: 0, b: 0).words.count
        let loads = 0x1000 + 4 * UInt32(code.count + 3 * words + 1) // past the PSW's stores (li, sw) and LPSW
        code += JITTests.store(PSW(mode: .supervisor, pc: loads, l: 0, b: 0x1FFE))
        code.append(Instruction(.lpsw, rs1: 11))
        XCTAssertEqual(0x1000 + 4 * UInt32(code.count), loads)
        code += [Instruction(.lh, rd: 5, rs1: 1, imm: 0), Instruction(.lh, rd: 6, rs1: 1, imm: 1), Instruction(.halt, rs1: 0)]
        let img = JITTests.image(code, words: [(0x1FFC, 0x1234_5678)])
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 1000)
        XCTAssertEqual(reference.outcome, .halted(TrapCause.memory.rawValue))
        XCTAssertEqual(reference.registers[5], 0x5678, "the halfword inside the bound")
        XCTAssertEqual(reference.registers[21], 0x1FFD, "the trap value")
        try assertBothJITsEnd(like: reference, img, budget: 1000)
    }

    /// Blocks do not check their bound on entry: a jump linked while the
    /// bound was wide must not lead past it once LPSW has narrowed it.
    func testLinkedJumpPastAShrunkenBoundTraps() throws {
        var code = JITTests.li(7, 3)                                               // 0x1000
        code += [Instruction(.addi, rd: 5, rs1: 5, imm: 1), Instruction(.jal, imm: 0x1800 - 0x100C)] // A at 0x1008
        code += [Instruction](repeating: Instruction(.addi), count: (0x1800 - 0x1010) / 4)
        let narrowed = PSW(mode: .supervisor, pc: 0x1008, l: 0, b: 0x1800)
        code += [Instruction(.addi, rd: 6, rs1: 6, imm: 1), Instruction(.blt, rs1: 6, rs2: 7, imm: 0x1008 - 0x1804)] // B at 0x1800
        code += JITTests.li(11, 0x2000)
        code += JITTests.store(narrowed)
        code += [Instruction(.lpsw, rs1: 11)]
        let img = JITTests.image(code)
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
        XCTAssertEqual(reference.outcome, .halted(TrapCause.memory.rawValue), "the reference fetch-traps at B")
        XCTAssertEqual(reference.registers[5], 4, "A ran once more under the narrowed bound")
        XCTAssertEqual(reference.registers[21], 0x1800, "the trap value: B's address")
        try assertBothJITsEnd(like: reference, img, budget: 10_000)
    }

    /// `slli t, x, s; add z, b, t` becomes one scaled-index lea (z = t), or
    /// a lea and the shift after it (z another register): every aliasing of
    /// t, x, b and z (z = x too, which is not paired), every scale, wrapping
    /// at 32 bits, registers cached (used all over the block) or not (used
    /// once); and the pointer-chase shape, a load from z into x that traps
    /// at the bound, where the trap must see t shifted.
    func testScaledIndexPairs() throws {
        var code: [Instruction] = []
        for (r, v) in [(5, 0x7FFF_FFF0), (6, 0x1234_5678), (7, 0xFFFF_FFFF), (8, 3)] as [(Int, UInt32)] { code += JITTests.li(r, v) }
        for s: Int32 in 0...3 {
            for (t, x, b) in [(9, 5, 6), (9, 9, 6), (10, 7, 10), (11, 8, 8), (12, 5, 0), (13, 0, 7)] {
                code += JITTests.li(t, 0xA5A5_0000 | UInt32(t))
                code += [Instruction(.slli, rd: t, rs1: x, imm: s), Instruction(.add, rd: t, rs1: b, rs2: t)]
                code += [Instruction(.slli, rd: t, rs1: x, imm: s), Instruction(.add, rd: t, rs1: t, rs2: b)]
                code.append(Instruction(.xor, rd: 20, rs1: 20, rs2: t))
                for z in Set([14, b, x, t]) where z != 0 {
                    code += JITTests.li(t, 0x5A5A_0000 | UInt32(t))
                    code += [Instruction(.slli, rd: t, rs1: x, imm: s), Instruction(.add, rd: z, rs1: b, rs2: t)]
                    code += [Instruction(.xor, rd: 20, rs1: 20, rs2: t), Instruction(.xor, rd: 21, rs1: 21, rs2: z)]
                    for r in Set([5, 6, 7, 8, t, x, b, z]) where r != 0 { code += JITTests.li(r, UInt32(r) &* 0x0101_0101) }
                }
            }
        }
        // Registers used once in the block (x23-x26): not cached.
        code += JITTests.li(23, 0x0F0F_0F0F) + JITTests.li(24, 0x1000)
        code += [Instruction(.slli, rd: 25, rs1: 23, imm: 3), Instruction(.add, rd: 26, rs1: 24, rs2: 25),
                 Instruction(.halt, rs1: 0)]
        let img = JITTests.image(code)
        let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 100_000)
        XCTAssertEqual(reference.outcome, .halted(0))
        let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
        let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: 100_000)
        XCTAssertEqual(Verdict(run: machine.snapshot(outcome: Outcome(exit)), reference: reference), .equivalent)

        // A chase through a table of indices at 0x3000 (each entry the next index) until one leads
        // past the bound: `slli t, x, 2; add z, b, t; lw x, 0(z)`, for every t, z distinct from x and b.
        for (t, z) in [(9, 10), (9, 6), (10, 9)] {
            var chase = JITTests.li(6, 0x3000) + JITTests.li(5, 0) + JITTests.li(7, 0)
            let loop = chase.count
            chase += [Instruction(.slli, rd: t, rs1: 5, imm: 2), Instruction(.add, rd: z, rs1: 6, rs2: t),
                      Instruction(.lw, rd: 5, rs1: z, imm: 0), Instruction(.addi, rd: 7, rs1: 7, imm: 1)]
            if z == 6 { chase += JITTests.li(6, 0x3000) }
            chase.append(Instruction(.jal, rd: 0, imm: Int32(4 * (loop - chase.count))))
            // Entries 0 -> 3 -> 7 -> 0x2000 (past the bound at 0x8000 once shifted and added).
            let img = JITTests.image(chase, words: [(0x3000, 3), (0x300C, 7), (0x301C, 0x2000)])
            let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
            XCTAssertEqual(reference.outcome, .halted(TrapCause.memory.rawValue), "t=x\(t) z=x\(z)")
            XCTAssertEqual(reference.registers[t], 0x2000 << 2, "the trap sees t shifted")
            let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
            let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: 10_000)
            XCTAssertEqual(Verdict(run: machine.snapshot(outcome: Outcome(exit)), reference: reference), .equivalent,
                           "t=x\(t) z=x\(z)")
        }
    }

    /// `slli t, x, s; add z, b, t` then a load from z + imm: in a guarded
    /// view one host load at memory + b + x * 2^s + imm in 64 bits
    /// (`scaledLoad`). For every aliasing of t, z and rd with x and b (and
    /// with each other), each scale, each load width, cached and uncached:
    /// addresses inside the bound, addresses the guest's 32-bit add or shift
    /// wraps back inside it (the 64-bit address is past the view: a fault,
    /// stepped from the shift), and addresses past the bound (a trap with the
    /// guest's address). Each case is a block of its own, since a block that
    /// faulted is made again with its accesses checked.
    func testScaledLoadsStepWhereTheGuestsAddressWraps() throws {
        let x = 5, b = 6
        let aliasings: [(t: Int, z: Int, d: Int)] = [(9, 10, 11), (9, 9, 9), (9, 10, 9), (9, 10, 10), (9, 9, 11),
                                                     (9, 10, x), (9, 10, b), (9, x, 11), (9, b, 11), (x, 10, 11), (x, x, x)]
        let loads: [(Opcode, Int32)] = [(.lw, 0), (.lw, 8), (.lh, 2), (.lhu, 6), (.lb, 3), (.lbu, 2047)]
        /// One case: x and b set in a block of their own, then a block with the triple, uses of x and b
        /// before it and of t, z and rd after it (folded into x26-x29), so that they are cached; with
        /// `crowded`, ten other registers used more often around it, so that some of them are not.
        func triple(s: Int32, xv: UInt32, bv: UInt32, _ r: (t: Int, z: Int, d: Int), _ load: (Opcode, Int32),
                    swapped: Bool, crowded: Bool) -> [Instruction] {
            var code = JITTests.li(x, xv) + JITTests.li(b, bv) + [Instruction(.jal, imm: 4)]
            let heat = crowded ? (12...21).map { Instruction(.add, rd: $0, rs1: $0, rs2: $0) } : []
            code += heat + heat
            code += [Instruction(.xor, rd: 29, rs1: 29, rs2: x), Instruction(.add, rd: 29, rs1: 29, rs2: b)]
            code += [Instruction(.slli, rd: r.t, rs1: x, imm: s),
                     swapped ? Instruction(.add, rd: r.z, rs1: r.t, rs2: b) : Instruction(.add, rd: r.z, rs1: b, rs2: r.t),
                     Instruction(load.0, rd: r.d, rs1: r.z, imm: load.1)]
            code += [Instruction(.xor, rd: 26, rs1: 26, rs2: r.t), Instruction(.add, rd: 27, rs1: 27, rs2: r.z),
                     Instruction(.xor, rd: 28, rs1: 28, rs2: r.d), Instruction(.slli, rd: 28, rs1: 28, imm: 1)]
            return code + heat + [Instruction(.jal, imm: 4)]
        }
        for s: Int32 in 1...3 { // an image per scale: the code must end below the data at 0x3000
            var code: [Instruction] = [], wrapping = 0
            for (i, r) in aliasings.enumerated() {
                let load = loads[(i + Int(s)) % loads.count], swapped = i % 2 == 1, crowded = i % 3 == 0
                let reach = UInt32(load.1) + 4 // at most 2047 + 4 bytes past z
                // Inside the bound; b + (x << s) wrapping past 2^32 back to 0x3000; x << s itself wrapping; at the bound.
                code += triple(s: s, xv: 5, bv: 0x3000, r, load, swapped: swapped, crowded: crowded)
                code += triple(s: s, xv: 0x10000 >> UInt32(s), bv: 0xFFFF_3000, r, load, swapped: swapped, crowded: crowded)
                code += triple(s: s, xv: (1 << (32 - UInt32(s))) + 4, bv: 0x3000, r, load, swapped: swapped, crowded: crowded)
                code += triple(s: s, xv: 1, bv: UInt32(JITTests.memory) - reach - (1 << UInt32(s)), r, load,
                               swapped: swapped, crowded: crowded)
                wrapping += 2
            }
            let jit = try assertBareJITHaltsLikeTheReference(code + [Instruction(.halt, rs1: 0)], "s=\(s)")
            if guarded, jit.processor.state(for: jit.machine).code.guarded {
                // Each wrapping case faulted at its load and was stepped from its shift to its block's end.
                XCTAssertGreaterThanOrEqual(jit.counters.instructionsStepped, UInt64(3 * wrapping), "wrapping addresses fault, s=\(s)")
            }
        }

        // Past the bound: the trap, its value and P are the reference's (the load's, with t and z written).
        let w = UInt32(JITTests.memory)
        for (i, r) in aliasings.enumerated() {
            let s = Int32(1 + i % 3), scale = UInt32(1) << UInt32(s)
            // Partly past the bound; at it; x << s wrapping to past it; far past it; b + (x << s) wrapping to past it.
            for (xv, bv, imm) in [(1, w - 4 - scale, 2), (2, w - 2 * scale, 0), ((1 << (32 - UInt32(s))) + 0x4000, 0x10, 0),
                                  (0x1000, 0xFFFF_0000, 4), (0x10000 >> UInt32(s), 0xFFFF_FFF0, 0)] as [(UInt32, UInt32, Int32)] {
                let code = triple(s: s, xv: xv, bv: bv, r, (.lw, imm), swapped: i % 2 == 0, crowded: i % 4 == 1)
                    + [Instruction(.halt, rs1: 0)]
                let img = JITTests.image(code)
                let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 1000)
                XCTAssertEqual(reference.outcome, .halted(TrapCause.memory.rawValue), "\(r) x=\(xv) b=\(bv) imm=\(imm)")
                try assertBothJITsEnd(like: reference, img, budget: 1000)
            }
        }
    }

    /// An access at x + imm just below guest address 0 (imm < 0): in a
    /// guarded view addressed at view + x + imm, with no lea first, inside
    /// the inaccessible region below the view, so it faults and the
    /// reference interpreter traps with the guest's wrapped address. Under
    /// relocations at and inside a page (where the view must not map the
    /// bytes before the window in its first page: they are filled with a
    /// pattern a read would see), every width, loads and stores, and
    /// accesses at address 0 and just above, which do not trap.
    func testAccessesBelowAddressZeroTrapUnderEveryRelocation() throws {
        let accesses: [(Opcode, Bool)] = [(.lw, false), (.lh, false), (.lhu, false), (.lb, false), (.lbu, false),
                                          (.sw, true), (.sh, true), (.sb, true)]
        let program: UInt32 = 0x1100, bound: UInt32 = 0x3000
        for l: UInt32 in [0, 0x2000, 0x2002, 0x2900] {
            for (k, (op, stores)) in accesses.enumerated() {
                for (x, imm) in [(0, -1), (0, -4), (3, -4), (2047, -2048), (0, -2048), (4, -4), (2052, -2048), (1, -1)]
                    as [(UInt32, Int32)] {
                    // Boot at 0x1000 (l = 0): LPSW to <supervisor, program, l, bound>, stored at 0xF00; the
                    // program at physical l + program, byte by byte (l may be inside a word); 0xA5 in the 2 KiB
                    // before the window, all that a displacement from a register below 2048 reaches.
                    let access = stores ? Instruction(op, rs1: 5, rs2: 6, imm: imm) : Instruction(op, rd: 7, rs1: 5, imm: imm)
                    let code = JITTests.li(5, x) + JITTests.li(6, 0x1122_3344)
                        + [Instruction(.jal, imm: 4), access, Instruction(.addi, rd: 8, rs1: 7, imm: 1), Instruction(.halt, rs1: 0)]
                    let programBytes = code.flatMap { inst in (0..<4).map { UInt8(truncatingIfNeeded: inst.encoded >> (8 * UInt32($0))) } }
                    let before = (Int(l) - min(Int(l), 0x800))..<Int(l)
                    let img = JITTests.image(JITTests.li(10, 0xF00) + [Instruction(.lpsw, rs1: 10)],
                                             words: PSW(mode: .supervisor, pc: program, l: l, b: bound).words.enumerated()
                                                 .map { (0xF00 + 4 * $0.offset, $0.element) },
                                             bytes: before.map { ($0, 0xA5) }
                                                 + programBytes.enumerated().map { (Int(l + program) + $0.offset, $0.element) })
                    let what = "\(op) at \(x) + (\(imm)), l = 0x\(String(l, radix: 16))"
                    let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 1000)
                    XCTAssertEqual(reference.outcome, Int64(x) + Int64(imm) < 0 ? .halted(TrapCause.memory.rawValue) : .halted(0), what)
                    let jit = try assertBothJITsEnd(like: reference, img, budget: 1000, what)
                    if k == 0, guarded, jit.processor.state(for: jit.machine).code.guarded, Int64(x) + Int64(imm) < 0 {
                        XCTAssertEqual(jit.counters.instructionsStepped, 1, "the access faulted and was stepped: " + what)
                    }
                }
            }
        }
    }

    /// A store of each width at each byte offset that overlaps an already
    /// translated instruction (from 3 bytes before it to 3 into it) makes the
    /// next execution of that instruction the new one: the code map is asked
    /// at the store's own address, whatever its alignment.
    func testStoresOverlappingTranslatedCodeAtEveryOffset() throws {
        let tb: UInt32 = 0x1100
        for (op, n) in [(Opcode.sb, 1), (.sh, 2), (.sw, 4)] {
            for d in -3...3 where d + n > 0 {
                var code = [Instruction(.jal, rd: 1, imm: Int32(tb) - 0x1000)]                     // run TB once: translated
                code += JITTests.li(10, UInt32(Int(tb) + d)) + JITTests.li(11, 0x1313_1313)
                code += [Instruction(op, rs1: 10, rs2: 11, imm: 0)]
                code += [Instruction(.jal, rd: 1, imm: Int32(tb) - Int32(0x1000 + 4 * code.count))] // and again
                code += [Instruction(.halt, rs1: 5)]
                code += [Instruction](repeating: Instruction(.addi), count: (Int(tb) - 0x1000) / 4 - code.count)
                code += [Instruction(.addi, rd: 5, rs1: 5, imm: 1), Instruction(.jalr, rs1: 1)]
                let img = JITTests.image(code)
                let reference = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v).runToEnd(budget: 10_000)
                let machine = Machine(booting: img, memorySize: JITTests.memory, profile: .pg32v)
                let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: 10_000)
                XCTAssertEqual(Verdict(run: machine.snapshot(outcome: Outcome(exit)), reference: reference), .equivalent,
                               "\(op) at TB\(d < 0 ? "" : "+")\(d)")
            }
        }
    }

    /// Stores into translated code under a relocation l that is not a multiple
    /// of 4 (`UnalignedRelocation`): the bare JIT ends where the reference does.
    func testStoresIntoCodeUnderAnUnalignedRelocation() throws {
        let img = UnalignedRelocation.image
        let reference = Machine(booting: img, memorySize: UnalignedRelocation.memory, profile: .pg32v).runToEnd(budget: 10_000)
        XCTAssertEqual(reference.outcome.exitCode, UnalignedRelocation.exitCode, "the reference runs the rewritten code")
        let machine = Machine(booting: img, memorySize: UnalignedRelocation.memory, profile: .pg32v)
        let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: 10_000)
        XCTAssertEqual(Verdict(run: machine.snapshot(outcome: Outcome(exit)), reference: reference), .equivalent)
    }

    /// Division's corner cases, which fault on x86 if passed through: x / 0 and INT_MIN / -1.
    func testDivisionCornersDoNotFaultTheHost() throws {
        var code = JITTests.li(1, 0x8000_0000) + JITTests.li(2, 0xFFFF_FFFF) + JITTests.li(3, 7)
        code += [Instruction(.div, rd: 4, rs1: 1, rs2: 2), Instruction(.rem, rd: 5, rs1: 1, rs2: 2),
                 Instruction(.div, rd: 6, rs1: 3, rs2: 0), Instruction(.rem, rd: 7, rs1: 3, rs2: 0),
                 Instruction(.divu, rd: 8, rs1: 3, rs2: 0), Instruction(.remu, rd: 9, rs1: 3, rs2: 0),
                 Instruction(.halt, rs1: 0)]
        let machine = Machine(booting: JITTests.image(code), memorySize: JITTests.memory, profile: .pg32v)
        XCTAssertEqual(try BareJIT(machine: machine, guardedViews: guarded).run(budget: 100), .halted(0))
        XCTAssertEqual(Array(machine.registers[4...9]), [0x8000_0000, 0, 0xFFFF_FFFF, 7, 0xFFFF_FFFF, 7])
    }

    /// The JIT as hardware runs real guests, traps and all, exactly as the reference machine.
    /// A block whose access faulted in a guarded view is made again with its
    /// accesses checked: memtrap's 4000 memory traps (one load, the guest's
    /// kernel handling each) go through a signal and the interpreter once,
    /// then through the block's own trap stub.
    func testABlockThatFaultedIsRemadeWithChecks() throws {
        guard JITTranslator.guardedViewsByDefault else { throw XCTSkip("THIRDGEN_JIT_GUARD=off") }
        let img = try ELFImage(bytes: try Guests.image(of: Guests.named("memtrap")!), memorySize: 1 << 20)
        let reference = Machine(booting: img, memorySize: 1 << 20, profile: .pg32v).runToEnd(budget: 50_000_000)
        let machine = Machine(booting: img, memorySize: 1 << 20, profile: .pg32v)
        let jit = try BareJIT(machine: machine)
        let exit = jit.run(budget: 50_000_000)
        XCTAssertEqual(Verdict(run: machine.snapshot(outcome: Outcome(exit)), reference: reference), .equivalent)
        XCTAssertGreaterThanOrEqual(jit.counters.invalidations, 1, "the faulting block was dropped")
        XCTAssertLessThan(jit.counters.instructionsStepped, 200, "stepped once per faulting block, not per trap")
    }

    func testGuestsUnderTheBareJIT() throws {
        for (name, profile) in [("kernel", Profile.pg32v), ("smc", .pg32x), ("jrstu", .pg32h), ("getl", .pg32x)] {
            let img = try ELFImage(bytes: try Guests.image(of: Guests.named(name)!), memorySize: 1 << 20)
            let reference = Machine(booting: img, memorySize: 1 << 20, profile: profile).runToEnd(budget: 50_000_000)
            let machine = Machine(booting: img, memorySize: 1 << 20, profile: profile)
            let exit = try BareJIT(machine: machine, guardedViews: guarded).run(budget: 50_000_000)
            XCTAssertEqual(Verdict(run: machine.snapshot(outcome: Outcome(exit)), reference: reference), .equivalent, name)
        }
    }

    /// An engine that goes hands its code memory to the next engine of the
    /// same capacity (`NativeCode.recycledCode`): the next runs from the same
    /// pages, behind a fresh trampoline and context, with none of the old code
    /// reachable, and ends like the reference (smc rewrites its own code).
    func testCodeMemoryPassesToTheNextEngine() throws {
        let img = try ELFImage(bytes: try Guests.image(of: Guests.named("smc")!), memorySize: 1 << 20)
        let reference = Machine(booting: img, memorySize: 1 << 20, profile: .pg32v).runToEnd(budget: 50_000_000)
        var addresses: [UInt] = []
        let reused = NativeCode.codeMemoriesReused
        for _ in 0..<4 {
            let machine = Machine(booting: img, memorySize: 1 << 20, profile: .pg32v)
            let jit = try BareJIT(machine: machine, guardedViews: guarded)
            let exit = jit.run(budget: 50_000_000)
            XCTAssertEqual(Verdict(run: machine.snapshot(outcome: Outcome(exit)), reference: reference), .equivalent)
            addresses.append(jit.processor.state(for: machine).code.codeAddress)
        }
        XCTAssertGreaterThanOrEqual(NativeCode.codeMemoriesReused - reused, 3, "each engine after the first reuses code memory")
        XCTAssertEqual(Set(addresses.dropFirst()).count, 1, "each engine after the first runs from the code memory of the one before")
    }

    /// Blocks are chained by patched jumps; self-modifying stores unchain what they invalidate.
    func testChainingAndUnchaining() throws {
        let img = try ELFImage(bytes: try Guests.image(of: Guests.named("smc")!), memorySize: 1 << 20)
        let (cp, jit) = try JITTranslation.controlProgram(images: [img], profile: .pg32v, memorySize: 1 << 20, budget: 10_000_000)
        cp.run()
        let vm = cp.vms[0]
        let stats = jit.codeStatistics(for: vm)
        XCTAssertGreaterThan(stats.linksPatched, 0)
        XCTAssertGreaterThan(stats.bytesGenerated, 0)
        XCTAssertGreaterThanOrEqual(jit.counters(for: vm).invalidations, 302)
        XCTAssertEqual(vm.counters.translated + vm.counters.interpreted, vm.instructions)
        XCTAssertEqual(cp.damagedCanaries, [])
    }

    /// No mapping of this process is writable and executable at once, with JIT code live.
    func testCodeMemoryIsNeverWritableAndExecutable() throws {
        let img = try ELFImage(bytes: try Guests.image(of: Guests.named("crc32")!), memorySize: 1 << 20)
        let (cp, jit) = try JITTranslation.controlProgram(images: [img], profile: .pg32v, memorySize: 1 << 20, budget: 200_000)
        cp.run()
        XCTAssertGreaterThan(jit.codeStatistics(for: cp.vms[0]).bytesGenerated, 0)
        let maps = try String(contentsOfFile: "/proc/self/maps", encoding: .utf8)
        let writableAndExecutable = maps.split(separator: "\n").filter { $0.split(separator: " ")[1].hasPrefix("rwx") }
        XCTAssertEqual(writableAndExecutable, [])
    }
}
