/// Moving maps between image resolution and map resolution. Pure; row-major [H×W] arrays.
public enum MapResampling {
    /// Area average of an image-resolution mask [H×W] onto a map grid [h×w]: each map cell covers the
    /// image rectangle [x·W/w, (x+1)·W/w) × [y·H/h, (y+1)·H/h), with exact fractional pixel weights
    /// when W is not a multiple of w (like cv2.INTER_AREA when shrinking).
    public static func areaAverage(_ mask: [Float], height: Int, width: Int, toHeight h: Int, toWidth w: Int) -> [Float] {
        precondition(mask.count == height * width && h > 0 && w > 0 && height > 0 && width > 0)
        let rowWeights = weights(from: height, to: h)
        let colWeights = weights(from: width, to: w)
        var out = [Float](repeating: 0, count: h * w)
        for (cy, rows) in rowWeights.enumerated() {
            for (cx, cols) in colWeights.enumerated() {
                var sum = 0.0, total = 0.0
                for (py, wy) in rows {
                    for (px, wx) in cols {
                        sum += Double(mask[py * width + px]) * wy * wx
                        total += wy * wx
                    }
                }
                out[cy * w + cx] = Float(total > 0 ? sum / total : 0)
            }
        }
        return out
    }

    /// For each of `n` cells over `size` pixels: the pixels it overlaps and by how much.
    private static func weights(from size: Int, to n: Int) -> [[(Int, Double)]] {
        let step = Double(size) / Double(n)
        return (0..<n).map { i in
            let a = Double(i) * step, b = Double(i + 1) * step
            var list: [(Int, Double)] = []
            var p = Int(a.rounded(.down))
            while Double(p) < b && p < size {
                let overlap = min(b, Double(p + 1)) - max(a, Double(p))
                if overlap > 1e-12 { list.append((p, overlap)) }
                p += 1
            }
            return list
        }
    }

    /// Bilinear resize of a [h×w] map to [H×W] with half-pixel centres (align_corners=False): output
    /// pixel x samples the source at (x + 0.5)·w/W − 0.5, clamped to the edge cells. This is what
    /// cv2.resize(INTER_LINEAR) on float32 and torch's interpolate(bilinear, align_corners=False) do,
    /// and cv2.resize is what the ABN authors' visualisation uses to bring the map to the image.
    /// ABNData's resizeBilinear (model inputs, masks) is the same rule with Float source coordinates;
    /// not merged because fine-tuning's counterexamples use this one and would move by rounding.
    public static func upsampleBilinear(_ map: [Float], height h: Int, width w: Int, toHeight H: Int, toWidth W: Int) -> [Float] {
        precondition(map.count == h * w && h > 0 && w > 0 && H > 0 && W > 0)
        func taps(_ n: Int, _ N: Int) -> [(Int, Int, Float)] {
            (0..<N).map { i in
                let s = max(0, (Double(i) + 0.5) * Double(n) / Double(N) - 0.5)
                let i0 = min(Int(s), n - 1)
                return (i0, min(i0 + 1, n - 1), Float(s - Double(i0)))
            }
        }
        let ys = taps(h, H), xs = taps(w, W)
        var out = [Float](repeating: 0, count: H * W)
        for (y, (y0, y1, fy)) in ys.enumerated() {
            for (x, (x0, x1, fx)) in xs.enumerated() {
                let top = map[y0 * w + x0] * (1 - fx) + map[y0 * w + x1] * fx
                let bottom = map[y1 * w + x0] * (1 - fx) + map[y1 * w + x1] * fx
                out[y * W + x] = top * (1 - fy) + bottom * fy
            }
        }
        return out
    }
}
