/// The perception branch: g·(1+M) or g·M (M broadcast over channels), layerN, [BN and ReLU for
/// pre-activation backbones], GAP, fc → the decision.
final class PerceptionBranch {
    let stage: Stage
    /// Wide ResNet's final bn1 (with ReLU) after the stage; nil for post-activation backbones.
    let norm: BatchNorm2d?
    let fc: Linear
    private let pool = AveragePool(window: nil)
    /// 1 for g·(1+M), 0 for g·M.
    let mapOffset: Float
    /// From the last training forward: g(x) and M (for the product's backward), the stage's output geometry.
    private var saved: (features: Act, map: Act, output: Geometry)?

    init(_ d: NetworkDescription, attention: AttentionMechanism, rng: inout InitRandom) {
        stage = Stage(d.perceptionStage, rng: &rng)
        norm = d.perceptionNorm.map { BatchNorm2d(name: $0, channels: d.perceptionStage.outChannels) }
        fc = Linear(name: d.classifierName, inFeatures: d.perceptionStage.outChannels, outFeatures: d.classes, rng: &rng)
        mapOffset = attention == .residual ? 1 : 0
    }

    var entries: [StateEntry] { stage.entries + (norm.map { [.norm($0)] } ?? []) + fc.parameters.map { .parameter($0) } }

    /// Logits [N·K] from g(x) and a map M [N, 1, h, w].
    func forward(features fe: Act, map m: Act, training: Bool) throws -> [Float] {
        var p = try stage.forward(Channelwise.scaled(fe, byMap: m, offset: mapOffset), training: training)
        if let norm { p = try norm.forward(p, training: training, relu: true) }
        saved = training ? (fe, m, p.geometry) : nil
        return fc.forward(try pool.pooled(p, keepForBackward: training), batch: p.n, keepForBackward: training)
    }

    /// Evaluation mode with the stage's BatchNorms folded in (`version` names the folded weights).
    func forwardFolded(features fe: Act, map m: Act, version: Int) throws -> [Float] {
        try forwardFoldedKeepingStage(features: fe, map: m, version: version).logits
    }

    /// forwardFolded, also returning the activation A that GAP pools (the stage's output after its last
    /// ReLU, or after the final BN and ReLU): the activation CAM and Grad-CAM read.
    func forwardFoldedKeepingStage(features fe: Act, map m: Act, version: Int) throws -> (logits: [Float], stage: Act) {
        var p = try stage.forwardFolded(Channelwise.scaled(fe, byMap: m, offset: mapOffset), version: version)
        if let norm { p = try norm.forward(p, training: false, relu: true) }
        return (fc.forward(try pool.pooled(p, keepForBackward: false), batch: p.n, keepForBackward: false), p)
    }

    /// ∂logit_{c_i}/∂A for one class c_i per sample, A of geometry `g`: the backward of fc and GAP from
    /// a one-hot logit gradient (nothing between A and the logits has a state, so no forward is needed,
    /// and no parameter gradient is accumulated).
    func logitGradient(classes: [Int], like g: Geometry) throws -> Act {
        var oneHot = [Float](repeating: 0, count: g.n * fc.outFeatures)
        for (i, c) in classes.enumerated() { oneHot[i * fc.outFeatures + c] = 1 }
        return try pool.spread(fc.inputGradient(oneHot, batch: g.n), like: g)
    }

    /// From dL/dlogits to (dL/dg(x), dL/dM), accumulating the gradients: fc → GAP → stage → the product.
    func backward(_ dLogits: [Float]) throws -> (dFeatures: Act, dMap: [Float]) {
        guard let s = saved else { throw ABNError.kernel("perception branch backward without a training forward") }
        saved = nil
        var dP = try pool.pooledBackward(fc.backward(dLogits))
        if let norm { dP = try norm.backward(dP) }
        let dRx = try stage.backward(dP)
        let (dFe, dM) = Channelwise.scaledBackward(dRx, g: s.features, map: s.map, offset: mapOffset)
        return (dFe, dM)
    }
}
