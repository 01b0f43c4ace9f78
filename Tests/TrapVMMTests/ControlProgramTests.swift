import Machine
import TrapVMM
import XCTest

/// The trap monitor's own rules: the allocator's layout and what it refuses.
final class ControlProgramTests: XCTestCase {
    private func emptyImage() -> ELFImage { ELFImage(words: [0], at: 0x1000) }

    func testAllocatorPlacesVMsAboveTheMonitorPageWithGuardGaps() throws {
        let a = try Allocator(vmCount: 3, size: 65536)
        XCTAssertEqual(a.regions.map(\.base), [4096, 4096 + 65536 + 4096, 4096 + 2 * (65536 + 4096)])
        XCTAssertEqual(a.realMemorySize, 4096 + 3 * (65536 + 4096))
        XCTAssertEqual(a.canaryRanges.first, LowCore.end..<4096)
    }

    func testVMMapClampsTheBound() {
        let r = VMRegion(base: 4096, size: 65536)
        XCTAssertEqual(r.realRelocation(l: 0, b: 65536).b, 65536)
        XCTAssertEqual(r.realRelocation(l: 0x1000, b: 0xFFFF_FFFF).b, 65536 - 0x1000, "clamped to w - l")
        XCTAssertEqual(r.realRelocation(l: 0x1000, b: 0x10).b, 0x10, "a smaller b stands")
        XCTAssertEqual(r.realRelocation(l: 65536, b: 0xFFFF_FFFF).b, 0, "l >= w: bound 0")
        XCTAssertEqual(r.realRelocation(l: 0x1000, b: 0x10).l, 4096 + 0x1000)
    }

    func testRefusals() {
        XCTAssertThrowsError(try ControlProgram(images: [], profile: .pg32v, memorySize: 65536, budget: 1))
        XCTAssertThrowsError(try ControlProgram(images: Array(repeating: emptyImage(), count: 5000), profile: .pg32v,
                                                memorySize: 1 << 20, budget: 1)) { e in
            XCTAssertTrue(String(describing: e).contains("fewer VMs"), "\(e)")
        }
        let open = Profile(name: "open", user: [.setr: .execute])
        XCTAssertThrowsError(try ControlProgram(images: [emptyImage()], profile: open, memorySize: 65536, budget: 1)) { e in
            XCTAssertTrue(String(describing: e).contains("SETR"), "\(e)")
        }
        let setm = Profile(name: "setm", user: [.setm: .execute])
        XCTAssertThrowsError(try ControlProgram(images: [emptyImage()], profile: setm, memorySize: 65536, budget: 1))
    }
}
