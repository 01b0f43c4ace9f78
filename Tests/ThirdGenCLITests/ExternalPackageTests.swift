import Foundation
import XCTest

/// A researcher's package outside this one (Tests/Fixtures/OwnMonitor)
/// depends on ThirdGen's products and builds a monitor of its own against
/// the public API only; the DocC article "Write your own monitor" shows
/// its code.
final class ExternalPackageTests: XCTestCase {
    /// The repository's root, from this file's place in it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixture = root.appendingPathComponent("Tests/Fixtures/OwnMonitor")

    /// Builds the fixture with the toolchain that runs these tests (into a
    /// scratch folder of its own, so the source tree stays clean) and runs
    /// its checker: every built-in guest but the long compute ones, every
    /// profile, each verdict as Theorem 1 predicts.
    func testOwnMonitorPackageBuildsAgainstTheProductsAndIsEquivalentWhereTrapIs() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("own-monitor-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let swift = URL(fileURLWithPath: "/usr/bin/env")
        let build = try BenchProcess.run(["swift", "build", "--package-path", Self.fixture.path, "--scratch-path", scratch.path],
                                         executable: swift)
        XCTAssertEqual(build.status, 0, "swift build of the fixture failed:\n\(build.stdout)\n\(build.stderr)")
        guard build.status == 0 else { return }
        let run = try BenchProcess.run([], executable: scratch.appendingPathComponent("debug/own-monitor"))
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("own-monitor: every verdict as Theorem 1 predicts"), run.stdout)
        // The checker's own verdicts, not only its summary: pg32h's JRSTU defeats direct execution...
        XCTAssertTrue(run.stdout.contains("jrstu pg32h: divergent (trap: divergent)"), run.stdout)
        // ...and the kernel guest runs equivalently, with samples taken.
        let kernel = run.stdout.split(separator: "\n").first { $0.hasPrefix("kernel pg32v:") }.map(String.init) ?? ""
        XCTAssertTrue(kernel.hasPrefix("kernel pg32v: equivalent (trap: equivalent)"), kernel)
        XCTAssertFalse(kernel.hasSuffix("hot: none"), "the kernel guest was never sampled: \(kernel)")

        let examples = try BenchProcess.run([], executable: scratch.appendingPathComponent("debug/doc-examples"))
        XCTAssertEqual(examples.status, 0, examples.stdout + examples.stderr)
        XCTAssertTrue(examples.stdout.hasSuffix("doc-examples: every example ran\n"), examples.stdout)
    }

    /// Every module's landing page shows only code the fixture compiles and
    /// runs: each Swift block, less its import lines, appears in
    /// doc-examples verbatim.
    func testLandingPageExamplesAreTheFixturesCode() throws {
        let examples = try String(contentsOf: Self.fixture.appendingPathComponent("Sources/doc-examples/main.swift"),
                                  encoding: .utf8)
        let modules = ["Machine", "TrapVMM", "HybridVMM", "HardwareVMM", "Translator", "Classifier", "Experiments", "Guests"]
        var blocks = 0
        for module in modules {
            let page = try String(contentsOf: Self.root.appendingPathComponent("Sources/\(module)/\(module).docc/\(module).md"),
                                  encoding: .utf8)
            for block in page.components(separatedBy: "```swift\n").dropFirst() {
                guard let end = block.range(of: "```") else { XCTFail("\(module): an unclosed code block"); continue }
                let code = block[..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
                    .drop { $0.hasPrefix("import ") || $0.isEmpty }.joined(separator: "\n")
                blocks += 1
                XCTAssertTrue(examples.contains(code), "\(module).md shows code doc-examples does not run:\n\(code)")
            }
        }
        XCTAssertGreaterThanOrEqual(blocks, 6, "the landing pages lost their examples")
    }

    /// The article shows the fixture's code verbatim, so the article cannot
    /// drift from code that is built and checked.
    func testWriteYourOwnMonitorArticleShowsTheFixtureCode() throws {
        let article = try String(contentsOf: Self.root.appendingPathComponent(
            "Sources/TrapVMM/TrapVMM.docc/WriteYourOwnMonitor.md"), encoding: .utf8)
        for file in ["Package.swift", "Sources/SamplingMonitor/SamplingMonitor.swift", "Sources/own-monitor/main.swift"] {
            let code = try String(contentsOf: Self.fixture.appendingPathComponent(file), encoding: .utf8)
            XCTAssertTrue(article.contains("```swift\n" + code + "```"), "the article does not show \(file) as it is")
        }
    }

    /// `swift package generate-documentation` builds every module's DocC
    /// catalog with no warning (an unresolved symbol link is one), as the
    /// README says to run it; into a scratch folder of its own.
    func testDocumentationBuildsWithoutWarnings() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("docc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let modules = ["Machine", "TrapVMM", "HybridVMM", "HardwareVMM", "Translator", "Classifier", "Experiments", "Guests"]
        let docc = try BenchProcess.run(["swift", "package", "--package-path", Self.root.path, "--scratch-path", scratch.path,
                                         "generate-documentation"] + modules.flatMap { ["--target", $0] },
                                        executable: URL(fileURLWithPath: "/usr/bin/env"))
        let output = docc.stdout + docc.stderr
        XCTAssertEqual(docc.status, 0, output)
        let warnings = output.split(separator: "\n").filter { $0.contains("warning:") }
        XCTAssertEqual(warnings, [], "DocC warned:\n" + warnings.joined(separator: "\n"))
        for module in modules {
            let archive = scratch.appendingPathComponent("plugins/Swift-DocC/outputs/\(module).doccarchive")
            XCTAssertTrue(FileManager.default.fileExists(atPath: archive.path), "no archive for \(module)")
        }
    }
}
