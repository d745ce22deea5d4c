/// Conv2d without bias (as every convolution of the ABN backbones): weight [out, in/groups, k, k].
/// Outputs keep the input's layout family: blocked in, blocked out (where the output channels
/// split into blocks), plain in, plain out, unless the caller asks for a layout.
final class Conv2d {
    let weight: Parameter
    let inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, groups: Int
    private var primitives = PrimitiveCache<ConvPrimitive.Key, ConvPrimitive>()
    private var input: Act?
    private var outputBlock = 1
    /// Keeps inference on oneDNN's direct kernel instead of the Winograd one (for tests).
    var directOnly = false
    /// This convolution with its BatchNorm folded in, for the model version that made it. The weights
    /// are dropped once the kernel keeps its own copy (a model's worth of memory at inference), and
    /// folded again only for a kernel that has not got them (another batch size or precision).
    private var folded: (version: Int, weights: [Float]?, bias: [Float])?

    init(name: String, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1,
         rng: inout InitRandom) {
        precondition(groups >= 1 && inChannels % groups == 0 && outChannels % groups == 0, "\(name): channels must divide into groups")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.groups = groups
        weight = Self.initialWeight(name: name, inChannels: inChannels, outChannels: outChannels, kernel: kernel,
                                    groups: groups, rng: &rng)
    }

    /// The official init: N(0, sqrt(2 / (k·k·out))), weight [out, in/groups, k, k].
    static func initialWeight(name: String, inChannels: Int, outChannels: Int, kernel: Int, groups: Int = 1,
                              rng: inout InitRandom) -> Parameter {
        let std = (2.0 / Double(kernel * kernel * outChannels)).squareRoot()
        let count = outChannels * (inChannels / groups) * kernel * kernel
        return Parameter(name: name + ".weight", shape: [outChannels, inChannels / groups, kernel, kernel],
                         value: (0..<count).map { _ in Float(rng.normal() * std) })
    }

    convenience init(name: String, spec s: ConvSpec, rng: inout InitRandom) {
        self.init(name: name, inChannels: s.inChannels, outChannels: s.outChannels, kernel: s.kernel, stride: s.stride,
                  padding: s.padding, groups: s.groups, rng: &rng)
    }

    private func defaultBlock(for x: Act) -> Int {
        x.block > 1 ? Layout.block(forChannels: outChannels) : 1
    }

    private func primitive(_ x: Act, outputBlock: Int, training: Bool, epilogue: ConvEpilogue) throws -> ConvPrimitive {
        try primitives.get(ConvPrimitive.Key(n: x.n, c: x.c, h: x.h, w: x.w, k: outChannels, r: kernel, stride: stride, pad: padding,
                                             srcBlock: x.block, dstBlock: outputBlock, groups: groups, training: training,
                                             epilogue: epilogue, directOnly: directOnly,
                                             bf16: (training ? ConvolutionPrecision.training : .inference) == .bf16), make: ConvPrimitive.init)
    }

    /// x [N, in, H, W] → y [N, out, H', W'] (in layout `block`, by default the input's family);
    /// keeps x for backward when training.
    func forward(_ x: Act, keepForBackward: Bool, block: Int? = nil) throws -> Act {
        guard x.c == inChannels else { throw ABNError.shapeMismatch("\(weight.name): expected \(inChannels) input channels, got \(x.c)") }
        let b = block ?? defaultBlock(for: x)
        let p = try primitive(x, outputBlock: b, training: true, epilogue: .none)
        var y = Act(uninitializedN: x.n, c: outChannels, h: p.outH, w: p.outW, block: b)
        try p.forward(x.data, weight.value, nil, into: &y.data)
        input = keepForBackward ? x : nil
        outputBlock = b
        return y
    }

    /// Accumulates dW; returns dx (in the input's layout) when asked (the first layer's is never needed).
    func backward(_ dy: Act, needInputGradient: Bool = true) throws -> Act? {
        guard let x = input else { throw ABNError.kernel("\(weight.name): backward without a training forward") }
        let p = try primitive(x, outputBlock: outputBlock, training: true, epilogue: .none)
        let g = dy.reblocked(outputBlock)
        if weight.trainable { try weight.addGradient { try p.backwardWeights(x.data, g.data, into: &$0) } }
        input = nil
        guard needInputGradient else { return nil }
        var dx = Act(uninitializedN: x.n, c: x.c, h: x.h, w: x.w, block: x.block)
        try p.backwardData(g.data, weight.value, into: &dx.data)
        return dx
    }

    /// Whether the forward pass for input `x` (in its layout) runs on the Winograd kernel: the
    /// folded inference one with `epilogue`, or the training one.
    func usesWinograd(_ x: Act, training: Bool = false, epilogue: ConvEpilogue = .none, block: Int? = nil) throws -> Bool {
        try primitive(x, outputBlock: block ?? defaultBlock(for: x), training: training,
                      epilogue: training ? .none : epilogue).usesWinograd
    }

    /// Whether folded inference with this residual epilogue reads the residual where it lies (the
    /// Winograd kernel, oneDNN's binary post-op) instead of copying it into the output first.
    func readsResidualWhereItLies(_ x: Act, epilogue: ConvEpilogue, block: Int? = nil) throws -> Bool {
        try primitive(x, outputBlock: block ?? defaultBlock(for: x), training: false, epilogue: epilogue).readsResidualWhereItLies
    }

    /// Whether training's backward weights for input `x` (in its layout) run on the Winograd kernel.
    func backwardWeightsUseWinograd(_ x: Act, block: Int? = nil) throws -> Bool {
        try primitive(x, outputBlock: block ?? defaultBlock(for: x), training: true, epilogue: .none).backwardWeightsUseWinograd
    }

    /// Inference with `bn` folded in (see `fold`), the folded weights made once per model `version`.
    func forwardFolded(_ x: Act, foldingIn bn: BatchNorm2d, version: Int, epilogue: ConvEpilogue, residual: Act? = nil,
                       block: Int? = nil) throws -> Act {
        let p = try primitive(x, outputBlock: block ?? defaultBlock(for: x), training: false, epilogue: epilogue)
        if folded?.version != version || (folded?.weights == nil && !p.holdsWeights(version: version)) {
            let f = fold(self, bn)
            folded = (version, f.weights, f.bias)
        }
        let y = try forwardFolded(x, weights: folded!.weights ?? [], bias: folded!.bias, version: version, epilogue: epilogue,
                                  residual: residual, block: block)
        if p.keepsWeights { folded!.weights = nil }
        return y
    }

    /// Inference with no BatchNorm after the convolution (a pre-activation block's last one, a stem
    /// without BN): its own weights and a zero bias, then the epilogue.
    func forwardUnfolded(_ x: Act, version: Int, epilogue: ConvEpilogue, residual: Act? = nil, block: Int? = nil) throws -> Act {
        try forwardFolded(x, weights: weight.value, bias: [Float](repeating: 0, count: outChannels), version: version,
                          epilogue: epilogue, residual: residual, block: block)
    }

    /// Inference with BatchNorm folded in: y = conv(x, W·s) + b, then the epilogue. For `.sum` and
    /// `.sumRelu` the residual is added (before the ReLU). `version` names the folded weights (the model's
    /// parameter version), so they are prepared for the kernel once per version.
    func forwardFolded(_ x: Act, weights: [Float], bias: [Float], version: Int, epilogue: ConvEpilogue, residual: Act? = nil,
                       block: Int? = nil) throws -> Act {
        let b = block ?? defaultBlock(for: x)
        let p = try primitive(x, outputBlock: b, training: false, epilogue: epilogue)
        var added: [Float]?
        if epilogue.addsResidual {
            guard let r = residual, r.n == x.n, r.c == outChannels, r.h == p.outH, r.w == p.outW else {
                throw ABNError.shapeMismatch("\(weight.name): residual does not match the output")
            }
            added = r.block == b ? r.data : r.reblocked(b).data
        }
        var y = Act(uninitializedN: x.n, c: outChannels, h: p.outH, w: p.outW, block: b)
        try p.forward(x.data, weights, weightsVersion: version, bias, residual: added, into: &y.data)
        return y
    }
}
