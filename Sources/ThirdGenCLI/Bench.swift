import Experiments
import ArgumentParser
import Foundation

/// The `bench` command line. `Bench.main(arguments:)` is the whole
/// executable: it prints one clear line for every error instead of a usage
/// dump or a backtrace.
public struct Bench: ParsableCommand {
    /// The subcommands and help text.
    public static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "ThirdGen: run, compare and measure virtual machine monitors on PG32.",
        discussion: "The machine is specified in SPEC.md; `bench list` shows the built-in guests.",
        subcommands: [RunCommand.self, SuiteCommand.self, MergeCommand.self, ListCommand.self, DisasmCommand.self, BuildCommand.self, RiscvTestsCommand.self, ClassifyCommand.self, CheckCommand.self, FuzzCommand.self, NestCommand.self, PerfCommand.self, PeerCommand.self, NanoCommand.self]
    )

    /// The root command (it only dispatches).
    public init() {}

    /// Parses `arguments` (without the program name), runs the command, and
    /// returns the exit status. Errors become one line on stderr.
    public static func main(arguments: [String]) -> Int32 {
        do {
            var command = try parseAsRoot(arguments.first == "build" ? BuildCommand.normalizedArguments(arguments) : arguments)
            try command.run()
            return flushedOutput()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help: ArgumentParser prints it in full.
                print(fullMessage(for: error))
                return 0
            }
            return fail(explained(message(for: error), arguments: arguments), status: code.rawValue == 0 ? 1 : code.rawValue)
        }
    }

    /// ArgumentParser reads a negative number given as a long option's
    /// value (`--budget -1`) as the next option, and says only that the value
    /// is missing: the message then names the number and how to pass it
    /// (which the option's own check then judges).
    static func explained(_ message: String, arguments: [String]) -> String {
        let prefix = "Missing value for '"
        guard message.hasPrefix(prefix),
              let option = message.dropFirst(prefix.count).split(whereSeparator: { $0 == " " || $0 == "'" }).first,
              option.hasPrefix("--"),
              let given = zip(arguments, arguments.dropFirst()).first(where: { name, value in
                  name == option && value.hasPrefix("-") && value.dropFirst().first?.isNumber == true
              })?.1
        else { return message }
        return message + " ('\(given)' is read as an option; a value that starts with '-' is written \(option)=\(given))"
    }

    /// 0 if everything printed reached standard output; else 1, with a line
    /// on stderr: a script that keeps the JSON must not take a full disk's
    /// truncated file for a result.
    private static func flushedOutput() -> Int32 {
        guard fflush(nil) != 0 else { return 0 } // every stream: print's is standard output's
        return fail("cannot write the output: " + String(cString: strerror(errno)).lowercased(), status: 1)
    }

    private static func fail(_ message: String, status: Int32) -> Int32 {
        let line = message.split(separator: "\n").first.map(String.init) ?? message
        FileHandle.standardError.write(Data(("bench: error: " + line + "\n").utf8))
        return status
    }
}
