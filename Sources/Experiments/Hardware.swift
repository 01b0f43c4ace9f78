import Machine
import Translator

/// The real processor (`--hardware`, SPEC section 8): the reference
/// interpreter, or the JIT standing in for it.
public enum Hardware: String, CaseIterable, Sendable {
    /// The reference interpreter.
    case interp
    /// The x86-64 JIT (x86-64 Linux).
    case jit

    /// The fastest processor this host runs: the JIT where it runs, else the interpreter.
    public static var `default`: Hardware { JITTranslator.unavailableReason == nil ? .jit : .interp }

    /// A fresh processor of this kind; `cacheOps` sizes the JIT's translation caches.
    public func processor(cacheOps: Int = BinaryTranslator.defaultCacheOps) throws -> any Processor {
        switch self {
        case .interp: return Interpreter.shared
        case .jit:
            do { return try JITProcessor(cacheOps: cacheOps) } catch let e as JITTranslator.Unavailable {
                throw UsageError("--hardware jit is unavailable: \(e.description) (or use --hardware interp)")
            }
        }
    }
}
