import Foundation

/// The attention branch from g(x): att_layerN, then bn_att → att_conv (1×1 to K) → bn_att2 → ReLU gives
/// K maps; att_conv2 (1×1) → GAP gives the attention logits. The map M comes from the K maps as the
/// description's MapHead says: att_conv3 (3×3 to 1) → bn_att3 → sigmoid (M in (0, 1)), or SE-ResNet's
/// Σ_k log(1 + maps_k) (M ≥ 0, unbounded; no att_conv3, no bn_att3). The stage comes from the
/// description, and whether bn_att is applied (the official ResNeXt declares it and skips it).
final class AttentionBranch {
    let stage: Stage
    let bnAtt: BatchNorm2d
    /// False: bn_att is in the state_dict but not in the computation, so it never trains (as torch,
    /// which leaves a parameter without a gradient out of the SGD step, weight decay included).
    let bnAttApplied: Bool
    let attConv: Conv2d
    let bnAtt2: BatchNorm2d
    /// att_conv2 (1×1, K → K, no bias) then GAP. Both are linear, so GAP(att_conv2(maps)) =
    /// W·GAP(maps): applied to the pooled maps it costs K² multiply-adds a sample instead of K²·h·w
    /// (ResNet-50-ABN: 0.2 GMAC an image at 14×14, 5% of the branches' training).
    let attConv2: Linear
    private let pool = AveragePool(window: nil)
    /// The sigmoid head's layers; nil for the log-sum head.
    let mapLayers: (conv: Conv2d, norm: BatchNorm2d)?
    /// From the last training forward: the K maps (for GAP's and the log-sum's backward) and M (for the sigmoid's).
    private var saved: (maps: Act, map: Act)?

    init(_ d: NetworkDescription, rng: inout InitRandom) {
        let channels = d.attentionStage.outChannels, k = d.classes
        stage = Stage(d.attentionStage, rng: &rng)
        bnAtt = BatchNorm2d(name: "bn_att", channels: channels)
        bnAttApplied = d.attentionNormApplied
        attConv = Conv2d(name: "att_conv", inChannels: channels, outChannels: k, kernel: 1, rng: &rng)
        bnAtt2 = BatchNorm2d(name: "bn_att2", channels: k)
        attConv2 = Linear(convolutionWeight: Conv2d.initialWeight(name: "att_conv2", inChannels: k, outChannels: k, kernel: 1, rng: &rng))
        switch d.mapHead {
        case .sigmoid:
            mapLayers = (Conv2d(name: "att_conv3", inChannels: k, outChannels: 1, kernel: 3, padding: 1, rng: &rng),
                         BatchNorm2d(name: "bn_att3", channels: 1))
        case .logSum:
            mapLayers = nil
        }
    }

    var entries: [StateEntry] {
        stage.entries + [.norm(bnAtt), .parameter(attConv.weight), .norm(bnAtt2), .parameter(attConv2.weight)]
            + (mapLayers.map { [.parameter($0.conv.weight), .norm($0.norm)] } ?? [])
    }

    /// (logits [N·K], M [N, 1, h, w]). In evaluation the stage's BatchNorms are folded into its
    /// convolutions (`version` names the folded weights); the head's few channels run unfolded.
    func forward(_ fe: Act, training: Bool, version: Int) throws -> (logits: [Float], map: Act) {
        let a = training ? try stage.forward(fe, training: true) : try stage.forwardFolded(fe, version: version)
        let normed = bnAttApplied ? try bnAtt.forward(a, training: training) : a
        let maps = try bnAtt2.forward(try attConv.forward(normed, keepForBackward: training), training: training, relu: true)
        var m: Act
        if let (conv, norm) = mapLayers {
            m = try norm.forward(try conv.forward(maps, keepForBackward: training), training: training)
            Vec.sigmoid(&m.data)
        } else {
            m = Channelwise.logSum(maps)
        }
        let logits = attConv2.forward(try pool.pooled(maps, keepForBackward: training), batch: maps.n, keepForBackward: training)
        saved = training ? (maps, m) : nil
        return (logits, m)
    }

    /// From dL/dlogits and dL/dM to dL/dg(x), accumulating the gradients.
    /// dL/dg(x), or nil without `needInputGradient` (the feature extractor frozen: nothing uses it).
    func backward(dLogits: [Float], dMap: [Float], needInputGradient: Bool = true) throws -> Act? {
        guard let s = saved else { throw ABNError.kernel("attention branch backward without a training forward") }
        saved = nil
        let maps = s.maps, m = s.map
        // Map: sigmoid → bn_att3 → att_conv3, or the log-sum.
        var dMaps: Act
        if let (conv, norm) = mapLayers {
            let dPre = Vec.sigmoidBackward(dMap, output: m.data)
            dMaps = try conv.backward(try norm.backward(Act(n: m.n, c: 1, h: m.h, w: m.w, data: dPre)))!
        } else {
            dMaps = Channelwise.logSumBackward(dMap, input: maps)
        }
        // Logits: att_conv2 on the pooled maps → GAP.
        Vec.add(&dMaps.data, try pool.pooledBackward(attConv2.backward(dLogits)).reblocked(dMaps.block).data)
        let dNormed = try attConv.backward(try bnAtt2.backward(dMaps))!
        let dStage = bnAttApplied ? try bnAtt.backward(dNormed) : dNormed
        guard needInputGradient else { try stage.backwardParameters(dStage); return nil }
        return try stage.backward(dStage)
    }
}
