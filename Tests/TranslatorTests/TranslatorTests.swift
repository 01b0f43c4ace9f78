import Guests
import Machine
@testable import Translator
import TrapVMM
import XCTest

/// What only the translator does: its internal form, its cache, self-modifying code.
final class TranslatorTests: XCTestCase {
    private func image(_ name: String) throws -> ELFImage {
        try ELFImage(bytes: try Guests.image(of: Guests.named(name)!), memorySize: 1 << 20)
    }

    /// The translator's two backends.
    enum Backend: CaseIterable {
        case portable, jit
        /// The backends this host runs.
        static var available: [Backend] { JITTranslator.unavailableReason == nil ? allCases : [.portable] }

        func controlProgram(_ images: [ELFImage], profile: Profile, budget: UInt64,
                            cacheOps: Int = BinaryTranslator.defaultCacheOps) throws -> (ControlProgram, any TranslatingEngine) {
            switch self {
            case .portable:
                return try BinaryTranslation.controlProgram(images: images, profile: profile, memorySize: 1 << 20,
                                                            budget: budget, cacheOps: cacheOps)
            case .jit:
                return try JITTranslation.controlProgram(images: images, profile: profile, memorySize: 1 << 20,
                                                         budget: budget, cacheOps: cacheOps)
            }
        }
    }

    private func run(_ name: String, _ backend: Backend = .portable, profile: Profile = .pg32v,
                     cacheOps: Int = BinaryTranslator.defaultCacheOps,
                     budget: UInt64 = 100_000_000) throws -> (vm: VirtualMachine, t: any TranslatingEngine, bare: Snapshot) {
        let img = try image(name)
        let (cp, t) = try backend.controlProgram([img], profile: profile, budget: budget, cacheOps: cacheOps)
        cp.run()
        let bare = Machine(booting: img, memorySize: 1 << 20, profile: profile).runToEnd(budget: budget)
        XCTAssertEqual(cp.damagedCanaries, [])
        return (cp.vms[0], t, bare)
    }

    /// Every opcode has a translation; only writes to x0 change kind, and loads and jumps still happen.
    func testEveryOpcodeTranslates() {
        for op in Opcode.allCases {
            let inst = Instruction(op, rd: 5, rs1: 6, rs2: 7, imm: op.info.format == .u ? 0x5000 : 8)
            let micro = MicroOp.translate(inst.encoded, at: 0x1000)
            XCTAssertNotEqual(micro.kind, .illegal, "\(op)")
            if case .system = op.group { XCTAssertEqual(micro.kind, .system, "\(op) is a callout") }
        }
        XCTAssertEqual(MicroOp.translate(Instruction(.add, rd: 0, rs1: 1, rs2: 2).encoded, at: 0).kind, .nop)
        XCTAssertEqual(MicroOp.translate(Instruction(.lw, rd: 0, rs1: 1).encoded, at: 0).rd, UInt8(MicroOp.writeSink))
        XCTAssertEqual(MicroOp.translate(Instruction(.jal, rd: 0, imm: 8).encoded, at: 0x100).imm, 0x108)
        XCTAssertEqual(MicroOp.translate(Instruction(.auipc, rd: 3, imm: 0x2000).encoded, at: 0x1004).imm, 0x3004)
        XCTAssertEqual(MicroOp.translate(0xC000_2573, at: 0).kind, .illegal)
    }

    /// A cache that goes hands its zeroed tables on to the next cache of the
    /// same sizes (`RecycledTables`), having cleared only what its blocks set:
    /// after guests that translate, invalidate (self-modifying code) and
    /// flush (a cache of 600 ops), under both backends, a new cache of the
    /// same sizes starts from tables that are all zero.
    func testACacheHandsOnClearTables() throws {
        let reused = TranslationCache.tablesReused
        for backend in Backend.available {
            for (name, ops) in [("smc", 600), ("coremark", 600), ("qsort", BinaryTranslator.defaultCacheOps),
                                ("smc", BinaryTranslator.defaultCacheOps)] {
                let (vm, t, bare) = try run(name, backend, cacheOps: ops)
                XCTAssertEqual(Verdict(run: vm.snapshot(), reference: bare), .equivalent, "\(name) under \(backend)")
                if ops == 600 { XCTAssertGreaterThan(t.counters(for: vm).flushes, 0, "\(name) flushes its cache of 600 ops") }
                XCTAssertTrue(TranslationCache(storageSize: 1 << 20, opCapacity: ops).tablesAreClear,
                              "\(name), \(ops) ops, \(backend): a recycled table was not cleared")
            }
        }
        XCTAssertGreaterThan(TranslationCache.tablesReused - reused, 4, "caches were made with tables kept from earlier ones")
    }

    /// The self-modifying guest: invalidations happen, and the result is the bare machine's on every profile.
    func testSelfModifyingCode() throws {
        for backend in Backend.available {
            for profile in Profile.builtIn {
                let r = try run("smc", backend, profile: profile)
                XCTAssertEqual(Verdict(run: r.vm.snapshot(), reference: r.bare), .equivalent, "\(backend) \(profile.name)")
                XCTAssertGreaterThanOrEqual(r.t.counters(for: r.vm).invalidations, 302, "300 buffer rewrites and 2 patches")
                XCTAssertTrue(String(decoding: r.bare.console, as: UTF8.self).contains("same block: 42 99"))
            }
        }
    }

    /// Stores into translated code under a relocation l that is not a multiple
    /// of 4, one into a block that straddles a page (`UnalignedRelocation`):
    /// both backends, under the control program, end where the bare machine does.
    func testStoresIntoCodeUnderAnUnalignedRelocation() throws {
        let img = UnalignedRelocation.image
        let bare = Machine(booting: img, memorySize: 1 << 20, profile: .pg32v).runToEnd(budget: 100_000)
        XCTAssertEqual(bare.outcome.exitCode, UnalignedRelocation.exitCode, "the bare machine runs the rewritten code")
        for backend in Backend.available {
            let (cp, _) = try backend.controlProgram([img], profile: .pg32v, budget: 100_000)
            cp.run()
            XCTAssertEqual(Verdict(run: cp.vms[0].snapshot(), reference: bare), .equivalent, "\(backend)")
        }
    }

    /// A cache far too small for the guest flushes again and again and stays correct.
    func testTinyCacheFlushesAndStaysCorrect() throws {
        for backend in Backend.available {
            for name in ["coremark", "kernel"] {
                let r = try run(name, backend, cacheOps: 256)
                XCTAssertEqual(Verdict(run: r.vm.snapshot(), reference: r.bare), .equivalent, "\(backend) \(name)")
                XCTAssertGreaterThan(r.t.counters(for: r.vm).flushes, 0, "\(backend) \(name)")
                XCTAssertLessThanOrEqual(r.t.memory(for: r.vm).used, r.t.memory(for: r.vm).reserved)
            }
        }
    }

    /// Steady state: a compute loop hits the cache (chained links included) 99% of the time or better.
    func testSteadyStateHitRate() throws {
        let c = try run("sieve").t.counters(for: try run("sieve").vm)
        let lookups = c.frontHits + c.tableHits + c.misses + c.chained
        XCTAssertGreaterThan(Double(lookups - c.misses) / Double(lookups), 0.99)
        XCTAssertGreaterThan(c.chained, c.frontHits + c.tableHits, "most transitions are chained")
    }

    /// The budget stops translated code at exactly the instruction a bare machine stops at.
    func testBudgetIsExact() throws {
        let img = try image("coremark")
        for backend in Backend.available {
            for budget: UInt64 in [1, 2, 3, 63, 64, 65, 1000, 123_457] {
                let (cp, _) = try backend.controlProgram([img], profile: .pg32v, budget: budget)
                cp.run()
                let bare = Machine(booting: img, memorySize: 1 << 20, profile: .pg32v)
                _ = bare.run(budget: budget)
                XCTAssertEqual(cp.vms[0].instructions, budget)
                XCTAssertEqual(cp.vms[0].snapshot().registers, bare.registers, "after \(budget)")
                XCTAssertEqual(cp.vms[0].psw.pc, bare.psw.pc, "after \(budget)")
            }
        }
    }

    /// Nothing sensitive runs on the real machine, so bt runs even a profile no trap-based monitor can confine.
    func testUnconfinableProfileRunsUnderTranslation() throws {
        let open = Profile(name: "open", user: [.setr: .execute, .lpsw: .execute, .setm: .execute, .getl: .execute])
        for backend in Backend.available {
            let r = try run("kernel", backend, profile: open)
            XCTAssertEqual(Verdict(run: r.vm.snapshot(), reference: r.bare), .equivalent, "\(backend)")
        }
    }

    /// Callouts are counted by instruction, and translated code is most of the work.
    func testCountersOfACalloutHeavyGuest() throws {
        let r = try run("privreg")
        XCTAssertEqual(r.vm.counters.emulated[SystemInstruction.setr.index], 4000)
        XCTAssertEqual(r.vm.counters.traps.reduce(0, +), 0, "callouts, not traps")
        XCTAssertEqual(r.vm.counters.translated + r.vm.counters.interpreted, r.vm.instructions)
    }
}
