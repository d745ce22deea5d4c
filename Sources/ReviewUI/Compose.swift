// The picture under the canvas at image resolution: the image, the attention map, or both blended.
// The map is upsampled bilinearly (half-pixel centres, edges clamped: like resizing the map to the
// image as the official visualisation does) and coloured with jet.
import HITL

public enum Compose {
    /// Weight of the heatmap in the blend view.
    public static let blendWeight: Float = 0.5

    /// Bilinear map value at the centre of image pixel (px, py). A malformed map reads as 0.
    public static func mapValue(_ map: AttentionMap, px: Int, py: Int, imageWidth: Int, imageHeight: Int) -> Float {
        guard map.isWellFormed, imageWidth > 0, imageHeight > 0 else { return 0 }
        func axis(_ p: Int, _ n: Int, _ image: Int) -> (Int, Int, Float) {
            let m = min(Float(n - 1), max(0, (Float(p) + 0.5) * Float(n) / Float(image) - 0.5))
            let i0 = Int(m)
            return (i0, min(i0 + 1, n - 1), m - Float(i0))
        }
        let (x0, x1, fx) = axis(px, map.width, imageWidth)
        let (y0, y1, fy) = axis(py, map.height, imageHeight)
        let v = map.values
        let top = v[y0 * map.width + x0] * (1 - fx) + v[y0 * map.width + x1] * fx
        let bottom = v[y1 * map.width + x0] * (1 - fx) + v[y1 * map.width + x1] * fx
        let value = top * (1 - fy) + bottom * fy
        return value.isNaN ? 0 : min(1, max(0, value))
    }

    /// Upsampled map values at image resolution, row-major: the same numbers as `mapValue`, with
    /// the per-column and per-row interpolation weights computed once (a 224² image is 50k pixels).
    static func upsampled(_ map: AttentionMap, imageWidth w: Int, imageHeight h: Int) -> [Float] {
        guard map.isWellFormed, w > 0, h > 0 else { return [Float](repeating: 0, count: max(0, w) * max(0, h)) }
        func axis(_ p: Int, _ n: Int, _ image: Int) -> (Int, Int, Float) {
            let m = min(Float(n - 1), max(0, (Float(p) + 0.5) * Float(n) / Float(image) - 0.5))
            let i0 = Int(m)
            return (i0, min(i0 + 1, n - 1), m - Float(i0))
        }
        let columns = (0..<w).map { axis($0, map.width, w) }
        let rows = (0..<h).map { axis($0, map.height, h) }
        let v = map.values, mw = map.width
        var out = [Float](repeating: 0, count: w * h)
        out.withUnsafeMutableBufferPointer { o in
            for y in 0..<h {
                let (y0, y1, fy) = rows[y]
                for x in 0..<w {
                    let (x0, x1, fx) = columns[x]
                    let top = v[y0 * mw + x0] * (1 - fx) + v[y0 * mw + x1] * fx
                    let bottom = v[y1 * mw + x0] * (1 - fx) + v[y1 * mw + x1] * fx
                    let value = top * (1 - fy) + bottom * fy
                    o[y * w + x] = value.isNaN ? 0 : min(1, max(0, value))
                }
            }
        }
        return out
    }

    /// RGB per image pixel for the view.
    public static func colors(image: ReviewImage, map: AttentionMap?, view: CanvasView) -> [RGB] {
        let n = image.width * image.height
        var out = [RGB](repeating: .black, count: n)
        let values = (view == .image || map == nil) ? nil : upsampled(map!, imageWidth: image.width, imageHeight: image.height)
        let rgb = image.rgb
        for i in 0..<n {
            let pixel = RGB(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2])
            guard let values else { out[i] = pixel; continue }
            let heat = RGB.jet(values[i])
            if view == .map { out[i] = heat; continue }
            out[i] = mix(pixel, heat, blendWeight)
        }
        return out
    }

    /// Intensity in [0, 1] per image pixel for shading glyphs: the map value, the image luminance,
    /// or their average in the blend view.
    public static func intensities(image: ReviewImage, map: AttentionMap?, view: CanvasView) -> [Double] {
        let n = image.width * image.height
        let values = (view == .image || map == nil) ? nil : upsampled(map!, imageWidth: image.width, imageHeight: image.height)
        return (0..<n).map { i in
            let lum = (0.299 * Double(image.rgb[3 * i]) + 0.587 * Double(image.rgb[3 * i + 1]) + 0.114 * Double(image.rgb[3 * i + 2])) / 255
            guard let values else { return lum }
            return view == .map ? Double(values[i]) : 0.5 * lum + 0.5 * Double(values[i])
        }
    }

    /// (1 − w)·a + w·b per channel, rounded.
    static func mix(_ a: RGB, _ b: RGB, _ w: Float) -> RGB {
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Float(x) * (1 - w) + Float(y) * w).rounded()) }
        return RGB(m(a.r, b.r), m(a.g, b.g), m(a.b, b.b))
    }
}
