import Foundation
import XCTest

/// report.html in a real browser (headless Chromium, Debian's `chromium`):
/// no horizontal overflow at 1400 pixels, and every chart has a title.
/// Skipped, and saying so, where Chromium is not installed.
final class ReportBrowserTests: XCTestCase {
    private static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// What the page measures of itself once laid out, appended as a script before `</body>`.
    static let probe = """
        <script>(function(){var svgs=Array.prototype.slice.call(document.querySelectorAll('svg'));\
        var untitled=svgs.filter(function(s){var t=s.firstElementChild;\
        return !(t&&t.tagName.toLowerCase()==='title'&&t.textContent.trim().length>0);}).length;\
        var pre=document.createElement('pre');pre.id='probe';\
        pre.textContent='scrollWidth='+document.scrollingElement.scrollWidth+' svgs='+svgs.length+' untitled='+untitled;\
        document.body.appendChild(pre);})();</script>
        """

    func testReportFitsA1400PixelPageAndEveryChartHasATitle() throws {
        guard let chromium = ReportBrowserTests.chromium else {
            throw XCTSkip("headless Chromium is not installed (apt-get install chromium), so the report was not checked in a browser")
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        // Every strategy and preset, every profile, a nanobenchmark and the nesting section: the widest the report gets per row.
        let r = try BenchProcess.run(["suite", "--quick", "--out", out, "--nest-depth", "1",
                                      "--guests", "sieve", "syscall", "getl", "jrstu", "kernel", "hv"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let html = try String(contentsOfFile: out + "/report.html", encoding: .utf8)
        let page = out + "/probe.html"
        try html.replacingOccurrences(of: "</body>", with: ReportBrowserTests.probe + "</body>").write(toFile: page, atomically: true, encoding: .utf8)
        let dom = try BrowserProcess.run(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000",
                                                       "--dump-dom", "file://" + page])
        let marker = try XCTUnwrap(dom.range(of: "<pre id=\"probe\">"), "no probe output: \(dom.suffix(500))")
        let line = dom[marker.upperBound...].prefix { $0 != "<" }
        func number(_ key: String) -> Int? {
            guard let range = line.range(of: key + "=") else { return nil }
            return Int(line[range.upperBound...].prefix { $0.isNumber })
        }
        let width = try XCTUnwrap(number("scrollWidth")), svgs = try XCTUnwrap(number("svgs")), untitled = try XCTUnwrap(number("untitled"))
        XCTAssertLessThanOrEqual(width, 1400, "the page scrolls sideways at 1400 pixels")
        XCTAssertEqual(svgs, 3 + 3 + 1 + 1 + 1 + 1 + 1, "overhead and matrix per profile, nano, exit sweep, syscall, trap sweep, nesting")
        XCTAssertEqual(untitled, 0, "every <svg> starts with a <title>")
    }
}

/// Runs a program and returns its standard output (stderr is discarded: Chromium is chatty there).
enum BrowserProcess {
    static func run(_ tool: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
