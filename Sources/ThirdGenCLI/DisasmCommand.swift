import Experiments
import ArgumentParser
import Machine

/// `bench disasm IMAGE`: every loaded word of an image, disassembled.
struct DisasmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disasm", abstract: "Disassemble the loadable segments of a guest image.",
        usage: "bench disasm <image> [<options>]")

    @Argument(help: "ELF image path or built-in guest name.")
    var image: String

    @OptionGroup var machine: MachineOptions

    func run() throws {
        let guest = try GuestImage(image)
        let elf = try guest.elf(memorySize: machine.memory.bytes)
        print("\(image): entry \(hex(elf.entry))")
        for (i, s) in elf.segments.enumerated() {
            print("\nsegment \(i): \(hex(s.address))..\(hex(s.address &+ s.memorySize)) (\(s.bytes.count) bytes in file)")
            var offset = 0
            while offset + 4 <= s.bytes.count {
                let b = s.bytes
                let word = UInt32(b[offset]) | UInt32(b[offset + 1]) << 8 | UInt32(b[offset + 2]) << 16 | UInt32(b[offset + 3]) << 24
                let pc = s.address &+ UInt32(offset)
                let addr = String(pc, radix: 16)
                let w = String(word, radix: 16)
                print(String(repeating: " ", count: max(0, 8 - addr.count)) + addr + ":  "
                      + String(repeating: "0", count: 8 - w.count) + w + "  " + disassemble(word, at: pc))
                offset += 4
            }
        }
    }
}
