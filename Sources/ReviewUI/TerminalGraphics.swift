// The terminal side of kitty's graphics protocol: asking the terminal at start-up, and writing each
// frame's image commands around curses' refresh. What to write is decided by the pure parts
// (KittyGraphics, KittyReply, ImagePlan); this only does the I/O.
import CTerminal

enum GraphicsProbe {
    /// How long a terminal gets to answer; the device-attributes reply usually ends the wait at once.
    static let timeoutMilliseconds = 250

    /// Writes the query and reads the answers straight from stdin (curses never sees them): true iff
    /// the terminal said OK. Keys typed meanwhile are given back to curses.
    static func terminalShowsImages() -> Bool {
        ct_write_raw(KittyGraphics.query())
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(timeoutMilliseconds)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        var reply = KittyReply()
        while !reply.deviceAttributes {
            let left = deadline - clock.now
            let ms = Int(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            guard ms > 0 else { break }
            let n = buffer.withUnsafeMutableBufferPointer { ct_read_raw($0.baseAddress, Int32($0.count), Int32(ms)) }
            guard n >= 0 else { break }
            received += buffer.prefix(Int(n))
            reply = KittyReply.parse(received)
        }
        // After the last reply, an unfinished sequence is the start of a key; before it, of a reply.
        let keys = reply.otherInput + (reply.deviceAttributes ? reply.unfinished : [])
        for byte in keys.suffix(64).reversed() { _ = ct_unget(Int32(byte)) }
        return reply.supportsGraphics
    }
}

/// The panel images on screen and the commands that change them.
final class KittyCanvas {
    private var shown: [Int: SentImage] = [:]

    /// The commands for `images`: deletes (written before curses draws, so a box never appears
    /// under an image) and transmits and placements (written after, over the blank cells).
    /// `cellsChanged`: curses is redrawing some cells this frame.
    func commands(for images: [PanelImage], cellsChanged: Bool = false) -> (deletes: String, transmits: String) {
        let (commands, next) = ImagePlan.step(shown: shown, wanted: images, cellsChanged: cellsChanged)
        shown = next
        var deletes = "", transmits = ""
        for command in commands {
            switch command {
            case .delete(let id): deletes += KittyGraphics.delete(id: id)
            case .transmit(let image): transmits += KittyGraphics.transmit(image)
            case .place(let image): transmits += KittyGraphics.place(image)
            }
        }
        return (deletes, transmits)
    }

    /// Deletes for everything shown, which is then sent again (the screen is being redrawn whole:
    /// a resize, a fresh colour table).
    func forgetAll() -> String {
        defer { shown = [:] }
        return shown.keys.sorted().map { KittyGraphics.delete(id: $0) }.joined()
    }

    /// On exit: every panel image freed, whatever is shown.
    static var deleteAll: String { KittyGraphics.panelIDs.map { KittyGraphics.delete(id: $0, free: true) }.joined() }
}
