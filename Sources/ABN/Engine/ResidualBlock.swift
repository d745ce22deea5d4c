/// A ResNet block, Basic (two 3×3 convs) or Bottleneck (1×1, 3×3 with the stride, 1×1 to 4× planes),
/// with the optional downsample Sequential(1×1 conv with stride, BN):
///   Basic:      y = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))
///   Bottleneck: y = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x))
final class ResidualBlock {
    let convs: [Conv2d]
    let norms: [BatchNorm2d]
    let downsample: (conv: Conv2d, norm: BatchNorm2d)?
    // The block output, saved for the backward of its final ReLU.
    private var output: Act?

    init(name: String, inPlanes: Int, planes: Int, stride: Int, bottleneck: Bool, rng: inout InitRandom) {
        let expansion = bottleneck ? 4 : 1
        var convs: [Conv2d] = []
        var norms: [BatchNorm2d] = []
        if bottleneck {
            convs.append(Conv2d(name: name + ".conv1", inChannels: inPlanes, outChannels: planes, kernel: 1, rng: &rng))
            norms.append(BatchNorm2d(name: name + ".bn1", channels: planes))
            convs.append(Conv2d(name: name + ".conv2", inChannels: planes, outChannels: planes, kernel: 3, stride: stride, padding: 1, rng: &rng))
            norms.append(BatchNorm2d(name: name + ".bn2", channels: planes))
            convs.append(Conv2d(name: name + ".conv3", inChannels: planes, outChannels: planes * 4, kernel: 1, rng: &rng))
            norms.append(BatchNorm2d(name: name + ".bn3", channels: planes * 4))
        } else {
            convs.append(Conv2d(name: name + ".conv1", inChannels: inPlanes, outChannels: planes, kernel: 3, stride: stride, padding: 1, rng: &rng))
            norms.append(BatchNorm2d(name: name + ".bn1", channels: planes))
            convs.append(Conv2d(name: name + ".conv2", inChannels: planes, outChannels: planes, kernel: 3, padding: 1, rng: &rng))
            norms.append(BatchNorm2d(name: name + ".bn2", channels: planes))
        }
        self.convs = convs
        self.norms = norms
        if stride != 1 || inPlanes != planes * expansion {
            downsample = (Conv2d(name: name + ".downsample.0", inChannels: inPlanes, outChannels: planes * expansion,
                                 kernel: 1, stride: stride, rng: &rng),
                          BatchNorm2d(name: name + ".downsample.1", channels: planes * expansion))
        } else {
            downsample = nil
        }
    }

    /// (conv, bn) pairs in state_dict order, the downsample last.
    var layers: [(Conv2d, BatchNorm2d)] {
        var all = Array(zip(convs, norms))
        if let d = downsample { all.append((d.conv, d.norm)) }
        return all
    }

    // BatchNorm fuses the ReLUs and the residual add into its own passes over the data.
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
        let y = try norms[last].forward(try convs[last].forward(h, keepForBackward: training), training: training,
                                        relu: true, residual: shortcut)
        output = training ? y : nil
        return y
    }

    func backward(_ dy: Act) throws -> Act {
        guard let y = output else { throw ABNError.kernel("block backward without a training forward") }
        let g = Act(n: y.n, c: y.c, h: y.h, w: y.w, block: y.block, data: Vec.reluBackward(dy.reblocked(y.block).data, output: y.data))
        var dx = g
        for i in stride(from: convs.count - 1, through: 0, by: -1) {
            dx = try convs[i].backward(try norms[i].backward(dx))!
        }
        if let d = downsample {
            Vec.add(&dx.data, try d.conv.backward(try d.norm.backward(g))!.data)
        } else {
            Vec.add(&dx.data, g.data)
        }
        output = nil
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
        // The last conv adds the shortcut and applies the block's ReLU in its own kernel.
        let last = convs.count - 1
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

/// A stage: a sequence of blocks (layer1, layer2, …, att_layer3/4).
final class Stage {
    let blocks: [ResidualBlock]

    init(name: String, inPlanes: Int, planes: Int, count: Int, stride: Int, bottleneck: Bool, rng: inout InitRandom) {
        let expansion = bottleneck ? 4 : 1
        var blocks = [ResidualBlock(name: name + ".0", inPlanes: inPlanes, planes: planes, stride: stride,
                                    bottleneck: bottleneck, rng: &rng)]
        for i in 1..<max(count, 1) {
            blocks.append(ResidualBlock(name: name + ".\(i)", inPlanes: planes * expansion, planes: planes, stride: 1,
                                        bottleneck: bottleneck, rng: &rng))
        }
        self.blocks = blocks
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

    func forwardFolded(_ x: Act, version: Int) throws -> Act {
        var h = x
        for b in blocks { h = try b.forwardFolded(h, version: version) }
        return h
    }

    var layers: [(Conv2d, BatchNorm2d)] { blocks.flatMap { $0.layers } }
}
