import Foundation

// Channel conversion and bilinear resizing, on 8-bit images and on planar float tensors.

extension Image {
    /// Converts between gray (1), gray+alpha (2), RGB (3) and RGBA (4).
    /// Colour to gray uses Pillow's "L" conversion: the ITU-R 601 luma weights
    /// L = R·299/1000 + G·587/1000 + B·114/1000 in 16-bit fixed point, rounded
    /// ((R·19595 + G·38470 + B·7471 + 32768) >> 16). Gray to colour replicates the value.
    /// Alpha is dropped when the target has none, and set opaque (255) when the source has none.
    public func converted(toChannels target: Int) -> Image {
        precondition((1...4).contains(target), "channels must be 1...4")
        if target == channels { return self }
        let n = width * height
        var out = [UInt8](repeating: 0, count: n * target)
        let src = channels
        let srcHasColor = src >= 3, srcHasAlpha = src == 2 || src == 4
        let dstHasColor = target >= 3, dstHasAlpha = target == 2 || target == 4
        pixels.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    let s = i * src, d = i * target
                    if dstHasColor {
                        if srcHasColor {
                            o[d] = p[s]; o[d + 1] = p[s + 1]; o[d + 2] = p[s + 2]
                        } else {
                            o[d] = p[s]; o[d + 1] = p[s]; o[d + 2] = p[s]
                        }
                    } else {
                        o[d] = srcHasColor ? luma(p[s], p[s + 1], p[s + 2]) : p[s]
                    }
                    if dstHasAlpha {
                        o[d + target - 1] = srcHasAlpha ? p[s + src - 1] : 255
                    }
                }
            }
        }
        return Image(width: width, height: height, channels: target, pixels: out)
    }

    /// Bilinear resize with half-pixel centres (align_corners=False) and no antialiasing, exactly
    /// like torch.nn.functional.interpolate(mode="bilinear", align_corners=False); results are
    /// rounded to the nearest integer.
    public func resizedBilinear(width newWidth: Int, height newHeight: Int) -> Image {
        if newWidth == width && newHeight == height { return self }
        let xs = BilinearTaps(input: width, output: newWidth)
        let ys = BilinearTaps(input: height, output: newHeight)
        var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
        let c = channels, w = width
        pixels.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for y in 0..<newHeight {
                    let r0 = ys.low[y] * w, r1 = ys.high[y] * w
                    let h1 = ys.weight[y], h0 = 1 - h1
                    for x in 0..<newWidth {
                        let x0 = xs.low[x], x1 = xs.high[x]
                        let w1 = xs.weight[x], w0 = 1 - w1
                        for k in 0..<c {
                            let a = Float(p[(r0 + x0) * c + k]), b = Float(p[(r0 + x1) * c + k])
                            let cc = Float(p[(r1 + x0) * c + k]), d = Float(p[(r1 + x1) * c + k])
                            let v = h0 * (w0 * a + w1 * b) + h1 * (w0 * cc + w1 * d)
                            o[(y * newWidth + x) * c + k] = UInt8(max(0, min(255, (v + 0.5).rounded(.down))))
                        }
                    }
                }
            }
        }
        return Image(width: newWidth, height: newHeight, channels: channels, pixels: out)
    }

    /// The image as planar (CHW) floats, each sample divided by 255.
    public func planarFloats() -> [Float] {
        let n = width * height, c = channels
        var out = [Float](repeating: 0, count: n * c)
        let scale: Float = 1 / 255
        pixels.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<n {
                    for k in 0..<c { o[k * n + i] = Float(p[i * c + k]) * scale }
                }
            }
        }
        return out
    }

    /// Bilinear resize to floats in [0, 1], planar (CHW): the same convention as
    /// `resizedBilinear`, without the rounding to 8 bits.
    public func resizedBilinearFloats(width newWidth: Int, height newHeight: Int) -> [Float] {
        resizeBilinear(planarFloats(), channels: channels, height: height, width: width,
                       toHeight: newHeight, toWidth: newWidth)
    }
}

@inline(__always) func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
    UInt8(truncatingIfNeeded: (UInt32(r) * 19595 + UInt32(g) * 38470 + UInt32(b) * 7471 + 0x8000) >> 16)
}

/// For each output coordinate: the two input neighbours and the weight of the second one.
/// Source coordinate (out + 0.5)·in/out − 0.5, clamped below at 0 (as PyTorch does).
struct BilinearTaps {
    var low: [Int], high: [Int], weight: [Float]

    init(input: Int, output: Int) {
        low = [Int](repeating: 0, count: output)
        high = low
        weight = [Float](repeating: 0, count: output)
        let scale = Float(input) / Float(output)
        for i in 0..<output {
            let source = max(0, scale * (Float(i) + 0.5) - 0.5)
            let i0 = min(Int(source), input - 1)
            low[i] = i0
            high[i] = i0 < input - 1 ? i0 + 1 : i0
            weight[i] = source - Float(i0)
        }
    }
}

/// Bilinear resize of a planar (CHW) float tensor, align_corners=False, no antialiasing.
public func resizeBilinear(_ input: [Float], channels: Int, height: Int, width: Int,
                           toHeight: Int, toWidth: Int) -> [Float] {
    precondition(input.count == channels * height * width, "tensor size does not match its shape")
    if toHeight == height && toWidth == width { return input }
    let xs = BilinearTaps(input: width, output: toWidth)
    let ys = BilinearTaps(input: height, output: toHeight)
    var out = [Float](repeating: 0, count: channels * toHeight * toWidth)
    input.withUnsafeBufferPointer { p in
        out.withUnsafeMutableBufferPointer { o in
            for k in 0..<channels {
                let plane = k * height * width, outPlane = k * toHeight * toWidth
                for y in 0..<toHeight {
                    let r0 = plane + ys.low[y] * width, r1 = plane + ys.high[y] * width
                    let h1 = ys.weight[y], h0 = 1 - h1
                    for x in 0..<toWidth {
                        let x0 = xs.low[x], x1 = xs.high[x]
                        let w1 = xs.weight[x], w0 = 1 - w1
                        o[outPlane + y * toWidth + x] =
                            h0 * (w0 * p[r0 + x0] + w1 * p[r0 + x1]) + h1 * (w0 * p[r1 + x0] + w1 * p[r1 + x1])
                    }
                }
            }
        }
    }
    return out
}
