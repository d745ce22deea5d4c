// How much of each map cell a brush stroke covers.
//
// Method (documented because tests and users rely on the exact numbers): the image is sampled on a
// regular grid of 4×4 sub-samples per image pixel, at positions ((4i + s + 0.5) / 4, …) for pixel i
// and sub-sample s ∈ 0..<4. A sub-sample is covered when its distance to the stroke's path (the
// polyline through the disc centres, or the single centre) is at most the radius: that is the union
// of the discs plus the capsules between consecutive centres. Each sub-sample belongs to the map
// cell containing its position, where cell (r, c) covers image x ∈ [c·W/w, (c+1)·W/w) and
// y ∈ [r·H/h, (r+1)·H/h) (fractional sizes allowed). The coverage of a cell is its covered
// sub-samples divided by its sub-samples. Supersampling makes the coverage change smoothly as the
// brush moves by less than a pixel, while staying exactly reproducible.

public enum StrokeCoverage {
    /// Sub-samples per image pixel along each axis.
    public static let subsamples = 4

    /// Coverage fraction in [0, 1] of every cell of a `mapHeight × mapWidth` map (row-major), or nil
    /// when the sizes are not positive or the sub-sample grid would be unreasonably large.
    public static func fractions(of stroke: BrushStroke, mapWidth: Int, mapHeight: Int,
                                 imageWidth: Int, imageHeight: Int) -> [Double]? {
        guard mapWidth > 0, mapHeight > 0, imageWidth > 0, imageHeight > 0,
              imageWidth <= 1 << 14, imageHeight <= 1 << 14,
              mapWidth <= 1 << 14, mapHeight <= 1 << 14 else { return nil }
        let s = subsamples
        let gridW = imageWidth * s, gridH = imageHeight * s
        // Integer cell lookup per sub-sample column/row: the position (2k+1)/(2s) lies in cell
        // floor(position · w / W) = floor((2k+1)·w / (2s·W)), computed without rounding error.
        let cellOfColumn = (0..<gridW).map { k in min(mapWidth - 1, (2 * k + 1) * mapWidth / (2 * s * imageWidth)) }
        let cellOfRow = (0..<gridH).map { k in min(mapHeight - 1, (2 * k + 1) * mapHeight / (2 * s * imageHeight)) }
        var samplesPerColumn = [Int](repeating: 0, count: mapWidth)
        for c in cellOfColumn { samplesPerColumn[c] += 1 }
        var samplesPerRow = [Int](repeating: 0, count: mapHeight)
        for r in cellOfRow { samplesPerRow[r] += 1 }

        var covered = [Int](repeating: 0, count: mapWidth * mapHeight)
        let radius = stroke.radius
        let points = stroke.points.filter(\.isFinite)
        if radius.isFinite, radius > 0, !points.isEmpty {
            // Segments of the path; a single point is a degenerate segment.
            var segments: [(BrushPoint, BrushPoint)] = []
            if points.count == 1 { segments = [(points[0], points[0])] }
            for i in 1..<max(1, points.count) { segments.append((points[i - 1], points[i])) }

            // Bounding box of the whole stroke in sub-sample indices, clipped to the image, so that
            // only that window needs a "covered" mask (a sub-sample covered by two segments counts once).
            let minX = points.map(\.x).min()! - radius, maxX = points.map(\.x).max()! + radius
            let minY = points.map(\.y).min()! - radius, maxY = points.map(\.y).max()! + radius
            let window = sampleRange(minX, maxX, count: gridW)
            let windowY = sampleRange(minY, maxY, count: gridH)
            guard let wx = window, let wy = windowY else {
                return [Double](repeating: 0, count: mapWidth * mapHeight)
            }
            let maskW = wx.upperBound - wx.lowerBound
            var mask = [Bool](repeating: false, count: maskW * (wy.upperBound - wy.lowerBound))
            let r2 = radius * radius
            let inv = 1.0 / Double(s)
            for (a, b) in segments {
                guard let sx = sampleRange(min(a.x, b.x) - radius, max(a.x, b.x) + radius, count: gridW),
                      let sy = sampleRange(min(a.y, b.y) - radius, max(a.y, b.y) + radius, count: gridH)
                else { continue }
                let dx = b.x - a.x, dy = b.y - a.y
                let len2 = dx * dx + dy * dy
                for ky in sy {
                    let py = (Double(ky) + 0.5) * inv
                    let rowBase = (ky - wy.lowerBound) * maskW - wx.lowerBound
                    for kx in sx where !mask[rowBase + kx] {
                        let px = (Double(kx) + 0.5) * inv
                        // Distance to the segment: project onto it and clamp to the ends.
                        var t = 0.0
                        if len2 > 0 { t = min(1, max(0, ((px - a.x) * dx + (py - a.y) * dy) / len2)) }
                        let ex = px - (a.x + t * dx), ey = py - (a.y + t * dy)
                        if ex * ex + ey * ey <= r2 { mask[rowBase + kx] = true }
                    }
                }
            }
            for ky in wy {
                let rowBase = (ky - wy.lowerBound) * maskW - wx.lowerBound
                let cellRow = cellOfRow[ky] * mapWidth
                for kx in wx where mask[rowBase + kx] { covered[cellRow + cellOfColumn[kx]] += 1 }
            }
        }
        var result = [Double](repeating: 0, count: mapWidth * mapHeight)
        for r in 0..<mapHeight {
            for c in 0..<mapWidth {
                let total = samplesPerRow[r] * samplesPerColumn[c]
                result[r * mapWidth + c] = total > 0 ? Double(covered[r * mapWidth + c]) / Double(total) : 0
            }
        }
        return result
    }

    /// Indices k of sub-samples whose position (k + 0.5)/s may lie in [lo, hi], clipped to
    /// 0..<count; nil when empty. Slightly generous at both ends; the exact test decides.
    private static func sampleRange(_ lo: Double, _ hi: Double, count: Int) -> Range<Int>? {
        let s = Double(subsamples)
        guard lo.isFinite, hi.isFinite, hi >= lo else { return nil }
        let first = max(0, min(Double(count), (lo * s - 0.5).rounded(.down)))
        let last = max(0, min(Double(count), (hi * s - 0.5).rounded(.up) + 1))
        let a = Int(first), b = Int(last)
        return a < b ? a..<b : nil
    }
}
