import Foundation
import Guests
import Machine
import XCTest

/// `bench build --libc`: ordinary C against picolibc and libgcc, on PG32.
/// These need Debian's picolibc-riscv64-unknown-elf and gcc-riscv64-unknown-elf
/// (.ci/run installs them); without them each test is skipped and says so.
final class LibCTests: XCTestCase {
    private var work: URL!

    override func setUpWithError() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("pg32-libc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: work) }

    private func libc() throws -> GuestLibC {
        do { return try GuestLibC.locate() } catch {
            throw XCTSkip("the C library is not installed, so this --libc test did not run: \(error)")
        }
    }

    /// Builds `source` with the C library and runs it on a bare pg32v machine of `memory` bytes.
    private func run(_ source: String, memory: Int = 1 << 20, defines: [String] = [], budget: UInt64 = 50_000_000) throws -> Snapshot {
        let lib = try libc()
        let src = work.appendingPathComponent("guest.c"), elf = work.appendingPathComponent("guest.elf")
        try source.write(to: src, atomically: true, encoding: .utf8)
        try GuestToolchain.locate().build(sources: [src], output: elf, extraFlags: defines.map { "-D" + $0 }, libc: lib)
        let image = try ELFImage(bytes: [UInt8](try Data(contentsOf: elf)), memorySize: memory)
        return Machine(booting: image, memorySize: memory, profile: .pg32v).runToEnd(budget: budget)
    }

    private func console(_ s: Snapshot) -> String { String(decoding: s.console, as: UTF8.self) }

    /// Every printf conversion the built-in guests use, and the common rest,
    /// print exactly what the host's C library prints for the same source.
    func testPrintfMatchesTheHostsPrintf() throws {
        let source = """
            #include <stdio.h>
            #include <stdint.h>
            #include <inttypes.h>
            int main(void) {
                printf("[%d] [%i] [%u] [%x] [%X] [%o] [%c] [%s] [%%]\\n", -42, 7, 4000000000u, 0xbeef, 0xBEEF, 8, 'z', "str");
                printf("[%5d] [%-5d] [%05d] [%+d] [% d] [%.3d] [%*d]\\n", 3, 3, 3, 3, 3, 3, 6, 3);
                printf("[%ld] [%lld] [%llu] [%llx] [%zu] [%08lx] [%" PRIu64 "] [%hhu] [%hd]\\n", -100000L, -1234567890123LL,
                       18446744073709551615ULL, 0x123456789abcULL, (size_t)99, 0xabcdUL, (uint64_t)1 << 40, (unsigned char)300, (short)-3);
                printf("[%-12s] [%12s] [%.2s] [%5u] [%5.2f%%]\\n", "left", "right", "truncate", 42u, 9.4833);
                printf("[%f] [%e] [%g] [%.10f] [%8.3f] [%-10.2e] [%g] [%g] [%.0f] [%.9f] [%.6f]\\n", 1.5, 12345.678, 0.0001,
                       3.141592653589793, -2.5, 6.02e23, 1e100, 1.0 / 3, 2.5, -0.169075164, 2.98178);
                printf("[%E] [%G] [%a] [%#x] [%#o] [%.3e] [%10.4g]\\n", 1e-10, 1e-10, 1.0, 255, 8, 123456.0, 3.14159265);
                char buf[32];
                int n = snprintf(buf, sizeof buf, "%s-%d-%.1f", "x", 5, 0.25);
                printf("[%s] [%d]\\n", buf, n);
                return 0;
            }
            """
        let s = try run(source)
        XCTAssertEqual(s.outcome, .halted(0), console(s))
        let src = work.appendingPathComponent("host.c"), exe = work.appendingPathComponent("host")
        try source.write(to: src, atomically: true, encoding: .utf8)
        let toolchain = try GuestToolchain.locate()
        let built = try GuestToolchain.run(toolchain.clang, ["-O2", src.path, "-o", exe.path])
        XCTAssertEqual(built.status, 0, built.output)
        let host = try GuestToolchain.run(exe.path, [])
        XCTAssertEqual(host.status, 0)
        XCTAssertEqual(console(s), host.output)
        XCTAssertTrue(console(s).contains("[-0.169075164]"), console(s))
    }

    /// malloc hands out the heap from the image's end to 64 KiB below the top
    /// of storage, then returns NULL; the stack above it is still intact.
    func testMallocReturnsNullWhenTheHeapIsExhausted() throws {
        let source = """
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            extern char __heap_start[];
            static unsigned depth(unsigned n) { volatile char pad[512]; memset((char *)pad, (int)n, sizeof pad); return n ? pad[7] + depth(n - 1) : 0; }
            int main(void) {
                unsigned long blocks = 0; char *last = 0;
                for (;;) {
                    char *p = malloc(1000);
                    if (!p) break;
                    memset(p, 0xA5, 1000);
                    *(char **)p = last; last = p; blocks++;
                }
                unsigned long top = 0;
                for (char *p = last; p; p = *(char **)p) if ((unsigned long)p > top) top = (unsigned long)p;
                printf("blocks %lu heap %lu top %lu stack %u\\n", blocks, (unsigned long)__heap_start, top + 1000, depth(100));
                return 5;
            }
            """
        for memory in [1 << 18, 1 << 20] {
            let s = try run(source, memory: memory)
            XCTAssertEqual(s.outcome, .halted(5), console(s))
            let words = console(s).split(separator: " ")
            let numbers = [1, 3, 5, 7].compactMap { words.count > $0 ? Int($0 == 7 ? words[$0].dropLast() : words[$0]) : nil }
            XCTAssertEqual(numbers.count, 4, console(s))
            let (blocks, heap, top, stack) = (numbers[0], numbers[1], numbers[2], numbers[3])
            let limit = memory - 64 * 1024
            XCTAssertLessThanOrEqual(top, limit, "a block ends above the stack's limit: \(console(s))")
            XCTAssertGreaterThan(blocks * 1000, (limit - heap) * 9 / 10, "most of the heap was handed out: \(console(s))")
            XCTAssertEqual(stack, 5050, "100 frames of 512 bytes still hold what they were written: \(console(s))")
        }
    }

    /// exit(n) and a return from main halt with n after the atexit handlers;
    /// abort() and a failed assert halt with 0x186 without them, the assert after its message.
    func testExitAbortAndAssertHaltWithTheirCodes() throws {
        let source = """
            #include <assert.h>
            #include <stdio.h>
            #include <stdlib.h>
            static void bye(void) { printf("atexit\\n"); }
            int main(void) {
                atexit(bye);
                printf("start\\n");
            #if HOW == 1
                exit(7);
            #elif HOW == 2
                abort();
            #elif HOW == 3
                int zero = 0;
                assert(zero == 1);
            #endif
                return 9;
            }
            """
        let cases: [(how: Int, code: UInt32)] = [(0, 9), (1, 7), (2, 0x186), (3, 0x186)]
        for c in cases {
            let s = try run(source, defines: ["HOW=\(c.how)"])
            XCTAssertEqual(s.outcome, .halted(c.code), "HOW=\(c.how): \(console(s))")
            XCTAssertTrue(console(s).hasPrefix("start\n"), console(s))
            XCTAssertEqual(console(s).hasSuffix("atexit\n"), c.how < 2, "atexit handlers run on exit only: \(console(s))")
            if c.how == 3 { XCTAssertTrue(console(s).contains("zero == 1"), "the failed assertion is named: \(console(s))") }
        }
    }

    /// No clock on PG32 (SPEC section 4): time() and clock() say unavailable; stdin is at end of file.
    func testTimeClockAndStdinSayUnavailable() throws {
        let s = try run("""
            #include <stdio.h>
            #include <time.h>
            int main(void) {
                time_t t = 5;
                printf("%ld %ld %ld %d\\n", (long)time(&t), (long)t, (long)clock(), getchar());
                return 0;
            }
            """)
        XCTAssertEqual(s.outcome, .halted(0))
        XCTAssertEqual(console(s), "-1 -1 -1 -1\n")
    }
}
