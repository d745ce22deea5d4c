// The `?` help's lines, generated from the key table (KeyBindings.swift) and cut into pages that fit
// the terminal: the box is at most `maxRows` lines of at most `maxColumns` characters, so on an
// 80×24 terminal every page is whole; Space / PgDn and PgUp turn the pages.

struct HelpLine: Equatable {
    enum Kind: Equatable { case heading, entry }
    let kind: Kind
    let text: String
}

enum HelpText {
    /// The box's limits, frame included: it fits 80×24 with a margin.
    static let maxRows = 22
    static let maxColumns = 76
    /// Keys are padded to the longest label, so the words line up in one column.
    static let labelWidth = (keyBindings.map(\.label) + mouseAndMarks.map(\.label)).map { $0.unicodeScalars.count }.max()!

    /// What the mouse does and what the list's marks mean: not keys, but the help says them too.
    static let mouseAndMarks: [(label: String, help: String)] = [
        ("left / right drag", "paint with the tool / with the other tool"),
        ("wheel / click row", "brush size / select that sample"),
        ("list marks", "* edited, ✓ accepted, ! flagged, x excluded"),
    ]

    static func entry(_ label: String, _ help: String) -> HelpLine {
        let padding = String(repeating: " ", count: max(0, labelWidth - label.unicodeScalars.count))
        return HelpLine(kind: .entry, text: label + padding + "  " + help)
    }

    /// Every line, group by group in the table's order, then the mouse.
    static let lines: [HelpLine] = {
        var lines: [HelpLine] = []
        for group in KeyGroup.allCases {
            let bindings = keyBindings.filter { $0.group == group }
            guard !bindings.isEmpty else { continue }
            lines.append(HelpLine(kind: .heading, text: group.rawValue))
            lines += bindings.map { entry($0.label, $0.help) }
        }
        lines.append(HelpLine(kind: .heading, text: "Mouse"))
        lines += mouseAndMarks.map { entry($0.label, $0.help) }
        return lines
    }()

    /// Lines a page holds on a terminal `rows` high (the frame takes two).
    static func pageHeight(rows: Int) -> Int { max(1, min(rows, maxRows) - 2) }

    /// The lines cut into pages of `pageHeight(rows:)`; a heading never ends a page.
    static func pages(rows: Int) -> [[HelpLine]] {
        let height = pageHeight(rows: rows)
        var pages: [[HelpLine]] = [[]]
        for line in lines {
            let full = pages[pages.count - 1].count >= height
            let orphan = line.kind == .heading && height > 1 && pages[pages.count - 1].count == height - 1
            if full || orphan { pages.append([]) }
            pages[pages.count - 1].append(line)
        }
        return pages
    }

    /// The page a help turn of `delta` from `page` lands on, nil past either end (the key then closes the help).
    static func turn(from page: Int, by delta: Int, rows: Int) -> Int? {
        let target = page + delta
        return (0..<pages(rows: rows).count).contains(target) ? target : nil
    }

    /// The frame's top and bottom words for `page` of `count`.
    static func title(page: Int, of count: Int) -> String {
        count > 1 ? " Keys \(page + 1)/\(count) " : " Keys "
    }

    static func hint(page: Int, of count: Int) -> String {
        if page + 1 < count { return " more: Space or PgDn · any other key closes " }
        return count > 1 ? " PgUp: back · any other key closes " : " any key closes "
    }
}
