/// What a stage runs: a block with its state_dict entries, a training forward and backward, and the
/// evaluation forward (BatchNorms folded into convolutions where they follow one).
protocol NetworkBlock: AnyObject {
    var entries: [StateEntry] { get }
    func forward(_ x: Act, training: Bool) throws -> Act
    func backward(_ dy: Act) throws -> Act
    /// backward for the parameters' gradients only, where nothing needs the block's input gradient
    /// (the first block after a frozen feature extractor).
    func backwardParameters(_ dy: Act) throws
    func forwardFolded(_ x: Act, version: Int) throws -> Act
}

extension NetworkBlock {
    /// Blocks that open with a BatchNorm (pre-activation, dense) need most of the input gradient's
    /// work for their own parameters: they run the whole backward.
    func backwardParameters(_ dy: Act) throws { _ = try backward(dy) }
}

/// A post-activation residual block (ResNet Basic/Bottleneck, ResNeXt, SE-ResNet): its convolutions,
/// each with its BatchNorm and a ReLU, but the last, which adds the shortcut (x, or a projection: 1×1
/// conv with the stride and BN) before its ReLU:
///   Basic:      y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
///   Bottleneck: y = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x))
/// With squeeze-excitation the last BN's output u becomes u·s (SqueezeExcitation) before the add.
final class ResidualBlock: NetworkBlock {
    let convs: [Conv2d]
    let norms: [BatchNorm2d]
    let downsample: (conv: Conv2d, norm: BatchNorm2d)?
    let squeeze: SqueezeExcitation?
    /// Whether the projection precedes fc1/fc2 in the state_dict (see SqueezeSpec).
    private let shortcutFirst: Bool
    // The block output, saved for the backward of its final ReLU.
    private var output: Act?

    init(name: String, inPlanes: Int, planes: Int, stride: Int, kind: BlockKind, rng: inout InitRandom) {
        let layout = kind.postActivationLayout(name: name, inPlanes: inPlanes, planes: planes, stride: stride)!
        var convs: [Conv2d] = []
        var norms: [BatchNorm2d] = []
        for c in layout.convs {
            convs.append(Conv2d(name: c.conv, spec: c.spec, rng: &rng))
            norms.append(BatchNorm2d(name: c.norm, channels: c.spec.outChannels))
        }
        self.convs = convs
        self.norms = norms
        // Built in state_dict order, so the initial weights draw from rng in that order.
        shortcutFirst = layout.squeeze?.shortcutFirst ?? true
        var squeeze: SqueezeExcitation?
        if !shortcutFirst { squeeze = layout.squeeze.map { SqueezeExcitation($0, rng: &rng) } }
        downsample = layout.shortcut.map { s in
            (Conv2d(name: s.conv, spec: s.spec, rng: &rng), BatchNorm2d(name: s.norm, channels: s.spec.outChannels))
        }
        if shortcutFirst { squeeze = layout.squeeze.map { SqueezeExcitation($0, rng: &rng) } }
        self.squeeze = squeeze
    }

    /// (conv, bn) pairs in state_dict order, the downsample last.
    var layers: [(Conv2d, BatchNorm2d)] {
        var all = Array(zip(convs, norms))
        if let d = downsample { all.append((d.conv, d.norm)) }
        return all
    }

    var entries: [StateEntry] {
        let main = zip(convs, norms).flatMap { [StateEntry.parameter($0.weight), .norm($1)] }
        let shortcut = downsample.map { [StateEntry.parameter($0.conv.weight), .norm($0.norm)] } ?? []
        let se = squeeze?.entries ?? []
        return shortcutFirst ? main + shortcut + se : main + se + shortcut
    }

    // BatchNorm fuses the ReLUs and the residual add into its own passes over the data; with
    // squeeze-excitation the scaling does the add and ReLU instead.
    func forward(_ x: Act, training: Bool) throws -> Act {
        var h = x
        for i in 0..<convs.count - 1 {
            h = try norms[i].forward(try convs[i].forward(h, keepForBackward: training), training: training, relu: true)
        }
        var shortcut = x
        if let d = downsample {
            shortcut = try d.norm.forward(try d.conv.forward(x, keepForBackward: training), training: training)
        }
        let last = convs.count - 1
        let y: Act
        if let squeeze {
            let u = try norms[last].forward(try convs[last].forward(h, keepForBackward: training), training: training)
            y = Channelwise.excited(u, factors: try squeeze.factors(u, keepForBackward: training), residual: shortcut, relu: true)
        } else {
            y = try norms[last].forward(try convs[last].forward(h, keepForBackward: training), training: training,
                                        relu: true, residual: shortcut)
        }
        output = training ? y : nil
        return y
    }

    func backward(_ dy: Act) throws -> Act { try backward(dy, needInputGradient: true)! }

    /// Without the input gradient the first convolution and the projection skip their backward data.
    func backwardParameters(_ dy: Act) throws { _ = try backward(dy, needInputGradient: false) }

    private func backward(_ dy: Act, needInputGradient: Bool) throws -> Act? {
        guard let y = output else { throw ABNError.kernel("block backward without a training forward") }
        output = nil
        let g = Act(n: y.n, c: y.c, h: y.h, w: y.w, block: y.block, data: Vec.reluBackward(dy.reblocked(y.block).data, output: y.data))
        var dh = try squeeze?.backward(g) ?? g
        for i in stride(from: convs.count - 1, through: 1, by: -1) {
            dh = try convs[i].backward(try norms[i].backward(dh))!
        }
        let dFirst = try convs[0].backward(try norms[0].backward(dh), needInputGradient: needInputGradient)
        // The projection's input gradient, or the identity shortcut's (dy itself); nil when not needed.
        let dShortcut: Act? = try downsample.map { try $0.conv.backward(try $0.norm.backward(g), needInputGradient: needInputGradient) } ?? g
        guard var dx = dFirst, let shortcut = dShortcut else { return nil }
        Vec.add(&dx.data, shortcut.data)
        return dx
    }

    /// Evaluation-mode forward with every BN folded into its convolution, ReLUs and the residual add fused.
    func forwardFolded(_ x: Act, version: Int) throws -> Act {
        var h = x
        for i in 0..<convs.count - 1 {
            h = try convs[i].forwardFolded(h, foldingIn: norms[i], version: version, epilogue: .relu)
        }
        var shortcut = x
        if let d = downsample {
            shortcut = try d.conv.forwardFolded(x, foldingIn: d.norm, version: version, epilogue: .none)
        }
        let last = convs.count - 1
        if let squeeze {
            // The scale depends on the whole of u, so it comes after the kernel, with the add and ReLU.
            let u = try convs[last].forwardFolded(h, foldingIn: norms[last], version: version, epilogue: .none)
            return Channelwise.excited(u, factors: try squeeze.factors(u, keepForBackward: false), residual: shortcut, relu: true)
        }
        // The last conv adds the shortcut and applies the block's ReLU in its own kernel.
        return try convs[last].forwardFolded(h, foldingIn: norms[last], version: version, epilogue: .sumRelu, residual: shortcut)
    }
}

/// W' = W·s per output channel and b' = shift, so conv(x, W') + b' = bn(conv(x, W)) in evaluation.
func fold(_ conv: Conv2d, _ bn: BatchNorm2d) -> (weights: [Float], bias: [Float]) {
    let (scale, shift) = bn.evaluationAffine
    var w = conv.weight.value
    let per = w.count / conv.outChannels
    for o in 0..<conv.outChannels {
        for i in 0..<per { w[o * per + i] *= scale[o] }
    }
    return (w, shift)
}

/// A stage: a sequence of blocks (layer1, layer2, …, att_layer3/4) as its description says.
final class Stage {
    let blocks: [NetworkBlock]

    init(_ d: StageDescription, rng: inout InitRandom) {
        blocks = (0..<max(d.count, 1)).map { i in
            Self.block(d.block, name: d.block.blockName(stage: d.name, index: i), inPlanes: d.blockInput(i),
                       planes: d.planes, stride: i == 0 ? d.stride : 1, rng: &rng)
        }
    }

    private static func block(_ kind: BlockKind, name: String, inPlanes: Int, planes: Int, stride: Int,
                              rng: inout InitRandom) -> NetworkBlock {
        switch kind {
        case .basic, .bottleneck, .resnext, .squeezeExcitation:
            return ResidualBlock(name: name, inPlanes: inPlanes, planes: planes, stride: stride, kind: kind, rng: &rng)
        case .preActivation(let dropout):
            return PreActivationBlock(name: name, inPlanes: inPlanes, planes: planes, stride: stride, dropout: dropout, rng: &rng)
        case .dense(let growth, let dropout):
            return DenseLayer(name: name, inPlanes: inPlanes, growth: growth, dropout: dropout, rng: &rng)
        case .transition:
            return Transition(name: name, inPlanes: inPlanes, outPlanes: planes, rng: &rng)
        }
    }

    func forward(_ x: Act, training: Bool) throws -> Act {
        var h = x
        for b in blocks { h = try b.forward(h, training: training) }
        return h
    }

    func backward(_ dy: Act) throws -> Act {
        var g = dy
        for b in blocks.reversed() { g = try b.backward(g) }
        return g
    }

    /// backward without the stage's input gradient (its first block's backward data skipped).
    func backwardParameters(_ dy: Act) throws {
        var g = dy
        for b in blocks.dropFirst().reversed() { g = try b.backward(g) }
        try blocks[0].backwardParameters(g)
    }

    func forwardFolded(_ x: Act, version: Int) throws -> Act {
        var h = x
        for b in blocks { h = try b.forwardFolded(h, version: version) }
        return h
    }

    var entries: [StateEntry] { blocks.flatMap { $0.entries } }
}
