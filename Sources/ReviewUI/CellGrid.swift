// What the renderer produces and the terminal backend flushes: a grid of character cells, each with
// explicit RGB colours. Colour reduction for weaker terminals happens later (Palette.swift).

public struct RGB: Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
    public static let black = RGB(0, 0, 0)
    public static let white = RGB(255, 255, 255)
    public var description: String { "(\(r),\(g),\(b))" }
    /// 0xRRGGBB.
    public var packed: Int { Int(r) << 16 | Int(g) << 8 | Int(b) }
}

public struct CellAttributes: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = CellAttributes(rawValue: 1)
    public static let reverse = CellAttributes(rawValue: 2)
    public static let underline = CellAttributes(rawValue: 4)
    /// The terminal's default colours, whatever the cell's RGB (NO_COLOR chrome); not sent to curses.
    public static let plain = CellAttributes(rawValue: 8)
}

public struct Cell: Hashable, Sendable {
    public var character: Unicode.Scalar
    public var foreground: RGB
    public var background: RGB
    public var attributes: CellAttributes

    public init(_ character: Unicode.Scalar, foreground: RGB = Theme.text, background: RGB = Theme.background,
                attributes: CellAttributes = []) {
        self.character = character
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
    }

    public static let blank = Cell(" ")
}

public struct TerminalSize: Hashable, Sendable {
    public var columns: Int
    public var rows: Int
    public init(columns: Int, rows: Int) { self.columns = columns; self.rows = rows }
}

public struct CellGrid: Equatable, Sendable {
    public let columns: Int
    public let rows: Int
    public private(set) var cells: [Cell]

    public init(columns: Int, rows: Int, fill: Cell = .blank) {
        self.columns = max(0, columns)
        self.rows = max(0, rows)
        cells = Array(repeating: fill, count: self.columns * self.rows)
    }

    /// The cell at (column, row), or nil outside the grid.
    public subscript(column: Int, row: Int) -> Cell? {
        guard column >= 0, column < columns, row >= 0, row < rows else { return nil }
        return cells[row * columns + column]
    }

    /// Sets a cell; writes outside the grid are dropped, so callers never need to clip.
    public mutating func set(_ column: Int, _ row: Int, _ cell: Cell) {
        guard column >= 0, column < columns, row >= 0, row < rows else { return }
        cells[row * columns + column] = cell
    }

    /// Writes text from (column, row), at most `width` cells (default: to the right edge). Each
    /// scalar takes one cell; anything not known to be one cell wide becomes "?", so a strange file
    /// name cannot shift the layout. Returns the column after the last cell written.
    @discardableResult
    public mutating func text(_ s: String, _ column: Int, _ row: Int, width: Int? = nil,
                              foreground: RGB = Theme.text, background: RGB = Theme.background,
                              attributes: CellAttributes = []) -> Int {
        let limit = min(columns, column + (width ?? columns))
        var x = column
        for scalar in s.unicodeScalars {
            guard x < limit else { break }
            set(x, row, Cell(CellGrid.narrow(scalar) ? scalar : "?", foreground: foreground,
                             background: background, attributes: attributes))
            x += 1
        }
        return x
    }

    /// Fills a row segment with one cell.
    public mutating func fill(_ column: Int, _ row: Int, width: Int, with cell: Cell) {
        for x in column..<max(column, column + width) { set(x, row, cell) }
    }

    /// The grid's characters as lines, trailing spaces kept: what `tmux capture-pane` would show.
    public var lines: [String] {
        (0..<rows).map { r in String(String.UnicodeScalarView(cells[(r * columns)..<((r + 1) * columns)].map(\.character))) }
    }

    /// Scalars known to occupy exactly one terminal cell: printable Latin, Greek, Cyrillic, and the
    /// punctuation, arrows, box and block elements this UI draws with.
    static func narrow(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x20...0x7E, 0xA0...0x24F, 0x370...0x4FF, 0x2010...0x2027, 0x2190...0x21FF,
             0x2500...0x259F, 0x2713: return true
        default: return false
        }
    }
}

/// Colours of the text parts (a dark theme: the heatmap reads best on black).
public enum Theme {
    public static let text = RGB(220, 220, 220)
    public static let dim = RGB(140, 140, 140)
    public static let background = RGB(0, 0, 0)
    public static let highlightText = RGB(0, 0, 0)
    public static let highlight = RGB(120, 190, 255)
    public static let inactiveHighlight = RGB(90, 90, 90)
    public static let statusBackground = RGB(40, 40, 60)
    public static let accent = RGB(255, 210, 90)
    public static let warning = RGB(255, 110, 90)
    public static let good = RGB(120, 220, 120)
}
