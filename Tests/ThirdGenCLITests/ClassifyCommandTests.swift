import Foundation
import Machine
import XCTest

/// `bench classify` and `bench check` end to end (SPEC section 10).
final class ClassifyCommandTests: XCTestCase {
    private func object(_ args: [String]) throws -> [String: Any] {
        let r = try BenchProcess.run(args)
        XCTAssertEqual(r.status, 0, r.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    func testClassifyJSONContract() throws {
        for (profile, t1, t3) in [("v", true, true), ("h", false, true), ("x", false, false)] {
            let o = try object(["classify", "--profile", profile, "--trials", "40", "--json"])
            XCTAssertEqual(o["profile"] as? String, "pg32" + profile)
            XCTAssertEqual(o["theorem1"] as? Bool, t1, profile)
            XCTAssertEqual(o["theorem3"] as? Bool, t3, profile)
            let list = try XCTUnwrap(o["instructions"] as? [[String: Any]])
            XCTAssertEqual(list.map { $0["name"] as? String }, Opcode.allCases.map(\.name), "every instruction of the table, in order")
            for i in list {
                for key in ["privileged", "controlSensitive", "behaviorSensitive", "userSensitive", "innocuous"] {
                    XCTAssertNotNil(i[key] as? Bool, "\(i["name"] ?? "") has \(key)")
                }
            }
            XCTAssertEqual(list.first { $0["name"] as? String == "ADD" }?["innocuous"] as? Bool, true)
        }
    }

    func testProfileFileWithUnprivilegedSetr() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("setr-\(UUID().uuidString).json")
        try #"{"name": "setr-open", "user": {"SETR": "execute"}}"#.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let o = try object(["classify", "--profile", file.path, "--trials", "40", "--json"])
        XCTAssertEqual(o["theorem1"] as? Bool, false)
        XCTAssertEqual(o["theorem3"] as? Bool, false)
        let v = try XCTUnwrap(o["theorem3Violations"] as? [[String: Any]])
        XCTAssertEqual(v.map { $0["instruction"] as? String }, ["SETR"])
        XCTAssertTrue((v[0]["witness"] as? String)?.contains("user mode") ?? false)
        let bad = try BenchProcess.run(["classify", "--profile", "/no/such/profile.json"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
    }

    func testCheckAgreesWithTheTheorems() throws {
        let o = try object(["check", "--profile", "h", "--trials", "40", "--guests", "jrstu", "kernel", "--json"])
        XCTAssertEqual(o["disagreements"] as? Int, 0)
        let cells = try XCTUnwrap(o["cells"] as? [[String: Any]])
        let trapJrstu = cells.first { $0["guest"] as? String == "jrstu" && $0["strategy"] as? String == "trap" }
        XCTAssertEqual(trapJrstu?["promised"] as? Bool, false)
        XCTAssertEqual(trapJrstu?["verdict"] as? String, "diverges")
    }
}
