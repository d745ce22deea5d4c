// kitty's terminal graphics protocol, the bytes only: the support query, an RGB image placed over
// a cell rectangle, and deletes. Pure, so every command string is checked by hand-worked cases;
// the backend (TerminalGraphics.swift) writes them. Protocol: sw.kovidgoyal.net/kitty/graphics-protocol

enum KittyGraphics {
    /// Image ids: the query's, then one per canvas panel (fixed, so a new frame replaces the panel's
    /// image in place). Unusual numbers, so nothing else drawing in the window is likely to share them.
    static let queryID = 4170
    static func imageID(panel: Int) -> Int { 4171 + panel }
    /// Every panel has one placement, always this one.
    static let placementID = 1
    /// At most three panels side by side (Layout.sideBySideViews).
    static let panelIDs = (0..<3).map(imageID(panel:))
    /// Base64 bytes per escape sequence: the protocol's limit for chunked transmission.
    static let chunkSize = 4096

    static let start = "\u{1B}_G", end = "\u{1B}\\"

    /// Asks whether the terminal can show a 1×1 RGB image sent directly (a=q stores nothing); a
    /// terminal that can answers `ESC _ G i=<id>;OK ESC \`. Followed by the primary device-attributes
    /// query, which every terminal answers: its reply marks the end of the wait (KittyReply.swift).
    static func query(id: Int = queryID) -> String {
        start + "i=\(id),s=1,v=1,a=q,t=d,f=24;AAAA" + end + "\u{1B}[c"
    }

    /// `image` transmitted and placed at its rectangle's top-left cell, scaled by the terminal to
    /// `c` × `r` cells; the cursor does not move (C=1) and the terminal sends no reply (q=2). The
    /// payload goes in chunks of at most `chunkSize` base64 bytes: the first carries the keys, the
    /// rest only `m` (1 while more follow) and `q` (so no terminal answers the last chunk).
    static func transmit(_ image: PanelImage) -> String {
        let id = imageID(panel: image.panel)
        let keys = "a=T,f=24,s=\(image.width),v=\(image.height),i=\(id),p=\(placementID),c=\(image.rect.columns),r=\(image.rect.rows),C=1,q=2"
        let parts = chunks(base64(image.rgb))
        var out = "\u{1B}[\(image.rect.row + 1);\(image.rect.column + 1)H"
        for (i, part) in parts.enumerated() {
            let more = i + 1 < parts.count ? 1 : 0
            out += start + (i == 0 ? keys + ",m=\(more)" : "m=\(more),q=2") + ";" + part + end
        }
        return out
    }

    /// The image already transmitted put (back) at its rectangle: same placement id, so it moves.
    static func place(_ image: PanelImage) -> String {
        "\u{1B}[\(image.rect.row + 1);\(image.rect.column + 1)H" + start
            + "a=p,i=\(imageID(panel: image.panel)),p=\(placementID),c=\(image.rect.columns),r=\(image.rect.rows),C=1,q=2" + end
    }

    /// Removes the image's placement (the data stays for a cheap send again) or, `free`, the image.
    static func delete(id: Int, free: Bool = false) -> String {
        start + "a=d,d=\(free ? "I" : "i"),i=\(id),q=2" + end
    }

    /// `payload` cut into pieces of `chunkSize` (the last may be shorter; an empty payload is one
    /// empty piece, so a command is still sent).
    static func chunks(_ payload: String) -> [Substring] {
        var out: [Substring] = []
        var rest = Substring(payload)
        repeat {
            let cut = rest.utf8.index(rest.startIndex, offsetBy: min(chunkSize, rest.utf8.count))
            out.append(rest[..<cut])
            rest = rest[cut...]
        } while !rest.isEmpty
        return out
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Standard base64 (RFC 4648, with `=` padding); this module does without Foundation.
    static func base64(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = UInt32(bytes[i]), b1 = n > 1 ? UInt32(bytes[i + 1]) : 0, b2 = n > 2 ? UInt32(bytes[i + 2]) : 0
            let v = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(v >> 18 & 63)])
            out.append(alphabet[Int(v >> 12 & 63)])
            out.append(n > 1 ? alphabet[Int(v >> 6 & 63)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(v & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
