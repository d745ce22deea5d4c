// Colour for whatever the terminal can show: direct 24-bit colour, the xterm 256-colour palette,
// or no usable colour at all (shading glyphs instead of half blocks).

public enum ColorCapability: Sendable, Equatable {
    /// terminfo COLORS ≥ 2^24: colours are 0xRRGGBB.
    case direct
    /// 256 colours: nearest of the 6×6×6 cube and the 24-step grey ramp.
    case palette256
    /// 8/16 colours or none: text uses attributes, images use ' ░▒▓█'.
    case monochrome

    /// What a terminal with `colors` colours (terminfo COLORS, 0 without colour) supports.
    public static func from(colors: Int) -> ColorCapability {
        if colors >= 1 << 24 { return .direct }
        if colors >= 256 { return .palette256 }
        return .monochrome
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
