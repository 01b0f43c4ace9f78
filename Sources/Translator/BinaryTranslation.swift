import Machine
import TrapVMM

/// How a binary-translating monitor runs virtual user mode (VMware's choice).
public enum UserModeExecution: String, Sendable, CaseIterable {
    /// Translated like supervisor mode: correct on every profile.
    case translated
    /// Directly on the real machine, as under trap-and-emulate: faster where
    /// Theorem 3's condition holds (pg32v, pg32h), wrong where user mode has
    /// unprivileged sensitive instructions (pg32x's GETL).
    case direct
}

/// Control programs whose virtual supervisor mode (and by default user mode) is translated.
public enum BinaryTranslation {
    /// A control program running `images` under binary translation, and its translator.
    public static func controlProgram(images: [ELFImage], profile: Profile, memorySize: Int, budget: UInt64,
                                      userMode: UserModeExecution = .translated,
                                      cacheOps: Int = BinaryTranslator.defaultCacheOps,
                                      processor: any Processor = Interpreter.shared) throws -> (ControlProgram, BinaryTranslator) {
        let translator = BinaryTranslator(cacheOps: cacheOps)
        let cp = try ControlProgram(images: images, profile: profile, memorySize: memorySize, budget: budget, processor: processor,
                                    supervisorEngine: translator,
                                    userEngine: userMode == .translated ? translator : DirectExecution())
        return (cp, translator)
    }
}

/// An engine that translates guest code (either backend), and reports on its translations.
public protocol TranslatingEngine: ExecutionEngine {
    /// The translation counters of `vm`.
    func counters(for vm: VirtualMachine) -> TranslationCounters
    /// Bytes reserved for `vm`'s translations, and in use.
    func memory(for vm: VirtualMachine) -> (reserved: Int, used: Int)
}

extension BinaryTranslator: TranslatingEngine {}
extension JITTranslator: TranslatingEngine {}
