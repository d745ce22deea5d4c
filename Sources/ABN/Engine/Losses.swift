import Foundation

// The ABN losses side by side, each with its gradient: L = L_att + L_per (+ γ·L_map when fine-tuning
// with edited maps). L_att and L_per are the same cross-entropy on the two branches' logits.

/// Softmax cross-entropy with the batch mean, and its gradient with respect to the logits.
enum SoftmaxCrossEntropy {
    /// Returns (mean loss, dL/dlogits, number of correct argmax predictions).
    static func lossAndGradient(logits: [Float], labels: [Int], classes k: Int) -> (loss: Float, gradient: [Float], correct: Int) {
        let n = labels.count
        var grad = [Float](repeating: 0, count: n * k)
        var loss = 0.0
        var correct = 0
        for b in 0..<n {
            let row = Array(logits[(b * k)..<(b * k + k)])
            let maxv = row.max() ?? 0
            var sum = 0.0
            for v in row { sum += exp(Double(v - maxv)) }
            let logSum = log(sum) + Double(maxv)
            loss += logSum - Double(row[labels[b]])
            for j in 0..<k {
                let p = exp(Double(row[j]) - logSum)
                grad[b * k + j] = Float((p - (j == labels[b] ? 1 : 0)) / Double(n))
            }
            if argmax(row) == labels[b] { correct += 1 }
        }
        return (Float(loss / Double(n)), grad, correct)
    }
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

/// L_map = γ · mean over edited samples of ‖M′ − M‖₂ (each sample's L2 norm, not its square). For an
/// unbounded map (SE-ResNet) targets are painted on M/s, s = max(M) (the display scale), so the loss
/// compares ‖M′ − M/s‖₂ there, with s's own gradient (through the maximum entry).
enum MapLoss {
    /// The smallest scale: a map whose maximum is below it is divided by it instead (an all-zero map
    /// stays 0, a nearly-zero one cannot blow up).
    static let minimumScale: Float = 1e-6

    /// max(M), at least `minimumScale`.
    static func scale<C: Collection>(of map: C) -> Float where C.Element == Float {
        max(map.max() ?? 0, minimumScale)
    }

    /// Returns L_map for M [N, 1, h, w] and adds dL_map/dM to `dMap` (N·h·w values, plain layout).
    /// Only edited samples' entries change, so samples without a target keep their gradient exactly.
    static func lossAndGradient(map m: Act, targets: MapTargets, normalised: Bool = false, addingTo dMap: inout [Float]) throws -> Float {
        let plane = m.plane
        let edited = targets.maps.enumerated().compactMap { i, t in t.map { (i, $0) } }
        var loss: Float = 0
        for (i, target) in edited {
            guard target.count == plane else {
                throw ABNError.shapeMismatch("map target \(i) has \(target.count) values, the map has \(plane)")
            }
            let base = i * plane
            // s = 1 (the sigmoid head: M compared as it is), or the sample's maximum; `peak` is where
            // s's gradient goes (none when s is the floor).
            var s: Float = 1, peak = -1
            if normalised {
                let sample = m.data[base..<(base + plane)]
                s = MapLoss.scale(of: sample)
                if s > minimumScale, let j = sample.firstIndex(of: s) { peak = j - base }
            }
            var sq: Float = 0
            for j in 0..<plane { let d = m.data[base + j] / s - target.data[j]; sq += d * d }
            let norm = sq.squareRoot()
            loss += targets.gamma * norm / Float(edited.count)
            // d‖v‖/dv = v/‖v‖, v = M/s − M′; ∂v_j/∂M_k = δ_jk/s − M_j/s²·[k = peak]. At M/s = M′ the norm
            // has no gradient and none is added.
            if norm > 0 {
                let scale = targets.gamma / Float(edited.count) / norm
                var vm: Float = 0
                for j in 0..<plane {
                    let v = m.data[base + j] / s - target.data[j]
                    dMap[base + j] += scale * v / s
                    vm += v * m.data[base + j]
                }
                if peak >= 0 { dMap[base + peak] -= scale * vm / (s * s) }
            }
        }
        return loss
    }
}
