/// Left-aligned text columns: every table the subcommands print.
enum TextTable {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { c in all.map { $0[c].count }.max() ?? 0 }
        return all.map { row in
            row.indices.map { c in
                c == row.count - 1 ? row[c] : row[c] + String(repeating: " ", count: widths[c] - row[c].count)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
