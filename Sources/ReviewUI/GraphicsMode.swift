// How the canvas is drawn: `review --graphics`, the environment (tmux, screen) and the colours in
// use decide, in one pure function, whether review asks the terminal for kitty's graphics protocol.

/// `review --graphics`.
public enum GraphicsMode: String, CaseIterable, Sendable {
    /// kitty's graphics protocol where the terminal answers its query, half blocks otherwise.
    case auto
    /// kitty's graphics protocol without asking.
    case kitty
    /// Half blocks (or shading glyphs) only.
    case none

    /// Why `--graphics` cannot go with `--color`, or nil: images are colour, `--color none` asks for none.
    public func conflict(with color: ColorMode) -> String? {
        self == .kitty && color == .none
            ? "--graphics kitty draws the canvas in colour and cannot go with --color none" : nil
    }
}

/// What the terminal backend does at start-up about images.
enum GraphicsDecision: Equatable {
    /// Half blocks; nothing is asked.
    case halfBlocks
    /// Ask the terminal (KittyGraphics.query) and use images iff it answers OK.
    case query
    /// Images, unasked.
    case kitty

    /// `auto` asks only where an answer can mean something: not under tmux or screen (which do not
    /// pass the images on unless set up to, and answer the device-attributes query themselves), and
    /// only with 24-bit colour (`--color none`, 256 or 16 colours say the person wants fewer colours).
    static func resolve(mode: GraphicsMode, colorMode: ColorMode, capability: ColorCapability,
                        environment: [String: String]) -> GraphicsDecision {
        switch mode {
        case .none: return .halfBlocks
        case .kitty: return .kitty
        case .auto:
            let term = environment["TERM"] ?? ""
            let multiplexer = environment["TMUX"] != nil || term.hasPrefix("screen") || term.hasPrefix("tmux")
            guard !multiplexer, colorMode != .none, capability == .direct else { return .halfBlocks }
            return .query
        }
    }
}
