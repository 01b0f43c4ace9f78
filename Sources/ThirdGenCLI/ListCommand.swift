import Experiments
import ArgumentParser
import Guests

/// `bench list`: the built-in guests.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the built-in guests.")

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        if json {
            print(JSON.array(Guests.all.map { g in
                .object([("name", .string(g.name)), ("kind", .string(g.kind.rawValue)), ("summary", .string(g.summary)),
                         ("expectedExitCode", .uint(UInt64(g.expectedExitCode)))])
            }).rendered(pretty: true))
            return
        }
        print(TextTable.render(header: ["name", "kind", "what it does"],
                               rows: Guests.all.map { [$0.name, $0.kind.rawValue, $0.summary] }), terminator: "")
    }
}
