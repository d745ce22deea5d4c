// The thin ncurses backend: draws cell grids (only cells that changed since the last frame), the
// canvas panels' images where the terminal shows them (TerminalGraphics.swift), and turns keys and
// mouse reports into InputEvents. No review logic lives here.
import CTerminal

public struct TerminalUnavailable: Error, CustomStringConvertible {
    public var description: String {
        "review needs an interactive terminal: stdin and stdout must be a tty and TERM must name a terminfo entry"
    }
}

final class Terminal {
    /// The colours review draws with (ColorMode.swift).
    let setup: ColorSetup
    var capability: ColorCapability { setup.capability }
    /// The canvas needs more colours than curses knows the terminal has: curses draws its nearest
    /// colours, then each changed row is painted again with SGR sequences of our own (SGR.swift).
    private let rawColor: Bool
    private var colors: ColorPairCache
    private var previous: CellGrid?
    private var stopped = false
    /// The panel images on screen; nil where the canvas is drawn in cells.
    private let kitty: KittyCanvas?
    /// Frames should carry the canvas as images (kitty's graphics protocol).
    var showsImages: Bool { kitty != nil }

    /// Takes over the terminal; `stop()` (or deinit) gives it back. `graphicsMode` `auto` asks the
    /// terminal whether it shows images (GraphicsMode.swift), before anything is drawn.
    init(colorMode: ColorMode = .auto, graphicsMode: GraphicsMode = .auto, environment: [String: String] = [:]) throws {
        guard ct_start() == 0 else { throw TerminalUnavailable() }
        let terminfoColors = Int(ct_colors())
        setup = ColorSetup.resolve(mode: colorMode, environment: environment, terminfoColors: terminfoColors,
                                   terminfoRGB: ct_has_rgb() != 0)
        // Plain chrome is drawn with pair 0, which must then carry no colour of its own.
        if setup.plainChrome { ct_use_default_colors() }
        let drawing = setup.drawing(terminfoColors: terminfoColors)
        rawColor = drawing.repaint
        colors = ColorPairCache(capability: drawing.pairs, colorPairs: Int(ct_color_pairs()))
        switch GraphicsDecision.resolve(mode: graphicsMode, colorMode: colorMode, capability: setup.capability, environment: environment) {
        case .halfBlocks: kitty = nil
        case .kitty: kitty = KittyCanvas()
        case .query: kitty = GraphicsProbe.terminalShowsImages() ? KittyCanvas() : nil
        }
    }

    deinit { stop() }

    func stop() {
        guard !stopped else { return }
        stopped = true
        if kitty != nil { ct_write_raw(KittyCanvas.deleteAll) }
        ct_stop()
    }

    var size: TerminalSize { TerminalSize(columns: Int(ct_cols()), rows: Int(ct_lines())) }

    var signalReceived: Bool { ct_signal_received() != 0 }

    /// Forget what is on screen: the next draw repaints everything (after a resize).
    func invalidate() {
        previous = nil
        ct_invalidate()
        // Images at the old size's places go; the next frame sends them again where they now belong.
        if let kitty { ct_write_raw(kitty.forgetAll()) }
    }

    /// Flushes `frame`: its cells, writing only those that differ from the last frame, then its
    /// images (only those that changed; none unless the terminal shows images).
    func draw(_ frame: ReviewFrame) {
        let grid = frame.grid
        var full = previous.map { $0.columns != grid.columns || $0.rows != grid.rows } ?? true
        if !put(grid, onlyChanges: !full) {
            // Pair table full: start a fresh table and repaint every cell with it.
            colors.clear()
            ct_invalidate()
            full = true
            if !put(grid, onlyChanges: false, allowNearest: true) { colors.clear() }
        }
        // A whole repaint clears the screen, images too: they are sent again.
        var images = (deletes: "", transmits: "")
        if let kitty {
            if full { ct_write_raw(kitty.forgetAll()) }
            images = kitty.commands(for: frame.images, cellsChanged: previous != grid)
            if !images.deletes.isEmpty { ct_write_raw(images.deletes) }
        }
        // Curses rewrites only rows it changed, and only rows where the grid changed: repainting
        // those rows whole covers whatever it drew over our colours.
        let rows = rawColor ? (0..<grid.rows).filter { r in full || grid.cells[(r * grid.columns)..<((r + 1) * grid.columns)]
            != previous!.cells[(r * grid.columns)..<((r + 1) * grid.columns)] } : []
        previous = grid
        ct_refresh()
        if !rows.isEmpty || !images.transmits.isEmpty {
            // Our own output moves the cursor; put it back where curses believes it is.
            var row: Int32 = 0, column: Int32 = 0
            ct_cursor(&row, &column)
            let paint = rows.isEmpty ? "" : SGR.paint(grid, rows: rows, capability)
            ct_write_raw(paint + images.transmits + "\u{1B}[\(row + 1);\(column + 1)H")
        }
    }

    /// Writes cells; false when a colour pair could not be allocated (nothing is half-recoloured:
    /// the caller repaints the whole frame after clearing the table).
    private func put(_ grid: CellGrid, onlyChanges: Bool, allowNearest: Bool = false) -> Bool {
        let old = previous
        for r in 0..<grid.rows {
            for c in 0..<grid.columns {
                let i = r * grid.columns + c
                let cell = grid.cells[i]
                if onlyChanges, let old, old.cells[i] == cell { continue }
                var pair = colors.pair(cell.foreground, cell.background)
                if pair == nil {
                    guard allowNearest else { return false }
                    // More distinct colours on screen than the terminal has pairs: default colours.
                    pair = 0
                }
                // Writing the bottom-right cell scrolls on some terminals; curses handles it.
                _ = ct_put(Int32(r), Int32(c), cell.character.value, Int32(cell.attributes.subtracting(.plain).rawValue),
                         cell.attributes.contains(.plain) ? 0 : pair!)
            }
        }
        return true
    }

    /// Input events read within `timeoutMilliseconds` (none on a timeout or a signal).
    func read(timeoutMilliseconds: Int) -> [InputEvent] {
        var e = ct_event()
        _ = ct_read(Int32(timeoutMilliseconds), &e)
        return Terminal.events(from: e)
    }

    /// What one curses event means to review (the fuzz harness of input decoding drives this too).
    static func events(from e: ct_event) -> [InputEvent] {
        switch Int(e.kind) {
        case Int(CT_CHAR):
            guard let scalar = Unicode.Scalar(UInt32(truncatingIfNeeded: e.value)) else { return [] }
            return [.key(scalar == "\t" ? .tab : .character(scalar))]
        case Int(CT_RESIZE):
            return [.resize]
        case Int(CT_KEY):
            switch Int(e.value) {
            case Int(CT_KEY_UP): return [.key(.up)]
            case Int(CT_KEY_DOWN): return [.key(.down)]
            case Int(CT_KEY_LEFT): return [.key(.left)]
            case Int(CT_KEY_RIGHT): return [.key(.right)]
            default: return [.key(.other(Int(e.code)))]
            }
        case Int(CT_MOUSE):
            let x = Int(e.x), y = Int(e.y)
            func m(_ k: MouseKind) -> InputEvent { .mouse(MouseEvent(k, column: x, row: y)) }
            switch Int(e.value) {
            case Int(CT_MOUSE_PRESS_LEFT): return [m(.press(.left))]
            case Int(CT_MOUSE_PRESS_MIDDLE): return [m(.press(.middle))]
            case Int(CT_MOUSE_PRESS_RIGHT): return [m(.press(.right))]
            case Int(CT_MOUSE_RELEASE): return [m(.release)]
            case Int(CT_MOUSE_MOTION): return [m(.motion)]
            case Int(CT_MOUSE_WHEEL_UP): return [m(.wheelUp)]
            case Int(CT_MOUSE_WHEEL_DOWN): return [m(.wheelDown)]
            case Int(CT_MOUSE_CLICK_LEFT): return [m(.press(.left)), m(.release)]
            default: return []
            }
        default:
            return []
        }
    }
}
