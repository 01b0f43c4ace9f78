import Machine
import Translator

/// What every strategy is given: one run configuration, built once from the
/// options (or by a researcher's own program) and passed down whole.
public struct RunRequest: Sendable {
    /// The validated image.
    public var image: ELFImage
    /// The profile of the (virtual) machine.
    public var profile: Profile
    /// The guest's memory size w.
    public var memorySize: Int
    /// The guest-instruction budget.
    public var budget: UInt64
    /// Binary translation: how virtual user mode runs.
    public var btUserMode: UserModeExecution = .translated
    /// Binary translation (both backends): ops each VM's translation cache holds before it flushes.
    public var translationCacheOps: Int = BinaryTranslator.defaultCacheOps
    /// The real processor every strategy runs on.
    public var hardware: Hardware = .default
    /// `hw`: the exit controls of every entry.
    public var hwExits: ExitControls = .none

    /// The guest memory size w when none is given: SPEC section 7's 1 MiB.
    public static let defaultMemorySize = 1 << 20
    /// The guest-instruction budget when none is given.
    public static let defaultBudget: UInt64 = 2_000_000_000

    /// A run configuration; the defaults are `bench run`'s. `image` must
    /// have been checked against `memorySize` (`ELFImage(bytes:memorySize:)`).
    public init(image: ELFImage, profile: Profile, memorySize: Int = RunRequest.defaultMemorySize,
                budget: UInt64 = RunRequest.defaultBudget,
                btUserMode: UserModeExecution = .translated, translationCacheOps: Int = BinaryTranslator.defaultCacheOps,
                hardware: Hardware = .default, hwExits: ExitControls = .none) {
        self.image = image
        self.profile = profile
        self.memorySize = memorySize
        self.budget = budget
        self.btUserMode = btUserMode
        self.translationCacheOps = translationCacheOps
        self.hardware = hardware
        self.hwExits = hwExits
    }

    /// The processor this request runs on (`hardware`; the JIT for `native-jit`).
    public func processor(for strategy: Strategy) throws -> any Processor {
        try (strategy == .nativeJit ? Hardware.jit : hardware).processor(cacheOps: translationCacheOps)
    }
}
