// Colours curses cannot draw (24-bit colour on a terminfo entry without RGB, say tmux-256color
// with truecolour passed through) are written as SGR sequences of our own after curses' refresh:
// here the pure part, the bytes for some rows of a cell grid.

enum SGR {
    /// "38;2;r;g;b;48;2;r;g;b" (direct), "38;5;n;48;5;m" (256) or "3x;4x" / "9x;10x" (16).
    static func colorParameters(foreground fg: RGB, background bg: RGB, _ capability: ColorCapability) -> String {
        switch capability {
        case .direct: return "38;2;\(fg.r);\(fg.g);\(fg.b);48;2;\(bg.r);\(bg.g);\(bg.b)"
        case .palette256: return "38;5;\(Palette.xterm256(fg));48;5;\(Palette.xterm256(bg))"
        case .ansi16:
            let f = Palette.ansi16(fg), b = Palette.ansi16(bg)
            return "\(f < 8 ? 30 + f : 90 + f - 8);\(b < 8 ? 40 + b : 100 + b - 8)"
        case .monochrome: return "39;49"
        }
    }

    static func attributeParameters(_ a: CellAttributes) -> String {
        (a.contains(.bold) ? "1;" : "") + (a.contains(.underline) ? "4;" : "") + (a.contains(.reverse) ? "7;" : "")
    }

    /// Paints every cell of `rows` except `.plain` ones: a cursor move where a run starts, a full
    /// SGR (reset first) where the style changes, the character; ends with the attributes reset.
    static func paint(_ grid: CellGrid, rows: [Int], _ capability: ColorCapability) -> String {
        var out = ""
        var last: String?
        for r in rows where r >= 0 && r < grid.rows {
            var next: Int?
            for c in 0..<grid.columns {
                guard let cell = grid[c, r], !cell.attributes.contains(.plain) else { continue }
                if next != c { out += "\u{1B}[\(r + 1);\(c + 1)H" }
                let style = "\u{1B}[0;" + attributeParameters(cell.attributes)
                    + colorParameters(foreground: cell.foreground, background: cell.background, capability) + "m"
                if style != last { out += style; last = style }
                out.unicodeScalars.append(cell.character)
                next = c + 1
            }
        }
        return out.isEmpty ? out : out + "\u{1B}[0m"
    }
}
