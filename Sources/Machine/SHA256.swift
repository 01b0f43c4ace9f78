#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 (FIPS 180-4), for SPEC section 10's `storageSha256`.
///
/// Foundation on Linux has no digest. Where the host's OpenSSL (libcrypto)
/// can be loaded at run time, its SHA-256 does the work: it uses the CPU's
/// SHA instructions and hashes a 2 GB storage several times faster than the
/// portable code below (measured: README, "Bad input"). Loading it is
/// optional (dlopen, no build-time dependency); without it, or with
/// THIRDGEN_LIBCRYPTO=off, the portable implementation here gives the same
/// digest, which the tests check on both.
public enum SHA256 {
    fileprivate static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    /// An incremental digest: `update` with the message in pieces, then `finish`.
    public struct Hasher {
        private var portable = PortableHasher()
        private var library: LibCrypto.Context?

        /// A fresh digest; `portableOnly` skips libcrypto (the tests compare both).
        public init(portableOnly: Bool = false) {
            library = portableOnly ? nil : LibCrypto.Context()
        }

        /// Adds `bytes` to the message.
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            if let library { library.update(bytes) } else { portable.update(bytes) }
        }

        /// The 32-byte digest of everything added.
        public mutating func finish() -> [UInt8] {
            if let library { return library.finish() }
            return portable.finish()
        }
    }

    /// The 32-byte digest of `data`.
    public static func digest(_ data: [UInt8], portableOnly: Bool = false) -> [UInt8] {
        var h = Hasher(portableOnly: portableOnly)
        data.withUnsafeBytes { h.update($0) }
        return h.finish()
    }

    /// The digest of `data` as 64 lowercase hex digits.
    public static func hex(_ data: [UInt8], portableOnly: Bool = false) -> String {
        hex(digest: digest(data, portableOnly: portableOnly))
    }

    /// A digest as lowercase hex digits.
    public static func hex(digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// True when digests come from the host's libcrypto.
    public static var usesLibCrypto: Bool { LibCrypto.functions != nil }
}

/// The portable FIPS 180-4 compression, reading the message in place (no copy of it).
private struct PortableHasher {
    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    private var pending: [UInt8] = []
    private var length: UInt64 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var i = 0
        if !pending.isEmpty {
            let take = min(64 - pending.count, bytes.count)
            pending += bytes[0..<take]
            i = take
            if pending.count == 64 {
                pending.withUnsafeBytes { compress($0) }
                pending.removeAll(keepingCapacity: true)
            }
        }
        while i + 64 <= bytes.count {
            compress(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + 64)]))
            i += 64
        }
        if i < bytes.count { pending += bytes[i...] }
    }

    mutating func finish() -> [UInt8] {
        let bits = length &* 8
        var tail = pending + [0x80]
        while tail.count % 64 != 56 { tail.append(0) }
        for i in (0..<8).reversed() { tail.append(UInt8(truncatingIfNeeded: bits >> (UInt64(i) * 8))) }
        tail.withUnsafeBytes { t in
            for o in stride(from: 0, to: t.count, by: 64) { compress(UnsafeRawBufferPointer(rebasing: t[o..<(o + 64)])) }
        }
        let words = [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7]
        return words.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - UInt32($0) * 8)) } }
    }

    private mutating func compress(_ block: UnsafeRawBufferPointer) {
        @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            SHA256.k.withUnsafeBufferPointer { k in
                for i in 0..<16 { w[i] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)) }
                for i in 16..<64 {
                    let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                    let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                    w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
                }
                var (a, b, c, d, e, f, g, hh) = h
                for i in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = hh &+ s1 &+ ch &+ k[i] &+ w[i]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let maj = (a & b) ^ (a & c) ^ (b & c)
                    (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ s0 &+ maj)
                }
                h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
            }
        }
    }
}

/// OpenSSL's EVP digest interface, loaded at run time if the host has it.
private enum LibCrypto {
    typealias NewContext = @convention(c) () -> OpaquePointer?
    typealias FreeContext = @convention(c) (OpaquePointer?) -> Void
    typealias Algorithm = @convention(c) () -> OpaquePointer?
    typealias Initialize = @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?) -> Int32
    typealias Update = @convention(c) (OpaquePointer?, UnsafeRawPointer?, Int) -> Int32
    typealias Final = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt32>?) -> Int32

    struct Functions: @unchecked Sendable {
        let new: NewContext, free: FreeContext, sha256: Algorithm, initialize: Initialize, update: Update, final: Final
    }

    /// The functions, or nil where libcrypto is absent (or THIRDGEN_LIBCRYPTO=off).
    static let functions: Functions? = {
        if let v = getenv("THIRDGEN_LIBCRYPTO"), String(cString: v) == "off" { return nil }
        #if os(Linux)
        let names = ["libcrypto.so.3", "libcrypto.so"]
        #else
        let names = ["libcrypto.3.dylib", "libcrypto.dylib"]
        #endif
        // SAFETY: dlopen of a system library; the handle is kept for the process's lifetime.
        guard let handle = names.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else { return nil }
        func symbol<T>(_ name: String, as: T.Type) -> T? {
            // SAFETY: the symbols are OpenSSL 3's documented EVP functions, cast to their C signatures.
            dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
        }
        guard let new = symbol("EVP_MD_CTX_new", as: NewContext.self), let free = symbol("EVP_MD_CTX_free", as: FreeContext.self),
              let sha256 = symbol("EVP_sha256", as: Algorithm.self), let initialize = symbol("EVP_DigestInit_ex", as: Initialize.self),
              let update = symbol("EVP_DigestUpdate", as: Update.self), let final = symbol("EVP_DigestFinal_ex", as: Final.self)
        else { return nil }
        return Functions(new: new, free: free, sha256: sha256, initialize: initialize, update: update, final: final)
    }()

    /// One digest in progress; freed when finished or dropped.
    final class Context {
        private let f: Functions
        private var ctx: OpaquePointer?

        init?() {
            guard let f = LibCrypto.functions, let ctx = f.new() else { return nil }
            guard f.initialize(ctx, f.sha256(), nil) == 1 else { f.free(ctx); return nil }
            self.f = f
            self.ctx = ctx
        }

        deinit { f.free(ctx) }

        func update(_ bytes: UnsafeRawBufferPointer) {
            guard bytes.count > 0 else { return }
            let ok = f.update(ctx, bytes.baseAddress, bytes.count)
            precondition(ok == 1, "libcrypto EVP_DigestUpdate failed")
        }

        func finish() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 32)
            var n: UInt32 = 0
            let ok = out.withUnsafeMutableBufferPointer { f.final(ctx, $0.baseAddress, &n) }
            precondition(ok == 1 && n == 32, "libcrypto EVP_DigestFinal_ex failed")
            return out
        }
    }
}
