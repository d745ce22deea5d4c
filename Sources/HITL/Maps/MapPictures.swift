import ABNData

/// Pictures of maps for export: a map jet-coloured at the image's size, blended over the image, the
/// signed difference of two maps, and nearest-neighbour enlargement. Pure functions to pixels.
public enum MapPictures {
    /// A map [h×w] bilinearly upsampled to [H×W] and coloured (jet unless told), as RGB.
    public static func colored(_ map: [Float], height h: Int, width w: Int, toHeight H: Int, toWidth W: Int,
                               colormap: Colormap = .jet) -> Image {
        let up = MapResampling.upsampleBilinear(map, height: h, width: w, toHeight: H, toWidth: W)
        var pixels = [UInt8](repeating: 0, count: H * W * 3)
        for i in 0..<(H * W) {
            let c = colormap.color(up[i])
            pixels[3 * i] = c.0; pixels[3 * i + 1] = c.1; pixels[3 * i + 2] = c.2
        }
        return Image(width: W, height: H, channels: 3, pixels: pixels)
    }

    /// alpha·jet(map) + (1 − alpha)·image per channel, rounded; the image converted to RGB.
    public static func blend(image: Image, map: [Float], height h: Int, width w: Int, alpha: Float = 0.5,
                             colormap: Colormap = .jet) -> Image {
        let rgb = image.converted(toChannels: 3)
        let colored = colored(map, height: h, width: w, toHeight: rgb.height, toWidth: rgb.width, colormap: colormap)
        var pixels = rgb.pixels
        for i in pixels.indices {
            pixels[i] = UInt8((alpha * Float(colored.pixels[i]) + (1 - alpha) * Float(rgb.pixels[i])).rounded())
        }
        return Image(width: rgb.width, height: rgb.height, channels: 3, pixels: pixels)
    }

    /// edited − original, upsampled: white where unchanged, towards red (255, 0, 0) where attention
    /// was added, towards blue (0, 0, 255) where removed; full colour at a change of ±1.
    public static func difference(original: [Float], edited: [Float], height h: Int, width w: Int, toHeight H: Int, toWidth W: Int) -> Image {
        let d = MapResampling.upsampleBilinear(zip(edited, original).map { $0 - $1 }, height: h, width: w, toHeight: H, toWidth: W)
        var pixels = [UInt8](repeating: 255, count: H * W * 3)
        for i in 0..<(H * W) {
            let v = min(max(d[i], -1), 1)
            let fade = UInt8((255 * (1 - abs(v))).rounded())
            if v > 0 { pixels[3 * i + 1] = fade; pixels[3 * i + 2] = fade } else { pixels[3 * i] = fade; pixels[3 * i + 1] = fade }
        }
        return Image(width: W, height: H, channels: 3, pixels: pixels)
    }

    /// Images side by side, top-aligned, `gap` white pixels between them, as RGB: the explain grid.
    public static func sideBySide(_ images: [Image], gap: Int = 4) -> Image {
        let rgb = images.map { $0.converted(toChannels: 3) }
        let H = rgb.map(\.height).max() ?? 0
        let W = rgb.map(\.width).reduce(0, +) + gap * max(rgb.count - 1, 0)
        var pixels = [UInt8](repeating: 255, count: max(W * H * 3, 0))
        var x0 = 0
        for image in rgb {
            for y in 0..<image.height {
                let src = y * image.width * 3, dst = (y * W + x0) * 3
                pixels.replaceSubrange(dst..<(dst + image.width * 3), with: image.pixels[src..<(src + image.width * 3)])
            }
            x0 += image.width + gap
        }
        return Image(width: W, height: H, channels: 3, pixels: pixels)
    }

    /// Nearest-neighbour enlargement by an integer factor, so 32×32 exports are visible at a glance
    /// without inventing detail.
    public static func enlarged(_ image: Image, by factor: Int) -> Image {
        guard factor > 1 else { return image }
        let W = image.width * factor, H = image.height * factor, c = image.channels
        var pixels = [UInt8](repeating: 0, count: W * H * c)
        for y in 0..<H {
            for x in 0..<W {
                let src = ((y / factor) * image.width + x / factor) * c
                for k in 0..<c { pixels[(y * W + x) * c + k] = image.pixels[src + k] }
            }
        }
        return Image(width: W, height: H, channels: c, pixels: pixels)
    }
}
