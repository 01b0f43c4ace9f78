import Experiments
import ArgumentParser
import Foundation
import Machine

/// `bench nest IMAGE --depth D --strategy S`: recursive virtualization.
struct NestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nest",
        abstract: "Run a guest under 0..D levels of a guest-level monitor, the lowest level under a strategy.",
        usage: "bench nest <image> [--depth <depth>] [<options>]",
        discussion: """
            Level d is a guest monitor carrying level d+1 as its payload; the guest is level D. The \
            monitor is Sources/Guests/src/vmm.c (--monitor vmm: trap-and-emulate, Theorem 2 says its \
            towers work on pg32v) or src/vxvmm.c (--monitor vxvmm: the guest under VMRUN, so every level \
            below the outermost is nested VX, which works on every profile). Each depth is compared with \
            the guest's bare run: status, console and registers of the whole run, the innermost guest's \
            storage, and its virtual PSW as the deepest monitor recorded it.
            """)

    @Argument(help: "ELF image path or built-in guest name.")
    var image: String

    @Option(name: .long, help: "Levels of guest monitor (0 to 6).")
    var depth = 3

    @Option(name: .long, help: "The strategy the outermost level runs under (native, trap, hybrid, bt, jit, hw, native-jit).")
    var strategy: Strategy = .trap

    @Option(name: .long, help: "The guest monitor each level is (vmm: trap-and-emulate; vxvmm: on VX).")
    var monitor: Nesting.Monitor = .vmm

    @OptionGroup var machine: MachineOptions

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (0...6).contains(depth) else { throw ValidationError("--depth must be between 0 and 6") }
        if let why = strategy.unavailableReason { throw ValidationError("strategy '\(strategy.rawValue)' is unavailable: \(why)") }
    }

    func run() throws {
        let guest = try GuestImage(image)
        let w = machine.memory.bytes
        let reference = try Strategy.native.execute(
            RunRequest(image: try guest.elf(memorySize: w), profile: machine.profile.profile, memorySize: w, budget: machine.budget,
                       hardware: machine.hardware, hwExits: machine.hwExits.controls))
        var rows: [[String]] = [], records: [JSON] = []
        for d in 0...depth {
            let (c, memory) = try Nesting.measure(guest, name: image, depth: d, strategy: strategy, profile: machine.profile.profile,
                                                  guestMemory: w, budget: machine.budget, reference: reference.snapshot,
                                                  hardware: machine.hardware, hwExits: machine.hwExits.controls, monitor: monitor)
            rows.append(["\(d)", "\(memory)", String(format: "%.4f", c.seconds), "\(c.guestInstructions)", "\(c.traps)",
                         c.equivalent ? "equivalent" : "DIVERGES: \(c.divergence ?? "")"])
            records.append(.object([("depth", .int(Int64(d))), ("memory", .int(Int64(memory))), ("seconds", .double(c.seconds)),
                                    ("guestInstructions", .uint(c.guestInstructions)), ("traps", .uint(c.traps)),
                                    ("equivalent", .bool(c.equivalent)), ("divergence", c.divergence.map { .string($0) } ?? .null)]))
        }
        if json {
            print(JSON.object([("image", .string(image)), ("profile", .string(machine.profile.profile.name)),
                               ("strategy", .string(strategy.rawValue)), ("monitor", .string(monitor.rawValue)),
                               ("hardware", .string(machine.hardware.rawValue)), ("depths", .array(records))]).rendered(pretty: true))
        } else {
            print("\(image) on \(machine.profile.profile.name), levels of \(monitor.rawValue), outermost level under \(strategy.rawValue) on \(machine.hardware.rawValue)")
            print(TextTable.render(header: ["depth", "memory", "seconds", "instructions", "real traps or exits", "verdict"], rows: rows), terminator: "")
        }
    }
}

extension Strategy: ExpressibleByArgument {}
