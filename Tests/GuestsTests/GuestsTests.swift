import Foundation
import Guests
import Machine
import XCTest

final class GuestsTests: XCTestCase {
    /// Every built-in guest halts with its expected code and prints its expected checksum, on its profile.
    func testEveryGuestReachesItsExpectedChecksum() throws {
        for g in Guests.images {
            let elf = try ELFImage(bytes: try Guests.image(of: g), memorySize: 1 << 20)
            let m = Machine(booting: elf, memorySize: 1 << 20, profile: try XCTUnwrap(Profile.named(g.profile)))
            let s = m.runToEnd(budget: 200_000_000)
            XCTAssertEqual(s.outcome, .halted(g.expectedExitCode), g.name)
            XCTAssertTrue(String(decoding: s.console, as: UTF8.self).contains(g.expectedLine),
                          "\(g.name) printed: \(String(decoding: s.console, as: UTF8.self))")
        }
    }

    /// The committed images are what the committed sources build to with this toolchain,
    /// and the commands the build reports (`bench build --builtins DIR -v`) are the ones that made them.
    func testPrebuiltImagesAreCurrent() throws {
        let toolchain = try GuestToolchain.locate()
        let recorded = try String(contentsOf: Guests.imageDirectory.appendingPathComponent("clang-version.txt"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let current = try toolchain.version()
        try XCTSkipUnless(recorded == current,
                          "images were built by '\(recorded)', this toolchain is '\(current)': byte equality is not expected")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pg32-images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var unchecked: [String] = []
        for g in Guests.images {
            let out = dir.appendingPathComponent(g.name + ".elf")
            var commands: [String] = [] // what `bench build --builtins DIR -v` prints
            do {
                try toolchain.build(guest: g, output: out, commands: { commands.append($0) })
            } catch let e as ToolchainError {
                guard case .libraryMissing = e else { throw e }
                unchecked.append("\(g.name) (\(e))")
                continue
            }
            let source = Guests.source(of: g).path
            XCTAssertTrue(commands.contains { $0.contains("clang") && $0.contains(source) }, "\(g.name): \(commands)")
            XCTAssertTrue(commands.last.map { $0.contains("ld.lld") && $0.contains(out.path) } ?? false, "\(g.name): \(commands)")
            let rebuilt = try Data(contentsOf: out)
            XCTAssertEqual([UInt8](rebuilt), try Guests.image(of: g),
                           "\(g.name).elf is stale: run `swift run bench build --builtins Sources/Guests/images`")
        }
        if !unchecked.isEmpty { throw XCTSkip("not rebuilt, the C library is missing: " + unchecked.joined(separator: "; ")) }
    }

    /// A user's own C guest, built with the runtime, uses every wrapper and runs.
    func testUserGuestBuildsAndRuns() throws {
        let toolchain = try GuestToolchain.locate()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pg32-user-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = dir.appendingPathComponent("mine.c")
        try """
            #include "pg32.h"
            int main(void) {
                pg_puts("mode "); pg_putdec(pg_getm());
                pg_puts(" l "); pg_puthex(pg_getl());
                pg_puts(" b "); pg_puthex(pg_getb());
                pg_out('\\n');
                pg_putint(-42); pg_out('\\n');
                return 7;
            }
            """.write(to: src, atomically: true, encoding: .utf8)
        let elfURL = dir.appendingPathComponent("mine.elf")
        try toolchain.build(sources: [src], output: elfURL)
        let elf = try ELFImage(bytes: [UInt8](try Data(contentsOf: elfURL)), memorySize: 1 << 16)
        let s = Machine(booting: elf, memorySize: 1 << 16, profile: .pg32v).runToEnd(budget: 1_000_000)
        XCTAssertEqual(s.outcome, .halted(7))
        XCTAssertEqual(String(decoding: s.console, as: UTF8.self), "mode 0 l 00000000 b 00010000\n-42\n")
    }

    func testBuildErrorsAreOneLine() throws {
        let toolchain = try GuestToolchain.locate()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pg32-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let src = dir.appendingPathComponent("bad.c")
        try "int main(void) { return undefined_thing; }".write(to: src, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try toolchain.build(sources: [src], output: dir.appendingPathComponent("bad.elf"))) { e in
            let text = String(describing: e)
            XCTAssertTrue(text.contains("undefined_thing"), text)
            XCTAssertFalse(text.contains("\n"))
        }
    }
}
