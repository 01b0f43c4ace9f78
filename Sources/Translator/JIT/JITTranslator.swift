#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Machine
import TrapVMM

/// Binary translation with the native backend: the same front end as
/// `BinaryTranslator` (blocks of micro-ops, invalidation, the slow entry),
/// each block compiled to x86-64 code that runs guest instructions without
/// an interpreter loop, chained to its successors by patched jumps. As an
/// `ExecutionEngine` of the control program it virtualizes every profile,
/// pg32x included: every system instruction leaves the code for an
/// interpreter routine.
///
/// Available on x86-64 Linux only; elsewhere `init` throws `Unavailable`.
public final class JITTranslator: ExecutionEngine {
    /// Ops each VM's translation cache holds before it (and its code) is flushed.
    public let cacheOps: Int
    /// True if blocks address guest storage through guarded views, unchecked
    /// (where storage is a memory file), false if every access is checked (`guardedViewsByDefault`).
    public let guardedViews: Bool
    /// Per VM: its native code, and the reference interpreter over its
    /// storage for what a block cannot run (trap policy `.report`).
    @exclusivity(unchecked) private var native = PerVM<(code: NativeCode, stepper: Machine)>()

    /// Why the JIT cannot run on this host.
    public struct Unavailable: Error, CustomStringConvertible {
        /// The reason, ready to print.
        public let description: String
    }

    /// nil if the JIT runs here, or why not. `THIRDGEN_JIT=off` in the
    /// environment turns it off on any host (what a host without it sees).
    public static var unavailableReason: String? {
        if let setting = getenv("THIRDGEN_JIT"), String(cString: setting) == "off" {
            return "turned off by THIRDGEN_JIT=off; use --strategy bt (the portable backend)"
        }
        #if os(Linux) && arch(x86_64)
        return nil
        #else
        return "the JIT emits x86-64 code and runs on x86-64 Linux only; use --strategy bt (the portable backend)"
        #endif
    }

    /// Whether generated code checks each access against the bound (false)
    /// or leaves it to the host's page protection (true: a guarded view,
    /// `GuardedView`, where faults past the bound are caught): true unless
    /// `THIRDGEN_JIT_GUARD=off` is in the environment (an experiment knob,
    /// and what a host without memory files or the fault handler runs).
    public static var guardedViewsByDefault: Bool {
        guard let setting = getenv("THIRDGEN_JIT_GUARD") else { return true }
        return String(cString: setting) != "off"
    }

    /// Makes the engine; `cacheOps` bounds each VM's translation cache (its code memory follows).
    public init(cacheOps: Int = BinaryTranslator.defaultCacheOps, guardedViews: Bool = JITTranslator.guardedViewsByDefault) throws {
        if let why = JITTranslator.unavailableReason { throw Unavailable(description: why) }
        // Probe once for executable memory, so that a host that refuses it is told here, not mid-run.
        do { _ = try CodeMemory(capacity: 4096) } catch { throw Unavailable(description: "\(error)") }
        self.cacheOps = cacheOps
        self.guardedViews = guardedViews
    }

    /// The translation counters of `vm` (zero if it never ran).
    public func counters(for vm: VirtualMachine) -> TranslationCounters {
        native[vm: vm]?.code.cache.counters ?? TranslationCounters()
    }

    /// Bytes reserved for `vm`'s translations (ops and code), and in use.
    public func memory(for vm: VirtualMachine) -> (reserved: Int, used: Int) {
        guard let n = native[vm: vm]?.code else { return (0, 0) }
        return (n.cache.memoryBytes + n.codeBytes.reserved, n.cache.usedBytes + n.codeBytes.used)
    }

    /// Code statistics of `vm`: bytes generated, chain links patched.
    public func codeStatistics(for vm: VirtualMachine) -> (bytesGenerated: UInt64, linksPatched: UInt64) {
        guard let n = native[vm: vm]?.code else { return (0, 0) }
        return (n.bytesGenerated, n.linksPatched)
    }

    /// See `ExecutionEngine`: invalidates translations of written words; after
    /// writes it cannot see, unchains everything so each block is verified.
    public func storageWritten(_ vm: VirtualMachine, range: Range<Int>?) {
        native[vm: vm]?.code.storageWritten(range: range)
    }

    /// See `ExecutionEngine`.
    public func run(_ vm: VirtualMachine, budget: UInt64, in monitor: ControlProgram) -> EngineExit {
        let n: NativeCode, stepper: Machine
        do {
            (n, stepper) = try native.state(of: vm) {
                (try NativeCode(storageSize: vm.region.size, cacheOps: cacheOps,
                                guarded: guardedViews && monitor.machine.storage.file != nil),
                 Machine.reportingInterpreter(over: vm.region.range, of: monitor.machine))
            }
        } catch {
            // Code memory could not be mapped: fatal for this engine, reported by the caller's process.
            fatalError("\(error)")
        }
        let file = monitor.machine.storage.file?.advanced(by: vm.region.base)
        let r = n.run(registers: monitor.machine.unsafeRegisterFile, memory: monitor.machine.storage.base + vm.region.base,
                      file: file, storageSize: vm.region.size, psw: vm.psw, budget: budget, stepper: stepper)
        vm.counters.translated += UInt64(r.ran - r.stepped)
        vm.counters.interpreted += UInt64(r.stepped)
        vm.psw.pc = r.pc
        return EngineExit(ran: UInt64(r.ran), event: r.event)
    }
}

extension NativeCode {
    /// Something other than the code wrote guest storage `range` (or anything, if nil).
    /// The cache drops what was made from the bytes (unchaining those blocks);
    /// after writes it cannot place, every jump is unlinked so each block is verified.
    func storageWritten(range: Range<Int>?) {
        if cache.storageWritten(range: range) { unchainAll() }
    }
}

/// Control programs whose virtual modes run under the JIT.
public enum JITTranslation {
    /// A control program running `images` with both virtual modes under the JIT, and its translator.
    public static func controlProgram(images: [ELFImage], profile: Profile, memorySize: Int, budget: UInt64,
                                      cacheOps: Int = BinaryTranslator.defaultCacheOps,
                                      guardedViews: Bool = JITTranslator.guardedViewsByDefault,
                                      processor: any Processor = Interpreter.shared) throws -> (ControlProgram, JITTranslator) {
        let jit = try JITTranslator(cacheOps: cacheOps, guardedViews: guardedViews)
        let cp = try ControlProgram(images: images, profile: profile, memorySize: memorySize, budget: budget, processor: processor,
                                    supervisorEngine: jit, userEngine: jit)
        return (cp, jit)
    }
}
