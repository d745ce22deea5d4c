/// DenseNet-BC's bottleneck layer, as the official densenet.py runs it:
///   out = dropout(conv2(relu(bn2(conv1(relu(bn1(x))))))),  y = [x, out] along the channels
/// conv1 is 1×1 to 4·growth, conv2 3×3 (padding 1) to growth. Nothing is added: the layer's input
/// passes on unchanged in the first channels of y, so its gradient is dy's first channels plus the
/// gradient through the convolutions.
final class DenseLayer: NetworkBlock {
    let bn1: BatchNorm2d
    let conv1: Conv2d
    let bn2: BatchNorm2d
    let conv2: Conv2d
    let dropout: Dropout
    let growth: Int
    private let concat = ChannelConcat()
    /// The last training forward's input geometry (x's channels and layout), for splitting dy.
    private var input: Geometry?

    init(name: String, inPlanes: Int, growth: Int, dropout p: Float, rng: inout InitRandom) {
        self.growth = growth
        bn1 = BatchNorm2d(name: name + ".bn1", channels: inPlanes)
        conv1 = Conv2d(name: name + ".conv1", inChannels: inPlanes, outChannels: 4 * growth, kernel: 1, rng: &rng)
        bn2 = BatchNorm2d(name: name + ".bn2", channels: 4 * growth)
        conv2 = Conv2d(name: name + ".conv2", inChannels: 4 * growth, outChannels: growth, kernel: 3, padding: 1, rng: &rng)
        dropout = Dropout(name: name, probability: p)
    }

    var entries: [StateEntry] { [.norm(bn1), .parameter(conv1.weight), .norm(bn2), .parameter(conv2.weight)] }

    /// The concatenation's layout: blocked only where x's channels and the growth both split into
    /// blocks (growth 12 does not split into 8 or 16, so the official DenseNet-BC concatenates plain,
    /// each sample two contiguous copies); conv2 writes its output in that layout directly.
    private func concatBlock(inputChannels: Int) -> Int { Layout.block(forAll: [inputChannels, growth]) }

    /// conv1's output layout: 4·growth channels are blocked wherever 4·growth splits (48 does).
    private var bottleneckBlock: Int { Layout.block(forChannels: 4 * growth) }

    func forward(_ x: Act, training: Bool) throws -> Act {
        let a = try bn1.forward(x, training: training, relu: true)
        let h = try bn2.forward(try conv1.forward(a, keepForBackward: training, block: bottleneckBlock), training: training, relu: true)
        let block = concatBlock(inputChannels: x.c)
        let out = dropout.forward(try conv2.forward(h, keepForBackward: training, block: block), training: training)
        input = training ? x.geometry : nil
        return try concat.concatenated(x, out, block: block)
    }

    func backward(_ dy: Act) throws -> Act {
        guard let g = input else { throw ABNError.kernel("dense layer backward without a training forward") }
        input = nil
        // The new channels' gradient in the layout conv2 wrote them in (what its backward reads).
        let dOut = try concat.channels(dy, g.c..<g.c + growth, block: concatBlock(inputChannels: g.c))
        let dh = try conv2.backward(dropout.backward(dOut))!
        var dx = try bn1.backward(try conv1.backward(try bn2.backward(dh))!)
        // x's own channels pass straight through the concatenation.
        Vec.add(&dx.data, try concat.channels(dy, 0..<g.c, block: dx.block).data)
        return dx
    }

    /// Evaluation: bn1 as its affine map with the ReLU (it precedes its convolution, so it cannot be
    /// folded), bn2 folded into conv1 with the ReLU, dropout the identity.
    func forwardFolded(_ x: Act, version: Int) throws -> Act {
        let a = try bn1.forward(x, training: false, relu: true)
        let h = try conv1.forwardFolded(a, foldingIn: bn2, version: version, epilogue: .relu, block: bottleneckBlock)
        let block = concatBlock(inputChannels: x.c)
        let out = try conv2.forwardUnfolded(h, version: version, epilogue: .none, block: block)
        return try concat.concatenated(x, out, block: block)
    }
}

/// DenseNet's transition between dense blocks: y = avg_pool2d(conv1(relu(bn1(x))), 2), conv1 1×1 to
/// ⌊channels / compression⌋.
final class Transition: NetworkBlock {
    let bn1: BatchNorm2d
    let conv1: Conv2d
    let pool = AveragePool(window: 2)

    init(name: String, inPlanes: Int, outPlanes: Int, rng: inout InitRandom) {
        bn1 = BatchNorm2d(name: name + ".bn1", channels: inPlanes)
        conv1 = Conv2d(name: name + ".conv1", inChannels: inPlanes, outChannels: outPlanes, kernel: 1, rng: &rng)
    }

    var entries: [StateEntry] { [.norm(bn1), .parameter(conv1.weight)] }

    /// The output is blocked wherever its channels split, whatever the (often plain) input's layout.
    private var outputBlock: Int { Layout.block(forChannels: conv1.outChannels) }

    func forward(_ x: Act, training: Bool) throws -> Act {
        let a = try bn1.forward(x, training: training, relu: true)
        return try pool.forward(try conv1.forward(a, keepForBackward: training, block: outputBlock), keepForBackward: training)
    }

    func backward(_ dy: Act) throws -> Act {
        try bn1.backward(try conv1.backward(try pool.backward(dy))!)
    }

    /// Evaluation: bn1 as its affine map with the ReLU, conv1 as it is (no BN after it).
    func forwardFolded(_ x: Act, version: Int) throws -> Act {
        let a = try bn1.forward(x, training: false, relu: true)
        return try pool.forward(try conv1.forwardUnfolded(a, version: version, epilogue: .none, block: outputBlock), keepForBackward: false)
    }
}
