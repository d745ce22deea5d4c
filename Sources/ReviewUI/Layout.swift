import HITL

// Where everything goes on a terminal of a given size, and how canvas cells map to image pixels.
// Both the renderer and the mouse mapping use it, so a click lands where the pixel was drawn.

public struct CellRect: Equatable, Sendable {
    public var column: Int, row: Int, columns: Int, rows: Int
    public func contains(_ c: Int, _ r: Int) -> Bool {
        c >= column && c < column + columns && r >= row && r < row + rows
    }
}

/// One canvas panel: what it shows and where.
public struct CanvasPanel: Equatable, Sendable {
    public var view: CanvasView
    public var rect: CellRect
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
    /// Where the (first) panel's image is drawn: each cell shows two display pixels (upper, lower).
    public let image: CellRect
    /// Display pixels per image pixel (an integer when ≥ 1: crisp nearest-neighbour enlargement).
    public let scale: Double
    public let imageWidth: Int
    public let imageHeight: Int

    /// What each canvas panel shows, left to right, and where: one panel normally; image | map |
    /// blend side by side (`v`) when each gets `minimumPanelColumns`, two or one when narrower.
    public let panels: [CanvasPanel]
    /// The part of the (possibly zoomed) image every panel shows.
    public let viewport: Viewport
    /// The row for the map's colour legend: the canvas area's last row when the image leaves it free.
    public let legend: CellRect?
    public static let minimumPanelColumns = 24

    public var isTooSmall: Bool { size.columns < Self.minimumColumns || size.rows < Self.minimumRows }

    /// `zoom` multiplies the scale that fits the image; above 1 the panels show a window centred on
    /// `center` (image pixels) and keep the canvas area's last row for the legend.
    public init(size: TerminalSize, imageWidth: Int, imageHeight: Int, zoom: Int = 1,
                center: BrushPoint? = nil, sideBySide: Bool = false, view: CanvasView = .blend) {
        self.size = size
        let w = max(0, size.columns), h = max(0, size.rows)
        let listWidth = min(40, max(24, w / 3))
        let body = max(0, h - Self.statusRows)
        list = CellRect(column: 0, row: 0, columns: listWidth, rows: body)
        let area = CellRect(column: listWidth + 1, row: 1, columns: max(0, w - listWidth - 1), rows: max(0, body - 1))
        canvasArea = area
        status = CellRect(column: 0, row: body, columns: w, rows: min(h, Self.statusRows))
        self.imageWidth = max(1, imageWidth)
        self.imageHeight = max(1, imageHeight)
        let views = sideBySide ? Self.sideBySideViews(areaColumns: area.columns, view: view) : [view]
        let panelColumns = max(0, (area.columns - (views.count - 1)) / views.count)
        let zoom = max(1, zoom)
        let rows = zoom > 1 && area.rows > 2 ? area.rows - 1 : area.rows
        // Largest scale that fits: display pixels available are columns × (2 · rows).
        let iw = max(1, imageWidth), ih = max(1, imageHeight)
        let fit = min(Double(panelColumns) / Double(iw), Double(2 * rows) / Double(ih))
        let base = fit >= 1 ? fit.rounded(.down) : max(fit, 1e-9)
        let c = center ?? BrushPoint(Double(iw) / 2, Double(ih) / 2)
        let port = Viewport(scale: base * Double(zoom), imageWidth: imageWidth, imageHeight: imageHeight,
                            roomWidth: panelColumns, roomHeight: 2 * rows, center: (c.x, c.y))
        viewport = port
        scale = port.scale
        displayHeight = port.height
        let cellRows = (port.height + 1) / 2
        let top = area.row + (rows - cellRows) / 2
        panels = views.enumerated().map { i, v in
            CanvasPanel(view: v, rect: CellRect(column: area.column + i * (panelColumns + 1) + (panelColumns - port.width) / 2,
                                                row: top, columns: port.width, rows: cellRows))
        }
        image = panels[0].rect
        let last = area.row + area.rows - 1
        legend = area.rows > 0 && top + cellRows <= last
            ? CellRect(column: area.column, row: last, columns: area.columns, rows: 1) : nil
    }

    /// The layout for what `state` shows (the renderer and the mouse mapping both use this).
    public init(size: TerminalSize, state: ReviewState) {
        self.init(size: size, imageWidth: state.image?.width ?? 32, imageHeight: state.image?.height ?? 32,
                  zoom: state.zoom, center: state.viewCenter, sideBySide: state.sideBySide, view: state.view)
    }

    /// Side by side: image | map | blend when three panels of `minimumPanelColumns` fit; two panels
    /// show the image and the current view (the blend when that is the image); else the view alone.
    static func sideBySideViews(areaColumns: Int, view: CanvasView) -> [CanvasView] {
        if (areaColumns - 2) / 3 >= minimumPanelColumns { return [.image, .map, .blend] }
        if (areaColumns - 1) / 2 >= minimumPanelColumns { return [.image, view == .image ? .blend : view] }
        return [view]
    }

    /// Display pixel rows actually covered by the image (odd heights leave the last lower half empty).
    public let displayHeight: Int

    /// Image pixel shown at display pixel (dx, dy) relative to a panel's top-left, nearest neighbour.
    func imagePixel(displayX dx: Int, displayY dy: Int) -> (Int, Int) {
        viewport.imagePixel(displayX: dx, displayY: dy)
    }

    /// Image coordinates of the centre of terminal cell (column, row): a mouse position, in the
    /// panel whose column span (gap included) holds `column`. A cell spans two display pixels
    /// vertically, so its centre is at display y = 2·row + 1.
    public func imagePoint(column: Int, row: Int) -> (x: Double, y: Double) {
        let step = panels.count > 1 ? (canvasArea.columns - (panels.count - 1)) / panels.count + 1 : 0
        let i = step > 0 ? min(panels.count - 1, max(0, (column - canvasArea.column) / step)) : 0
        let rect = panels[i].rect
        return viewport.imagePoint(displayX: Double(column - rect.column) + 0.5, displayY: Double(2 * (row - rect.row) + 1))
    }

    /// First view index shown: the selection stays visible, centred when the list scrolls.
    public func listTop(selected: Int, count: Int) -> Int {
        let visible = max(1, list.rows - Self.listHeaderRows)
        guard count > visible else { return 0 }
        return min(max(0, selected - visible / 2), count - visible)
    }
}
