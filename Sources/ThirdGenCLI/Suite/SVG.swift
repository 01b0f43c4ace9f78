import Experiments
import Foundation

/// Hand-written SVG charts for the report (no chart package is available;
/// the page must be self-contained anyway).
enum SVG {
    static let palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd",
                          "#1b3a6b", "#8c3b0c", "#1f5e33", "#7a1d20", "#3f2f73", "#bfa000"]

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func number(_ v: Double) -> String {
        if v >= 100 { return String(format: "%.0f", v) }
        if v >= 10 { return String(format: "%.1f", v) }
        return String(format: "%.2f", v)
    }

    /// The widest chart the report draws: the page is read at 1400 pixels.
    static let maximumWidth = 1340

    /// An `<svg>` element's opening, with the chart's title as its `<title>` (read by screen readers and tooltips).
    static func open(width: Int, height: Int, title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">"
            + "<title>\(escape(title))</title>"
    }

    /// Grouped bars: one group per category, one bar per series. `values[s][c]`.
    static func bars(title: String, categories: [String], series: [String], values: [[Double?]],
                     logScale: Bool, unit: String, reference: Double? = nil) -> String {
        let width = min(maximumWidth, max(640, 90 + categories.count * (series.count * 14 + 22)))
        let rows = legendRows(series, x: 70, maxX: Double(width) - 20)
        let height = 345 + 16 * (rows - 1)
        let left = 70.0, right = Double(width) - 20, top = 55.0 + 16 * Double(rows - 1), bottom = Double(height) - 70
        let all = values.flatMap { $0.compactMap { $0 } }.filter { $0 > 0 }
        guard let maxV = all.max(), let minV = all.min() else {
            return "<p>\(escape(title)): no data</p>"
        }
        let lo = logScale ? pow(10, floor(log10(min(minV, reference ?? minV)))) : 0
        let hi = logScale ? pow(10, ceil(log10(max(maxV, reference ?? maxV)))) : maxV * 1.1
        func y(_ v: Double) -> Double {
            let f = logScale ? (log10(max(v, lo)) - log10(lo)) / (log10(hi) - log10(lo)) : v / hi
            return bottom - f * (bottom - top)
        }
        var s = open(width: width, height: height, title: title)
        s += "<text x=\"\(left)\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>"
        // grid and axis labels
        var ticks: [Double] = []
        if logScale { var t = lo; while t <= hi * 1.0001 { ticks.append(t); t *= 10 } } else { ticks = (0...4).map { hi * Double($0) / 4 } }
        for t in ticks {
            s += "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(y(t))\" y2=\"\(y(t))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(left - 6)\" y=\"\(y(t) + 4)\" text-anchor=\"end\">\(number(t))</text>"
        }
        s += "<text x=\"14\" y=\"\((top + bottom) / 2)\" transform=\"rotate(-90 14 \((top + bottom) / 2))\" text-anchor=\"middle\">\(escape(unit))</text>"
        if let r = reference {
            s += "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(y(r))\" y2=\"\(y(r))\" stroke=\"#333\" stroke-dasharray=\"4 3\"/>"
        }
        let groupWidth = (right - left) / Double(max(categories.count, 1))
        let barWidth = min(14, (groupWidth - 10) / Double(max(series.count, 1)))
        for (c, name) in categories.enumerated() {
            let gx = left + Double(c) * groupWidth + (groupWidth - barWidth * Double(series.count)) / 2
            for si in series.indices {
                guard let v = values[si][c], v > 0 else { continue }
                let x = gx + Double(si) * barWidth, yv = y(v)
                s += "<rect x=\"\(x)\" y=\"\(yv)\" width=\"\(barWidth - 1)\" height=\"\(max(0.5, bottom - yv))\" fill=\"\(palette[si % palette.count])\">"
                s += "<title>\(escape(name)) \(escape(series[si])): \(number(v)) \(escape(unit))</title></rect>"
            }
            let cx = left + (Double(c) + 0.5) * groupWidth
            s += "<text x=\"\(cx)\" y=\"\(bottom + 14)\" text-anchor=\"end\" transform=\"rotate(-35 \(cx) \(bottom + 14))\">\(escape(name))</text>"
        }
        s += "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(bottom)\" y2=\"\(bottom)\" stroke=\"#333\"/>"
        s += legend(series, x: left, y: 38, maxX: right)
        return s + "</svg>"
    }

    /// Lines over a shared x axis (log scale on both), with an optional marked x.
    static func lines(title: String, xs: [Double], series: [(String, [Double])], xLabel: String, yLabel: String,
                      marks: [(Double, String)]) -> String {
        let width = 680, height = 355
        let left = 80.0, right = Double(width) - 20, top = 55.0, bottom = Double(height) - 50
        let ys = series.flatMap(\.1).filter { $0 > 0 }
        guard let x0 = xs.first, let x1 = xs.last, let yMin = ys.min(), let yMax = ys.max() else { return "<p>\(escape(title)): no data</p>" }
        let lo = pow(10, floor(log10(yMin))), hi = pow(10, ceil(log10(yMax)))
        func px(_ x: Double) -> Double { left + (log10(x) - log10(x0)) / (log10(x1) - log10(x0)) * (right - left) }
        func py(_ y: Double) -> Double { bottom - (log10(max(y, lo)) - log10(lo)) / (log10(hi) - log10(lo)) * (bottom - top) }
        var s = open(width: width, height: height, title: title)
        s += "<text x=\"\(left)\" y=\"20\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>"
        var t = lo
        while t <= hi * 1.0001 {
            s += "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(py(t))\" y2=\"\(py(t))\" stroke=\"#ddd\"/>"
            s += "<text x=\"\(left - 6)\" y=\"\(py(t) + 4)\" text-anchor=\"end\">\(String(format: "%.0e", t))</text>"
            t *= 10
        }
        var xt = pow(10, floor(log10(x0)))
        while xt <= x1 * 1.0001 {
            if xt >= x0 {
                s += "<line x1=\"\(px(xt))\" x2=\"\(px(xt))\" y1=\"\(top)\" y2=\"\(bottom)\" stroke=\"#eee\"/>"
                s += "<text x=\"\(px(xt))\" y=\"\(bottom + 14)\" text-anchor=\"middle\">\(number(xt))</text>"
            }
            xt *= 10
        }
        s += "<text x=\"\((left + right) / 2)\" y=\"\(Double(height) - 12)\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        s += "<text x=\"14\" y=\"\((top + bottom) / 2)\" transform=\"rotate(-90 14 \((top + bottom) / 2))\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        for (i, (_, values)) in series.enumerated() {
            let points = zip(xs, values).map { "\(px($0)),\(py($1))" }.joined(separator: " ")
            s += "<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(palette[i % palette.count])\" stroke-width=\"2\"/>"
        }
        for (x, label) in marks where x >= x0 && x <= x1 {
            s += "<line x1=\"\(px(x))\" x2=\"\(px(x))\" y1=\"\(top)\" y2=\"\(bottom)\" stroke=\"#c44e52\" stroke-dasharray=\"5 3\"/>"
            s += "<text x=\"\(px(x) + 4)\" y=\"\(top + 12)\" fill=\"#c44e52\">\(escape(label))</text>"
        }
        s += "<line x1=\"\(left)\" x2=\"\(right)\" y1=\"\(bottom)\" y2=\"\(bottom)\" stroke=\"#333\"/>"
        s += legend(series.map(\.0), x: left, y: 38)
        return s + "</svg>"
    }

    /// A grid of colored cells with short labels.
    static func matrix(title: String, rows: [String], columns: [String], cells: [[(String, String)]]) -> String {
        // Cells narrow to keep the chart within the page; narrow columns get slanted headers.
        let left = 110.0, ch = 20.0
        let cw = min(92.0, ((Double(maximumWidth) - left - 20) / Double(max(columns.count, 1))).rounded(.down))
        let slanted = cw < 92, top = slanted ? 130.0 : 50.0
        let width = Int(left + cw * Double(columns.count) + 20), height = Int(top + ch * Double(rows.count) + 20)
        var s = open(width: width, height: height, title: title)
        s += "<text x=\"4\" y=\"18\" font-size=\"14\" font-weight=\"bold\">\(escape(title))</text>"
        for (c, name) in columns.enumerated() {
            let x = left + cw * (Double(c) + 0.5)
            s += slanted
                ? "<text x=\"\(x)\" y=\"\(top - 8)\" text-anchor=\"start\" transform=\"rotate(-35 \(x) \(top - 8))\">\(escape(name))</text>"
                : "<text x=\"\(x)\" y=\"\(top - 8)\" text-anchor=\"middle\">\(escape(name))</text>"
        }
        for (r, name) in rows.enumerated() {
            s += "<text x=\"\(left - 6)\" y=\"\(top + ch * Double(r) + 14)\" text-anchor=\"end\">\(escape(name))</text>"
            for (c, (label, color)) in cells[r].enumerated() {
                s += "<rect x=\"\(left + cw * Double(c) + 1)\" y=\"\(top + ch * Double(r) + 1)\" width=\"\(cw - 2)\" height=\"\(ch - 2)\" fill=\"\(color)\"/>"
                s += "<text x=\"\(left + cw * (Double(c) + 0.5))\" y=\"\(top + ch * Double(r) + 14)\" text-anchor=\"middle\">\(escape(label))</text>"
            }
        }
        return s + "</svg>"
    }

    /// The width a legend entry takes.
    private static func entryWidth(_ name: String) -> Double { 20 + Double(name.count) * 7 }

    /// How many rows a legend needs to stay left of `maxX`.
    static func legendRows(_ names: [String], x: Double, maxX: Double) -> Int {
        var rows = 1, cx = x
        for n in names {
            if cx + entryWidth(n) > maxX && cx > x { rows += 1; cx = x }
            cx += entryWidth(n)
        }
        return rows
    }

    /// Colored keys for `names`, wrapping to a new row (16 px down) before `maxX`.
    static func legend(_ names: [String], x: Double, y: Double, maxX: Double = .infinity) -> String {
        var s = "", cx = x, cy = y
        for (i, n) in names.enumerated() {
            if cx + entryWidth(n) > maxX && cx > x { cx = x; cy += 16 }
            s += "<rect x=\"\(cx)\" y=\"\(cy - 9)\" width=\"10\" height=\"10\" fill=\"\(palette[i % palette.count])\"/>"
            s += "<text x=\"\(cx + 14)\" y=\"\(cy)\">\(escape(n))</text>"
            cx += entryWidth(n)
        }
        return s
    }
}
