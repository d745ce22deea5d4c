// The terminal's answers to KittyGraphics.query, read from the bytes that arrived so far. Pure and
// whole-buffer (the caller appends each read and parses again), so a reply split across reads is
// simply unfinished until its last byte comes.

struct KittyReply: Equatable {
    /// The graphics reply for our query id: "OK", or the terminal's error text (e.g. "EINVAL:…").
    var graphics: String?
    /// The primary device-attributes reply (`ESC [ ? … c`) arrived: nothing more will answer.
    var deviceAttributes = false
    /// Bytes that belong to no reply (keys typed meanwhile), in order: given back to the key input.
    var otherInput: [UInt8] = []
    /// The start of a sequence whose end has not arrived yet.
    var unfinished: [UInt8] = []

    /// Images iff the terminal said OK to our query.
    var supportsGraphics: Bool { graphics == "OK" }

    static let escape: UInt8 = 0x1B

    /// Reads `bytes`: APC sequences (`ESC _ … ESC \`, or BEL-terminated) and the device-attributes
    /// CSI are replies and consumed; any other byte or escape sequence is input.
    static func parse(_ bytes: [UInt8], queryID: Int = KittyGraphics.queryID) -> KittyReply {
        var reply = KittyReply()
        var i = 0
        while i < bytes.count {
            guard bytes[i] == escape else { reply.otherInput.append(bytes[i]); i += 1; continue }
            guard i + 1 < bytes.count else { reply.unfinished = Array(bytes[i...]); break }
            switch bytes[i + 1] {
            case UInt8(ascii: "_"):
                guard let apc = apcBody(bytes, from: i + 2) else { reply.unfinished = Array(bytes[i...]); return reply }
                if let answer = graphicsAnswer(apc.body, queryID: queryID) { reply.graphics = answer }
                i = apc.next
            case UInt8(ascii: "["):
                // CSI: parameter and intermediate bytes, then one final byte in 0x40…0x7E.
                guard let final = bytes[(i + 2)...].firstIndex(where: { (0x40...0x7E).contains($0) }) else {
                    reply.unfinished = Array(bytes[i...]); return reply
                }
                if bytes[final] == UInt8(ascii: "c"), i + 2 < final, bytes[i + 2] == UInt8(ascii: "?") {
                    reply.deviceAttributes = true
                } else {
                    reply.otherInput += bytes[i...final]
                }
                i = final + 1
            default:
                reply.otherInput.append(escape)
                i += 1
            }
        }
        return reply
    }

    /// The APC's content from `start` up to its terminator (ESC \ or BEL), and the index after it.
    private static func apcBody(_ bytes: [UInt8], from start: Int) -> (body: [UInt8], next: Int)? {
        var j = start
        while j < bytes.count {
            if bytes[j] == 0x07 { return (Array(bytes[start..<j]), j + 1) }
            if bytes[j] == escape {
                guard j + 1 < bytes.count else { return nil }
                if bytes[j + 1] == UInt8(ascii: "\\") { return (Array(bytes[start..<j]), j + 2) }
            }
            j += 1
        }
        return nil
    }

    /// "Gi=4170;OK" → "OK" when the id is ours; other APCs (another id, not graphics) → nil.
    private static func graphicsAnswer(_ body: [UInt8], queryID: Int) -> String? {
        guard body.first == UInt8(ascii: "G"), let semicolon = body.firstIndex(of: UInt8(ascii: ";")) else { return nil }
        let keys = String(decoding: body[1..<semicolon], as: UTF8.self).split(separator: ",")
        guard keys.contains("i=\(queryID)") else { return nil }
        return String(decoding: body[(semicolon + 1)...], as: UTF8.self)
    }
}
