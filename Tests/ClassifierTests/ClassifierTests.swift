import Classifier
import Machine
import XCTest

/// The classifier derives SPEC section 6's consequences by execution.
final class ClassifierTests: XCTestCase {
    private func classify(_ p: Profile) -> Classification { Classifier.classify(p, trials: 60) }
    private func entry(_ c: Classification, _ op: Opcode) -> InstructionClassification {
        c.instructions.first { $0.opcode == op }!
    }

    func testPg32vSatisfiesTheorem1() {
        let c = classify(.pg32v)
        XCTAssertTrue(c.theorem1)
        XCTAssertTrue(c.theorem3)
        for op in [Opcode.halt, .lpsw, .setr, .getm, .getl, .getb, .jrstu, .setm, .out] {
            XCTAssertTrue(entry(c, op).privileged, "\(op) is privileged on pg32v")
        }
        for op in [Opcode.lpsw, .setr, .jrstu, .setm] {
            XCTAssertTrue(entry(c, op).controlSensitive, "\(op) changes M or R: \(entry(c, op).witnesses)")
        }
        XCTAssertTrue(entry(c, .getl).locationSensitive, "GETL reveals l")
        XCTAssertTrue(entry(c, .lpsw).locationSensitive, "LPSW loads an absolute R")
    }

    func testEveryCoreInstructionIsInnocuousAndUnprivileged() {
        let c = classify(.pg32x)
        for e in c.instructions where e.opcode.group == .core {
            XCTAssertTrue(e.innocuous, "\(e.name): \(e.witnesses)")
            XCTAssertFalse(e.privileged, "\(e.name)")
        }
    }

    /// pg32h: JRSTU is control sensitive in supervisor mode and unprivileged, but not user sensitive.
    func testPg32hBreaksTheorem1OnlyThroughJrstu() {
        let c = classify(.pg32h)
        XCTAssertFalse(c.theorem1)
        XCTAssertTrue(c.theorem3)
        XCTAssertEqual(c.theorem1Violations.map(\.opcode), [.jrstu])
        let j = entry(c, .jrstu)
        XCTAssertTrue(j.controlSensitive)
        XCTAssertFalse(j.userSensitive, "in user mode JRSTU changes only P: \(j.witnesses)")
        XCTAssertNotNil(j.witnesses["controlSensitive"])
    }

    /// pg32x: GETM and GETL are user sensitive and unprivileged; SETM breaks Theorem 1.
    func testPg32xBreaksBothTheorems() {
        let c = classify(.pg32x)
        XCTAssertFalse(c.theorem1)
        XCTAssertFalse(c.theorem3)
        let user = Set(c.theorem3Violations.map(\.opcode))
        XCTAssertTrue(user.contains(.getm), "GETM reveals the mode in user mode")
        XCTAssertTrue(user.contains(.getl), "GETL reveals the real relocation in user mode")
        XCTAssertTrue(Set(c.theorem1Violations.map(\.opcode)).isSuperset(of: [.jrstu, .setm, .getm, .getl]))
        XCTAssertNotNil(entry(c, .getl).witnesses["userSensitive"])
    }

    /// A profile file that makes SETR unprivileged: both theorems fail, with SETR as the witness.
    func testUnprivilegedSetrBreaksBothTheorems() throws {
        let p = try JSONDecoder().decode(Profile.self, from: Data(#"{"name": "setr-open", "user": {"SETR": "execute"}}"#.utf8))
        let c = classify(p)
        XCTAssertFalse(c.theorem1)
        XCTAssertFalse(c.theorem3)
        XCTAssertEqual(c.theorem1Violations.map(\.opcode), [.setr])
        XCTAssertEqual(c.theorem3Violations.map(\.opcode), [.setr])
        let w = try XCTUnwrap(entry(c, .setr).witnesses["userSensitive"])
        XCTAssertTrue(w.contains("user mode"), w)
    }

    /// The same seed gives the same classification; the derivation does not depend on luck.
    func testReproducibleAcrossSeeds() {
        for seed: UInt64 in [1, 2, 3] {
            let c = Classifier.classify(.pg32h, trials: 40, seed: seed)
            XCTAssertEqual(c.theorem1Violations.map(\.opcode), [.jrstu], "seed \(seed)")
            XCTAssertTrue(c.theorem3, "seed \(seed)")
        }
    }
}

/// VMRUN (SPEC section 11) as the classifier derives it by execution.
final class VMRUNClassificationTests: XCTestCase {
    func testVMRUNIsPrivilegedAndControlSensitiveOnEveryProfile() {
        for profile in Profile.builtIn {
            let c = Classifier.classify(profile, trials: 60)
            let vmrun = c.instructions.first { $0.opcode == .vmrun }!
            XCTAssertTrue(vmrun.privileged, "\(profile.name): \(vmrun.witnesses)")
            XCTAssertTrue(vmrun.controlSensitive, "\(profile.name): it puts G's M and R in force")
            XCTAssertFalse(c.theorem1Violations.contains { $0.opcode == .vmrun }, profile.name)
        }
    }
}
