// Which colours review uses: `review --color`, the environment (COLORTERM, NO_COLOR) and what
// terminfo says, decided in one pure function.

/// `review --color`.
public enum ColorMode: String, CaseIterable, Sendable {
    case auto, truecolor
    case palette256 = "256"
    case ansi16 = "16"
    case none
}

public struct ColorSetup: Equatable, Sendable {
    /// How the canvas (and, unless `plainChrome`, the chrome) is coloured.
    public var capability: ColorCapability
    /// The list, headers, status bar and help in the terminal's default colours.
    public var plainChrome: Bool

    public init(capability: ColorCapability, plainChrome: Bool) {
        self.capability = capability
        self.plainChrome = plainChrome
    }

    /// `auto`: 24-bit colour when COLORTERM is truecolor or 24bit, or terminfo has the RGB
    /// capability or 2^24 colours; else 256 colours where terminfo has them, else shading glyphs.
    /// The other modes are taken as asked: the canvas then bypasses curses where terminfo knows
    /// fewer colours (Terminal.swift). NO_COLOR (set and non-empty) makes the chrome plain; the
    /// canvas keeps its colours, since there the colours are the data.
    public static func resolve(mode: ColorMode, environment: [String: String], terminfoColors: Int, terminfoRGB: Bool) -> ColorSetup {
        let capability: ColorCapability
        switch mode {
        case .auto:
            let colorterm = environment["COLORTERM"]?.lowercased()
            capability = colorterm == "truecolor" || colorterm == "24bit" || terminfoRGB ? .direct : .from(colors: terminfoColors)
        case .truecolor: capability = .direct
        case .palette256: capability = .palette256
        case .ansi16: capability = .ansi16
        case .none: capability = .monochrome
        }
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        return ColorSetup(capability: capability, plainChrome: mode == .none || noColor)
    }

    /// How the backend draws this on a terminal whose terminfo has `terminfoColors` colours: the
    /// colours of curses' own pairs, and whether each changed row is then painted again with our
    /// own SGR sequences (SGR.swift) because curses cannot express the colours asked for. A
    /// direct-colour terminfo takes RGB values for colour numbers, so palette modes there draw
    /// exact colours through curses and the palette through the repaint.
    public func drawing(terminfoColors: Int) -> (pairs: ColorCapability, repaint: Bool) {
        let native = ColorCapability.curses(colors: terminfoColors)
        if capability == .monochrome || capability == native { return (capability, false) }
        if native == .direct { return (.direct, true) }
        return (min(capability, native), capability > native)
    }
}
