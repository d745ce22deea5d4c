import Foundation

/// The attention branch from g(x): att_layerN, then bn_att → att_conv (1×1 to K) → bn_att2 → ReLU gives
/// K maps; att_conv2 (1×1) → GAP gives the attention logits, att_conv3 (3×3 to 1) → bn_att3 → sigmoid
/// gives the map M. The head is the same for every backbone; the stage comes from the description, and
/// whether bn_att is applied (the official ResNeXt declares it and skips it).
final class AttentionBranch {
    let stage: Stage
    let bnAtt: BatchNorm2d
    /// False: bn_att is in the state_dict but not in the computation, so it never trains (as torch,
    /// which leaves a parameter without a gradient out of the SGD step, weight decay included).
    let bnAttApplied: Bool
    let attConv: Conv2d
    let bnAtt2: BatchNorm2d
    let attConv2: Conv2d
    let attConv3: Conv2d
    let bnAtt3: BatchNorm2d
    /// From the last training forward: the K maps' geometry (for GAP's backward) and M (for the sigmoid's).
    private var saved: (maps: Geometry, map: Act)?

    init(_ d: NetworkDescription, rng: inout InitRandom) {
        let channels = d.attentionStage.outChannels, k = d.classes
        stage = Stage(d.attentionStage, rng: &rng)
        bnAtt = BatchNorm2d(name: "bn_att", channels: channels)
        bnAttApplied = d.attentionNormApplied
        attConv = Conv2d(name: "att_conv", inChannels: channels, outChannels: k, kernel: 1, rng: &rng)
        bnAtt2 = BatchNorm2d(name: "bn_att2", channels: k)
        attConv2 = Conv2d(name: "att_conv2", inChannels: k, outChannels: k, kernel: 1, rng: &rng)
        attConv3 = Conv2d(name: "att_conv3", inChannels: k, outChannels: 1, kernel: 3, padding: 1, rng: &rng)
        bnAtt3 = BatchNorm2d(name: "bn_att3", channels: 1)
    }

    var entries: [StateEntry] {
        stage.entries + [.norm(bnAtt), .parameter(attConv.weight), .norm(bnAtt2), .parameter(attConv2.weight),
                         .parameter(attConv3.weight), .norm(bnAtt3)]
    }

    /// (logits [N·K], M [N, 1, h, w]). In evaluation the stage's BatchNorms are folded into its
    /// convolutions (`version` names the folded weights); the head's few channels run unfolded.
    func forward(_ fe: Act, training: Bool, version: Int) throws -> (logits: [Float], map: Act) {
        let a = training ? try stage.forward(fe, training: true) : try stage.forwardFolded(fe, version: version)
        let normed = bnAttApplied ? try bnAtt.forward(a, training: training) : a
        let maps = try bnAtt2.forward(try attConv.forward(normed, keepForBackward: training), training: training, relu: true)
        var m = try bnAtt3.forward(try attConv3.forward(maps, keepForBackward: training), training: training)
        Self.sigmoid(&m.data)
        let logits = Channelwise.mean(try attConv2.forward(maps, keepForBackward: training))
        saved = training ? (maps.geometry, m) : nil
        return (logits, m)
    }

    /// From dL/dlogits and dL/dM (after the sigmoid) to dL/dg(x), accumulating the gradients.
    func backward(dLogits: [Float], dMap: [Float]) throws -> Act {
        guard let s = saved else { throw ABNError.kernel("attention branch backward without a training forward") }
        saved = nil
        let maps = s.maps, m = s.map
        // Map: sigmoid → bn_att3 → att_conv3.
        let dPre = Self.sigmoidBackward(dMap, output: m.data)
        var dMaps = try attConv3.backward(try bnAtt3.backward(Act(n: m.n, c: 1, h: m.h, w: m.w, data: dPre)))!
        // Logits: GAP → att_conv2.
        let dConv2 = Channelwise.spread(dLogits, like: Geometry(n: maps.n, c: maps.c, h: maps.h, w: maps.w, block: 1))
        Vec.add(&dMaps.data, try attConv2.backward(dConv2)!.data)
        let dNormed = try attConv.backward(try bnAtt2.backward(dMaps))!
        return try stage.backward(bnAttApplied ? try bnAtt.backward(dNormed) : dNormed)
    }

    /// M = σ(z) in place.
    static func sigmoid(_ z: inout [Float]) {
        z.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = 1 / (1 + exp(-p[i])) }
        }
    }

    /// dL/dz = dL/dM · M(1 − M), from the sigmoid's output M.
    static func sigmoidBackward(_ dM: [Float], output m: [Float]) -> [Float] {
        var d = dM
        for i in 0..<d.count { let s = m[i]; d[i] *= s * (1 - s) }
        return d
    }
}
