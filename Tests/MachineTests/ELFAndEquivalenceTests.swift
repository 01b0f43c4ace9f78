import Machine
import XCTest

/// ELF loading and rejection (SPEC 7), snapshots and the equivalence comparison (SPEC 8).
final class ELFAndEquivalenceTests: XCTestCase {
    /// A minimal valid image: one PT_LOAD segment of `code` at `address`, entry there.
    static func image(code: [UInt32], address: UInt32 = 0x1000, memsz: UInt32? = nil,
                      cls: UInt8 = 1, data: UInt8 = 1, type: UInt16 = 2, machine: UInt16 = 243) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 52 + 32)
        func put16(_ o: Int, _ v: UInt16) { b[o] = UInt8(v & 0xFF); b[o + 1] = UInt8(v >> 8) }
        func put32(_ o: Int, _ v: UInt32) { for i in 0..<4 { b[o + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
        b[0] = 0x7F; b[1] = 0x45; b[2] = 0x4C; b[3] = 0x46; b[4] = cls; b[5] = data; b[6] = 1
        put16(16, type); put16(18, machine); put32(20, 1); put32(24, address)
        put32(28, 52); put16(40, 52); put16(42, 32); put16(44, 1)
        let filesz = UInt32(code.count * 4)
        put32(52, 1); put32(56, 84); put32(60, address); put32(64, address)
        put32(68, filesz); put32(72, memsz ?? filesz); put32(76, 5); put32(80, 4)
        for w in code { for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: w >> (8 * UInt32(i)))) } }
        return b
    }

    func testBootState() throws {
        let code = [Instruction(.addi, rd: 10, rs1: 0, imm: 42).encoded, Instruction(.halt, rs1: 10).encoded]
        let elf = try ELFImage(bytes: Self.image(code: code, memsz: 64), memorySize: 8192)
        let m = Machine(booting: elf, memorySize: 8192, profile: .pg32v)
        XCTAssertEqual(m.psw, PSW(mode: .supervisor, pc: 0x1000, l: 0, b: 8192))
        XCTAssertEqual(m.registers, [UInt32](repeating: 0, count: 32))
        XCTAssertEqual(m.run(budget: 10), .halted(42))
    }

    func testRejections() {
        let good = Self.image(code: [0])
        XCTAssertThrowsError(try ELFImage(bytes: [], memorySize: 1 << 20)) { XCTAssertEqual($0 as? ImageError, .truncatedHeader(size: 0)) }
        XCTAssertThrowsError(try ELFImage(bytes: Array(good.prefix(51)), memorySize: 1 << 20)) {
            XCTAssertEqual($0 as? ImageError, .truncatedHeader(size: 51))
        }
        XCTAssertThrowsError(try ELFImage(bytes: Array("hello".utf8), memorySize: 1 << 20)) { XCTAssertEqual($0 as? ImageError, .notELF) }
        var notELF = good; notELF[1] = 0x46
        XCTAssertThrowsError(try ELFImage(bytes: notELF, memorySize: 1 << 20)) { XCTAssertEqual($0 as? ImageError, .notELF) }
        XCTAssertThrowsError(try ELFImage(bytes: Self.image(code: [0], cls: 2), memorySize: 1 << 20)) {
            XCTAssertEqual($0 as? ImageError, .wrongClass(2))
        }
        XCTAssertThrowsError(try ELFImage(bytes: Self.image(code: [0], data: 2), memorySize: 1 << 20)) {
            XCTAssertEqual($0 as? ImageError, .wrongEndianness(2))
        }
        XCTAssertThrowsError(try ELFImage(bytes: Self.image(code: [0], machine: 62), memorySize: 1 << 20)) {
            XCTAssertEqual($0 as? ImageError, .wrongMachine(62))
        }
        XCTAssertThrowsError(try ELFImage(bytes: Self.image(code: [0], type: 3), memorySize: 1 << 20)) {
            XCTAssertEqual($0 as? ImageError, .notExecutable(3))
        }
        XCTAssertThrowsError(try ELFImage(bytes: Self.image(code: [0], address: 0xFFFFE), memorySize: 1 << 20)) {
            XCTAssertEqual($0 as? ImageError, .segmentOutsideMemory(index: 0, start: 0xFFFFE, end: 0x100002, memory: 1 << 20))
        }
        XCTAssertThrowsError(try ELFImage(bytes: Self.image(code: [0], address: 0xFFFF_FFFC, memsz: 8), memorySize: 1 << 20),
                             "segment end computed without 32-bit wrap")
        XCTAssertThrowsError(try ELFImage(bytes: Self.image(code: [0, 0], memsz: 4), memorySize: 1 << 20)) {
            XCTAssertEqual($0 as? ImageError, .fileSizeExceedsMemorySize(index: 0, filesz: 8, memsz: 4))
        }
        XCTAssertThrowsError(try ELFImage(bytes: Array(Self.image(code: [1, 2, 3]).dropLast(2)), memorySize: 1 << 20)) {
            XCTAssertEqual($0 as? ImageError, .segmentOutsideFile(index: 0))
        }
        var badPH = good; badPH[44] = 200
        XCTAssertThrowsError(try ELFImage(bytes: badPH, memorySize: 1 << 20)) {
            guard case .badProgramHeaders? = $0 as? ImageError else { return XCTFail("\($0)") }
        }
        for e: ImageError in [.notELF, .wrongMachine(62), .segmentOutsideFile(index: 1)] {
            XCTAssertFalse(e.description.contains("\n"), "one line")
        }
    }

    func testSegmentEndingExactlyAtWIsAccepted() throws {
        XCTAssertNoThrow(try ELFImage(bytes: Self.image(code: [0], address: 0xFFFFC), memorySize: 1 << 20))
    }

    func testEmptySegmentsAreIgnoredAndBssIsZeroed() throws {
        var b = Self.image(code: [0xFFFF_FFFF], memsz: 4096)
        let elf = try ELFImage(bytes: b, memorySize: 65536)
        let m = Machine(booting: elf, memorySize: 65536, profile: .pg32v)
        XCTAssertEqual(m.storage.load32(0x1000), 0xFFFF_FFFF)
        XCTAssertEqual(m.storage.load32(0x1004), 0)
        // An empty segment far outside memory is ignored.
        b[52 + 8] = 0xFF; b[52 + 9] = 0xFF; b[52 + 10] = 0xFF  // p_vaddr (unused)
        for i in 68..<76 { b[i] = 0 } // filesz = memsz = 0
        b[64] = 0xF0; b[65] = 0xFF; b[66] = 0xFF; b[67] = 0x7F // p_paddr far away
        XCTAssertEqual(try ELFImage(bytes: b, memorySize: 65536).segments.count, 0)
    }

    func testMemorySizeValidation() {
        XCTAssertNil(Storage.validate(size: 4096))
        XCTAssertNotNil(Storage.validate(size: 0))
        XCTAssertNotNil(Storage.validate(size: 4095))
        XCTAssertNotNil(Storage.validate(size: 4097))
        XCTAssertNotNil(Storage.validate(size: 1 << 32))
        XCTAssertNil(Storage.validate(size: (1 << 32) - 4096))
    }

    func testDifferencesAreNamedInWords() {
        let base = Snapshot(outcome: .halted(3), console: Array("Hello, world".utf8), registers: [UInt32](repeating: 0, count: 32),
                            psw: PSW(mode: .supervisor, pc: 0x1004, l: 0, b: 4096), storage: [UInt8](repeating: 0, count: 4096), instructions: 10)
        XCTAssertNil(base.firstDifference(from: base))
        XCTAssertEqual(Verdict(run: base, reference: base), .equivalent)
        var s = base
        s.outcome = .checkstop
        XCTAssertEqual(s.firstDifference(from: base), "status differs: checkstop vs halted(3)")
        s = base; s.console = Array("Hello, worlx".utf8)
        XCTAssertEqual(s.firstDifference(from: base), "console differs at byte 11: 'x' vs 'd'")
        s = base; s.console = Array("Hello".utf8)
        XCTAssertEqual(s.firstDifference(from: base), "console differs at byte 5: end of output vs ','")
        s = base; s.registers[10] = 0x3
        XCTAssertEqual(s.firstDifference(from: base), "x10 = 0x3 vs 0x0")
        s = base; s.psw.mode = .user
        XCTAssertEqual(s.firstDifference(from: base), "PSW mode differs: user vs supervisor")
        s = base; s.psw.l = 0x40
        XCTAssertEqual(s.firstDifference(from: base), "PSW l = 0x40 vs 0x0")
        s = base; s.storage[0xFF4] = 7
        XCTAssertEqual(s.firstDifference(from: base), "storage differs at guest address 0xff4: 0x7 vs 0x0")
        s = base; s.instructions = 99
        XCTAssertNil(s.firstDifference(from: base), "instruction counts are not compared")
        s = base; s.outcome = .budget
        XCTAssertEqual(Verdict(run: s, reference: base), .inconclusive)
        XCTAssertEqual(Verdict(run: base, reference: s), .inconclusive)
    }

    func testSHA256KnownVectors() {
        XCTAssertEqual(SHA256.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(SHA256.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}

final class ELFWriterTests: XCTestCase {
    func testWrittenImagesReadBack() throws {
        var image = ELFImage(words: [0x0000_0013, Instruction(.halt, rs1: 0).encoded], at: 0x1000)
        image.segments.append(ELFImage.Segment(address: 0x4000, bytes: [1, 2, 3], memorySize: 64))
        let back = try ELFImage(bytes: image.elfBytes, memorySize: 65536)
        XCTAssertEqual(back.entry, 0x1000)
        XCTAssertEqual(back.segments.map(\.address), [0x1000, 0x4000])
        XCTAssertEqual(back.segments.map(\.bytes), image.segments.map(\.bytes))
        XCTAssertEqual(back.segments.map(\.memorySize), [8, 64])
        XCTAssertEqual(Machine(booting: back, memorySize: 65536, profile: .pg32v).run(budget: 10), .halted(0))
    }
}
