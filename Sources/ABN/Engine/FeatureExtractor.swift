/// g(x): the stem (its convolution, BatchNorm and ReLU where the backbone has them, [max pooling]) and
/// the feature stages, as the description lists them.
final class FeatureExtractor {
    let conv1: Conv2d
    /// nil where the blocks start with their own BatchNorm (Wide ResNet's stem is conv1 alone).
    let bn1: BatchNorm2d?
    let maxpool: MaxPool3x3s2?
    let stages: [Stage]

    init(_ d: NetworkDescription, rng: inout InitRandom) {
        conv1 = Conv2d(name: d.stem.convName, spec: d.stem.conv, rng: &rng)
        bn1 = d.stem.norm.map { BatchNorm2d(name: $0, channels: d.stem.conv.outChannels) }
        maxpool = d.stem.maxPool ? MaxPool3x3s2() : nil
        stages = d.featureStages.map { Stage($0, rng: &rng) }
    }

    var entries: [StateEntry] {
        [.parameter(conv1.weight)] + (bn1.map { [.norm($0)] } ?? []) + stages.flatMap { $0.entries }
    }

    /// Inside the network activations are blocked; the input (3 channels) is plain.
    private var stemBlock: Int { Layout.block(forChannels: conv1.outChannels) }

    func forward(_ x: Act, training: Bool) throws -> Act {
        var h = try conv1.forward(x, keepForBackward: training, block: stemBlock)
        if let bn1 { h = try bn1.forward(h, training: training, relu: true) }
        if let maxpool { h = maxpool.forward(h, keepForBackward: training) }
        for s in stages { h = try s.forward(h, training: training) }
        return h
    }

    /// Evaluation mode, every BatchNorm folded into its convolution.
    func forwardFolded(_ x: Act, version: Int) throws -> Act {
        var h = try bn1.map { try conv1.forwardFolded(x, foldingIn: $0, version: version, epilogue: .relu, block: stemBlock) }
            ?? conv1.forwardUnfolded(x, version: version, epilogue: .none, block: stemBlock)
        if let maxpool { h = maxpool.forward(h, keepForBackward: false) }
        for s in stages { h = try s.forwardFolded(h, version: version) }
        return h
    }

    /// Accumulates the gradients from dL/dg(x); the input's gradient is never needed.
    func backward(_ dFeatures: Act) throws {
        var g = dFeatures
        for s in stages.reversed() { g = try s.backward(g) }
        if let maxpool { g = maxpool.backward(g) }
        if let bn1 { g = try bn1.backward(g) }
        _ = try conv1.backward(g, needInputGradient: false)
    }
}
