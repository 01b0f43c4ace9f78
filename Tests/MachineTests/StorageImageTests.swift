import Machine
import XCTest

/// Snapshots hold storage as page images (only non-zero pages stored) and
/// hash it with libcrypto where the host has it: both must agree with the
/// plain byte-array answers.
final class StorageImageTests: XCTestCase {
    private func sparse(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = seed, bytes = [UInt8](repeating: 0, count: count)
        for _ in 0..<(count / 997 + 3) {
            rng = rng &* 6364136223846793005 &+ 1442695040888963407
            bytes[Int(rng >> 33) % count] = UInt8(truncatingIfNeeded: rng >> 13) | 1
        }
        return bytes
    }

    func testImageAgreesWithItsBytes() {
        for count in [1, 4095, 4096, 4097, 3 * 4096 + 17, 40_000] {
            let bytes = sparse(count, seed: UInt64(count))
            var image = StorageImage(bytes)
            XCTAssertEqual(image.count, count)
            XCTAssertEqual(image.bytes, bytes)
            XCTAssertTrue(zip(image, bytes).allSatisfy { $0 == $1 })
            XCTAssertLessThanOrEqual(image.storedPages, (count + 4095) / 4096)
            // Slices, aligned and not, keep the bytes.
            for range in [0..<count, (count / 2)..<count, 0..<(count / 3)] where !range.isEmpty {
                XCTAssertEqual(image.image(range).bytes, Array(bytes[range]), "\(count) \(range)")
            }
            if count > 4096 { XCTAssertEqual(image.image(4096..<count).bytes, Array(bytes[4096...])) }
            // Equality and the first mismatch, including a zero page against a written one.
            XCTAssertEqual(image, StorageImage(bytes))
            XCTAssertNil(image.firstMismatch(StorageImage(bytes)))
            let i = count - 1
            var other = bytes
            other[i] = bytes[i] == 0 ? 9 : 0
            XCTAssertEqual(image.firstMismatch(StorageImage(other)), i)
            XCTAssertNotEqual(image, StorageImage(other))
            image[i] = other[i]
            XCTAssertEqual(image, StorageImage(other), "a store through the subscript")
            XCTAssertEqual(image.bytes, other)
        }
        XCTAssertEqual(StorageImage(zeros: 8192).storedPages, 0)
        XCTAssertEqual(StorageImage(zeros: 8192), StorageImage([UInt8](repeating: 0, count: 8192)))
        XCTAssertNotEqual(StorageImage(zeros: 8192), StorageImage(zeros: 4096))
    }

    /// A large storage the guest barely touched costs only the touched pages, and reads back exactly.
    func testStorageImageOfALargeMostlyUntouchedStorage() {
        let storage = Storage(size: 64 << 20)
        let writes = [(0, UInt8(1)), (4095, 2), (5 << 20, 3), ((64 << 20) - 1, 4)]
        for (a, v) in writes { storage[a] = v }
        _ = storage[12 << 20]   // read, never written: still zero
        let image = storage.image(0..<storage.size)
        XCTAssertEqual(image.count, storage.size)
        XCTAssertEqual(image.storedPages, 3)
        for (a, v) in writes { XCTAssertEqual(image[a], v) }
        XCTAssertEqual(image[12 << 20], 0)
        let region = storage.image((4 << 20)..<(8 << 20))
        XCTAssertEqual(region.storedPages, 1)
        XCTAssertEqual(region[1 << 20], 3)
    }

    /// The digest of an image is the digest of its bytes; libcrypto (when loaded) and the portable code agree.
    func testDigestsAgree() {
        for count in [0, 1, 55, 56, 63, 64, 65, 119, 1000, 4096, 10_000, 70_001] {
            let bytes = sparse(max(count, 1), seed: 7)
            let data = Array(bytes.prefix(count))
            let portable = SHA256.hex(data, portableOnly: true)
            XCTAssertEqual(SHA256.hex(data), portable, "\(count) bytes, libcrypto \(SHA256.usesLibCrypto)")
            XCTAssertEqual(StorageImage(data).sha256, portable, "\(count) bytes through pages")
            // In pieces of every awkward size.
            var h = SHA256.Hasher(portableOnly: true)
            var i = 0, step = 1
            data.withUnsafeBytes { p in
                while i < count {
                    let n = min(step, count - i)
                    h.update(UnsafeRawBufferPointer(rebasing: p[i..<(i + n)]))
                    i += n
                    step = step * 3 % 97 + 1
                }
            }
            XCTAssertEqual(SHA256.hex(digest: h.finish()), portable, "\(count) bytes in pieces")
        }
        XCTAssertEqual(SHA256.hex(Array("abc".utf8), portableOnly: true), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
