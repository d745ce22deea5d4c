// The 'jet' colour map (matplotlib's piecewise-linear definition), as the official ABN code draws
// attention maps: dark blue at 0, through cyan, yellow, to dark red at 1.

public enum Jet {
    // (position, value) breakpoints per channel, from matplotlib's _jet_data.
    private static let red: [(Double, Double)] = [(0, 0), (0.35, 0), (0.66, 1), (0.89, 1), (1, 0.5)]
    private static let green: [(Double, Double)] = [(0, 0), (0.125, 0), (0.375, 1), (0.64, 1), (0.91, 0), (1, 0)]
    private static let blue: [(Double, Double)] = [(0, 0.5), (0.11, 1), (0.34, 1), (0.65, 0), (1, 0)]

    private static func channel(_ points: [(Double, Double)], _ x: Double) -> Double {
        for i in 1..<points.count where x <= points[i].0 {
            let (x0, y0) = points[i - 1], (x1, y1) = points[i]
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
        return points[points.count - 1].1
    }

    /// The colour of `value`, clamped to [0, 1] (NaN counts as 0).
    public static func color(_ value: Double) -> RGB {
        let x = value.isNaN ? 0 : min(1, max(0, value))
        func byte(_ v: Double) -> UInt8 { UInt8(min(255, max(0, (v * 255).rounded()))) }
        return RGB(byte(channel(red, x)), byte(channel(green, x)), byte(channel(blue, x)))
    }

    /// 256-entry table, for the renderer's inner loop.
    static let table: [RGB] = (0..<256).map { color(Double($0) / 255) }

    static func fast(_ value: Float) -> RGB {
        let x = value.isNaN ? 0 : min(1, max(0, value))
        return table[Int((x * 255).rounded())]
    }
}
