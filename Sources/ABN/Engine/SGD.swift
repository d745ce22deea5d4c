/// torch.optim.SGD with momentum and weight decay:
///   d = g + wd·p;  buf = d on the first step, else momentum·buf + d;  p -= lr·buf.
/// Weight decay applies to every parameter, as the official code passes model.parameters().
public final class SGD {
    public var learningRate: Float
    public let momentum: Float
    public let weightDecay: Float
    private var buffers: [String: [Float]] = [:]

    public init(learningRate: Float, momentum: Float = 0.9, weightDecay: Float = 1e-4) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    func step(_ parameters: [Parameter]) {
        let lr = learningRate, wd = weightDecay, mom = momentum
        for p in parameters {
            let first = buffers[p.name] == nil
            // Updated in place in the dictionary (a copy taken out and put back was a full copy of every
            // buffer at every step); each element on its own, so any split of the team gives the same bits.
            buffers[p.name, default: [Float](repeating: 0, count: p.value.count)].withUnsafeMutableBufferPointer { b in
                p.value.withUnsafeMutableBufferPointer { v in
                    p.grad.withUnsafeBufferPointer { g in
                        Team.forEachShare(of: v.count, work: 3 * v.count) { range in
                            for i in range {
                                let d = g[i] + wd * v[i]
                                b[i] = first ? d : mom * b[i] + d
                                v[i] -= lr * b[i]
                            }
                        }
                    }
                }
            }
        }
    }

    /// Momentum buffers by parameter name, for checkpoints.
    public func state() -> [(name: String, tensor: StateTensor)] {
        buffers.keys.sorted().map { name in
            (name, .float32(Tensor(shape: [buffers[name]!.count], data: buffers[name]!)))
        }
    }

    public func loadState(_ state: [(name: String, tensor: StateTensor)]) throws {
        var loaded: [String: [Float]] = [:]
        for (name, tensor) in state {
            guard case .float32(let t) = tensor else { throw ABNError.shapeMismatch("optimizer state \(name) is not float32") }
            loaded[name] = t.data
        }
        buffers = loaded
    }
}

/// The official step schedule: lr × 0.1 at 50% and again at 75% of the epochs.
public struct StepSchedule: Sendable {
    public let baseLearningRate: Float
    public let epochs: Int

    public init(baseLearningRate: Float, epochs: Int) {
        self.baseLearningRate = baseLearningRate
        self.epochs = epochs
    }

    public func learningRate(epoch: Int) -> Float {
        var lr = baseLearningRate
        if epoch >= epochs / 2 { lr *= 0.1 }
        if epoch >= epochs * 3 / 4 { lr *= 0.1 }
        return lr
    }
}
