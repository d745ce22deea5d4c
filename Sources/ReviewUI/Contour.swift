// The edited map's iso-line (`i`): where attention crosses `level`, drawn over every panel so the
// region the map marks can be judged against the image itself.

public enum Contour {
    public static let level: Float = 0.5
    /// Drawn in black: it stands out on every jet colour (jet is never darker than half intensity).
    static let color = RGB(0, 0, 0)

    /// Per pixel of a `width × height` row-major field: true where the value is at least `level`
    /// and a 4-neighbour inside the field is below it (the inner edge of the region ≥ level).
    public static func pixels(_ values: [Float], width: Int, height: Int, level: Float = level) -> [Bool] {
        guard width > 0, height > 0, values.count == width * height else { return [] }
        var out = [Bool](repeating: false, count: values.count)
        for y in 0..<height {
            for x in 0..<width where values[y * width + x] >= level {
                let below = (x > 0 && values[y * width + x - 1] < level) || (x + 1 < width && values[y * width + x + 1] < level)
                    || (y > 0 && values[(y - 1) * width + x] < level) || (y + 1 < height && values[(y + 1) * width + x] < level)
                out[y * width + x] = below
            }
        }
        return out
    }
}
