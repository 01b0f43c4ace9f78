import Foundation
import XCTest

/// Issue 16's cases: each fails before any guest runs, in one line that names the problem.
final class BadInputTests: XCTestCase {
    private func assertOneLine(_ args: [String], saying words: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try BenchProcess.run(args)
        XCTAssertNotEqual(r.status, 0, "\(args) must fail", file: file, line: line)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "one line: \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Error Domain="), r.stderr, file: file, line: line)
        for w in words { XCTAssertTrue(r.stderr.contains(w), "\(w) in: \(r.stderr)", file: file, line: line) }
        XCTAssertTrue(r.stdout.isEmpty, "nothing ran: \(r.stdout.prefix(200))", file: file, line: line)
    }

    func testProfileFilesSayWhatIsWrong() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("profiles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, [String])] = [
            (#"{"name":"p","user":{"SETX":"trap"}}"#, ["unknown system instruction 'SETX'", "GETL"]),
            (#"{"name":"p","user":{"GETL":"maybe"}}"#, ["unknown action 'maybe'"]),
            (#"{"name":"p","user":{"VMRUN":"execute"}}"#, ["VMRUN", "every profile"]),
            (#"{"name": "p", "user": {"GETL": execute}}"#, ["not valid JSON", "character"]),
            (#"{"user":{}}"#, ["no \"name\" field"]),
        ]
        for (i, (text, words)) in cases.enumerated() {
            let path = dir.appendingPathComponent("p\(i).json").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            try assertOneLine(["run", "sieve", "--profile", path], saying: words)
        }
    }

    func testTooManyVMsAreRefusedBeforeAnyRun() throws {
        try assertOneLine(["run", "crc32", "--vms", "5000", "--strategy", "trap"], saying: ["5000 VMs", "fewer VMs"])
    }

    func testUnwritableOutputFoldersAreRefusedFirst() throws {
        try assertOneLine(["suite", "--quick", "--out", "/proc/thirdgen-x"], saying: ["output folder", "--out"])
        try assertOneLine(["suite", "--quick", "--out", "/etc/hostname/x"], saying: ["is a file, not a folder"])
    }

    /// Output that cannot be written (a full disk: /dev/full) is an error, not a
    /// success with truncated JSON; the same run with its output written exits 0.
    func testUnwritableStandardOutputIsAnError() throws {
        try XCTSkipUnless(FileManager.default.fileExists(atPath: "/dev/full"), "no /dev/full here")
        let bench = try BenchProcess.executable.path
        for (target, status) in [("/dev/full", 1 as Int32), ("/dev/null", 0)] {
            let r = try BenchProcess.run(["-c", "exec \"$0\" run sieve --strategy native --json > \(target)", bench],
                                         executable: URL(fileURLWithPath: "/bin/sh"))
            XCTAssertEqual(r.status, status, "\(target): \(r.stderr)")
            if status != 0 { XCTAssertTrue(r.stderr.contains("cannot write the output"), r.stderr) }
        }
    }
}
