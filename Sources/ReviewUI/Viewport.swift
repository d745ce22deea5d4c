// Zoom and pan: which part of the enlarged image a canvas panel shows, and the two mappings
// between image pixels and display pixels. Pure, so the maths is checked by hand-worked cases;
// the layout (Layout.swift) places the panels and the renderer and the mouse both go through here.
import HITL

/// Zoom levels `z`/`Z` step through: integer multiples of the scale that fits the whole image.
public enum ZoomLevels {
    public static let steps = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32]

    /// `zoom` moved `delta` steps within the list (an unlisted value snaps to the nearest step first).
    static func step(_ zoom: Int, by delta: Int) -> Int {
        let current = steps.enumerated().min { abs($0.element - zoom) < abs($1.element - zoom) }!.offset
        return steps[min(steps.count - 1, max(0, current + delta))]
    }
}

public struct Viewport: Equatable, Sendable {
    /// Display pixels per image pixel (the fitted scale times the zoom).
    public let scale: Double
    /// The top-left display pixel of the enlarged image that the panel shows (0 when it all fits).
    public let originX: Int, originY: Int
    /// Display pixels the panel shows: columns, and rows of half cells.
    public let width: Int, height: Int
    public let imageWidth: Int, imageHeight: Int

    /// The window of `room` (display columns, display rows) on the image enlarged by `scale`,
    /// centred on `center` (image coordinates) but never past the image's edges, so no blank
    /// border appears while the image is larger than the window.
    public init(scale: Double, imageWidth: Int, imageHeight: Int, roomWidth: Int, roomHeight: Int, center: (x: Double, y: Double)) {
        self.scale = scale
        self.imageWidth = max(1, imageWidth)
        self.imageHeight = max(1, imageHeight)
        let fullW = Int((Double(self.imageWidth) * scale).rounded(.down))
        let fullH = Int((Double(self.imageHeight) * scale).rounded(.down))
        width = max(0, min(roomWidth, fullW))
        height = max(0, min(roomHeight, fullH))
        func origin(_ c: Double, _ full: Int, _ shown: Int) -> Int {
            guard full > shown, c.isFinite else { return 0 }
            return min(full - shown, max(0, Int((c * scale - Double(shown) / 2).rounded(.down))))
        }
        originX = origin(center.x, fullW, width)
        originY = origin(center.y, fullH, height)
    }

    /// The same window with each display pixel split into `k` × `k`: scale, origin and size `k`
    /// times larger (a kitty image of the panel at `k` times the half blocks' resolution).
    public func subdivided(_ k: Int) -> Viewport {
        let k = max(1, k)
        return Viewport(scale: scale * Double(k), originX: originX * k, originY: originY * k, width: width * k, height: height * k,
                        imageWidth: imageWidth, imageHeight: imageHeight)
    }

    private init(scale: Double, originX: Int, originY: Int, width: Int, height: Int, imageWidth: Int, imageHeight: Int) {
        self.scale = scale
        self.originX = originX
        self.originY = originY
        self.width = width
        self.height = height
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
    }

    /// Image pixel shown at display pixel (dx, dy) of the panel, nearest neighbour.
    public func imagePixel(displayX dx: Int, displayY dy: Int) -> (Int, Int) {
        (min(imageWidth - 1, max(0, Int((Double(dx + originX) + 0.5) / scale))),
         min(imageHeight - 1, max(0, Int((Double(dy + originY) + 0.5) / scale))))
    }

    /// Image coordinates of display position (x, y) of the panel (fractional display pixels).
    public func imagePoint(displayX x: Double, displayY y: Double) -> (x: Double, y: Double) {
        ((x + Double(originX)) / scale, (y + Double(originY)) / scale)
    }

    /// Display position in the panel of image point (x, y); outside 0..<width when not shown.
    public func displayPoint(imageX x: Double, imageY y: Double) -> (x: Double, y: Double) {
        (x * scale - Double(originX), y * scale - Double(originY))
    }
}

extension Viewport {
    /// Image pixels the window shows across and down.
    public var visibleWidth: Double { Double(width) / scale }
    public var visibleHeight: Double { Double(height) / scale }

    /// Where the view's centre goes after the brush moved to `cursor`, for a window `visibleWidth`
    /// × `visibleHeight` image pixels: it stays while the brush is inside the window with an eighth
    /// of it to spare, else it moves just enough (the view follows the brush past the edge); either
    /// way it is kept where the window lies within the image, as the layout shows it.
    public static func follow(center: BrushPoint, cursor: BrushPoint, visibleWidth: Double, visibleHeight: Double,
                              imageWidth: Int, imageHeight: Int) -> BrushPoint {
        func axis(_ c: Double, _ p: Double, _ visible: Double, _ size: Double) -> Double {
            guard visible < size, c.isFinite, p.isFinite else { return size / 2 }
            let half = visible / 2, margin = visible / 8
            var c = min(size - half, max(half, c))
            if p < c - half + margin { c = p + half - margin }
            if p > c + half - margin { c = p - half + margin }
            return min(size - half, max(half, c))
        }
        return BrushPoint(axis(center.x, cursor.x, visibleWidth, Double(max(1, imageWidth))),
                          axis(center.y, cursor.y, visibleHeight, Double(max(1, imageHeight))))
    }
}
