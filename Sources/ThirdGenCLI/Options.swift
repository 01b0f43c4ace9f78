import Experiments
import ArgumentParser
import Foundation
import Guests
import Machine
import Translator

/// `--strategy native,trap` or `all`.
public struct StrategyList: ExpressibleByArgument, Sendable {
    /// The strategies, in the order given, without repeats.
    public let strategies: [Strategy]

    /// Parses a comma list of strategy names, or `all` (every strategy this build has).
    public init?(argument: String) {
        if argument == "all" {
            strategies = Strategy.available
            return
        }
        var list: [Strategy] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let s = Strategy(rawValue: part.trimmingCharacters(in: .whitespaces)) else { return nil }
            if !list.contains(s) { list.append(s) }
        }
        guard !list.isEmpty else { return nil }
        strategies = list
    }

    /// Makes a list.
    public init(_ strategies: [Strategy]) { self.strategies = strategies }

    /// Shown in --help.
    public static var allValueStrings: [String] { Strategy.allCases.map(\.rawValue) + ["all"] }

    /// The default, as --help shows it.
    public var defaultValueDescription: String { strategies.map(\.rawValue).joined(separator: ",") }
}

extension Hardware: ExpressibleByArgument {}

/// A profile given on the command line: `v`, `h`, `x` (or `pg32v`...), or a JSON profile file.
public struct ProfileArgument: ExpressibleByArgument, Sendable {
    /// The profile.
    public let profile: Profile

    /// Parses a built-in name or reads a profile file.
    public init?(argument: String) {
        if let p = Profile.named(argument) {
            profile = p
        } else if let p = try? ProfileArgument.load(path: argument) {
            profile = p
        } else {
            return nil
        }
    }

    /// Reads a profile file (see `Profile`'s JSON form).
    public static func load(path: String) throws -> Profile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("unknown profile '\(path)': not v, h, x, pg32v, pg32h, pg32x, nor a readable profile file")
        }
        do {
            // The parser's own message first: it says where the syntax breaks, the decoder does not.
            _ = try JSONSerialization.jsonObject(with: data)
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error.localizedDescription)"
            throw UsageError("profile file \(path) is not valid JSON: \(detail)")
        }
        do {
            return try JSONDecoder().decode(Profile.self, from: data)
        } catch {
            throw UsageError("profile file \(path): \(plainDecodingError(error)); the form is {\"name\": ..., \"user\": {\"GETL\": \"execute\", ...}} "
                + "with actions trap, execute or ignore-mode")
        }
    }

    /// Parses a built-in name or a profile file, saying what is wrong with a
    /// file that is no profile (the JSON error's position, the unknown key).
    public static func parse(_ argument: String) throws -> ProfileArgument {
        if let p = Profile.named(argument) { return ProfileArgument(profile: p) }
        return ProfileArgument(profile: try load(path: argument))
    }

    /// Wraps a profile.
    public init(profile: Profile) { self.profile = profile }

    /// Shown in --help.
    public static var defaultCompletionKind: CompletionKind { .file(extensions: ["json"]) }
}

/// A byte count: `1048576`, `1M`, `1MiB`, `64K`, `0x100000`.
public struct ByteCount: ExpressibleByArgument, Sendable {
    /// The count in bytes.
    public let bytes: Int

    /// Parses the forms above; nil for anything else (including overflow).
    public init?(argument: String) {
        var s = argument.lowercased()
        var scale = 1
        for (suffix, m) in [("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30)]
        where s.hasSuffix(suffix) {
            s.removeLast(suffix.count)
            scale = m
            break
        }
        let value: Int?
        if s.hasPrefix("0x") { value = Int(s.dropFirst(2), radix: 16) } else { value = Int(s) }
        guard let v = value, v >= 0 else { return nil }
        let (product, overflow) = v.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        bytes = product
    }

    /// Makes a count of `bytes`.
    public init(bytes: Int) { self.bytes = bytes }

    /// As a user would type it: `1M`, `64K`, or the number of bytes.
    public var defaultValueDescription: String {
        if bytes > 0 && bytes % (1 << 20) == 0 { return "\(bytes >> 20)M" }
        if bytes > 0 && bytes % (1 << 10) == 0 { return "\(bytes >> 10)K" }
        return String(bytes)
    }
}

/// `--hw-exits`: a preset or a comma list of events (SPEC section 11's exit controls).
public struct HWExits: ExpressibleByArgument, Sendable {
    /// The controls.
    public let controls: ExitControls
    /// What the user wrote (`none`, `shadow`, `all`, or the list), for reports.
    public let name: String

    /// The events a list may name, and their bits.
    public static let events: [(String, ExitControls)] = [
        ("svc", .on(.svc)), ("break", .on(.breakpoint)), ("privileged", .on(.privileged)),
        ("memory", .on(.memory)), ("illegal", .on(.illegal)),
        ("lpsw", .on(.lpsw)), ("setr", .on(.setr)), ("getm", .on(.getm)), ("getl", .on(.getl)),
        ("getb", .on(.getb)), ("jrstu", .on(.jrstu)), ("setm", .on(.setm)),
    ]
    /// `shadow`: what a first-generation hardware VMM without nested paging had to intercept.
    public static let shadow: ExitControls = [.on(.lpsw), .on(.setr), .on(.memory)]

    /// Parses `none`, `shadow`, `all` or a comma list of event names.
    public init?(argument: String) {
        let s = argument.lowercased()
        switch s {
        case "none": controls = .none
        case "shadow": controls = HWExits.shadow
        case "all": controls = .all
        default:
            var c = ExitControls.none
            for part in s.split(separator: ",", omittingEmptySubsequences: false) {
                guard let bit = HWExits.events.first(where: { $0.0 == part.trimmingCharacters(in: .whitespaces) })?.1 else { return nil }
                c.formUnion(bit)
            }
            controls = c
        }
        name = s
    }

    /// Shown in --help.
    public static var allValueStrings: [String] { ["none", "shadow", "all"] + events.map(\.0) }

    /// `controls` as a list `--hw-exits` reads back (`none` if no bit that means something is set).
    public static func list(_ controls: ExitControls) -> String {
        let names = events.filter { controls.isSuperset(of: $0.1) }.map(\.0)
        return names.isEmpty ? "none" : names.joined(separator: ",")
    }
    /// The default, as --help shows it.
    public var defaultValueDescription: String { name }

    /// `--hw-exits` where a command measures several presets side by side
    /// (`nano`, `suite`): a comma list, each item `none`, `shadow`, `all` or
    /// one event name. Throws the one-line message for an empty list or a bad item.
    static func presets(_ text: String) throws -> [HWExits] {
        let items = text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty else { throw ValidationError("--hw-exits needs at least one preset") }
        return try items.map { item in
            guard let preset = HWExits(argument: item) else {
                throw ValidationError("--hw-exits takes presets none, shadow, all (or event lists), comma separated; got '\(item)'")
            }
            return preset
        }
    }
}

extension Hardware {
    /// The processors a comma list names (`interp`, `jit`, or both), in order,
    /// without repeats; refuses another name, or `jit` where it cannot run.
    static func list(_ argument: String) throws -> [Hardware] {
        var out: [Hardware] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let h = Hardware(rawValue: name) else {
                throw ValidationError("--hardware takes interp, jit or interp,jit; got '\(name)'")
            }
            if !out.contains(h) { out.append(h) }
        }
        if out.contains(.jit), let why = JITTranslator.unavailableReason {
            throw ValidationError("--hardware jit is unavailable: \(why)")
        }
        return out
    }
}

/// `--hardware`: the real processor, for every command that runs guests.
public struct HardwareOptions: ParsableArguments {
    @Option(name: .long, help: "The real processor every strategy runs on: interp (the reference interpreter) or jit (the default where this host runs it: x86-64 Linux, unless THIRDGEN_JIT=off).")
    /// The real processor.
    public var hardware: Hardware = .default

    /// The default: the JIT where it runs, else the interpreter.
    public init() {}

    /// Refuses `jit` where it cannot run, before any guest does.
    public func validate() throws {
        _ = try Hardware.list(hardware.rawValue)
    }
}

extension Hardware {
    /// The default as --help shows it.
    public var defaultValueDescription: String { rawValue }
}

/// Options every command that runs guests shares.
public struct MachineOptions: ParsableArguments {
    @Option(name: .long, help: "Profile: v, h, x (pg32v, pg32h, pg32x) or a profile JSON file.", transform: ProfileArgument.parse)
    /// The (virtual) machine's profile.
    public var profile: ProfileArgument = ProfileArgument(argument: "v")!

    @Option(name: .long, help: "Guest memory size w in bytes (a multiple of 4096; K/M suffixes allowed).")
    /// The guest's memory size w.
    public var memory: ByteCount = ByteCount(bytes: RunRequest.defaultMemorySize)

    @Option(name: .long, help: "Stop after this many guest instructions (the run is then inconclusive).")
    /// The guest-instruction budget.
    public var budget: UInt64 = RunRequest.defaultBudget

    @OptionGroup var processor: HardwareOptions
    /// The real processor.
    public var hardware: Hardware { processor.hardware }

    @Option(name: .customLong("hw-exits"), help: "hw: what exits besides HALT, OUT and VMRUN: none (default; nested relocation), shadow (lpsw, setr, memory: a first-generation VMM without nested paging), all, or a comma list of svc, break, privileged, memory, illegal, lpsw, setr, getm, getl, getb, jrstu, setm.")
    /// The exit controls of `hw`.
    public var hwExits: HWExits = HWExits(argument: "none")!

    /// The defaults: pg32v, 1 MiB, two billion instructions.
    public init() {}

    /// Refuses a memory size the machine cannot have.
    public func validate() throws {
        if let problem = Storage.validate(size: memory.bytes) { throw ValidationError(problem) }
    }
}

extension ProfileArgument {
    /// The default argument help shows.
    public var defaultValueDescription: String { profile.name }
}

extension UserModeExecution: ExpressibleByArgument {}

/// A decoding error as a sentence (never Foundation's "Error Domain=" text):
/// where it is and what is wrong, with the JSON parser's own position for syntax errors.
func plainDecodingError(_ error: Error) -> String {
    func path(_ c: DecodingError.Context) -> String {
        c.codingPath.isEmpty ? "the top level" : "\"" + c.codingPath.map(\.stringValue).joined(separator: ".") + "\""
    }
    switch error {
    case DecodingError.keyNotFound(let key, let c):
        return "no \"\(key.stringValue)\" field" + (c.codingPath.isEmpty ? "" : " in \(path(c))")
    case DecodingError.typeMismatch(let type, let c), DecodingError.valueNotFound(let type, let c):
        return "\(path(c)) should be a \(type == String.self ? "string" : "\(type)")"
    case DecodingError.dataCorrupted(let c):
        if let underlying = c.underlyingError as NSError?,
           let detail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String {
            return "not valid JSON: \(detail)"
        }
        if let underlying = c.underlyingError { return "not valid JSON: \(underlying)" }
        return c.codingPath.isEmpty && c.debugDescription.isEmpty ? "not valid JSON" : c.debugDescription
    default:
        return "unreadable (\(type(of: error)))"
    }
}

/// What is at `path`: nil if nothing, true for a folder, false for anything else.
func folderAt(_ path: String) -> Bool? {
    var isFolder: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) ? isFolder.boolValue : nil
}

/// Creates folder `dir` (with its parents) and checks that a file can be
/// written there; else a one-line error naming `option`, the flag that chose it.
func prepareOutputFolder(_ dir: String, option: String) throws {
    let probe = dir + "/.bench-write-probe"
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: probe))
        try FileManager.default.removeItem(atPath: probe)
    } catch {
        var prefix = dir.hasPrefix("/") ? "" : "."
        for part in dir.split(separator: "/") {
            prefix += "/" + part
            if folderAt(prefix) == false {
                throw UsageError("cannot write into the output folder \(dir): \(prefix) is a file, not a folder; choose another \(option)")
            }
        }
        throw UsageError("cannot write into the output folder \(dir): \(plainFileError(error)); choose another \(option)")
    }
}

/// Checks, without creating anything, that folder `dir` could be made (or is
/// there) and written into: its nearest existing ancestor is a writable
/// folder. For an output made only at the end of a long run, if at all.
func checkOutputFolder(_ dir: String, option: String) throws {
    var path = URL(fileURLWithPath: dir).standardizedFileURL
    while true {
        if let isFolder = folderAt(path.path) {
            guard isFolder else {
                throw UsageError("cannot write into the output folder \(dir): \(path.path) is a file, not a folder; choose another \(option)")
            }
            guard access(path.path, W_OK | X_OK) == 0 else {
                throw UsageError("cannot write into the output folder \(dir): \(path.path) is not writable; choose another \(option)")
            }
            return
        }
        let parent = path.deletingLastPathComponent()
        if parent.path == path.path { return }
        path = parent
    }
}

/// A file-system error as a sentence: the POSIX reason, not Foundation's "Error Domain=" text.
func plainFileError(_ error: Error) -> String {
    let e = error as NSError
    if let underlying = e.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
       let reason = strerror(Int32(underlying.code)) {
        return String(cString: reason).lowercased()
    }
    if e.domain == NSPOSIXErrorDomain, let reason = strerror(Int32(e.code)) { return String(cString: reason).lowercased() }
    switch e.code {
    case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or folder"
    case NSFileWriteNoPermissionError, NSFileReadNoPermissionError: return "permission denied"
    case NSFileWriteOutOfSpaceError: return "no space left"
    case NSFileWriteVolumeReadOnlyError: return "read-only file system"
    default: return "the system refused (\(e.code))"
    }
}
