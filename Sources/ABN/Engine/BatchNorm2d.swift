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
    private var geometry = (n: 0, c: 0, h: 0, w: 0)

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

    private var primitives: [Int: BatchNormPrimitive] = [:]
    private var input: [Float] = []
    private var batchMean: [Float] = []
    private var batchVariance: [Float] = []

    private func primitive(n: Int, h: Int, w: Int) throws -> BatchNormPrimitive {
        let key = (n * 65_536 + h) * 65_536 + w
        if let p = primitives[key] { return p }
        let p = try BatchNormPrimitive(n: n, c: channels, h: h, w: w, eps: eps)
        primitives[key] = p
        return p
    }

    func forward(_ x: Act, training: Bool) throws -> Act {
        precondition(x.c == channels)
        let plane = x.plane, n = x.n
        let m = n * plane
        var y = x
        let useBatch = training && !frozen
        geometry = (x.n, x.c, x.h, x.w)
        usedBatchStatistics = useBatch
        if !useBatch {
            let (scale, shift) = evaluationAffine
            y.data.withUnsafeMutableBufferPointer { p in
                for b in 0..<n {
                    for c in 0..<channels {
                        let base = (b * channels + c) * plane
                        let s = scale[c], t = shift[c]
                        for i in 0..<plane { p[base + i] = p[base + i] * s + t }
                    }
                }
            }
            if training { invStd = (0..<channels).map { 1 / (runningVar[$0] + eps).squareRoot() } }
            return y
        }
        // Batch statistics and normalisation on oneDNN's parallel kernel (biased variance, as torch).
        let kernel = try primitive(n: x.n, h: x.h, w: x.w)
        var mean = [Float](repeating: 0, count: channels), variance = mean
        try kernel.forward(x.data, weight.value, bias.value, into: &y.data, mean: &mean, variance: &variance)
        input = x.data
        batchMean = mean
        batchVariance = variance
        // Running statistics use the unbiased variance, as torch does.
        let unbias = m > 1 ? Double(m) / Double(m - 1) : 1
        for c in 0..<channels {
            runningMean[c] = (1 - momentum) * runningMean[c] + momentum * mean[c]
            runningVar[c] = (1 - momentum) * runningVar[c] + momentum * Float(Double(variance[c]) * unbias)
        }
        numBatchesTracked += 1
        return y
    }

    /// dy → dx; accumulates dγ, dβ when those are trainable.
    func backward(_ dy: Act) throws -> Act {
        let (n, channels, h, w) = geometry
        let plane = h * w
        var dx = Act(zerosN: n, c: channels, h: h, w: w)
        if !usedBatchStatistics {
            // y = scale·x + shift with constant statistics: dx = dy·γ/σ.
            dy.data.withUnsafeBufferPointer { d in
                dx.data.withUnsafeMutableBufferPointer { out in
                    for b in 0..<n {
                        for c in 0..<channels {
                            let base = (b * channels + c) * plane
                            let s = weight.value[c] * invStd[c]
                            for i in 0..<plane { out[base + i] = d[base + i] * s }
                        }
                    }
                }
            }
            return dx
        }
        var dGamma = [Float](repeating: 0, count: channels), dBeta = dGamma
        try primitive(n: n, h: h, w: w).backward(input, dy.data, mean: batchMean, variance: batchVariance, scale: weight.value,
                                                  into: &dx.data, diffScale: &dGamma, diffShift: &dBeta)
        if weight.trainable {
            for c in 0..<channels { weight.grad[c] += dGamma[c]; bias.grad[c] += dBeta[c] }
        }
        input = []
        return dx
    }
}
