/// matplotlib's "jet" colour map (its `_jet_data` segments, interpolated linearly without the 256-entry
/// lookup table): dark blue at 0, cyan, yellow, dark red at 1. The ABN authors' visualisation draws
/// the raw sigmoid map with jet, so values are not min–max normalised here either.
public enum Jet {
    /// (x, value) breakpoints of each channel, from matplotlib/_cm.py.
    static let red: [(Double, Double)] = [(0, 0), (0.35, 0), (0.66, 1), (0.89, 1), (1, 0.5)]
    static let green: [(Double, Double)] = [(0, 0), (0.125, 0), (0.375, 1), (0.64, 1), (0.91, 0), (1, 0)]
    static let blue: [(Double, Double)] = [(0, 0.5), (0.11, 1), (0.34, 1), (0.65, 0), (1, 0)]

    /// Channel intensities in [0, 1] for a value (clamped to [0, 1]; NaN counts as 0).
    public static func rgb(_ v: Float) -> (Double, Double, Double) {
        let x = v.isNaN ? 0 : Double(min(max(v, 0), 1))
        return (interpolate(red, x), interpolate(green, x), interpolate(blue, x))
    }

    /// 8-bit colour, rounded to nearest.
    public static func color(_ v: Float) -> (UInt8, UInt8, UInt8) {
        let (r, g, b) = rgb(v)
        return (UInt8((r * 255).rounded()), UInt8((g * 255).rounded()), UInt8((b * 255).rounded()))
    }

    /// 256 entries (value·255 rounded), for inner loops that colour many cells (the review UI's canvas).
    public static let table: [(UInt8, UInt8, UInt8)] = (0..<256).map { color(Float($0) / 255) }

    /// `color` through `table`: within half a step of 1/255 of the exact value.
    public static func fast(_ v: Float) -> (UInt8, UInt8, UInt8) {
        let x = v.isNaN ? 0 : min(1, max(0, v))
        return table[Int((x * 255).rounded())]
    }

    static func interpolate(_ points: [(Double, Double)], _ x: Double) -> Double {
        for i in 1..<points.count where x <= points[i].0 {
            let (x0, y0) = points[i - 1], (x1, y1) = points[i]
            return x1 > x0 ? y0 + (y1 - y0) * (x - x0) / (x1 - x0) : y1
        }
        return points[points.count - 1].1
    }
}

/// The colour maps `explain --colormap` offers, by the names OpenCV's COLORMAP_* constants (which
/// pytorch-grad-cam's show_cam_on_image takes) use in lower case. Only jet so far: the colours are
/// matplotlib's (as the ABN authors draw their maps), which differ slightly from cv2.COLORMAP_JET's.
public enum Colormap: String, CaseIterable, Sendable {
    case jet

    public func color(_ v: Float) -> (UInt8, UInt8, UInt8) {
        switch self {
        case .jet: return Jet.color(v)
        }
    }
}
