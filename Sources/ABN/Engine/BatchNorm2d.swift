import Foundation

/// BatchNorm2d with PyTorch semantics: in training, normalise with the batch mean and biased
/// variance and update the running statistics with momentum 0.1 and the unbiased variance; in
/// evaluation (or when frozen), use the running statistics. eps = 1e-5.
final class BatchNorm2d {
    let weight: Parameter
    let bias: Parameter
    var runningMean: [Float]
    var runningVar: [Float]
    var numBatchesTracked: Int64 = 0
    let name: String
    let channels: Int
    let eps: Float = 1e-5
    let momentum: Float = 0.1
    /// When true, training steps use and keep the running statistics (a frozen part of the network).
    var frozen = false

    // Saved for backward.
    private var invStd: [Float] = []
    private var usedBatchStatistics = false
    private var input: Act?
    private var inputGeometry: Geometry?
    private var batchMean: [Float] = []
    /// The output, when a ReLU was fused: its backward masks dy where the output is 0.
    private var reluOutput: Act?

    init(name: String, channels: Int) {
        self.name = name
        self.channels = channels
        weight = Parameter(name: name + ".weight", shape: [channels], value: [Float](repeating: 1, count: channels))
        bias = Parameter(name: name + ".bias", shape: [channels], value: [Float](repeating: 0, count: channels))
        runningMean = [Float](repeating: 0, count: channels)
        runningVar = [Float](repeating: 1, count: channels)
    }

    /// The per-channel affine map y = scale·x + shift that evaluation mode applies.
    var evaluationAffine: (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            let s = weight.value[c] / (runningVar[c] + eps).squareRoot()
            scale[c] = s
            shift[c] = bias.value[c] - runningMean[c] * s
        }
        return (scale, shift)
    }

    /// y = bn(x) (+ residual) (then ReLU), in x's layout, in one pass over the data after the
    /// statistics. A fused ReLU's backward is fused too, except with a residual: then the caller,
    /// which needs the masked gradient for the shortcut anyway, passes it to `backward`.
    func forward(_ x: Act, training: Bool, relu: Bool = false, residual: Act? = nil) throws -> Act {
        precondition(x.c == channels)
        let m = x.n * x.plane
        let useBatch = training && !frozen
        let r = residual?.reblocked(x.block)
        var y = Act(uninitializedN: x.n, c: x.c, h: x.h, w: x.w, block: x.block)
        usedBatchStatistics = useBatch
        if !useBatch {
            let (scale, shift) = evaluationAffine
            Channelwise.affine(x, scale: scale, shift: shift, residual: r, relu: relu, into: &y.data)
            if training {
                invStd = (0..<channels).map { 1 / (runningVar[$0] + eps).squareRoot() }
                // Frozen: the gradient is dy·γ/σ and needs only x's shape, not its values.
                input = nil
                inputGeometry = x.geometry
                reluOutput = relu && residual == nil ? y : nil
            }
            return y
        }
        // Batch statistics in two passes (mean, then the biased variance about it, as torch
        // normalises), on the calling thread: no barriers for a busy second core to hold up.
        let mean = Channelwise.sums(x).map { Float($0 / Double(m)) }
        let variance = Channelwise.sums(x, times: x, center: mean).map { Float($0 / Double(m)) }
        invStd = variance.map { 1 / ($0 + eps).squareRoot() }
        let scale = (0..<channels).map { weight.value[$0] * invStd[$0] }
        Channelwise.affine(x, scale: scale, shift: bias.value, center: mean, residual: r, relu: relu, into: &y.data)
        input = x
        inputGeometry = x.geometry
        batchMean = mean
        reluOutput = relu && residual == nil ? y : nil
        // Running statistics use the unbiased variance, as torch does.
        let unbias = m > 1 ? Double(m) / Double(m - 1) : 1
        for c in 0..<channels {
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c]
            runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(Double(variance[c]) * unbias)
        }
        numBatchesTracked += 1
        return y
    }

    /// dy → dx (through the fused ReLU, if any); accumulates dγ, dβ when those are trainable.
    func backward(_ dy: Act) throws -> Act {
        guard let g = inputGeometry else { throw ABNError.kernel("\(name): backward without a training forward") }
        let d = dy.reblocked(g.block)
        let mask = reluOutput
        var dx = Act(uninitializedN: g.n, c: g.c, h: g.h, w: g.w, block: g.block)
        let zeros = [Float](repeating: 0, count: channels)
        defer { input = nil; inputGeometry = nil; reluOutput = nil }
        if !usedBatchStatistics {
            // y = scale·x + shift with constant statistics: dx = dy·γ/σ (x's term has k = 0).
            let scale = (0..<channels).map { weight.value[$0] * invStd[$0] }
            Channelwise.combine(d, mask: mask, a: scale, x: d, center: zeros, k: zeros, t: zeros, into: &dx.data)
            return dx
        }
        guard let x = input else { throw ABNError.kernel("\(name): backward without a training forward") }
        // With x̂ = (x − μ)/σ: dβ = Σ dy, dγ = Σ dy·x̂, dx = γ/σ·(dy − dβ/m − x̂·dγ/m).
        let m = Double(x.n * x.plane)
        let (dBeta, dyCentered) = Channelwise.gradientSums(d, mask: mask, x: x, center: batchMean)
        var a = zeros, k = zeros, t = zeros
        for c in 0..<channels {
            let s = Double(invStd[c]), gamma = Double(weight.value[c])
            a[c] = Float(gamma * s)
            k[c] = Float(-gamma * s * s * s * dyCentered[c] / m)
            t[c] = Float(-gamma * s * dBeta[c] / m)
        }
        Channelwise.combine(d, mask: mask, a: a, x: x, center: batchMean, k: k, t: t, into: &dx.data)
        if weight.trainable {
            weight.addGradient { g in for c in 0..<channels { g[c] = Float(dyCentered[c] * Double(invStd[c])) } }
            bias.addGradient { g in for c in 0..<channels { g[c] = Float(dBeta[c]) } }
        }
        return dx
    }
}
