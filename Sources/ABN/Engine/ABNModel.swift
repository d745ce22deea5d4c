import Foundation

/// The outputs of one forward pass.
public struct ABNOutput {
    /// Attention-branch logits [N, K]: GAP of att_conv2's K maps.
    public var attentionLogits: Tensor
    /// Perception-branch logits [N, K]: the decision.
    public var perceptionLogits: Tensor
    /// The attention map M(x) [N, 1, h, w]: after the sigmoid (in (0, 1)), or SE-ResNet's
    /// Σ log(1 + maps) (≥ 0, unbounded; see `mapIsBounded`).
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

public struct StepStats: Sendable {
    public var attentionLoss: Float
    public var perceptionLoss: Float
    public var mapLoss: Float
    public var attentionCorrect: Int
    public var perceptionCorrect: Int
    public var count: Int
}

extension TrainableBranches {
    /// Whether a training step with these branches leaves `branch` fixed.
    func freezes(_ branch: Branch) -> Bool {
        switch branch {
        case .features: return self != .all
        case .attention: return false
        case .perception: return self == .attention
        }
    }

    /// Whether the feature extractor stays fixed (no gradient, BatchNorm running statistics): then g(x)
    /// depends on x alone, and a step can start from precomputed features (ABNModel.trainStep(features:)).
    public var freezesFeatureExtractor: Bool { freezes(.features) }
}

/// ABN exactly as the official code builds it (module structure, state_dict names, init), from a
/// NetworkDescription: feature extractor g(x), attention branch (logits and the map M), perception
/// branch (g·(1+M) or g·M → logits). The model runs the three in order and holds the versions that
/// say when folded inference weights must be rebuilt.
public final class ABNModel {
    public let config: ModelConfig
    let network: NetworkDescription
    let features: FeatureExtractor
    let attention: AttentionBranch
    let perception: PerceptionBranch
    /// Bumped whenever parameters or statistics change, so folded inference weights are rebuilt.
    private var version = 0
    /// The same for the feature extractor alone: a fine-tuning step leaves it unchanged, so its folded
    /// weights survive the step.
    private var featureVersion = 0
    public let mapHeight: Int
    public let mapWidth: Int
    /// Whether M lies in [0, 1] (the sigmoid head); false for SE-ResNet's unbounded Σ log(1 + maps).
    public var mapIsBounded: Bool { network.mapHead == .sigmoid }

    /// The scale s that brings one of this model's maps into [0, 1], where everything that shows, stores,
    /// edits or compares maps works (docs/architecture.md, "The map's range"): 1 for the sigmoid head;
    /// for the unbounded map its own maximum, at least `MapLoss.minimumScale` (an all-zero map stays 0).
    public func mapDisplayScale<C: Collection>(_ map: C) -> Float where C.Element == Float {
        mapIsBounded ? 1 : MapLoss.scale(of: map)
    }

    public init(config: ModelConfig, seed: UInt64) throws {
        guard config.inputChannels == 1 || config.inputChannels == 3 else {
            throw ABNError.invalidArchitecture("input channels must be 1 or 3, got \(config.inputChannels)")
        }
        guard config.numClasses >= 1, config.numClasses <= 100_000 else {
            throw ABNError.invalidArchitecture("number of classes must be at least 1, got \(config.numClasses)")
        }
        let d = NetworkDescription(config: config)
        // At least two cells of g(x) a side, so the perception stage's stride has something to halve.
        let minimum = 2 * d.downsampling
        guard config.inputHeight >= minimum, config.inputWidth >= minimum,
              config.inputHeight <= 4096, config.inputWidth <= 4096 else {
            throw ABNError.invalidArchitecture("input \(config.inputHeight)×\(config.inputWidth) is too small or too large for \(config.arch.name) (at least \(minimum)×\(minimum))")
        }
        self.config = config
        network = d
        Allocator.keepFreedBlocks
        // The layers draw their initial weights from rng as they are built: in state_dict order, as always,
        // so a seed keeps giving the same model.
        var rng = InitRandom(seed: seed)
        features = FeatureExtractor(d, rng: &rng)
        attention = AttentionBranch(d, rng: &rng)
        perception = PerceptionBranch(d, attention: config.attention, rng: &rng)
        mapHeight = d.featureSide(config.inputHeight)
        mapWidth = d.featureSide(config.inputWidth)
    }

    // MARK: - Parameters and state

    /// The entries of one branch, in state_dict order.
    func entries(of branch: Branch) -> [StateEntry] {
        switch branch {
        case .features: return features.entries
        case .attention: return attention.entries
        case .perception: return perception.entries
        }
    }

    /// Every named entry in the official state_dict order: g(x), attention branch, perception branch.
    private var entries: [StateEntry] { Branch.allCases.flatMap(entries(of:)) }

    /// Learnable parameters in state_dict order (BN weight and bias included).
    var parameters: [Parameter] { entries.flatMap(\.parameters) }

    public func stateDict() -> [(name: String, tensor: StateTensor)] {
        entries.flatMap(\.tensors)
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
        for entry in entries { entry.load(tensors) }
        version += 1
        featureVersion += 1
    }

    private func setTrainable(_ branches: TrainableBranches) {
        for branch in Branch.allCases {
            let frozen = branches.freezes(branch)
            for entry in entries(of: branch) { entry.setFrozen(frozen) }
        }
        // A declared but unused bn_att (ResNeXt) never trains.
        if !attention.bnAttApplied { StateEntry.norm(attention.bnAtt).setFrozen(true) }
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

    /// What the losses need from a training forward; the branches keep what their backward needs.
    private struct Trace {
        var attentionLogits: [Float]
        var perceptionLogits: [Float]
        var map: Act                // M [N, 1, h, w]
    }

    /// The branches' training forward from g(x); they keep what their backward needs.
    private func trainingForward(features fe: Act) throws -> Trace {
        let (logits, map) = try attention.forward(fe, training: true, version: version)
        let perLogits = try perception.forward(features: fe, map: map, training: true)
        return Trace(attentionLogits: logits, perceptionLogits: perLogits, map: map)
    }

    /// Evaluation mode, BatchNorm folded into the convolutions of the residual stages.
    private func inferenceForward(_ fe: Act) throws -> (attentionLogits: [Float], map: Act, perceptionLogits: [Float]) {
        let (logits, m) = try attention.forward(fe, training: false, version: version)
        return (logits, m, try perception.forwardFolded(features: fe, map: m, version: version))
    }

    private func output(attentionLogits: [Float], perceptionLogits: [Float], map m: Act) -> ABNOutput {
        let n = m.n, k = config.numClasses
        return ABNOutput(attentionLogits: Tensor(shape: [n, k], data: attentionLogits),
                         perceptionLogits: Tensor(shape: [n, k], data: perceptionLogits),
                         attentionMap: Tensor(shape: [n, 1, m.h, m.w], data: m.data))
    }

    public func forward(_ x: Tensor, training: Bool) throws -> ABNOutput {
        let input = try checkInput(x)
        if !training { return try evaluationOutput(try features.forwardFolded(input, version: featureVersion)) }
        let t = try trainingForward(features: try features.forward(input, training: true))
        version += 1  // running statistics moved
        featureVersion += 1
        return output(attentionLogits: t.attentionLogits, perceptionLogits: t.perceptionLogits, map: t.map)
    }

    /// Evaluation mode from g(x) [N, C', h, w] (extractFeatures'): the same as forward(x, training: false).
    public func forward(features: Tensor) throws -> ABNOutput {
        try evaluationOutput(try featureAct(features))
    }

    private func evaluationOutput(_ fe: Act) throws -> ABNOutput {
        let r = try inferenceForward(fe)
        try checkFinite(r.attentionLogits, "attention logits")
        try checkFinite(r.perceptionLogits, "perception logits")
        try checkFinite(r.map.data, "attention map")
        return output(attentionLogits: r.attentionLogits, perceptionLogits: r.perceptionLogits, map: r.map)
    }

    /// Every command that reads a model's answers goes through the evaluation-mode entry points,
    /// so a model whose weights overflow is reported there rather than printed as "nan".
    private func checkFinite(_ values: [Float], _ what: String) throws {
        guard let i = values.firstIndex(where: { !$0.isFinite }) else { return }
        throw ABNError.nonFiniteOutput("the model's \(what) are not finite (\(values[i]) at index \(i)): its weights overflow or the input is not finite")
    }

    // MARK: - Explanations (CAM, Grad-CAM)

    /// The module whose output CAM and Grad-CAM read: the perception stage's state_dict prefix (`layer3`
    /// for CIFAR ResNets, `layer4` for ImageNet ones, `stage_3` for ResNeXt), the target layer
    /// pytorch-grad-cam would be given; for pre-activation backbones the final BN after it, whose ReLU'd
    /// output is what GAP pools (`block3+bn1` for Wide ResNet).
    public var perceptionStageName: String {
        network.perceptionStage.name + (network.perceptionNorm.map { "+" + $0 } ?? "")
    }

    /// The fc weight [K, C]: CAM's class weights over the perception stage's channels.
    public var classifierWeight: Tensor { Tensor(shape: perception.fc.weight.shape, data: perception.fc.weight.value) }

    /// An evaluation-mode forward (as `forward(_:training: false)`) that also returns the perception
    /// stage's output A [N, C, h', w'] (after the last block's ReLU, before global average pooling).
    public func forwardKeepingPerceptionStage(_ x: Tensor) throws -> (output: ABNOutput, stage: Tensor) {
        let fe = try features.forwardFolded(try checkInput(x), version: featureVersion)
        let (logits, m) = try attention.forward(fe, training: false, version: version)
        let (perLogits, stage) = try perception.forwardFoldedKeepingStage(features: fe, map: m, version: version)
        try checkFinite(logits, "attention logits")
        try checkFinite(perLogits, "perception logits")
        try checkFinite(m.data, "attention map")
        try checkFinite(stage.data, "perception stage activations")
        return (output(attentionLogits: logits, perceptionLogits: perLogits, map: m), stage.tensor)
    }

    /// ∂(perception logit of `classes[i]`)/∂A for each sample i, A the stage output of `stageShape`
    /// [N, C, h', w'] (plain layout, as forwardKeepingPerceptionStage returns it). The logit, not the
    /// softmax, as pytorch-grad-cam's ClassifierOutputTarget.
    public func perceptionLogitGradient(stageShape: [Int], classes: [Int]) throws -> Tensor {
        let k = config.numClasses, c = network.perceptionStage.outChannels
        guard stageShape.count == 4, stageShape[1] == c, classes.count == stageShape[0] else {
            throw ABNError.shapeMismatch("stage output must be [\(classes.count), \(c), h, w], got \(stageShape)")
        }
        guard classes.allSatisfy({ $0 >= 0 && $0 < k }) else { throw ABNError.shapeMismatch("classes must lie in 0..<\(k)") }
        let g = Geometry(n: stageShape[0], c: c, h: stageShape[2], w: stageShape[3], block: 1)
        return try perception.logitGradient(classes: classes, like: g).tensor
    }

    // MARK: - What-if

    /// The shape of one sample's g(x): [C', h, w].
    public var featureShape: [Int] { [network.featureChannels, mapHeight, mapWidth] }

    /// g(x) in evaluation mode: [N, C', h, w].
    public func extractFeatures(_ x: Tensor) throws -> Tensor {
        try features.forwardFolded(try checkInput(x), version: featureVersion).tensor
    }

    private func featureAct(_ t: Tensor) throws -> Act {
        let c = network.featureChannels
        guard t.shape.count == 4, t.shape[1] == c, t.shape[2] == mapHeight, t.shape[3] == mapWidth else {
            throw ABNError.shapeMismatch("features must be [N, \(c), \(mapHeight), \(mapWidth)], got \(t.shape)")
        }
        return Act(n: t.shape[0], c: t.shape[1], h: t.shape[2], w: t.shape[3], data: t.data)
            .reblocked(Layout.block(forChannels: c))
    }

    /// Attention logits [N, K] and map [N, 1, h, w] from g(x).
    public func attentionBranch(features: Tensor) throws -> (logits: Tensor, map: Tensor) {
        let fe = try featureAct(features)
        let (logits, m) = try attention.forward(fe, training: false, version: version)
        try checkFinite(logits, "attention logits")
        try checkFinite(m.data, "attention map")
        return (Tensor(shape: [fe.n, config.numClasses], data: logits), m.tensor)
    }

    /// Perception logits [N, K] with `map` [N, 1, h, w] in place of M(x).
    public func perceptionBranch(features: Tensor, map: Tensor) throws -> Tensor {
        let fe = try featureAct(features)
        guard map.shape == [fe.n, 1, mapHeight, mapWidth] else {
            throw ABNError.shapeMismatch("map must be [\(fe.n), 1, \(mapHeight), \(mapWidth)], got \(map.shape)")
        }
        let m = Act(n: fe.n, c: 1, h: mapHeight, w: mapWidth, data: map.data)
        let logits = try perception.forwardFolded(features: fe, map: m, version: version)
        try checkFinite(logits, "perception logits")
        return Tensor(shape: [fe.n, config.numClasses], data: logits)
    }

    // MARK: - Training

    /// Gradients of L_att + L_per (+ γ·L_map) for every trainable parameter, left in `Parameter.grad`.
    /// Returns the losses. Used by trainStep and by the gradient tests.
    func computeGradients(input: Tensor, labels: [Int], trainable: TrainableBranches, mapTargets: MapTargets?) throws -> StepStats {
        let x = try checkInput(input)
        let frozen = trainable.freezes(.features)
        return try computeGradients(batch: x.n, labels: labels, trainable: trainable, mapTargets: mapTargets) {
            // With the feature extractor frozen (fine-tuning) nothing flows back into it and its BatchNorms
            // use their running statistics, so its forward is the folded inference one (no activations
            // kept): g(x) is then exactly extractFeatures(x), which is what lets trainStep(features:) exist.
            frozen ? try features.forwardFolded(x, version: featureVersion) : try features.forward(x, training: true)
        }
    }

    /// computeGradients from g(x) [N, C', h, w] as extractFeatures returns it, the extractor frozen:
    /// the same step as from the inputs, without running the extractor.
    func computeGradients(features: Tensor, labels: [Int], trainable: TrainableBranches, mapTargets: MapTargets?) throws -> StepStats {
        guard trainable.freezes(.features) else {
            throw ABNError.invalidArchitecture("a step from precomputed features needs the feature extractor frozen (not --branches \(trainable.rawValue))")
        }
        let fe = try featureAct(features)
        return try computeGradients(batch: fe.n, labels: labels, trainable: trainable, mapTargets: mapTargets) { fe }
    }

    /// The one gradient path behind both: `g` gives g(x) once the branches' trainability is set.
    private func computeGradients(batch n: Int, labels: [Int], trainable: TrainableBranches, mapTargets: MapTargets?,
                                  features g: () throws -> Act) throws -> StepStats {
        guard labels.count == n else { throw ABNError.shapeMismatch("\(labels.count) labels for a batch of \(n)") }
        guard labels.allSatisfy({ $0 >= 0 && $0 < config.numClasses }) else {
            throw ABNError.shapeMismatch("labels must lie in 0..<\(config.numClasses)")
        }
        if let mt = mapTargets, mt.maps.count != n {
            throw ABNError.shapeMismatch("\(mt.maps.count) map targets for a batch of \(n)")
        }
        setTrainable(trainable)
        defer { setTrainable(.all) }
        for p in parameters { p.zeroGrad() }
        let fe = try g()
        let t = try trainingForward(features: fe)
        version += 1
        if !trainable.freezes(.features) { featureVersion += 1 }
        let k = config.numClasses
        let att = SoftmaxCrossEntropy.lossAndGradient(logits: t.attentionLogits, labels: labels, classes: k)
        let per = SoftmaxCrossEntropy.lossAndGradient(logits: t.perceptionLogits, labels: labels, classes: k)
        // Backward in reverse: perception branch, then M's gradient (from it and L_map) into the
        // attention branch, then the sum of both branches' dL/dg(x) into the feature extractor.
        var (dFe, dM) = try perception.backward(per.gradient)
        let mapLoss = try mapTargets.map {
            try MapLoss.lossAndGradient(map: t.map, targets: $0, normalised: !mapIsBounded, addingTo: &dM)
        } ?? 0
        // A frozen extractor takes no gradient: the attention branch then skips its input's.
        let frozen = trainable.freezes(.features)
        if let dAttention = try attention.backward(dLogits: att.gradient, dMap: dM, needInputGradient: !frozen) {
            Vec.add(&dFe.data, dAttention.data)
            try features.backward(dFe)
        }
        return StepStats(attentionLoss: att.loss, perceptionLoss: per.loss, mapLoss: mapLoss,
                         attentionCorrect: att.correct, perceptionCorrect: per.correct, count: n)
    }

    /// One SGD step on L_att + L_per (+ γ·L_map where map targets are given).
    public func trainStep(input: Tensor, labels: [Int], optimizer: SGD, trainable: TrainableBranches = .all,
                          mapTargets: MapTargets? = nil) throws -> StepStats {
        try step(optimizer: optimizer, trainable: trainable,
                 try computeGradients(input: input, labels: labels, trainable: trainable, mapTargets: mapTargets))
    }

    /// trainStep from g(x) [N, C', h, w] (extractFeatures'), the extractor frozen (`trainable` not `.all`):
    /// the same step as trainStep(input:) on the inputs g(x) came from.
    public func trainStep(features: Tensor, labels: [Int], optimizer: SGD, trainable: TrainableBranches,
                          mapTargets: MapTargets? = nil) throws -> StepStats {
        try step(optimizer: optimizer, trainable: trainable,
                 try computeGradients(features: features, labels: labels, trainable: trainable, mapTargets: mapTargets))
    }

    /// The SGD update after computeGradients (whose result is `stats`).
    private func step(optimizer: SGD, trainable: TrainableBranches, _ stats: StepStats) -> StepStats {
        setTrainable(trainable)
        optimizer.step(parameters.filter { $0.trainable })
        setTrainable(.all)
        version += 1
        if !trainable.freezes(.features) { featureVersion += 1 }
        return stats
    }

    /// Named gradients of the last computeGradients call (for tests).
    func gradients() -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: parameters.map { ($0.name, $0.grad) })
    }
}
