import Experiments
import Foundation
import Guests
import Machine
import Translator

/// A guest image named on the command line: an ELF path or a built-in guest.
public struct GuestImage: Sendable {
    /// What the user typed.
    public let name: String
    /// The ELF bytes.
    public let bytes: [UInt8]
    /// The built-in guest, when the name was one.
    public let builtin: BuiltinGuest?

    /// Resolves `name`: an existing file wins, then a built-in guest's name.
    public init(_ name: String) throws {
        self.name = name
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory) {
            guard !isDirectory.boolValue else { throw UsageError("\(name) is a directory, not a guest image") }
            guard let data = FileManager.default.contents(atPath: name) else {
                throw UsageError("cannot read \(name)")
            }
            bytes = [UInt8](data)
            builtin = nil
        } else if let g = Guests.named(name) {
            bytes = try Guests.image(of: g)
            builtin = g
        } else {
            throw UsageError("no such file or built-in guest '\(name)' (`bench list` shows the built-in guests)")
        }
    }

    /// Parses and checks the ELF for a guest of `memorySize` bytes.
    public func elf(memorySize: Int) throws -> ELFImage {
        do {
            return try ELFImage(bytes: bytes, memorySize: memorySize)
        } catch let e as ImageError {
            throw UsageError("\(name): \(e)")
        }
    }
}

extension RunRequest {
    /// A built-in guest's run configuration at the default memory size.
    static func builtin(_ guest: BuiltinGuest, profile: Profile, budget: UInt64 = RunRequest.defaultBudget,
                        btUserMode: UserModeExecution = .translated, hardware: Hardware = .default,
                        hwExits: ExitControls = .none) throws -> RunRequest {
        RunRequest(image: try ELFImage(bytes: try Guests.image(of: guest), memorySize: RunRequest.defaultMemorySize),
                   profile: profile, budget: budget, btUserMode: btUserMode, hardware: hardware, hwExits: hwExits)
    }
}
