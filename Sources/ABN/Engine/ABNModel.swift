import Foundation

/// The outputs of one forward pass.
public struct ABNOutput {
    /// Attention-branch logits [N, K]: GAP of att_conv2's K maps.
    public var attentionLogits: Tensor
    /// Perception-branch logits [N, K]: the decision.
    public var perceptionLogits: Tensor
    /// The attention map M(x) [N, 1, h, w], after the sigmoid.
    public var attentionMap: Tensor
}

/// Which parts a training step updates.
public enum TrainableBranches: String, CaseIterable, Sendable, Codable {
    /// Everything (ordinary training).
    case all
    /// The feature extractor frozen: no gradient, no update, BatchNorm statistics fixed.
    case attentionAndPerception = "attention+perception"
    /// Only the attention branch; the perception branch is frozen too (gradients still pass through it to M).
    case attention
}

/// Human-edited maps M′ for a batch: one [1, h, w] map per sample, or nil where there is none.
public struct MapTargets {
    public var maps: [Tensor?]
    public var gamma: Float
    public init(maps: [Tensor?], gamma: Float) {
        self.maps = maps
        self.gamma = gamma
    }
}

public struct StepStats: Sendable {
    public var attentionLoss: Float
    public var perceptionLoss: Float
    public var mapLoss: Float
    public var attentionCorrect: Int
    public var perceptionCorrect: Int
    public var count: Int
}

/// ResNet-ABN exactly as the official code builds it (module structure, state_dict names, init):
/// feature extractor (conv1, bn1, [maxpool], layer1…), attention branch (att_layerN, bn_att, att_conv,
/// bn_att2, att_conv2 → GAP logits, att_conv3 → bn_att3 → sigmoid map), perception branch
/// (g·(1+M) or g·M, layerN, GAP, fc).
public final class ABNModel {
    public let config: ModelConfig
    let conv1: Conv2d
    let bn1: BatchNorm2d
    let maxpool: MaxPool3x3s2?
    let featureStages: [Stage]
    let attentionStage: Stage
    let bnAtt: BatchNorm2d
    let attConv: Conv2d
    let bnAtt2: BatchNorm2d
    let attConv2: Conv2d
    let attConv3: Conv2d
    let bnAtt3: BatchNorm2d
    let perceptionStage: Stage
    let fc: Linear
    /// Bumped whenever parameters or statistics change, so folded inference weights are rebuilt.
    private var version = 0
    /// The same for the feature extractor alone: a fine-tuning step leaves it unchanged, so its folded
    /// weights survive the step.
    private var featureVersion = 0
    public let mapHeight: Int
    public let mapWidth: Int
    let featureChannels: Int

    public init(config: ModelConfig, seed: UInt64) throws {
        guard config.inputChannels == 1 || config.inputChannels == 3 else {
            throw ABNError.invalidArchitecture("input channels must be 1 or 3, got \(config.inputChannels)")
        }
        guard config.numClasses >= 1, config.numClasses <= 100_000 else {
            throw ABNError.invalidArchitecture("number of classes must be at least 1, got \(config.numClasses)")
        }
        let cifar = config.arch.family == .cifar
        // The feature extractor downsamples by 2 (CIFAR: layer2) or 16 (ImageNet: conv1, maxpool, layer2, layer3).
        let minimum = cifar ? 4 : 32
        guard config.inputHeight >= minimum, config.inputWidth >= minimum,
              config.inputHeight <= 4096, config.inputWidth <= 4096 else {
            throw ABNError.invalidArchitecture("input \(config.inputHeight)×\(config.inputWidth) is too small or too large for \(config.arch.name) (at least \(minimum)×\(minimum))")
        }
        self.config = config
        Allocator.keepFreedBlocks
        var rng = InitRandom(seed: seed)
        let bottleneck = config.arch.usesBottleneck
        let expansion = bottleneck ? 4 : 1
        let blocks = config.arch.blocksPerStage
        let k = config.numClasses
        func down(_ n: Int, _ times: Int) -> Int { var v = n; for _ in 0..<times { v = (v + 1) / 2 }; return v }
        if cifar {
            conv1 = Conv2d(name: "conv1", inChannels: config.inputChannels, outChannels: 16, kernel: 3, padding: 1, rng: &rng)
            bn1 = BatchNorm2d(name: "bn1", channels: 16)
            maxpool = nil
            featureStages = [
                Stage(name: "layer1", inPlanes: 16, planes: 16, count: blocks[0], stride: 1, bottleneck: bottleneck, rng: &rng),
                Stage(name: "layer2", inPlanes: 16 * expansion, planes: 32, count: blocks[1], stride: 2, bottleneck: bottleneck, rng: &rng),
            ]
            featureChannels = 32 * expansion
            attentionStage = Stage(name: "att_layer3", inPlanes: featureChannels, planes: 64, count: blocks[2], stride: 1, bottleneck: bottleneck, rng: &rng)
            mapHeight = down(config.inputHeight, 1)
            mapWidth = down(config.inputWidth, 1)
        } else {
            conv1 = Conv2d(name: "conv1", inChannels: config.inputChannels, outChannels: 64, kernel: 7, stride: 2, padding: 3, rng: &rng)
            bn1 = BatchNorm2d(name: "bn1", channels: 64)
            maxpool = MaxPool3x3s2()
            featureStages = [
                Stage(name: "layer1", inPlanes: 64, planes: 64, count: blocks[0], stride: 1, bottleneck: bottleneck, rng: &rng),
                Stage(name: "layer2", inPlanes: 64 * expansion, planes: 128, count: blocks[1], stride: 2, bottleneck: bottleneck, rng: &rng),
                Stage(name: "layer3", inPlanes: 128 * expansion, planes: 256, count: blocks[2], stride: 2, bottleneck: bottleneck, rng: &rng),
            ]
            featureChannels = 256 * expansion
            attentionStage = Stage(name: "att_layer4", inPlanes: featureChannels, planes: 512, count: blocks[3], stride: 1, bottleneck: bottleneck, rng: &rng)
            // conv1 (7×7/2, pad 3) and maxpool (3/2, pad 1) both map n to ⌊(n−1)/2⌋+1; then layer2, layer3.
            mapHeight = down(config.inputHeight, 4)
            mapWidth = down(config.inputWidth, 4)
        }
        let branchChannels = (cifar ? 64 : 512) * expansion
        bnAtt = BatchNorm2d(name: "bn_att", channels: branchChannels)
        attConv = Conv2d(name: "att_conv", inChannels: branchChannels, outChannels: k, kernel: 1, rng: &rng)
        bnAtt2 = BatchNorm2d(name: "bn_att2", channels: k)
        attConv2 = Conv2d(name: "att_conv2", inChannels: k, outChannels: k, kernel: 1, rng: &rng)
        attConv3 = Conv2d(name: "att_conv3", inChannels: k, outChannels: 1, kernel: 3, padding: 1, rng: &rng)
        bnAtt3 = BatchNorm2d(name: "bn_att3", channels: 1)
        perceptionStage = Stage(name: cifar ? "layer3" : "layer4", inPlanes: featureChannels, planes: cifar ? 64 : 512,
                                count: blocks[cifar ? 2 : 3], stride: 2, bottleneck: bottleneck, rng: &rng)
        fc = Linear(name: "fc", inFeatures: branchChannels, outFeatures: k, rng: &rng)
    }

    // MARK: - Parameters and state

    /// Conv/BN pairs and loose layers of each part, in state_dict order.
    private var featureLayers: (convs: [Conv2d], norms: [BatchNorm2d]) {
        var convs = [conv1], norms = [bn1]
        for s in featureStages { for (c, b) in s.layers { convs.append(c); norms.append(b) } }
        return (convs, norms)
    }

    private var attentionLayers: (convs: [Conv2d], norms: [BatchNorm2d]) {
        var convs: [Conv2d] = [], norms: [BatchNorm2d] = []
        for (c, b) in attentionStage.layers { convs.append(c); norms.append(b) }
        return (convs + [attConv, attConv2, attConv3], norms + [bnAtt, bnAtt2, bnAtt3])
    }

    private var perceptionLayers: (convs: [Conv2d], norms: [BatchNorm2d]) {
        var convs: [Conv2d] = [], norms: [BatchNorm2d] = []
        for (c, b) in perceptionStage.layers { convs.append(c); norms.append(b) }
        return (convs, norms)
    }

    /// Every named entry in the official state_dict order.
    private enum Entry {
        case parameter(Parameter)
        case norm(BatchNorm2d)
    }

    private var entries: [Entry] {
        var e: [Entry] = [.parameter(conv1.weight), .norm(bn1)]
        func stage(_ s: Stage) { for (c, b) in s.layers { e.append(.parameter(c.weight)); e.append(.norm(b)) } }
        featureStages.forEach(stage)
        stage(attentionStage)
        e += [.norm(bnAtt), .parameter(attConv.weight), .norm(bnAtt2), .parameter(attConv2.weight),
              .parameter(attConv3.weight), .norm(bnAtt3)]
        stage(perceptionStage)
        e += [.parameter(fc.weight), .parameter(fc.bias)]
        return e
    }

    /// Learnable parameters in state_dict order (BN weight and bias included).
    var parameters: [Parameter] {
        entries.flatMap { entry -> [Parameter] in
            switch entry {
            case .parameter(let p): return [p]
            case .norm(let b): return [b.weight, b.bias]
            }
        }
    }

    public func stateDict() -> [(name: String, tensor: StateTensor)] {
        var out: [(name: String, tensor: StateTensor)] = []
        for entry in entries {
            switch entry {
            case .parameter(let p):
                out.append((p.name, .float32(Tensor(shape: p.shape, data: p.value))))
            case .norm(let b):
                out.append((b.weight.name, .float32(Tensor(shape: [b.channels], data: b.weight.value))))
                out.append((b.bias.name, .float32(Tensor(shape: [b.channels], data: b.bias.value))))
                out.append((b.name + ".running_mean", .float32(Tensor(shape: [b.channels], data: b.runningMean))))
                out.append((b.name + ".running_var", .float32(Tensor(shape: [b.channels], data: b.runningVar))))
                out.append((b.name + ".num_batches_tracked", .int64(shape: [], values: [b.numBatchesTracked])))
            }
        }
        return out
    }

    /// Strict: every name present, none extra, every shape and dtype right; nothing changes on failure.
    public func loadStateDict(_ tensors: [String: StateTensor]) throws {
        let expected = stateDict()
        let expectedNames = Set(expected.map(\.name))
        var missing: [String] = [], mismatched: [String] = []
        for (name, tensor) in expected {
            guard let given = tensors[name] else { missing.append(name); continue }
            switch (tensor, given) {
            case (.float32(let a), .float32(let b)) where a.shape == b.shape: break
            case (.int64(let sa, _), .int64(let sb, _)) where sa == sb || (sa.isEmpty && sb == [1]): break
            default: mismatched.append("\(name) \(given.shape) (expected \(tensor.shape))")
            }
        }
        let unexpected = tensors.keys.filter { !expectedNames.contains($0) }.sorted()
        guard missing.isEmpty, unexpected.isEmpty, mismatched.isEmpty else {
            throw ABNError.stateDict(missing: missing, unexpected: unexpected, mismatched: mismatched)
        }
        func floats(_ name: String) -> [Float] {
            if case .float32(let t)? = tensors[name] { return t.data }
            return []
        }
        for entry in entries {
            switch entry {
            case .parameter(let p): p.value = floats(p.name)
            case .norm(let b):
                b.weight.value = floats(b.weight.name)
                b.bias.value = floats(b.bias.name)
                b.runningMean = floats(b.name + ".running_mean")
                b.runningVar = floats(b.name + ".running_var")
                if case .int64(_, let v)? = tensors[b.name + ".num_batches_tracked"] { b.numBatchesTracked = v.first ?? 0 }
            }
        }
        version += 1
        featureVersion += 1
    }

    // MARK: - Forward

    private func checkInput(_ x: Tensor) throws -> Act {
        guard x.shape.count == 4, x.shape[0] >= 1, x.shape[1] == config.inputChannels else {
            throw ABNError.shapeMismatch("input must be [N, \(config.inputChannels), H, W], got \(x.shape)")
        }
        guard x.shape[2] == config.inputHeight, x.shape[3] == config.inputWidth else {
            throw ABNError.shapeMismatch("input is \(x.shape[2])×\(x.shape[3]), the model expects \(config.inputHeight)×\(config.inputWidth)")
        }
        return Act(n: x.shape[0], c: x.shape[1], h: x.shape[2], w: x.shape[3], data: x.data)
    }

    /// Everything a backward pass needs from the forward pass that is not kept inside the layers.
    private struct Trace {
        var features: Act
        var attentionMaps: Act      // relu(bn_att2(att_conv(...))): K maps
        var map: Act                // sigmoid output [N, 1, h, w]
        var perceptionOutput: Geometry
        var attentionLogits: [Float]
        var perceptionLogits: [Float]
    }

    /// Inside the network activations are blocked; the input (3 channels) is plain.
    private var stemBlock: Int { Layout.block(forChannels: conv1.outChannels) }

    private func stem(_ x: Act, training: Bool) throws -> Act {
        var h = try bn1.forward(try conv1.forward(x, keepForBackward: training, block: stemBlock), training: training, relu: true)
        if let maxpool { h = maxpool.forward(h, keepForBackward: training) }
        return h
    }

    /// With the feature extractor frozen (fine-tuning) nothing flows back into it and its BatchNorms use
    /// their running statistics, so its forward is the folded inference one: no activations kept.
    private func runTrace(_ x: Act, training: Bool, frozenFeatures: Bool = false) throws -> Trace {
        var fe: Act
        if frozenFeatures {
            fe = try featuresFolded(x)
        } else {
            fe = try stem(x, training: training)
            for s in featureStages { fe = try s.forward(fe, training: training) }
        }
        let (logits, maps, map) = try attend(fe, training: training)
        let rx = apply(map: map, to: fe)
        let p = try perceptionStage.forward(rx, training: training)
        let pooled = Channelwise.mean(p)
        let perLogits = fc.forward(pooled, batch: p.n, keepForBackward: training)
        return Trace(features: fe, attentionMaps: maps, map: map, perceptionOutput: p.geometry,
                     attentionLogits: logits, perceptionLogits: perLogits)
    }

    /// The attention branch from g(x): (logits, K maps, M). In evaluation the att_layer's
    /// BatchNorms are folded into its convolutions.
    private func attend(_ fe: Act, training: Bool) throws -> ([Float], Act, Act) {
        let a = training ? try attentionStage.forward(fe, training: true) : try attentionStage.forwardFolded(fe, version: version)
        let maps = try bnAtt2.forward(try attConv.forward(try bnAtt.forward(a, training: training), keepForBackward: training),
                                      training: training, relu: true)
        var m = try bnAtt3.forward(try attConv3.forward(maps, keepForBackward: training), training: training)
        m.data.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = 1 / (1 + exp(-p[i])) }
        }
        let logits = Channelwise.mean(try attConv2.forward(maps, keepForBackward: training))
        return (logits, maps, m)
    }

    /// g·(1+M) or g·M, M [N,1,h,w] broadcast over channels.
    private func apply(map m: Act, to g: Act) -> Act {
        Channelwise.scaled(g, byMap: m, offset: mapOffset)
    }

    private var mapOffset: Float { config.attention == .residual ? 1 : 0 }

    public func forward(_ x: Tensor, training: Bool) throws -> ABNOutput {
        let input = try checkInput(x)
        if !training { return try inferenceForward(input) }
        let t = try runTrace(input, training: true)
        version += 1  // running statistics moved
        featureVersion += 1
        return output(t)
    }

    private func output(_ t: Trace) -> ABNOutput {
        let n = t.map.n, k = config.numClasses
        return ABNOutput(attentionLogits: Tensor(shape: [n, k], data: t.attentionLogits),
                         perceptionLogits: Tensor(shape: [n, k], data: t.perceptionLogits),
                         attentionMap: Tensor(shape: [n, 1, t.map.h, t.map.w], data: t.map.data))
    }

    /// Evaluation mode with BN folded into the convolutions of the residual stages.
    private func inferenceForward(_ x: Act) throws -> ABNOutput {
        let fe = try featuresFolded(x)
        return try branchesFolded(fe)
    }

    private func featuresFolded(_ x: Act) throws -> Act {
        var h = try conv1.forwardFolded(x, foldingIn: bn1, version: featureVersion, epilogue: .relu, block: stemBlock)
        if let maxpool { h = maxpool.forward(h, keepForBackward: false) }
        for s in featureStages { h = try s.forwardFolded(h, version: featureVersion) }
        return h
    }

    private func attendEval(_ fe: Act) throws -> ([Float], Act) {
        let (logits, _, m) = try attend(fe, training: false)
        return (logits, m)
    }

    private func perceiveEval(_ fe: Act, map: Act) throws -> [Float] {
        let p = try perceptionStage.forwardFolded(apply(map: map, to: fe), version: version)
        return fc.forward(Channelwise.mean(p), batch: p.n, keepForBackward: false)
    }

    private func branchesFolded(_ fe: Act) throws -> ABNOutput {
        let (logits, m) = try attendEval(fe)
        let per = try perceiveEval(fe, map: m)
        let n = fe.n, k = config.numClasses
        return ABNOutput(attentionLogits: Tensor(shape: [n, k], data: logits), perceptionLogits: Tensor(shape: [n, k], data: per),
                         attentionMap: Tensor(shape: [n, 1, m.h, m.w], data: m.data))
    }

    // MARK: - What-if

    /// g(x) in evaluation mode: [N, C', h, w].
    public func extractFeatures(_ x: Tensor) throws -> Tensor {
        try featuresFolded(try checkInput(x)).tensor
    }

    private func featureAct(_ t: Tensor) throws -> Act {
        guard t.shape.count == 4, t.shape[1] == featureChannels, t.shape[2] == mapHeight, t.shape[3] == mapWidth else {
            throw ABNError.shapeMismatch("features must be [N, \(featureChannels), \(mapHeight), \(mapWidth)], got \(t.shape)")
        }
        return Act(n: t.shape[0], c: t.shape[1], h: t.shape[2], w: t.shape[3], data: t.data)
            .reblocked(Layout.block(forChannels: featureChannels))
    }

    /// Attention logits [N, K] and map [N, 1, h, w] from g(x).
    public func attentionBranch(features: Tensor) throws -> (logits: Tensor, map: Tensor) {
        let fe = try featureAct(features)
        let (logits, m) = try attendEval(fe)
        return (Tensor(shape: [fe.n, config.numClasses], data: logits), m.tensor)
    }

    /// Perception logits [N, K] with `map` [N, 1, h, w] in place of M(x).
    public func perceptionBranch(features: Tensor, map: Tensor) throws -> Tensor {
        let fe = try featureAct(features)
        guard map.shape == [fe.n, 1, mapHeight, mapWidth] else {
            throw ABNError.shapeMismatch("map must be [\(fe.n), 1, \(mapHeight), \(mapWidth)], got \(map.shape)")
        }
        let m = Act(n: fe.n, c: 1, h: mapHeight, w: mapWidth, data: map.data)
        return Tensor(shape: [fe.n, config.numClasses], data: try perceiveEval(fe, map: m))
    }

    // MARK: - Training

    private func setTrainable(_ branches: TrainableBranches) {
        let feature = featureLayers, perception = perceptionLayers
        let freezeFeature = branches != .all
        let freezePerception = branches == .attention
        for c in feature.convs { c.weight.trainable = !freezeFeature }
        for b in feature.norms { b.frozen = freezeFeature; b.weight.trainable = !freezeFeature; b.bias.trainable = !freezeFeature }
        for c in perception.convs { c.weight.trainable = !freezePerception }
        for b in perception.norms { b.frozen = freezePerception; b.weight.trainable = !freezePerception; b.bias.trainable = !freezePerception }
        fc.weight.trainable = !freezePerception
        fc.bias.trainable = !freezePerception
    }

    /// Gradients of L_att + L_per (+ γ·L_map) for every trainable parameter, left in `Parameter.grad`.
    /// Returns the losses. Used by trainStep and by the gradient tests.
    func computeGradients(input: Tensor, labels: [Int], trainable: TrainableBranches, mapTargets: MapTargets?) throws -> StepStats {
        let x = try checkInput(input)
        guard labels.count == x.n else { throw ABNError.shapeMismatch("\(labels.count) labels for a batch of \(x.n)") }
        guard labels.allSatisfy({ $0 >= 0 && $0 < config.numClasses }) else {
            throw ABNError.shapeMismatch("labels must lie in 0..<\(config.numClasses)")
        }
        if let mt = mapTargets, mt.maps.count != x.n {
            throw ABNError.shapeMismatch("\(mt.maps.count) map targets for a batch of \(x.n)")
        }
        setTrainable(trainable)
        defer { setTrainable(.all) }
        for p in parameters { p.zeroGrad() }
        let t = try runTrace(x, training: true, frozenFeatures: trainable != .all)
        version += 1
        if trainable == .all { featureVersion += 1 }
        let k = config.numClasses
        let att = SoftmaxCrossEntropy.lossAndGradient(logits: t.attentionLogits, labels: labels, classes: k)
        let per = SoftmaxCrossEntropy.lossAndGradient(logits: t.perceptionLogits, labels: labels, classes: k)

        // Perception branch: fc → GAP → stage → d(g·(1+M)).
        let dPooled = fc.backward(per.gradient)
        let dP = Channelwise.spread(dPooled, like: t.perceptionOutput)
        let dRx = try perceptionStage.backward(dP)
        let fe = t.features, m = t.map, plane = fe.plane
        var (dFe, dM) = Channelwise.scaledBackward(dRx, g: fe, map: m, offset: mapOffset)
        // L_map = γ · mean over edited samples of ‖M′ − M‖₂.
        var mapLoss: Float = 0
        if let mt = mapTargets {
            let edited = mt.maps.enumerated().compactMap { i, t in t.map { (i, $0) } }
            for (i, target) in edited {
                guard target.count == plane else {
                    throw ABNError.shapeMismatch("map target \(i) has \(target.count) values, the map has \(plane)")
                }
                var sq: Float = 0
                for j in 0..<plane { let d = m.data[i * plane + j] - target.data[j]; sq += d * d }
                let norm = sq.squareRoot()
                mapLoss += mt.gamma * norm / Float(edited.count)
                if norm > 0 {
                    let scale = mt.gamma / Float(edited.count) / norm
                    for j in 0..<plane { dM[i * plane + j] += scale * (m.data[i * plane + j] - target.data[j]) }
                }
            }
        }
        // Map: sigmoid → bn_att3 → att_conv3.
        for i in 0..<dM.count { let s = m.data[i]; dM[i] *= s * (1 - s) }
        var dMaps = try attConv3.backward(try bnAtt3.backward(Act(n: m.n, c: 1, h: m.h, w: m.w, data: dM)))!
        // Logits: GAP → att_conv2.
        let maps = t.attentionMaps
        let dConv2 = Channelwise.spread(att.gradient, like: Geometry(n: maps.n, c: config.numClasses, h: maps.h, w: maps.w, block: 1))
        Vec.add(&dMaps.data, try attConv2.backward(dConv2)!.data)
        let dA = try bnAtt.backward(try attConv.backward(try bnAtt2.backward(dMaps))!)
        Vec.add(&dFe.data, try attentionStage.backward(dA).data)
        if trainable == .all {
            var g = dFe
            for s in featureStages.reversed() { g = try s.backward(g) }
            if let maxpool { g = maxpool.backward(g) }
            _ = try conv1.backward(try bn1.backward(g), needInputGradient: false)
        }
        return StepStats(attentionLoss: att.loss, perceptionLoss: per.loss, mapLoss: mapLoss,
                         attentionCorrect: att.correct, perceptionCorrect: per.correct, count: x.n)
    }

    /// One SGD step on L_att + L_per (+ γ·L_map where map targets are given).
    public func trainStep(input: Tensor, labels: [Int], optimizer: SGD, trainable: TrainableBranches = .all,
                          mapTargets: MapTargets? = nil) throws -> StepStats {
        let stats = try computeGradients(input: input, labels: labels, trainable: trainable, mapTargets: mapTargets)
        setTrainable(trainable)
        optimizer.step(parameters.filter { $0.trainable })
        setTrainable(.all)
        version += 1
        if trainable == .all { featureVersion += 1 }
        return stats
    }

    /// Named gradients of the last computeGradients call (for tests).
    func gradients() -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.grad) })
    }
}
