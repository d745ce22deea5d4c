// The canvas panels as images (kitty's graphics protocol), and what a frame must send: each panel
// is transmitted again only when its pixels or its place changed; images no longer wanted (help
// open, too small a terminal, no image) are deleted; an unchanged image is placed again (no pixels
// sent) when curses redrew other cells, since curses may scroll lines to redraw them and a
// terminal scrolls images with the text. Pure: the backend writes what this decides.

/// One panel's picture as the terminal should show it over `rect`: `width` × `height` RGB pixels,
/// row-major (`rgb` has 3 bytes a pixel).
public struct PanelImage: Equatable, Sendable {
    /// Left to right from 0; fixes the image id (KittyGraphics.imageID).
    public var panel: Int
    public var rect: CellRect
    public var width: Int, height: Int
    public var rgb: [UInt8]

    /// What decides whether it must be sent again: its place and a hash of its pixels.
    var sent: SentImage { SentImage(rect: rect, hash: PanelImage.hash(width: width, height: height, rgb)) }

    /// FNV-1a (64 bit) over the size and the bytes: deterministic, so a test can work one out.
    static func hash(width: Int, height: Int, _ bytes: [UInt8]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ b: UInt8) { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        for v in [width, height] { for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: v >> shift)) } }
        for b in bytes { mix(b) }
        return h
    }
}

/// What the terminal shows for one image id.
struct SentImage: Equatable {
    var rect: CellRect
    var hash: UInt64
}

enum ImageCommand: Equatable {
    case transmit(PanelImage)
    /// The image the terminal has, put back at its rectangle.
    case place(PanelImage)
    case delete(id: Int)
}

enum ImagePlan {
    /// The commands that take the screen from `shown` (image id → what it shows) to `wanted`, and what
    /// it shows after them: deletes first (ids in order), then the panels that changed, left to right
    /// (the others too, placed again, when `cellsChanged`).
    static func step(shown: [Int: SentImage], wanted: [PanelImage], cellsChanged: Bool = false)
        -> (commands: [ImageCommand], shown: [Int: SentImage]) {
        var next: [Int: SentImage] = [:]
        var transmits: [ImageCommand] = []
        for image in wanted {
            let id = KittyGraphics.imageID(panel: image.panel), sent = image.sent
            next[id] = sent
            if shown[id] != sent { transmits.append(.transmit(image)) } else if cellsChanged { transmits.append(.place(image)) }
        }
        let deletes = shown.keys.filter { next[$0] == nil }.sorted().map { ImageCommand.delete(id: $0) }
        return (deletes + transmits, next)
    }
}
