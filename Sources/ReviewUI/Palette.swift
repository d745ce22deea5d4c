// Colour for whatever the terminal can show: direct 24-bit colour, the xterm 256-colour palette,
// the 16 ANSI colours, or no usable colour at all (shading glyphs instead of half blocks).

public enum ColorCapability: Int, Sendable, Equatable, Comparable {
    /// No usable colour: text uses attributes, images use ' ░▒▓█'.
    case monochrome
    /// The 16 ANSI colours (nearest of xterm's defaults), half blocks on the canvas.
    case ansi16
    /// 256 colours: nearest of the 6×6×6 cube and the 24-step grey ramp.
    case palette256
    /// 24-bit colour: colours are 0xRRGGBB.
    case direct

    public static func < (a: ColorCapability, b: ColorCapability) -> Bool { a.rawValue < b.rawValue }

    /// What `--color auto` uses on a terminal with `colors` colours (terminfo COLORS, 0 without
    /// colour): 8/16-colour terminals get shading glyphs, which read better than 16-colour jet.
    public static func from(colors: Int) -> ColorCapability {
        if colors >= 1 << 24 { return .direct }
        if colors >= 256 { return .palette256 }
        return .monochrome
    }

    /// The most curses itself can draw with `colors` colours.
    static func curses(colors: Int) -> ColorCapability {
        colors >= 16 && colors < 256 ? .ansi16 : from(colors: colors)
    }
}

public enum Palette {
    /// The six levels of each cube axis in xterm's 256-colour palette (indices 16…231).
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The nearest xterm-256 index (16…255) by squared RGB distance; the 16 system colours are
    /// skipped because terminals redefine them.
    public static func xterm256(_ c: RGB) -> Int {
        func nearestLevel(_ v: UInt8) -> Int {
            var best = 0
            for i in 1..<6 where abs(cubeLevels[i] - Int(v)) < abs(cubeLevels[best] - Int(v)) { best = i }
            return best
        }
        let ri = nearestLevel(c.r), gi = nearestLevel(c.g), bi = nearestLevel(c.b)
        let cube = (cubeLevels[ri], cubeLevels[gi], cubeLevels[bi])
        // Grey ramp 232…255 is 8, 18, …, 238.
        let mean = (Int(c.r) + Int(c.g) + Int(c.b)) / 3
        let gi24 = min(23, max(0, (mean - 8 + 5) / 10))
        let grey = 8 + 10 * gi24
        func d(_ a: (Int, Int, Int)) -> Int {
            let dr = a.0 - Int(c.r), dg = a.1 - Int(c.g), db = a.2 - Int(c.b)
            return dr * dr + dg * dg + db * db
        }
        return d((grey, grey, grey)) < d(cube) ? 232 + gi24 : 16 + 36 * ri + 6 * gi + bi
    }

    /// xterm's default 16 colours (indices 0…15), the reference for the nearest ANSI colour.
    static let ansi16Colors: [RGB] = [
        RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0), RGB(0, 0, 238), RGB(205, 0, 205), RGB(0, 205, 205), RGB(229, 229, 229),
        RGB(127, 127, 127), RGB(255, 0, 0), RGB(0, 255, 0), RGB(255, 255, 0), RGB(92, 92, 255), RGB(255, 0, 255), RGB(0, 255, 255), RGB(255, 255, 255),
    ]

    /// The nearest of the 16 ANSI colours (0…15) by squared RGB distance, the lower index on ties.
    public static func ansi16(_ c: RGB) -> Int {
        func d(_ a: RGB) -> Int {
            let dr = Int(a.r) - Int(c.r), dg = Int(a.g) - Int(c.g), db = Int(a.b) - Int(c.b)
            return dr * dr + dg * dg + db * db
        }
        return ansi16Colors.indices.min { d(ansi16Colors[$0]) < d(ansi16Colors[$1]) }!
    }

    /// Shading glyphs from empty to full, for intensities in [0, 1].
    public static let shades: [Unicode.Scalar] = [" ", "░", "▒", "▓", "█"]

    public static func shade(_ intensity: Double) -> Unicode.Scalar {
        guard intensity.isFinite else { return shades[0] }
        return shades[min(4, max(0, Int(intensity * 5)))]
    }

    /// Direct-colour value safe to send: terminfo `*-direct` entries map values below 8 (or 16)
    /// to the ANSI palette, so near-black blues would show as system colours.
    public static func directColor(_ c: RGB) -> Int {
        let v = c.packed
        return v < 16 ? 0x010101 : v
    }
}
