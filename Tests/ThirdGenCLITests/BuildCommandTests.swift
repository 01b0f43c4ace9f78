import Foundation
import Guests
import XCTest

/// `bench build`: -I, -D and -O with or without --libc, and what --libc says without the C library.
final class BuildCommandTests: XCTestCase {
    private var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("bench-build-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work.appendingPathComponent("inc"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    /// -I, -D and -O reach clang for a plain pg32.h guest (no C library needed).
    func testIncludeDefineAndOptimizationWithoutLibc() throws {
        try "#define FROM_HEADER 30\n".write(to: work.appendingPathComponent("inc/mine.h"), atomically: true, encoding: .utf8)
        let src = work.appendingPathComponent("g.c"), elf = work.appendingPathComponent("g.elf")
        try """
            #include "pg32.h"
            #include "mine.h"
            int main(void) { pg_putdec(__OPTIMIZE__ + 0); pg_out('\\n'); return FROM_HEADER + EXTRA; }
            """.write(to: src, atomically: true, encoding: .utf8)
        // Each flag as a separate value, and joined as clang spells it.
        let inc = work.appendingPathComponent("inc").path
        for flags in [["-I", inc, "-D", "EXTRA=12", "-O", "1"], ["-I" + inc, "-DEXTRA=12", "-O1"]] {
            let built = try BenchProcess.run(["build", src.path, "-o", elf.path] + flags)
            XCTAssertEqual(built.status, 0, "\(flags): \(built.stderr)")
            let r = try BenchProcess.run(["run", elf.path, "--json"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let run = try XCTUnwrap((o["runs"] as? [[String: Any]])?.first)
            XCTAssertEqual(run["exitCode"] as? Int, 42, "\(flags): \(r.stdout)")
            XCTAssertEqual(run["console"] as? String, "1\n", "__OPTIMIZE__ is 1 at -O1: \(r.stdout)")
            try? FileManager.default.removeItem(at: elf)
        }
        // -O0 does not define __OPTIMIZE__, so the same source no longer compiles: the flag really reached clang.
        // Spelled both ways: a separate value, and joined as clang spells it.
        for level in [["-O", "0"], ["-O0"]] {
            let unoptimized = try BenchProcess.run(["build", src.path, "-o", elf.path, "-I", work.appendingPathComponent("inc").path,
                                                    "-D", "EXTRA=12"] + level)
            XCTAssertNotEqual(unoptimized.status, 0, "\(level)")
            XCTAssertTrue(unoptimized.stderr.contains("__OPTIMIZE__"), "\(level): \(unoptimized.stderr)")
        }
        let joined = try BenchProcess.run(["build", src.path, "-o", elf.path, "-I", work.appendingPathComponent("inc").path,
                                           "-D", "EXTRA=12", "-O2"])
        XCTAssertEqual(joined.status, 0, joined.stderr)
    }

    /// -Xcc passes a flag to clang for the user's sources (not the runtime's),
    /// and -v prints each command line before it runs.
    func testXccReachesTheUsersCompilesAndVerbosePrintsTheCommands() throws {
        let src = work.appendingPathComponent("g.c"), elf = work.appendingPathComponent("g.elf")
        try "int main(void) { int unused; return VIA_XCC; }\n".write(to: src, atomically: true, encoding: .utf8)
        let built = try BenchProcess.run(["build", src.path, "-o", elf.path, "-Xcc", "-DVIA_XCC=7", "-v"])
        XCTAssertEqual(built.status, 0, built.stderr)
        let lines = built.stderr.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.contains("clang") && $0.contains("-DVIA_XCC=7") && $0.contains("g.c") }, built.stderr)
        XCTAssertFalse(lines.contains { $0.contains("-DVIA_XCC=7") && $0.contains("crt0.S") }, "the runtime's compiles: \(built.stderr)")
        XCTAssertTrue(lines.last?.contains("ld.lld") ?? false, built.stderr)
        let r = try BenchProcess.run(["run", elf.path, "--json"])
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((o["runs"] as? [[String: Any]])?.first?["exitCode"] as? Int, 7, r.stdout)
        // A flag that only the user's file can fail on: the unused variable is an error under -Werror.
        let strict = try BenchProcess.run(["build", src.path, "-o", elf.path, "-Xcc", "-DVIA_XCC=7", "-Xcc", "-Werror"])
        XCTAssertNotEqual(strict.status, 0)
        XCTAssertTrue(strict.stderr.contains("unused"), strict.stderr)
    }

    /// A Makefile's CFLAGS as a C compiler takes them (-W..., -std=, -g, -f..., -U,
    /// -march=rv32im, -mabi=ilp32) reach clang for the user's sources without -Xcc;
    /// a linker flag, and a -march or -mabi that is not PG32's, are refused.
    func testCompilerFlagsReachClangAsTheyAreSpelled() throws {
        let src = work.appendingPathComponent("g.c"), elf = work.appendingPathComponent("g.elf")
        try "#ifdef GONE\n#error GONE is defined\n#endif\nint main(void) { int unused; return 5; }\n"
            .write(to: src, atomically: true, encoding: .utf8)
        let plain = ["-std=c99", "-g", "-fno-strict-aliasing", "-pedantic", "-DGONE", "-UGONE", "-march=rv32im", "-mabi=ilp32"]
        let built = try BenchProcess.run(["build", src.path, "-o", elf.path] + plain + ["-v"])
        XCTAssertEqual(built.status, 0, built.stderr)
        XCTAssertTrue(built.stderr.split(separator: "\n").contains { $0.contains("g.c") && $0.contains("-std=c99") && $0.contains("-UGONE") },
                      built.stderr)
        let r = try BenchProcess.run(["run", elf.path, "--json"])
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((o["runs"] as? [[String: Any]])?.first?["exitCode"] as? Int, 5, r.stdout)
        let strict = try BenchProcess.run(["build", src.path, "-o", elf.path, "-Wall", "-Werror"])
        XCTAssertNotEqual(strict.status, 0)
        XCTAssertTrue(strict.stderr.contains("unused variable"), strict.stderr)
        let linker = try BenchProcess.run(["build", src.path, "-o", elf.path, "-Wl,--gc-sections"])
        XCTAssertEqual(linker.status, 64)
        XCTAssertTrue(linker.stderr.contains("Unknown option '-Wl,--gc-sections'"), linker.stderr)
        // A target PG32 is not: refused before clang could emit instructions it lacks, spelled either way.
        for (args, says) in [(["-march=rv32imac"], "PG32 runs RV32IM"), (["-Xcc", "-march=rv32gc"], "PG32 runs RV32IM"),
                             (["-mabi=ilp32d"], "ilp32 ABI")] {
            let r = try BenchProcess.run(["build", src.path, "-o", elf.path, "-v"] + args)
            XCTAssertEqual(r.status, 64, "\(args)")
            XCTAssertTrue(r.stderr.contains(says) && !r.stderr.contains("clang --target"), "\(args): \(r.stderr)")
        }
    }

    /// Bad -O, -I and -D values are refused before anything is compiled.
    func testBadOptionsAreRefused() throws {
        let src = work.appendingPathComponent("g.c")
        try "int main(void) { return 0; }\n".write(to: src, atomically: true, encoding: .utf8)
        for (args, says) in [(["-O", "9"], "-O takes"), (["-O9"], "-O takes"), (["-I", "/no/such/dir"], "no such folder"),
                             (["-I/no/such/dir"], "no such folder"), (["-D", "1X=2"], "macro name"), (["-D1X=2"], "macro name")] {
            let r = try BenchProcess.run(["build", src.path, "-o", work.appendingPathComponent("g.elf").path] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(says), "\(args): \(r.stderr)")
        }
        // An output no folder can hold, in one line before anything is compiled; a --builtins folder that cannot be made.
        for (args, says) in [(["-o", work.appendingPathComponent("no/such/g.elf").path], "no such folder"),
                             (["-o", src.path + "/g.elf"], "is a file, not a folder")] {
            let r = try BenchProcess.run(["build", src.path] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(says) && !r.stderr.contains("ld.lld"), "\(args): \(r.stderr)")
        }
        let builtins = try BenchProcess.run(["build", "--builtins", src.path + "/images"])
        XCTAssertNotEqual(builtins.status, 0)
        XCTAssertTrue(builtins.stderr.contains("is a file, not a folder; choose another --builtins"), builtins.stderr)
        XCTAssertFalse(builtins.stderr.contains("Domain="), builtins.stderr)
    }

    /// --builtins builds each built-in guest with its own flags: any other flag (but -v) is refused, named, not ignored.
    func testBuiltinsRefusesTheFlagsItWouldIgnore() throws {
        let dir = work.appendingPathComponent("images").path
        for (args, names) in [(["-O0"], "-O"), (["-O", "3"], "-O"), (["-DX=1"], "-D"), (["-Xcc", "-Wall"], "-Xcc"), (["-lm"], "-l"), (["-L", "/tmp"], "-L"),
                              (["g.c", "-o", "g.elf", "--libc"], "sources, -o, --libc")] {
            let r = try BenchProcess.run(["build", "--builtins", dir] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains("takes no \(names) (only -v)"), "\(args): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "\(args): nothing is built")
        }
    }

    /// The runtime's riscv_test.h runs a test written as the official RISC-V
    /// tests are (their macros are not ours to ship: a stand-in of the same
    /// shape): HALT 0 when every case passes, the failing case's number when
    /// one fails, 1 when it fails with no case number; a riscv_test.h in a
    /// folder the user names with -I is used instead of the runtime's.
    func testRiscvTestsEnvironment() throws {
        try RiscvTestsShape.macros.write(to: work.appendingPathComponent("inc/macros.h"), atomically: true, encoding: .utf8)
        func test(_ cases: String, name: String, flags: [String] = []) throws -> Int? {
            let src = work.appendingPathComponent(name + ".S"), elf = work.appendingPathComponent(name + ".elf")
            try RiscvTestsShape.test(cases, macrosHeader: "macros.h").write(to: src, atomically: true, encoding: .utf8)
            let built = try BenchProcess.run(["build", src.path, "-I", work.appendingPathComponent("inc").path] + flags
                                             + ["-o", elf.path])
            XCTAssertEqual(built.status, 0, built.stderr)
            let r = try BenchProcess.run(["run", elf.path, "--strategy", "trap,bt,jit", "--json"])
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let codes = Set(try XCTUnwrap(o["runs"] as? [[String: Any]]).map { $0["exitCode"] as? Int })
            XCTAssertEqual(codes.count, 1, "\(name): \(r.stdout)")
            return codes.first ?? nil
        }
        let passing = "  TEST_CASE( 2, x5, 0x0000ff7f, li x6, 0xaaaaaaab; li x8, 0x0002fe7d; mul x5, x6, x8; )\n"
            + "  TEST_CASE( 3, x5, 0xfffffff0, la x6, data; lb x5, 2(x6); )\n  .data\ndata: .byte 0xff, 0, 0xf0\n  .text\n"
        XCTAssertEqual(try test(passing, name: "pass"), 0)
        XCTAssertEqual(try test(passing.replacingOccurrences(of: "0xfffffff0", with: "0x000000f0"), name: "fail3"), 3)
        XCTAssertEqual(try test("  j fail\n", name: "failnone"), 1)
        let own = work.appendingPathComponent("own")
        try FileManager.default.createDirectory(at: own, withIntermediateDirectories: true)
        try """
            #define TESTNUM gp
            #define RVTEST_RV32U
            #define RVTEST_CODE_BEGIN .text; .globl main; main:
            #define RVTEST_CODE_END
            #define RVTEST_PASS li a0, 42; .insn r 0x0B, 0, 0, x0, a0, x0;
            #define RVTEST_FAIL li a0, 43; .insn r 0x0B, 0, 0, x0, a0, x0;
            #define RVTEST_DATA_BEGIN
            #define RVTEST_DATA_END
            """.write(to: own.appendingPathComponent("riscv_test.h"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try test(passing, name: "own", flags: ["-I", own.path]), 42)
    }

    /// Objects and static libraries built for PG32 link with the sources, as a
    /// hosted build links them: an .o among the sources (made by `bench build
    /// -c`), -L and -l (joined or not) for a libNAME.a; a library no -L folder
    /// holds, -lm without --libc, and -c with objects are refused in one line
    /// before anything is compiled.
    func testObjectsAndLibrariesLinkWithTheSources() throws {
        let toolchain = try GuestToolchain.locate()
        let ar = URL(fileURLWithPath: toolchain.clang).deletingLastPathComponent().appendingPathComponent("llvm-ar").path
        let lib = work.appendingPathComponent("lib")
        try FileManager.default.createDirectory(at: lib, withIntermediateDirectories: true)
        func write(_ name: String, _ text: String) throws -> String {
            let url = work.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let target = ["--target=riscv32", "-march=rv32im", "-mabi=ilp32", "-O2", "-c"]
        let square = try write("square.c", "int square(int x) { return x * x; }\n")
        let cube = try write("cube.c", "int square(int);\nint cube(int x) { return square(x) * x; }\n")
        let main = try write("main.c", """
            #include "pg32.h"
            int cube(int);
            int main(void) { pg_putdec(cube(3)); pg_out('\\n'); return cube(2); }
            """)
        // cube.o from `bench build -c`, libsquare.a from clang and llvm-ar as a user would make it.
        let compiled = try BenchProcess.run(["build", "-c", cube, "-o", work.appendingPathComponent("cube.o").path])
        XCTAssertEqual(compiled.status, 0, compiled.stderr)
        let two = try BenchProcess.run(["build", "-c", cube, square, "-o", work.appendingPathComponent("two.o").path])
        XCTAssertNotEqual(two.status, 0)
        XCTAssertTrue(two.stderr.contains("-c with -o compiles one source"), two.stderr)
        for (tool, args) in [(toolchain.clang, target + [square, "-o", lib.appendingPathComponent("square.o").path]),
                             (ar, ["rcs", lib.appendingPathComponent("libsquare.a").path, lib.appendingPathComponent("square.o").path])] {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: tool)
            p.arguments = args
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "\(tool) \(args)")
        }
        let elf = work.appendingPathComponent("m.elf").path, object = work.appendingPathComponent("cube.o").path
        for flags in [["-L", lib.path, "-l", "square"], ["-L" + lib.path, "-lsquare"]] {
            let built = try BenchProcess.run(["build", main, object, "-o", elf] + flags)
            XCTAssertEqual(built.status, 0, "\(flags): \(built.stderr)")
            let r = try BenchProcess.run(["run", elf, "--json"])
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
            let run = try XCTUnwrap((o["runs"] as? [[String: Any]])?.first)
            XCTAssertEqual(run["exitCode"] as? Int, 8, "\(flags): \(r.stdout)")
            XCTAssertEqual(run["console"] as? String, "27\n", "\(flags): \(r.stdout)")
            try? FileManager.default.removeItem(atPath: elf)
        }
        // Without the library, the link fails on the symbol it would have given.
        let missing = try BenchProcess.run(["build", main, object, "-o", elf])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("undefined symbol: square"), missing.stderr)
        for (args, says) in [(["-lsquare"], "no libsquare.a in any -L folder"),
                             (["-L", work.path, "-lsquare"], "no libsquare.a in the -L folders (\(work.path))"),
                             (["-L", lib.path, "-lsquare", "-lm"], "-lm: the C library (picolibc, its math included) and libgcc are linked with --libc"),
                             (["-L", lib.path + "/none", "-lsquare"], "no such folder"), (["-l", "../square"], "takes a library name"),
                             (["-c"], "-c compiles sources only"), (["-c", "-lsquare"], "-c compiles sources only")] {
            let r = try BenchProcess.run(["build", main, object, "-o", elf] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertTrue(r.stderr.contains(says) && !r.stderr.contains("ld.lld"), "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(args): \(r.stderr)")
        }
    }

    /// Without picolibc or libgcc, --libc names the Debian package in one line and fails.
    func testLibcWithoutTheLibraryNamesThePackage() throws {
        let src = work.appendingPathComponent("hello.c")
        try "#include <stdio.h>\nint main(void) { printf(\"hi\\n\"); return 0; }\n".write(to: src, atomically: true, encoding: .utf8)
        let cases = [("PG32_PICOLIBC", "picolibc-riscv64-unknown-elf"), ("PG32_LIBGCC", "gcc-riscv64-unknown-elf")]
        for (variable, package) in cases {
            let r = try BenchProcess.run(["build", "--libc", src.path, "-o", work.appendingPathComponent("hello.elf").path],
                                         environment: [variable: "/no/such/place"])
            if variable == "PG32_LIBGCC", r.stderr.contains("picolibc-riscv64-unknown-elf") {
                continue   // picolibc itself is missing here, so libgcc is never looked for
            }
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains("apt-get install \(package)"), r.stderr)
            XCTAssertEqual(r.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, r.stderr)
        }
    }

    /// The README's hello world: one build line, one run line (needs the C library; skipped without it);
    /// then with math and -lm.
    func testLibcHelloWorld() throws {
        do { _ = try GuestLibC.locate() } catch {
            throw XCTSkip("the C library is not installed, so --libc hello world did not run: \(error)")
        }
        let src = work.appendingPathComponent("hello.c"), elf = work.appendingPathComponent("hello.elf")
        let plain = "#include <stdio.h>\nint main(void) { printf(\"hello, %s %d\\n\", \"world\", 6 * 7); return 0; }\n"
        // -lm, as a hosted build of a program with math spells it: --libc links it already.
        let math = "#include <stdio.h>\n#include <math.h>\n"
            + "int main(void) { printf(\"hello, %s %d\\n\", \"world\", (int)sqrt(1764.0)); return 0; }\n"
        for (text, flags) in [(plain, [String]()), (math, ["-lm"])] {
            try text.write(to: src, atomically: true, encoding: .utf8)
            let built = try BenchProcess.run(["build", "--libc", src.path, "-o", elf.path] + flags)
            XCTAssertEqual(built.status, 0, built.stderr)
            let r = try BenchProcess.run(["run", elf.path, "--strategy", "native,trap,hw"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("hello, world 42"), "\(flags): \(r.stdout)")
            XCTAssertEqual(r.stdout.components(separatedBy: "equivalent").count - 1, 2, r.stdout)
        }
    }
}
