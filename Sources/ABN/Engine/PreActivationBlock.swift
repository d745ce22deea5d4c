/// Wide ResNet's pre-activation Basic block, as the official wrn.py runs it:
///   a = relu(bn1(x)),  h = dropout(relu(bn2(conv1(a)))),  y = conv2(h) + (x, or convShortcut(a))
/// The projection (1×1 with the stride, no BN) exists where the channels change, and it reads the
/// pre-activated a; the identity shortcut reads x itself. No ReLU after the sum: the next block's
/// bn1 (or the network's final BN) comes first.
final class PreActivationBlock: NetworkBlock {
    let bn1: BatchNorm2d
    let conv1: Conv2d
    let bn2: BatchNorm2d
    let conv2: Conv2d
    let convShortcut: Conv2d?
    let dropout: Dropout

    init(name: String, inPlanes: Int, planes: Int, stride: Int, dropout p: Float, rng: inout InitRandom) {
        bn1 = BatchNorm2d(name: name + ".bn1", channels: inPlanes)
        conv1 = Conv2d(name: name + ".conv1", inChannels: inPlanes, outChannels: planes, kernel: 3, stride: stride, padding: 1, rng: &rng)
        bn2 = BatchNorm2d(name: name + ".bn2", channels: planes)
        conv2 = Conv2d(name: name + ".conv2", inChannels: planes, outChannels: planes, kernel: 3, padding: 1, rng: &rng)
        convShortcut = BlockKind.preActivationProjects(inPlanes: inPlanes, planes: planes, stride: stride)
            ? Conv2d(name: name + ".convShortcut", inChannels: inPlanes, outChannels: planes, kernel: 1, stride: stride, rng: &rng)
            : nil
        dropout = Dropout(name: name, probability: p)
    }

    var entries: [StateEntry] {
        [.norm(bn1), .parameter(conv1.weight), .norm(bn2), .parameter(conv2.weight)] + (convShortcut.map { [.parameter($0.weight)] } ?? [])
    }

    func forward(_ x: Act, training: Bool) throws -> Act {
        let a = try bn1.forward(x, training: training, relu: true)
        let h = dropout.forward(try bn2.forward(try conv1.forward(a, keepForBackward: training), training: training, relu: true),
                                training: training)
        var y = try conv2.forward(h, keepForBackward: training)
        let shortcut = try convShortcut.map { try $0.forward(a, keepForBackward: training) } ?? x
        Vec.add(&y.data, shortcut.reblocked(y.block).data)
        return y
    }

    func backward(_ dy: Act) throws -> Act {
        let dh = dropout.backward(try conv2.backward(dy)!)
        var da = try conv1.backward(try bn2.backward(dh))!
        if let s = convShortcut {
            Vec.add(&da.data, try s.backward(dy)!.reblocked(da.block).data)
            return try bn1.backward(da)
        }
        var dx = try bn1.backward(da)
        Vec.add(&dx.data, dy.reblocked(dx.block).data)
        return dx
    }

    /// Evaluation: bn1 as its affine map with the ReLU, bn2 folded into conv1, dropout the identity,
    /// and the shortcut added in conv2's own kernel.
    func forwardFolded(_ x: Act, version: Int) throws -> Act {
        let a = try bn1.forward(x, training: false, relu: true)
        let h = try conv1.forwardFolded(a, foldingIn: bn2, version: version, epilogue: .relu)
        let shortcut = try convShortcut.map { try $0.forwardUnfolded(a, version: version, epilogue: .none) } ?? x
        return try conv2.forwardUnfolded(h, version: version, epilogue: .sum, residual: shortcut)
    }
}

/// Inverted dropout as torch's F.dropout: in training each value is zeroed with probability p and the
/// rest scaled by 1/(1−p); in evaluation the identity. The masks come from a generator seeded by the
/// block's name, so a training run is reproducible (it cannot match torch's generator, so the parity
/// tests run with p = 0 and the mask is tested on its own).
final class Dropout {
    let probability: Float
    private var random: InitRandom
    /// The last training forward's factors (0 or 1/(1−p)) and layout, for backward.
    private var mask: (factors: [Float], block: Int)?

    init(name: String, probability: Float) {
        self.probability = probability
        var seed: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a of the name
        for b in name.utf8 { seed = (seed ^ UInt64(b)) &* 0x100_0000_01B3 }
        random = InitRandom(seed: seed)
    }

    func forward(_ x: Act, training: Bool) -> Act {
        guard training, probability > 0 else { mask = nil; return x }
        let keep = 1 / (1 - probability), p = Double(probability)
        let factors = (0..<x.data.count).map { _ in random.unit() < p ? 0 : keep }
        var y = x
        for i in y.data.indices { y.data[i] *= factors[i] }
        mask = (factors, x.block)
        return y
    }

    func backward(_ dy: Act) -> Act {
        guard let m = mask else { return dy }
        mask = nil
        var dx = dy.reblocked(m.block)
        for i in dx.data.indices { dx.data[i] *= m.factors[i] }
        return dx
    }
}
