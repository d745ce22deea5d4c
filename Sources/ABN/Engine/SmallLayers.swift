import Foundation

/// Linear with bias: y [N, out] = x [N, in] · Wᵀ + b. PyTorch's default init:
/// U(−1/√in, 1/√in) for weight and bias.
final class Linear {
    let weight: Parameter
    /// nil for a linear map without bias (att_conv2 applied after GAP).
    let bias: Parameter?
    let inFeatures: Int, outFeatures: Int
    private var input: [Float] = []
    private var batch = 0

    /// torch's nn.Linear with its default init.
    init(name: String, inFeatures: Int, outFeatures: Int, rng: inout InitRandom) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Double(inFeatures).squareRoot()
        weight = Parameter(name: name + ".weight", shape: [outFeatures, inFeatures],
                           value: (0..<(outFeatures * inFeatures)).map { _ in Float(rng.uniform(-bound, bound)) })
        bias = Parameter(name: name + ".bias", shape: [outFeatures],
                         value: (0..<outFeatures).map { _ in Float(rng.uniform(-bound, bound)) })
    }

    /// The linear map of a 1×1 convolution's weight [out, in, 1, 1] (no bias), for pooled inputs.
    init(convolutionWeight w: Parameter) {
        precondition(w.shape.count == 4 && w.shape[2] == 1 && w.shape[3] == 1, "\(w.name) is not a 1×1 convolution's weight")
        weight = w
        bias = nil
        outFeatures = w.shape[0]
        inFeatures = w.shape[1]
    }

    /// In state_dict order.
    var parameters: [Parameter] { [weight] + (bias.map { [$0] } ?? []) }

    // The products run on oneDNN's sgemm (vectorised, on the team): as scalar loops on one thread the
    // 2048 → 1000 classifier of ResNet-50 was 1.3% of inference with the other core idle.

    func forward(_ x: [Float], batch n: Int, keepForBackward: Bool) -> [Float] {
        precondition(x.count == n * inFeatures, "Linear \(weight.name): input is not [\(n), \(inFeatures)]")
        var y = [Float](unsafeUninitializedCapacity: n * outFeatures) { out, initialized in
            for b in 0..<n { for o in 0..<outFeatures { out[b * outFeatures + o] = bias?.value[o] ?? 0 } }
            initialized = n * outFeatures
        }
        x.withUnsafeBufferPointer { xp in
            weight.value.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    sgemm(transA: false, transB: true, m: n, n: outFeatures, k: inFeatures, xp.baseAddress!, wp.baseAddress!,
                          yp.baseAddress!, accumulate: true)
                }
            }
        }
        if keepForBackward { input = x; batch = n }
        return y
    }

    /// dy [N, out] → dx [N, in]; accumulates dW, db.
    func backward(_ dy: [Float]) -> [Float] {
        let n = batch
        if weight.trainable {
            bias?.addGradient { db in
                for o in 0..<outFeatures { db[o] = 0 }
                for b in 0..<n {
                    for o in 0..<outFeatures { db[o] += dy[b * outFeatures + o] }
                }
            }
            weight.addGradient { dw in
                dy.withUnsafeBufferPointer { g in
                    input.withUnsafeBufferPointer { xp in
                        dw.withUnsafeMutableBufferPointer { out in
                            sgemm(transA: true, transB: false, m: outFeatures, n: inFeatures, k: n, g.baseAddress!, xp.baseAddress!,
                                  out.baseAddress!)
                        }
                    }
                }
            }
        }
        return inputGradient(dy, batch: n)
    }

    /// dy [N, out] → dx = dy · W [N, in] alone: needs no saved input and touches no parameter gradient.
    func inputGradient(_ dy: [Float], batch n: Int) -> [Float] {
        var dx = [Float](repeating: 0, count: n * inFeatures)
        dy.withUnsafeBufferPointer { g in
            weight.value.withUnsafeBufferPointer { wp in
                dx.withUnsafeMutableBufferPointer { out in
                    sgemm(transA: false, transB: false, m: n, n: inFeatures, k: outFeatures, g.baseAddress!, wp.baseAddress!,
                          out.baseAddress!)
                }
            }
        }
        return dx
    }
}

/// 3×3 max pooling, stride 2, padding 1 (torchvision's ResNet stem), in the input's layout (plain
/// or channel-blocked), so the stem needs no reorders around it.
final class MaxPool3x3s2 {
    /// Per output value (indexed like the output): the winning input position in its plane.
    private var argmax: [Int32] = []
    private var inputGeometry = Geometry(n: 0, c: 0, h: 0, w: 0, block: 1)

    /// The output's height and width.
    private static func outputSize(_ x: Act) -> (h: Int, w: Int) { ((x.h + 2 - 3) / 2 + 1, (x.w + 2 - 3) / 2 + 1) }

    func forward(_ x: Act, keepForBackward: Bool) -> Act {
        let (oh, ow) = Self.outputSize(x)
        var y = Act(uninitializedN: x.n, c: x.c, h: oh, w: ow, block: x.block)
        // Per output value, the winner's position, kept for backward (inference keeps none).
        var arg = [Int32](unsafeUninitializedCapacity: keepForBackward ? y.count : 0) { _, initialized in
            initialized = keepForBackward ? y.count : 0
        }
        x.data.withUnsafeBufferPointer { src in
            y.data.withUnsafeMutableBufferPointer { out in
                arg.withUnsafeMutableBufferPointer { winners in
                    let keep = keepForBackward ? winners.baseAddress : nil
                    if x.block % 8 == 0 {
                        Self.blockedMaxima(x, src.baseAddress!, oh: oh, ow: ow, into: out.baseAddress!, winners: keep)
                    } else {
                        Self.planeMaxima(x, src.baseAddress!, oh: oh, ow: ow, into: out.baseAddress!, winners: keep)
                    }
                }
            }
        }
        if keepForBackward { argmax = arg; inputGeometry = x.geometry }
        return y
    }

    /// The forward pass in a blocked layout, eight channels per vector, planes shared over the team: the
    /// same maxima and winners as the scalar loop, lane by lane (the first valid tap, then each tap that
    /// is strictly greater, in the same order). As a scalar loop it was 4% of ResNet-50-ABN's inference.
    private static func blockedMaxima(_ x: Act, _ src: UnsafePointer<Float>, oh: Int, ow: Int, into out: UnsafeMutablePointer<Float>,
                                      winners: UnsafeMutablePointer<Int32>?) {
        let b = x.block
        Team.forEachShare(of: x.n * x.c / b, work: x.count) { planes in
            for plane in planes {
                let s = src + plane * x.plane * b, d = plane * oh * ow * b
                for oy in 0..<oh {
                    let rows = max(0, oy * 2 - 1)...min(x.h - 1, oy * 2 + 1)
                    for ox in 0..<ow {
                        let columns = max(0, ox * 2 - 1)...min(x.w - 1, ox * 2 + 1)
                        for lane in stride(from: 0, to: b, by: 8) {
                            let (best, at) = windowMax(s + lane, width: x.w, block: b, rows: rows, columns: columns)
                            let o = d + (oy * ow + ox) * b + lane
                            storeLanes(best, out, o)
                            if let winners { UnsafeMutableRawPointer(winners + o).storeBytes(of: at, as: SIMD8<Int32>.self) }
                        }
                    }
                }
            }
        }
    }

    /// The forward pass in any layout, one value at a time, (sample, channel) planes shared over the team.
    private static func planeMaxima(_ x: Act, _ src: UnsafePointer<Float>, oh: Int, ow: Int, into out: UnsafeMutablePointer<Float>,
                                    winners: UnsafeMutablePointer<Int32>?) {
        let b = x.block
        Team.forEachShare(of: x.n * x.c, work: x.count) { planes in
            for plane in planes {
                let i = plane / x.c, ch = plane % x.c
                let from = Act.offset(i, ch, c: x.c, plane: x.plane, block: b)
                let to = Act.offset(i, ch, c: x.c, plane: oh * ow, block: b)
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best = -Float.infinity, bestIndex = -1
                        for ky in 0..<3 {
                            let iy = oy * 2 - 1 + ky
                            if iy < 0 || iy >= x.h { continue }
                            for kx in 0..<3 {
                                let ix = ox * 2 - 1 + kx
                                if ix < 0 || ix >= x.w { continue }
                                let v = src[from + (iy * x.w + ix) * b]
                                if v > best || bestIndex < 0 { best = v; bestIndex = iy * x.w + ix }
                            }
                        }
                        let o = to + (oy * ow + ox) * b
                        out[o] = best
                        winners?[o] = Int32(bestIndex)
                    }
                }
            }
        }
    }

    /// Lane by lane, the largest of the window's pixels (`block` floats apart, rows `width` pixels
    /// apart) and its position in the plane: the first pixel, then each one strictly greater, as the
    /// scalar loop takes them.
    @inline(__always)
    private static func windowMax(_ plane: UnsafePointer<Float>, width: Int, block: Int, rows: ClosedRange<Int>,
                                  columns: ClosedRange<Int>) -> (best: SIMD8<Float>, at: SIMD8<Int32>) {
        let first = rows.lowerBound * width + columns.lowerBound
        var best = loadLanes(plane, first * block), at = SIMD8<Int32>(repeating: Int32(first))
        for iy in rows {
            for ix in columns where iy != rows.lowerBound || ix != columns.lowerBound {
                let v = loadLanes(plane, (iy * width + ix) * block), greater = v .> best
                best.replace(with: v, where: greater)
                at.replace(with: Int32(iy * width + ix), where: greater)
            }
        }
        return (best, at)
    }

    /// dy in any layout; dx in the input's.
    func backward(_ dy: Act) -> Act {
        let g = inputGeometry, b = g.block
        let d = dy.reblocked(b)
        var dx = Act(zerosN: g.n, c: g.c, h: g.h, w: g.w, block: b)
        let outPlane = d.plane, inPlane = g.plane
        d.data.withUnsafeBufferPointer { dy in
            argmax.withUnsafeBufferPointer { winners in
                dx.data.withUnsafeMutableBufferPointer { out in
                    // Each (sample, channel) plane of dx gets only its own plane's gradients.
                    Team.forEachShare(of: g.n * g.c, work: g.n * g.c * g.plane) { planes in
                        for plane in planes {
                            let i = plane / g.c, ch = plane % g.c
                            let src = Act.offset(i, ch, c: g.c, plane: inPlane, block: b)
                            let dst = Act.offset(i, ch, c: g.c, plane: outPlane, block: b)
                            for j in 0..<outPlane {
                                let o = dst + j * b
                                out[src + Int(winners[o]) * b] += dy[o]
                            }
                        }
                    }
                }
            }
        }
        return dx
    }
}

/// Index of the largest value, the first one on ties (so predictions are reproducible). A NaN is never
/// the largest; an empty or all-NaN vector gives 0. The one argmax of the package.
public func argmax(_ v: [Float]) -> Int {
    var best = -1
    for i in v.indices where !v[i].isNaN && (best < 0 || v[i] > v[best]) { best = i }
    return max(best, 0)
}

/// Row-wise softmax of [N, K] logits, in Double for accuracy.
public func softmax(_ logits: [Float]) -> [Float] {
    guard let maxv = logits.max() else { return [] }
    let e = logits.map { exp(Double($0 - maxv)) }
    let s = e.reduce(0, +)
    return e.map { Float($0 / s) }
}
