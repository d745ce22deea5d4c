// Eight-lane helpers shared by PlaneRun and LaneRun (loadLanes and storeLanes by MaxPool3x3s2 too).

/// The eight floats at p + k, unaligned.
@inline(__always)
func loadLanes(_ p: UnsafePointer<Float>, _ k: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + k).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always)
func storeLanes(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ k: Int) {
    UnsafeMutableRawPointer(p + k).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// v where keep's lanes are all ones, else 0: a bitwise and with a comparison's lanes (the generic
/// SIMD `replace(with:where:)` goes lane by lane).
@inline(__always)
private func keeping(_ v: SIMD8<Float>, _ keep: SIMD8<Int32>) -> SIMD8<Float> {
    unsafeBitCast(unsafeBitCast(v, to: SIMD8<Int32>.self) & keep, to: SIMD8<Float>.self)
}

/// d where mask > 0, else 0 (also where mask is NaN, as the scalar loops do).
@inline(__always)
private func masked(_ d: SIMD8<Float>, _ mask: SIMD8<Float>) -> SIMD8<Float> { keeping(d, (mask .> 0)._storage) }

/// Kernels over one contiguous run of values that share their channel parameters: in plain NCHW
/// (block 1) a sample's channel plane is such a run. Channelwise's loop nests put the channel block
/// innermost, which for block 1 is a loop of one and does not vectorise; these take eight lanes at
/// a time instead (DenseNet-BC runs plain: growth 12 splits into no channel block). Reductions
/// keep eight partial sums, so their order differs from a scalar loop by rounding only.
enum PlaneRun {
    typealias Lanes = SIMD8<Float>
    static let width = Lanes.scalarCount

    /// dst = max(src·s + o (+ r), floor) over `count` values (r nil: no residual). Element by
    /// element, so the compiler vectorises the plain loop (the generic SIMD pointwiseMax does not).
    @inline(__always)
    static func affine(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, residual r: UnsafePointer<Float>?,
                       count: Int, scale s: Float, offset o: Float, floor: Float) {
        if let r {
            for k in 0..<count { let v = src[k] * s + o + r[k]; dst[k] = v < floor ? floor : v }
        } else {
            for k in 0..<count { let v = src[k] * s + o; dst[k] = v < floor ? floor : v }
        }
    }

    /// Σ x (y nil) or Σ x·(y − m) over `count` values.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, times y: UnsafePointer<Float>?, center m: Float, count: Int) -> Float {
        var acc = Lanes(repeating: 0), tail: Float = 0, k = 0
        if let y {
            while k + width <= count { acc += loadLanes(x, k) * (loadLanes(y, k) - m); k += width }
            while k < count { tail += x[k] * (y[k] - m); k += 1 }
        } else {
            while k + width <= count { acc += loadLanes(x, k); k += width }
            while k < count { tail += x[k]; k += 1 }
        }
        return acc.sum() + tail
    }

    /// The same for the scalar tail: d[k] where mask[k] > 0, else 0 (mask nil: d[k]).
    @inline(__always)
    private static func maskedScalar(_ d: UnsafePointer<Float>, _ mask: UnsafePointer<Float>?, _ k: Int) -> Float {
        guard let mask else { return d[k] }
        return mask[k] > 0 ? d[k] : 0
    }

    /// (Σ g, Σ g·(x − m)) with g = d where mask > 0, else 0 (mask nil: g = d): BatchNorm's backward sums.
    @inline(__always)
    static func gradientSums(_ d: UnsafePointer<Float>, mask: UnsafePointer<Float>?, x: UnsafePointer<Float>, center m: Float,
                             count: Int) -> (Float, Float) {
        var g = Lanes(repeating: 0), gx = g, tailG: Float = 0, tailGX: Float = 0, k = 0
        while k + width <= count {
            var v = loadLanes(d, k)
            if let mask { v = masked(v, loadLanes(mask, k)) }
            g += v
            gx += v * (loadLanes(x, k) - m)
            k += width
        }
        while k < count {
            let v = maskedScalar(d, mask, k)
            tailG += v
            tailGX += v * (x[k] - m)
            k += 1
        }
        return (g.sum() + tailG, gx.sum() + tailGX)
    }

    /// dst = g·a + x·kx + o, g as in `gradientSums`: BatchNorm's input gradient.
    @inline(__always)
    static func combine(_ d: UnsafePointer<Float>, mask: UnsafePointer<Float>?, x: UnsafePointer<Float>,
                        _ dst: UnsafeMutablePointer<Float>, count: Int, a: Float, kx: Float, offset o: Float) {
        var k = 0
        while k + width <= count {
            var v = loadLanes(d, k)
            if let mask { v = masked(v, loadLanes(mask, k)) }
            storeLanes(v * a + loadLanes(x, k) * kx + o, dst, k)
            k += width
        }
        while k < count {
            let v = maskedScalar(d, mask, k)
            dst[k] = v * a + x[k] * kx + o
            k += 1
        }
    }
}

/// The same kernels for blocked layouts (nChw8c, nChw16c): along one (sample, channel block) row,
/// pixel p's channels j0..j0+7 are one vector at p·stride + j0, with a parameter per lane (channel).
/// A block of 8 is one pass with stride 8, a block of 16 two passes with stride 16. Accumulators
/// stay in registers (the generic loop nest kept its partial sums in memory, one store per pixel).
enum LaneRun {
    typealias Lanes = SIMD8<Float>

    /// dst = x·s + o (+ r), then ReLU when asked (NaN passes through, as max(NaN, 0) in the scalar loop).
    @inline(__always)
    static func affine(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, residual r: UnsafePointer<Float>?,
                       pixels: Int, stride: Int, scale s: Lanes, offset o: Lanes, relu: Bool) {
        for p in 0..<pixels {
            let k = p * stride
            var v = loadLanes(src, k) * s + o
            if let r { v += loadLanes(r, k) }
            if relu { v = keeping(v, ~(v .< 0)._storage) }
            storeLanes(v, dst, k)
        }
    }

    /// Per lane, Σ x (y nil) or Σ x·(y − m).
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, times y: UnsafePointer<Float>?, center m: Lanes, pixels: Int, stride: Int) -> Lanes {
        var acc = Lanes(repeating: 0)
        if let y {
            for p in 0..<pixels { acc += loadLanes(x, p * stride) * (loadLanes(y, p * stride) - m) }
        } else {
            for p in 0..<pixels { acc += loadLanes(x, p * stride) }
        }
        return acc
    }

    /// Per lane, (Σ g, Σ g·(x − m)), g = d where mask > 0 (mask nil: g = d).
    @inline(__always)
    static func gradientSums(_ d: UnsafePointer<Float>, mask: UnsafePointer<Float>?, x: UnsafePointer<Float>, center m: Lanes,
                             pixels: Int, stride: Int) -> (Lanes, Lanes) {
        var g = Lanes(repeating: 0), gx = g
        for p in 0..<pixels {
            let k = p * stride
            var v = loadLanes(d, k)
            if let mask { v = masked(v, loadLanes(mask, k)) }
            g += v
            gx += v * (loadLanes(x, k) - m)
        }
        return (g, gx)
    }

    /// dst = g·a + x·kx + o, g as in `gradientSums`.
    @inline(__always)
    static func combine(_ d: UnsafePointer<Float>, mask: UnsafePointer<Float>?, x: UnsafePointer<Float>,
                        _ dst: UnsafeMutablePointer<Float>, pixels: Int, stride: Int, a: Lanes, kx: Lanes, offset o: Lanes) {
        for p in 0..<pixels {
            let k = p * stride
            var v = loadLanes(d, k)
            if let mask { v = masked(v, loadLanes(mask, k)) }
            storeLanes(v * a + loadLanes(x, k) * kx + o, dst, k)
        }
    }

    /// Eight parameters from `values` at `index` (a channel block's lanes).
    @inline(__always)
    static func lanes(_ values: UnsafeBufferPointer<Float>, _ index: Int) -> Lanes { loadLanes(values.baseAddress!, index) }
}
