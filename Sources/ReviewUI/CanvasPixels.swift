// A canvas panel as pixels: the composed colours (Compose.swift) sampled through the viewport, the
// map's contour, and the brush outline on top. One copy for both ways the canvas is drawn: half
// blocks take two of these pixels per cell (RenderCanvas.swift), kitty images all of them, finer.

import HITL

enum CanvasPixels {
    /// What a panel shows in `viewport`'s display pixels, row-major, `viewport.width` × `rows`;
    /// rows past the viewport's height (the lower half of an odd last cell row) are the background.
    /// `colors` and `contour` are per image pixel; the ring is in the same display pixels.
    static func panel(colors: [RGB], contour: [Bool]?, imageWidth: Int, viewport: Viewport, rows: Int,
                      ring: BrushRing, ringColor: RGB) -> [RGB] {
        let w = viewport.width
        // Image pixel per display column/row, computed once (nearest neighbour through the viewport).
        let columnPixel = (0..<w).map { viewport.imagePixel(displayX: $0, displayY: 0).0 }
        let rowPixel = (0..<min(rows, viewport.height)).map { viewport.imagePixel(displayX: 0, displayY: $0).1 }
        var out = [RGB](repeating: Theme.background, count: w * max(0, rows))
        for y in rowPixel.indices {
            for x in 0..<w {
                let i = rowPixel[y] * imageWidth + columnPixel[x]
                out[y * w + x] = ring.contains(x, y) ? ringColor : contour?[i] == true ? Contour.color : colors[i]
            }
        }
        return out
    }

    /// How many image pixels a panel image gets per display pixel, across and down: one, unless the
    /// image is shrunk to fit (scale < 1), then enough that every image pixel in view is sent (at
    /// most 16: a degenerate scale must not make a huge image).
    static func subdivision(scale: Double) -> Int {
        guard scale.isFinite, scale > 0 else { return 1 }
        return min(16, max(1, Int((1 / scale - 1e-9).rounded(.up))))
    }

    /// Panel `index` at `rect` as an image for the terminal: `pixels` rows of `width` as RGB bytes.
    static func image(panel index: Int, rect: CellRect, width: Int, pixels: [RGB]) -> PanelImage {
        var rgb: [UInt8] = []
        rgb.reserveCapacity(3 * pixels.count)
        for p in pixels { rgb += [p.r, p.g, p.b] }
        return PanelImage(panel: index, rect: rect, width: width, height: width > 0 ? pixels.count / width : 0, rgb: rgb)
    }
}

/// Display pixels (relative to a panel's top-left) that outline the brush disc: those whose
/// centre lies within 0.6 display pixels of the circle, plus the centre pixel.
struct BrushRing {
    var pixels: Set<Int> = []
    var width = 0
    func contains(_ x: Int, _ y: Int) -> Bool { x >= 0 && x < width && pixels.contains(y * width + x) }

    /// The outline of a brush of `radius` image pixels at `cursor` (image coordinates), in the
    /// display pixels of `viewport`.
    init(cursor: BrushPoint, radius: Double, viewport: Viewport) {
        width = max(1, viewport.width)
        let s = viewport.scale
        let (cx, cy) = viewport.displayPoint(imageX: cursor.x, imageY: cursor.y)
        let r = radius * s
        guard cx.isFinite, cy.isFinite, r.isFinite, viewport.width > 0 else { return }
        let w = viewport.width, h = viewport.height
        let x0 = max(0, Int((cx - r - 1).rounded(.down))), x1 = min(w - 1, Int((cx + r + 1).rounded(.up)))
        let y0 = max(0, Int((cy - r - 1).rounded(.down))), y1 = min(h - 1, Int((cy + r + 1).rounded(.up)))
        if x0 <= x1, y0 <= y1 {
            for y in y0...y1 {
                for x in x0...x1 {
                    let dx = Double(x) + 0.5 - cx, dy = Double(y) + 0.5 - cy
                    if abs((dx * dx + dy * dy).squareRoot() - r) <= 0.6 { pixels.insert(y * w + x) }
                }
            }
        }
        let px = Int(cx.rounded(.down)), py = Int(cy.rounded(.down))
        if px >= 0, px < w, py >= 0, py < h { pixels.insert(py * w + px) }
    }
}
