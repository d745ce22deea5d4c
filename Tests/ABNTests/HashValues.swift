@testable import ABN

/// The counter-based hash that tools/make_fixtures.py uses for weights and inputs, so the PyTorch
/// fixtures need not store them: uniform in [-1, 1) from splitmix64 of fnv1a(name) + (i+1)·golden.
enum HashValues {
    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    static func values(_ name: String, _ count: Int) -> [Float] {
        let base = fnv1a(name)
        return (0..<count).map { i in
            var z = base &+ UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z = z ^ (z >> 31)
            return Float(Double(z >> 40) / Double(1 << 24) * 2 - 1)
        }
    }

    /// The final Linear layer's names (make_fixtures.CLASSIFIERS): fc, or classifier in ResNeXt.
    static func isClassifier(_ name: String) -> Bool { name.hasPrefix("fc.") || name.hasPrefix("classifier.") }

    /// The same scaled state as make_fixtures.hashed_state.
    static func state(for model: ABNModel) -> [String: StateTensor] {
        var out: [String: StateTensor] = [:]
        let fcIn = model.perception.fc.inFeatures
        for (name, t) in model.stateDict() {
            if name.hasSuffix("num_batches_tracked") { out[name] = .int64(shape: [], values: [0]); continue }
            let shape = t.shape
            let n = shape.reduce(1, *)
            let u = values(name, n)
            let v: [Float]
            if name.hasSuffix("running_var") {
                v = u.map { 1 + 0.25 * ($0 + 1) / 2 }
            } else if name.hasSuffix("running_mean") || (name.hasSuffix(".bias") && !isClassifier(name)) {
                v = u.map { 0.1 * $0 }
            } else if shape.count == 1 && !isClassifier(name) {
                v = u.map { 1 + 0.1 * $0 }
            } else if isClassifier(name) {
                v = u.map { $0 / Float(Double(fcIn).squareRoot()) }
            } else if shape.count == 2 {  // another Linear's weight (SE-ResNet's fc1, fc2): u/√in
                v = u.map { $0 / Float(Double(shape[1]).squareRoot()) }
            } else {
                let k = Double(shape[0] * shape[2] * shape[3])
                let s = Float(3.0.squareRoot() * (2.0 / k).squareRoot())
                v = u.map { $0 * s }
            }
            out[name] = .float32(Tensor(shape: shape, data: v))
        }
        return out
    }

    /// Per-tensor checks as make_fixtures.checks: norm, sum, dot with a hash probe, first 32 values.
    static func checks(_ name: String, _ data: [Float]) -> [Float] {
        let probe = values("probe:" + name, data.count)
        var norm = 0.0, sum = 0.0, dot = 0.0
        for (i, v) in data.enumerated() { norm += Double(v) * Double(v); sum += Double(v); dot += Double(v) * Double(probe[i]) }
        var out = [Float(norm.squareRoot()), Float(sum), Float(dot)]
        out += data.prefix(32)
        while out.count < 35 { out.append(0) }
        return out
    }
}
