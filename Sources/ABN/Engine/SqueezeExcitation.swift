/// Squeeze-excitation (SE-ResNet), on a block's last BatchNorm output u [N, C, h, w]:
///   s = σ(fc2(relu(fc1(GAP(u))))) per sample and channel,  v = u·s.
/// The official code pools with fixed AvgPool2d sizes (56/28/14/7, 14 in att_layer4), which equal
/// global average pooling only for a 224×224 input; this pools globally at every input size.
final class SqueezeExcitation {
    let fc1: Linear
    let fc2: Linear
    private let pool = AveragePool(window: nil)
    /// From the last training forward: u, fc1's output after its ReLU, and s.
    private var saved: (u: Act, hidden: [Float], factors: [Float])?

    init(_ spec: SqueezeSpec, rng: inout InitRandom) {
        fc1 = Linear(name: spec.fc1, inFeatures: spec.channels, outFeatures: spec.hidden, rng: &rng)
        fc2 = Linear(name: spec.fc2, inFeatures: spec.hidden, outFeatures: spec.channels, rng: &rng)
    }

    var entries: [StateEntry] { (fc1.parameters + fc2.parameters).map { .parameter($0) } }

    /// s [N·C] (row-major) for u; kept for backward when training.
    func factors(_ u: Act, keepForBackward: Bool) throws -> [Float] {
        var hidden = fc1.forward(try pool.pooled(u, keepForBackward: keepForBackward), batch: u.n, keepForBackward: keepForBackward)
        for i in hidden.indices { hidden[i] = max(hidden[i], 0) }
        var s = fc2.forward(hidden, batch: u.n, keepForBackward: keepForBackward)
        Vec.sigmoid(&s)
        saved = keepForBackward ? (u, hidden, s) : nil
        return s
    }

    /// dL/du from dL/dv, accumulating fc1's and fc2's gradients: v = u·s reaches u directly and
    /// through s (GAP → fc1 → ReLU → fc2 → σ).
    func backward(_ dv: Act) throws -> Act {
        guard let (u, hidden, s) = saved else { throw ABNError.kernel("squeeze-excitation backward without a training forward") }
        saved = nil
        var (du, ds) = Channelwise.excitedBackward(dv, input: u, factors: s)
        var dHidden = fc2.backward(Vec.sigmoidBackward(ds, output: s))
        for i in dHidden.indices where hidden[i] <= 0 { dHidden[i] = 0 }
        ds = fc1.backward(dHidden)  // dL/dGAP(u)
        Vec.add(&du.data, try pool.pooledBackward(ds).data)
        return du
    }
}
