import Foundation
@testable import Translator
import XCTest

/// The emitter against byte sequences from the Intel SDM's encoding rules
/// (checked with llvm-objdump), and a whole sequence round-tripped through
/// llvm-objdump when the toolchain has it.
final class X86AssemblerTests: XCTestCase {
    typealias A = X86Assembler

    private func bytes(_ body: (inout A) -> Void) -> [UInt8] {
        var a = A()
        body(&a)
        return a.bytes
    }

    func testKnownEncodings() {
        // The addressing cases: rsp/r12 need a SIB byte, rbp/r13 need a displacement, disp8 vs disp32.
        XCTAssertEqual(bytes { $0.mov(.eax, .dword[.r12 + 8]) }, [0x41, 0x8B, 0x44, 0x24, 0x08])
        XCTAssertEqual(bytes { $0.mov(.eax, .dword[.r12 + 128]) }, [0x41, 0x8B, 0x84, 0x24, 0x80, 0x00, 0x00, 0x00])
        XCTAssertEqual(bytes { $0.mov(.eax, .dword[.r12]) }, [0x41, 0x8B, 0x04, 0x24])
        XCTAssertEqual(bytes { $0.mov(.edx, .dword[.r13 + .rax]) }, [0x41, 0x8B, 0x54, 0x05, 0x00])
        XCTAssertEqual(bytes { $0.mov(.ecx, .dword[.rbp]) }, [0x8B, 0x4D, 0x00])
        XCTAssertEqual(bytes { $0.mov(.dword[.r12 + 4], .eax) }, [0x41, 0x89, 0x44, 0x24, 0x04])
        XCTAssertEqual(bytes { $0.mov(.dword[.r12 + 12], 0x1234_5678) }, [0x41, 0xC7, 0x44, 0x24, 0x0C, 0x78, 0x56, 0x34, 0x12])
        XCTAssertEqual(bytes { $0.mov(.esi, 0xDEAD_BEEF as UInt32) }, [0xBE, 0xEF, 0xBE, 0xAD, 0xDE])
        XCTAssertEqual(bytes { $0.mov(.rdx, 0x1122_3344_5566_7788 as UInt64) }, [0x48, 0xBA, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
        XCTAssertEqual(bytes { $0.mov(.rbx, .rdi) }, [0x48, 0x89, 0xFB])
        XCTAssertEqual(bytes { $0.mov(.r12, .qword[.rbx + 0]) }, [0x4C, 0x8B, 0x23])
        XCTAssertEqual(bytes { $0.mov(.qword[.rbx + 24], .r15) }, [0x4C, 0x89, 0x7B, 0x18])
        XCTAssertEqual(bytes { $0.mov(.byte[.r13 + .rax], A.Reg8.dl) }, [0x41, 0x88, 0x54, 0x05, 0x00])
        // sil, dil, bpl: a REX prefix even where no bit of it is set (without one they are dh, bh, ch).
        XCTAssertEqual(bytes { $0.mov(.byte[.rax], A.Reg32.esi.b) }, [0x40, 0x88, 0x30])
        XCTAssertEqual(bytes { $0.mov(.byte[.r13 + .rax], A.Reg32.esi.b) }, [0x41, 0x88, 0x74, 0x05, 0x00])
        XCTAssertEqual(bytes { $0.mov(.byte[.r13 + .r11], A.Reg32.edi.b) }, [0x43, 0x88, 0x7C, 0x1D, 0x00])
        XCTAssertEqual(bytes { $0.mov(.byte[.r13 + .rax], A.Reg32.ebp.b) }, [0x41, 0x88, 0x6C, 0x05, 0x00])
        XCTAssertEqual(bytes { $0.mov(.byte[.rax], A.Reg32.ebx.b) }, [0x88, 0x18])
        XCTAssertEqual(bytes { $0.set(.b, A.Reg32.esi.b) }, [0x40, 0x0F, 0x92, 0xC6])
        XCTAssertEqual(bytes { $0.movzx(.eax, A.Reg32.esi.b) }, [0x40, 0x0F, 0xB6, 0xC6])
        XCTAssertEqual(bytes { $0.mov(.word[.r13 + .rax], A.Reg16.dx) }, [0x66, 0x41, 0x89, 0x54, 0x05, 0x00])
        XCTAssertEqual(bytes { $0.movsx(.edx, .byte[.r13 + .rax]) }, [0x41, 0x0F, 0xBE, 0x54, 0x05, 0x00])
        XCTAssertEqual(bytes { $0.movzx(.edx, .word[.r13 + .rax]) }, [0x41, 0x0F, 0xB7, 0x54, 0x05, 0x00])
        XCTAssertEqual(bytes { $0.movsxd(.rax, .dword[.r12 + 4]) }, [0x49, 0x63, 0x44, 0x24, 0x04])
        XCTAssertEqual(bytes { $0.lea(.rcx, .rax + 4) }, [0x48, 0x8D, 0x48, 0x04])
        XCTAssertEqual(bytes { $0.lea(.ecx, .rax + 0x40000) }, [0x8D, 0x88, 0x00, 0x00, 0x04, 0x00])
        // Arithmetic: imm8 and imm32 forms, register and memory operands.
        XCTAssertEqual(bytes { $0.add(.eax, .dword[.r12 + 8]) }, [0x41, 0x03, 0x44, 0x24, 0x08])
        XCTAssertEqual(bytes { $0.add(.eax, 1) }, [0x83, 0xC0, 0x01])
        XCTAssertEqual(bytes { $0.add(.eax, 0x1000) }, [0x81, 0xC0, 0x00, 0x10, 0x00, 0x00])
        XCTAssertEqual(bytes { $0.sub(.r15, 5) }, [0x49, 0x83, 0xEF, 0x05])
        XCTAssertEqual(bytes { $0.add(.dword[.r12 + 8], -1) }, [0x41, 0x83, 0x44, 0x24, 0x08, 0xFF])
        XCTAssertEqual(bytes { $0.cmp(.rcx, .r14) }, [0x4C, 0x39, 0xF1])
        XCTAssertEqual(bytes { $0.cmp(.r14, 0x2000) }, [0x49, 0x81, 0xFE, 0x00, 0x20, 0x00, 0x00])
        XCTAssertEqual(bytes { $0.cmp(.byte[.rbp + .rcx], 0) }, [0x80, 0x7C, 0x0D, 0x00, 0x00])
        XCTAssertEqual(bytes { $0.cmp(.word[.rbp + .rcx], 0) }, [0x66, 0x83, 0x7C, 0x0D, 0x00, 0x00])
        XCTAssertEqual(bytes { $0.xor(.ecx, .ecx) }, [0x31, 0xC9])
        XCTAssertEqual(bytes { $0.and(.eax, -2) }, [0x83, 0xE0, 0xFE])
        XCTAssertEqual(bytes { $0.shift(.shl, .eax) }, [0xD3, 0xE0])
        XCTAssertEqual(bytes { $0.shift(.sar, .eax, 3) }, [0xC1, 0xF8, 0x03])
        XCTAssertEqual(bytes { $0.shift(.shr, .rax, 32) }, [0x48, 0xC1, 0xE8, 0x20])
        XCTAssertEqual(bytes { $0.imul(.eax, .dword[.r12 + 8]) }, [0x41, 0x0F, 0xAF, 0x44, 0x24, 0x08])
        XCTAssertEqual(bytes { $0.imul(.rax, .rcx) }, [0x48, 0x0F, 0xAF, 0xC1])
        XCTAssertEqual(bytes { $0.cdq(); $0.idiv(.ecx); $0.div(.ecx) }, [0x99, 0xF7, 0xF9, 0xF7, 0xF1])
        XCTAssertEqual(bytes { $0.set(.l, .cl) }, [0x0F, 0x9C, 0xC1])
        XCTAssertEqual(bytes { $0.test(.rax, .rax) }, [0x48, 0x85, 0xC0])
        XCTAssertEqual(bytes { _ = $0.cmpImm32(.eax, 0xFFFF_FFFF) }, [0x81, 0xF8, 0xFF, 0xFF, 0xFF, 0xFF])
        // Control: pushes and pops of extended registers, indirect calls through the context.
        XCTAssertEqual(bytes { $0.push(.rbx); $0.push(.r12); $0.pop(.r15); $0.ret() }, [0x53, 0x41, 0x54, 0x41, 0x5F, 0xC3])
        XCTAssertEqual(bytes { $0.neg(.eax); $0.neg(.r9d) }, [0xF7, 0xD8, 0x41, 0xF7, 0xD9])
        XCTAssertEqual(bytes { $0.call(.qword[.rbx + 72]) }, [0xFF, 0x53, 0x48])
        XCTAssertEqual(bytes { $0.jmp(.qword[.rbx + 40]) }, [0xFF, 0x63, 0x28])
        XCTAssertEqual(bytes { $0.jmp(.rax) }, [0xFF, 0xE0])
    }

    /// Labels: a backward jump is resolved at once, a forward one when its label is bound.
    func testLabels() {
        var a = A()
        let top = a.newLabel(), out = a.newLabel()
        a.bind(top)
        a.j(.ne, out)        // 0: 0F 85 rel32 -> out
        a.jmp(top)           // 6: E9 rel32 -> top = -11
        a.bind(out)          // 11
        XCTAssertEqual(a.bytes, [0x0F, 0x85, 0x05, 0x00, 0x00, 0x00, 0xE9, 0xF5, 0xFF, 0xFF, 0xFF])
        var b = A(origin: 0x1000)
        b.jmp(absolute: 0x1000)
        XCTAssertEqual(b.bytes, [0xE9, 0xFB, 0xFF, 0xFF, 0xFF])
        var c = A()
        let routine = c.newLabel()
        c.call(routine)      // 0: E8 rel32 -> routine = +1
        c.int3()             // 5
        c.bind(routine)      // 6
        c.ret()
        c.call(routine)      // 7: E8 rel32 -> routine = 6 - 12
        XCTAssertEqual(c.bytes, [0xE8, 0x01, 0x00, 0x00, 0x00, 0xCC, 0xC3, 0xE8, 0xFA, 0xFF, 0xFF, 0xFF])
    }

    /// RIP-relative operands: the displacement runs from the end of the instruction to the address named.
    func testRIPRelative() {
        var a = A(origin: 0x1000)
        a.mov(.rax, .qword[.rip(0x2000)])         // 0x1000: 48 8B 05 disp32, ends at 0x1007
        a.call(.qword[.rip(0x0F00) + 8])          // 0x1007: FF 15 disp32, ends at 0x100D -> 0x0F08
        a.lea(.rdi, .rip(0x1000))                 // 0x100D: 48 8D 3D disp32, ends at 0x1014
        a.cmp(.rsi, .qword[.rip(0x1014)])         // 0x1014: 48 3B 35 disp32 = 0 - 7
        XCTAssertEqual(a.bytes, [0x48, 0x8B, 0x05, 0xF9, 0x0F, 0x00, 0x00,
                                 0xFF, 0x15, 0xFB, 0xFE, 0xFF, 0xFF,
                                 0x48, 0x8D, 0x3D, 0xEC, 0xFF, 0xFF, 0xFF,
                                 0x48, 0x3B, 0x35, 0xF9, 0xFF, 0xFF, 0xFF])
    }

    /// A block's worth of instructions disassembles to what was meant.
    func testAgreesWithLLVMObjdump() throws {
        guard let tools = Self.llvmTools() else { throw XCTSkip("clang and llvm-objdump not found beside swift") }
        var a = A()
        a.mov(.eax, .dword[.r12 + 20])
        a.add(.eax, .dword[.r12 + 24])
        a.mov(.dword[.r12 + 28], .eax)
        a.lea(.rcx, .rax + 4)
        a.cmp(.rcx, .r14)
        a.movzx(.edx, .byte[.r13 + .rax])
        a.mov(.word[.r13 + .rax], A.Reg16.dx)
        a.cmp(.word[.rbp + .rcx], 0)
        a.sub(.r15, 12)
        a.call(.qword[.rbx + 80])
        a.shift(.sar, .eax)
        a.set(.b, .cl)
        a.mul(.r9d)
        a.mul(.dword[.r12 + 8])
        a.imul(.esi)
        a.imul(.dword[.r12 + 12])
        a.test(.r10d, 0x8000_0000)
        a.cmov(.ne, .esi, .r9d)
        a.cmov(.ne, .r11d, .dword[.r12 + 16])
        let expected = [
            "mov eax, dword ptr [r12 + 0x14]", "add eax, dword ptr [r12 + 0x18]", "mov dword ptr [r12 + 0x1c], eax",
            "lea rcx, [rax + 0x4]", "cmp rcx, r14", "movzx edx, byte ptr [r13 + rax]", "mov word ptr [r13 + rax], dx",
            "cmp word ptr [rbp + rcx], 0x0", "sub r15, 0xc", "call qword ptr [rbx + 0x50]", "sar eax, cl", "setb cl",
            "mul r9d", "mul dword ptr [r12 + 0x8]", "imul esi", "imul dword ptr [r12 + 0xc]",
            "test r10d, 0x80000000", "cmovne esi, r9d", "cmovne r11d, dword ptr [r12 + 0x10]",
        ]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("x86asm-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The bytes as data in an object file (clang assembles `.byte`), so llvm-objdump can read them.
        let source = dir.appendingPathComponent("code.s"), object = dir.appendingPathComponent("code.o")
        try ".text\n.byte \(a.bytes.map { "\($0)" }.joined(separator: ","))\n".write(to: source, atomically: true, encoding: .utf8)
        _ = try Self.tool(tools.clang, ["--target=x86_64-linux-gnu", "-c", source.path, "-o", object.path])
        let out = try Self.tool(tools.objdump, ["-d", "-M", "intel", "--no-show-raw-insn", object.path])
        let lines = out.split(separator: "\n").compactMap { line -> String? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let _ = Int(parts[0].trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            return parts[1].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "\t", with: " ")
        }
        XCTAssertEqual(lines, expected)
    }

    /// clang and llvm-objdump from the Swift toolchain's folder.
    static func llvmTools() -> (clang: URL, objdump: URL)? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for dir in path.split(separator: ":") {
            let swift = URL(fileURLWithPath: String(dir)).appendingPathComponent("swift")
            guard FileManager.default.isExecutableFile(atPath: swift.path) else { continue }
            let bin = swift.resolvingSymlinksInPath().deletingLastPathComponent()
            let clang = bin.appendingPathComponent("clang"), objdump = bin.appendingPathComponent("llvm-objdump")
            if FileManager.default.isExecutableFile(atPath: clang.path), FileManager.default.isExecutableFile(atPath: objdump.path) {
                return (clang, objdump)
            }
        }
        return nil
    }

    /// Runs a tool; its standard output, or a failure naming the tool.
    static func tool(_ url: URL, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = url
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw XCTSkip("\(url.lastPathComponent) failed (\(p.terminationStatus))") }
        return out
    }
}
