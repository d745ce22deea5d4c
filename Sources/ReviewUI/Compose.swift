// The picture under the canvas at image resolution: the image, the attention map, or both blended.
// The map is upsampled bilinearly (MapResampling: half-pixel centres, edges clamped, like resizing
// the map to the image as the official visualisation does) and coloured with jet.
import HITL

public enum Compose {
    /// Weight of the heatmap in the blend view unless the annotator changes it (`-`/`+`).
    public static let blendWeight: Float = 0.5

    /// Map values at image resolution, row-major, from MapResampling.upsampleBilinear (the export's
    /// upsampler too), clamped to [0, 1] with NaN as 0 so a bad value cannot break the colours.
    /// A malformed map reads as all 0.
    static func upsampled(_ map: AttentionMap, imageWidth w: Int, imageHeight h: Int) -> [Float] {
        guard map.isWellFormed, w > 0, h > 0 else { return [Float](repeating: 0, count: max(0, w) * max(0, h)) }
        return MapResampling.upsampleBilinear(map.values, height: map.height, width: map.width, toHeight: h, toWidth: w)
            .map { $0.isNaN ? 0 : min(1, max(0, $0)) }
    }

    /// RGB per image pixel for the view.
    public static func colors(image: ReviewImage, map: AttentionMap?, view: CanvasView, weight: Float = blendWeight) -> [RGB] {
        colors(image: image, values: map.map { upsampled($0, imageWidth: image.width, imageHeight: image.height) }, view: view, weight: weight)
    }

    /// The same from map values already upsampled (the side-by-side panels share one upsampling).
    static func colors(image: ReviewImage, values upsampledValues: [Float]?, view: CanvasView, weight: Float) -> [RGB] {
        let n = image.width * image.height
        var out = [RGB](repeating: .black, count: n)
        let values = view == .image ? nil : upsampledValues
        let rgb = image.rgb
        for i in 0..<n {
            let pixel = RGB(rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2])
            guard let values else { out[i] = pixel; continue }
            let heat = RGB.jet(values[i])
            if view == .map { out[i] = heat; continue }
            out[i] = mix(pixel, heat, weight)
        }
        return out
    }

    /// Intensity in [0, 1] per image pixel for shading glyphs: the map value, the image luminance,
    /// or their weighted mean in the blend view (half and half by default).
    public static func intensities(image: ReviewImage, map: AttentionMap?, view: CanvasView) -> [Double] {
        intensities(image: image, values: map.map { upsampled($0, imageWidth: image.width, imageHeight: image.height) }, view: view)
    }

    static func intensities(image: ReviewImage, values upsampledValues: [Float]?, view: CanvasView, weight: Float = blendWeight) -> [Double] {
        let n = image.width * image.height
        let values = view == .image ? nil : upsampledValues
        return (0..<n).map { i in
            let lum = (0.299 * Double(image.rgb[3 * i]) + 0.587 * Double(image.rgb[3 * i + 1]) + 0.114 * Double(image.rgb[3 * i + 2])) / 255
            guard let values else { return lum }
            return view == .map ? Double(values[i]) : Double(1 - weight) * lum + Double(weight) * Double(values[i])
        }
    }

    /// (1 − w)·a + w·b per channel, rounded.
    static func mix(_ a: RGB, _ b: RGB, _ w: Float) -> RGB {
        func m(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Float(x) * (1 - w) + Float(y) * w).rounded()) }
        return RGB(m(a.r, b.r), m(a.g, b.g), m(a.b, b.b))
    }
}
