import HITL

// The review UI's colours come from HITL's one jet map (matplotlib's, as the official ABN code draws
// attention maps), as the renderer's RGB.
extension RGB {
    init(_ c: (UInt8, UInt8, UInt8)) { self.init(c.0, c.1, c.2) }

    /// The jet colour of a map value in [0, 1] (clamped; NaN counts as 0).
    static func jet(_ value: Float) -> RGB { RGB(Jet.fast(value)) }
}
