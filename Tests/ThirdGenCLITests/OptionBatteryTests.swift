import Foundation
import XCTest

/// Every option of every subcommand, as `bench --experimental-dump-help`
/// lists them (so a new option is covered without editing this test), given
/// values no option accepts or that are out of range: empty, negative, huge,
/// the wrong type. Each run must end with exit status 64 (a usage error) or
/// 1 (a run-time error), one line on stderr that starts "bench: error:",
/// and no Foundation error text; a negative number given to a long option
/// is named in the message. A companion argument that is always bad
/// keeps a value that happens to be valid from starting real work.
final class OptionBatteryTests: XCTestCase {
    /// Per subcommand: arguments that make the command fail fast whatever the option under test.
    static let companions: [String: [String]] = [
        "run": ["/nonexistent/guest.elf"], "disasm": ["/nonexistent/guest.elf"], "nest": ["/nonexistent/guest.elf"],
        "suite": ["--guests", "no-such-guest"], "merge": ["/nonexistent/shard"], "build": ["/nonexistent/source.c"],
        "classify": ["--profile", "/nonexistent/profile.json"], "check": ["--profile", "/nonexistent/profile.json"],
        "fuzz": ["--profile", "/nonexistent/profile.json"], "perf": ["--guests", "no-such-guest"],
        "peer": ["--guests", "no-such-guest"], "nano": ["--repeat", "0"], "riscv-tests": ["/nonexistent/riscv-tests"],
    ]
    static let badValues = ["", "-1", "99999999999999999999999", "x%n\u{1}"]

    func testEveryOptionRejectsBadValuesInOneLine() throws {
        let dump = try BenchProcess.run(["--experimental-dump-help"])
        XCTAssertEqual(dump.status, 0, dump.stderr)
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        let subcommands = try XCTUnwrap((root["command"] as? [String: Any])?["subcommands"] as? [[String: Any]])
        var tried = 0
        for sub in subcommands {
            let name = try XCTUnwrap(sub["commandName"] as? String)
            guard name != "help", name != "list" else { continue }
            let companion = try XCTUnwrap(OptionBatteryTests.companions[name], "no companion for subcommand \(name): add one")
            let options = (sub["arguments"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "option" }
            for option in options {
                guard let first = (option["names"] as? [[String: Any]])?.first, let spelling = first["name"] as? String,
                      let kind = first["kind"] as? String else { continue }
                let flag = (kind == "short" ? "-" : "--") + spelling
                for value in OptionBatteryTests.badValues {
                    let args = [name] + companion + [flag, value]
                    let r = try BenchProcess.run(args)
                    tried += 1
                    XCTAssertTrue(r.status == 64 || r.status == 1, "\(args): status \(r.status)")
                    let lines = r.stderr.split(separator: "\n")
                    XCTAssertEqual(lines.count, 1, "\(args): \(r.stderr)")
                    XCTAssertTrue(lines.first?.hasPrefix("bench: error:") ?? false, "\(args): \(r.stderr)")
                    XCTAssertFalse(r.stderr.contains("Error Domain"), "\(args): \(r.stderr)")
                    if value == "-1", kind == "long", r.stderr.contains("Missing value") {
                        // Not just "Missing value" (ArgumentParser read the number as an option): it is named.
                        XCTAssertTrue(r.stderr.contains("'-1'"), "\(args): \(r.stderr)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(tried, 150, "the battery covers the options dump-help lists")
    }
}
