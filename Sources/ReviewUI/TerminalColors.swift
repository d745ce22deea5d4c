// Colour pairs for the ncurses backend. A pair is (foreground, background); re-initialising a pair
// recolours every cell already drawn with it, so pairs are never reused within a frame: when the
// table is full the cache is cleared and the whole frame is repainted with fresh pairs.
import CTerminal

struct ColorPairCache {
    private struct Key: Hashable { let fg: Int; let bg: Int }
    private var pairs: [Key: Int32] = [:]
    /// Usable pairs are 1…capacity (pair 0 is the terminal default and cannot be redefined).
    let capacity: Int
    let capability: ColorCapability

    init(capability: ColorCapability, colorPairs: Int) {
        self.capability = capability
        // Extended pairs go to 65535 at most; keep within what terminfo grants.
        capacity = max(0, min(colorPairs, 65536) - 1)
    }

    /// Terminal colour numbers for an RGB colour under this capability.
    func terminalColor(_ c: RGB) -> Int {
        switch capability {
        case .direct: return Palette.directColor(c)
        case .palette256: return Palette.xterm256(c)
        case .ansi16: return Palette.ansi16(c)
        case .monochrome: return -1
        }
    }

    /// The pair for (fg, bg), defining it if new; nil when the table is full (caller repaints).
    mutating func pair(_ fg: RGB, _ bg: RGB) -> Int32? {
        if capability == .monochrome || capacity == 0 { return 0 }
        let key = Key(fg: terminalColor(fg), bg: terminalColor(bg))
        if let p = pairs[key] { return p }
        guard pairs.count < capacity else { return nil }
        let p = Int32(pairs.count + 1)
        _ = ct_init_pair(p, Int32(key.fg), Int32(key.bg))
        pairs[key] = p
        return p
    }

    mutating func clear() { pairs.removeAll(keepingCapacity: true) }
    var count: Int { pairs.count }
}
