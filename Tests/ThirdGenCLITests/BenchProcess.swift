import Foundation
import XCTest

/// Runs the built `bench` executable, as a user or a script would.
enum BenchProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The process's id (what it named per-process files by, such as perf's map).
        var pid: Int32
    }

    /// The `bench` binary beside the test bundle (swift test builds every product).
    static var executable: URL {
        get throws {
            var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            for _ in 0..<4 {
                let candidate = dir.appendingPathComponent("bench")
                if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
                dir = dir.deletingLastPathComponent()
            }
            throw XCTSkip("bench executable not found beside \(CommandLine.arguments[0]); run `swift build` first")
        }
    }

    /// Runs `bench arguments` (or another `executable`), with `environment`
    /// added to this process's, in `directory` if given.
    static func run(_ arguments: [String], environment: [String: String] = [:], executable: URL? = nil,
                    directory: URL? = nil) throws -> Result {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        let p = Process()
        p.executableURL = try executable ?? BenchProcess.executable
        p.currentDirectoryURL = directory
        p.arguments = arguments
        if !environment.isEmpty {
            p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        p.waitUntilExit()
        return Result(status: p.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self),
                      pid: p.processIdentifier)
    }
}
