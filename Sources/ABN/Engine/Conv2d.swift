/// Conv2d without bias (as every convolution of ResNet-ABN): weight [out, in, k, k].
final class Conv2d {
    let weight: Parameter
    let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int
    private var primitives = ConvPrimitiveCache()
    private var input: Act?

    init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
         rng: inout InitRandom) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        // The official init: N(0, sqrt(2 / (k·k·out))).
        let std = (2.0 / Double(kernel * kernel * outChannels)).squareRoot()
        let count = outChannels * inChannels * kernel * kernel
        weight = Parameter(name: name + ".weight", shape: [outChannels, inChannels, kernel, kernel],
                           value: (0..<count).map { _ in Float(rng.normal() * std) })
    }

    /// x [N, in, H, W] → y [N, out, H', W']; keeps x for backward when training.
    func forward(_ x: Act, keepForBackward: Bool) throws -> Act {
        guard x.c == inChannels else { throw ABNError.shapeMismatch("\(weight.name): expected \(inChannels) input channels, got \(x.c)") }
        let p = try primitives.get(n: x.n, c: x.c, h: x.h, w: x.w, k: outChannels, r: kernel, stride: stride, pad: padding,
                                   bias: false, relu: false, training: true)
        var y = Act(zerosN: x.n, c: outChannels, h: p.outH, w: p.outW)
        try p.forward(x.data, weight.value, nil, into: &y.data)
        input = keepForBackward ? x : nil
        return y
    }

    /// Accumulates dW; returns dx when asked (the first layer's is never needed).
    func backward(_ dy: Act, needInputGradient: Bool = true) throws -> Act? {
        guard let x = input else { throw ABNError.kernel("\(weight.name): backward without a training forward") }
        let p = try primitives.get(n: x.n, c: x.c, h: x.h, w: x.w, k: outChannels, r: kernel, stride: stride, pad: padding,
                                   bias: false, relu: false, training: true)
        if weight.trainable {
            var dw = [Float](repeating: 0, count: weight.value.count)
            try p.backwardWeights(x.data, dy.data, into: &dw)
            Vec.add(&weight.grad, dw)
        }
        input = nil
        guard needInputGradient else { return nil }
        var dx = Act(zerosN: x.n, c: x.c, h: x.h, w: x.w)
        try p.backwardData(dy.data, weight.value, into: &dx.data)
        return dx
    }

    /// Inference with BatchNorm folded in: y = conv(x, W·s) + b, optionally followed by ReLU.
    func forwardFolded(_ x: Act, weights: [Float], bias: [Float], relu: Bool) throws -> Act {
        let p = try primitives.get(n: x.n, c: x.c, h: x.h, w: x.w, k: outChannels, r: kernel, stride: stride, pad: padding,
                                   bias: true, relu: relu, training: false)
        var y = Act(zerosN: x.n, c: outChannels, h: p.outH, w: p.outW)
        try p.forward(x.data, weights, bias, into: &y.data)
        return y
    }

    func releasePrimitives() { primitives.removeAll() }
}
