@testable import ABN

/// A convolution's three passes as plain loops in Double over NCHW arrays (weights [K, C, r, r]):
/// the independent reference the engine's kernels are checked against.
enum ConvolutionLoops {
    struct Shape {
        var kernel: Int, stride: Int, pad: Int
        func out(_ size: Int) -> Int { (size + 2 * pad - kernel) / stride + 1 }
    }

    /// Calls body(n, o, c, i, j, yy, xx, a, b) for every product of output (n, o, i, j) with input
    /// (n, c, yy, xx) through weight (o, c, a, b), padding skipped.
    private static func products(n: Int, k: Int, c: Int, h: Int, w: Int, _ s: Shape,
                                 _ body: (Int, Int, Int, Int, Int, Int, Int, Int, Int) -> Void) {
        let oh = s.out(h), ow = s.out(w)
        for ni in 0..<n { for o in 0..<k { for i in 0..<oh { for j in 0..<ow {
            for ci in 0..<c { for a in 0..<s.kernel { for b in 0..<s.kernel {
                let yy = i * s.stride - s.pad + a, xx = j * s.stride - s.pad + b
                if yy < 0 || yy >= h || xx < 0 || xx >= w { continue }
                body(ni, o, ci, i, j, yy, xx, a, b)
            } } }
        } } } }
    }

    /// y = conv(x, w) + bias, [N, K, H', W'].
    static func forward(_ x: Act, _ w: [Float], bias: [Float]? = nil, outChannels k: Int, _ s: Shape) -> Act {
        let oh = s.out(x.h), ow = s.out(x.w), r = s.kernel
        var acc = [Double](repeating: 0, count: x.n * k * oh * ow)
        products(n: x.n, k: k, c: x.c, h: x.h, w: x.w, s) { n, o, c, i, j, yy, xx, a, b in
            acc[((n * k + o) * oh + i) * ow + j] += Double(x.data[((n * x.c + c) * x.h + yy) * x.w + xx]) * Double(w[((o * x.c + c) * r + a) * r + b])
        }
        if let bias { for i in acc.indices { acc[i] += Double(bias[(i / (oh * ow)) % k]) } }
        return Act(n: x.n, c: k, h: oh, w: ow, data: acc.map { Float($0) })
    }

    /// dx = Σ dy · w over the outputs that read each input position, [N, C, H, W].
    static func backwardData(_ dy: Act, _ w: [Float], inChannels c: Int, h: Int, w width: Int, _ s: Shape) -> Act {
        let r = s.kernel
        var acc = [Double](repeating: 0, count: dy.n * c * h * width)
        products(n: dy.n, k: dy.c, c: c, h: h, w: width, s) { n, o, ci, i, j, yy, xx, a, b in
            acc[((n * c + ci) * h + yy) * width + xx] += Double(dy.data[((n * dy.c + o) * dy.h + i) * dy.w + j]) * Double(w[((o * c + ci) * r + a) * r + b])
        }
        return Act(n: dy.n, c: c, h: h, w: width, data: acc.map { Float($0) })
    }

    /// dW = Σ over samples and positions of dy · x, [K, C, r, r].
    static func backwardWeights(_ x: Act, _ dy: Act, _ s: Shape) -> [Float] {
        let r = s.kernel
        var acc = [Double](repeating: 0, count: dy.c * x.c * r * r)
        products(n: x.n, k: dy.c, c: x.c, h: x.h, w: x.w, s) { n, o, c, i, j, yy, xx, a, b in
            acc[((o * x.c + c) * r + a) * r + b] += Double(dy.data[((n * dy.c + o) * dy.h + i) * dy.w + j]) * Double(x.data[((n * x.c + c) * x.h + yy) * x.w + xx])
        }
        return acc.map { Float($0) }
    }

    /// max |a − b| / max |b|.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()! / b.map { abs($0) }.max()!
    }
}
