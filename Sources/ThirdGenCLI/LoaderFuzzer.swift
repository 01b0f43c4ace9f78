import Experiments
import Foundation
import Guests
import Machine

/// `bench fuzz --images N`: the loader against malformed images. Each image
/// is a built-in guest mutated one way (truncated, bits flipped, bytes
/// overwritten, an ELF or program header field set to an edge value, junk
/// appended); it must either be refused with a one-line reason or run to a
/// clean end under native and trap on pg32v with a small budget, the two
/// equivalent (or both out of budget). A crash or a hang would end the
/// process, which is what the test watches for.
enum LoaderFuzzer {
    struct Summary {
        var images = 0, refused = 0, ran = 0
        /// Runs where trap and native disagreed (a bug), with the mutation that made them.
        var divergences: [String] = []
        /// Refusal messages that are not one plain line (a bug).
        var badMessages: [String] = []
        /// How often each refusal reason came up, by its text up to the first digit.
        var reasons: [String: Int] = [:]
    }

    /// Values a header field is set to: zero, small, page-sized, the top of
    /// 16 and 32 bits, just past the image.
    static func edgeValues(_ size: Int) -> [UInt32] {
        [0, 1, 2, 0x34, 0xFFF, 0x1000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFF0, 0xFFFF_FFFF, UInt32(size), UInt32(size + 1)]
    }

    /// Header fields as (offset, width): e_type .. e_shstrndx, then p_type .. p_align of each program header.
    static func fields(_ bytes: [UInt8]) -> [(Int, Int)] {
        var out: [(Int, Int)] = [(16, 2), (18, 2), (20, 4), (24, 4), (28, 4), (32, 4), (36, 4), (40, 2), (42, 2), (44, 2),
                                 (46, 2), (48, 2), (50, 2), (4, 1), (5, 1), (6, 1)]
        guard bytes.count >= 52 else { return out }
        func word(_ o: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(bytes[o + $1]) << (8 * $1) } }
        let phoff = word(28, 4), phnum = word(44, 2)
        for i in 0..<min(phnum, 8) where phoff + 32 * (i + 1) <= bytes.count {
            out += (0..<8).map { (phoff + 32 * i + 4 * $0, 4) }
        }
        return out
    }

    /// One mutant of `original`, and what was done, in words.
    static func mutate(_ original: [UInt8], _ n: Int, using rng: inout SplitMix64) -> ([UInt8], String) {
        var b = original
        switch n % 6 {
        case 0:
            let keep = Int.random(in: 0..<b.count, using: &rng)
            return (Array(b.prefix(keep)), "truncated to \(keep) bytes")
        case 1:
            let flips = Int.random(in: 1...8, using: &rng)
            for _ in 0..<flips { b[Int.random(in: 0..<b.count, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng) }
            return (b, "\(flips) bits flipped")
        case 2, 3:
            let all = fields(b)
            let (offset, width) = n % 6 == 2 ? all[Int.random(in: 0..<min(16, all.count), using: &rng)]
                                             : all[Int.random(in: 0..<all.count, using: &rng)]
            let v = edgeValues(b.count).randomElement(using: &rng)!
            for k in 0..<width where offset + k < b.count { b[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
            return (b, "field at \(offset) (\(width) bytes) set to \(String(v, radix: 16))")
        case 4:
            for _ in 0..<64 { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            return (b, "64 random bytes")
        default:
            let extra = Int.random(in: 1...4096, using: &rng)
            b += (0..<extra).map { _ in UInt8.random(in: 0...255, using: &rng) }
            return (b, "\(extra) junk bytes appended")
        }
    }

    /// Runs `count` mutants from `seed`.
    static func run(count: Int, seed: UInt64, budget: UInt64 = 20_000, progress: Progress) throws -> Summary {
        let originals = try Guests.all.map { ($0.name, try Guests.image(of: $0)) }
        let w = RunRequest.defaultMemorySize
        var rng = SplitMix64(seed: seed)
        var summary = Summary()
        for n in 0..<count {
            let (name, original) = originals[n % originals.count]
            let (bytes, what) = mutate(original, n / originals.count, using: &rng)
            summary.images += 1
            let image: ELFImage
            do {
                image = try ELFImage(bytes: bytes, memorySize: w)
            } catch {
                summary.refused += 1
                let text = String(describing: error)
                if text.contains("\n") || text.contains("Error Domain") || text.isEmpty { summary.badMessages.append("\(name), \(what): \(text)") }
                summary.reasons[String(text.prefix { !$0.isNumber }).trimmingCharacters(in: .whitespaces), default: 0] += 1
                progress.update(n + 1, note: "\(summary.refused) refused, \(summary.ran) ran")
                continue
            }
            summary.ran += 1
            let request = RunRequest(image: image, profile: .pg32v, memorySize: w, budget: budget, hardware: .interp)
            let bare = try Strategy.native.execute(request)
            let trap = try Strategy.trap.execute(request)
            if case .divergent(let d) = Verdict(run: trap.snapshot, reference: bare.snapshot) {
                summary.divergences.append("\(name), \(what): \(d)")
            }
            progress.update(n + 1, note: "\(summary.refused) refused, \(summary.ran) ran")
        }
        progress.finish()
        return summary
    }
}
