// Where everything goes on a terminal of a given size, and how canvas cells map to image pixels.
// Both the renderer and the mouse mapping use it, so a click lands where the pixel was drawn.

public struct CellRect: Equatable, Sendable {
    public var column: Int, row: Int, columns: Int, rows: Int
    public func contains(_ c: Int, _ r: Int) -> Bool {
        c >= column && c < column + columns && r >= row && r < row + rows
    }
}

public struct ReviewLayout: Equatable, Sendable {
    public static let minimumColumns = 48
    public static let minimumRows = 12
    static let statusRows = 3
    /// The list's header: what is shown, then progress (ReviewView.swift).
    public static let listHeaderRows = 2

    public let size: TerminalSize
    /// Sample list, its first `listHeaderRows` rows the header.
    public let list: CellRect
    /// The area the image may use (below the canvas header).
    public let canvasArea: CellRect
    public let status: CellRect
    /// Where the image is drawn: each cell shows two display pixels (upper, lower).
    public let image: CellRect
    /// Display pixels per image pixel (an integer when ≥ 1: crisp nearest-neighbour enlargement).
    public let scale: Double
    public let imageWidth: Int
    public let imageHeight: Int

    public var isTooSmall: Bool { size.columns < Self.minimumColumns || size.rows < Self.minimumRows }

    public init(size: TerminalSize, imageWidth: Int, imageHeight: Int) {
        self.size = size
        let w = max(0, size.columns), h = max(0, size.rows)
        let listWidth = min(40, max(24, w / 3))
        let body = max(0, h - Self.statusRows)
        list = CellRect(column: 0, row: 0, columns: listWidth, rows: body)
        canvasArea = CellRect(column: listWidth + 1, row: 1, columns: max(0, w - listWidth - 1), rows: max(0, body - 1))
        status = CellRect(column: 0, row: body, columns: w, rows: min(h, Self.statusRows))
        self.imageWidth = max(1, imageWidth)
        self.imageHeight = max(1, imageHeight)
        // Largest scale that fits: display pixels available are columns × (2 · rows).
        let fit = min(Double(canvasArea.columns) / Double(self.imageWidth),
                      Double(2 * canvasArea.rows) / Double(self.imageHeight))
        let s = fit >= 1 ? fit.rounded(.down) : max(fit, 1e-9)
        scale = s
        let displayW = min(canvasArea.columns, Int((Double(self.imageWidth) * s).rounded(.down)))
        let displayH = min(2 * canvasArea.rows, Int((Double(self.imageHeight) * s).rounded(.down)))
        let cellRows = (displayH + 1) / 2
        image = CellRect(column: canvasArea.column + (canvasArea.columns - displayW) / 2,
                         row: canvasArea.row + (canvasArea.rows - cellRows) / 2,
                         columns: displayW, rows: cellRows)
        displayHeight = displayH
    }

    /// Display pixel rows actually covered by the image (odd heights leave the last lower half empty).
    public let displayHeight: Int

    /// Image pixel shown at display pixel (dx, dy) relative to the image's top-left, nearest neighbour.
    func imagePixel(displayX dx: Int, displayY dy: Int) -> (Int, Int) {
        (min(imageWidth - 1, Int((Double(dx) + 0.5) / scale)), min(imageHeight - 1, Int((Double(dy) + 0.5) / scale)))
    }

    /// Image coordinates of the centre of terminal cell (column, row): a mouse position. A cell
    /// spans two display pixels vertically, so its centre is at display y = 2·row + 1.
    public func imagePoint(column: Int, row: Int) -> (x: Double, y: Double) {
        ((Double(column - image.column) + 0.5) / scale, Double(2 * (row - image.row) + 1) / scale)
    }

    /// First view index shown: the selection stays visible, centred when the list scrolls.
    public func listTop(selected: Int, count: Int) -> Int {
        let visible = max(1, list.rows - Self.listHeaderRows)
        guard count > visible else { return 0 }
        return min(max(0, selected - visible / 2), count - visible)
    }
}
