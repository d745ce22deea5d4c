import XCTest
@testable import ABN

/// Fine-tuning semantics: L_map's gradient against finite differences through the real model, and
/// frozen parts bit-identical after training steps.
final class FineTuningTests: XCTestCase {
    func smallModel(_ attention: AttentionMechanism) throws -> ABNModel {
        try ABNModel(config: ModelConfig(arch: try ABNArchitecture(parsing: "cifar-resnet8"), numClasses: 3, inputChannels: 3,
                                         inputHeight: 8, inputWidth: 8, attention: attention), seed: 3)
    }

    func batch() -> (Tensor, [Int], MapTargets) {
        var rng = InitRandom(seed: 5)
        let x = Tensor(shape: [4, 3, 8, 8], data: (0..<(4 * 3 * 64)).map { _ in Float(rng.normal()) })
        let target = Tensor(shape: [1, 4, 4], data: (0..<16).map { $0 % 3 == 0 ? 1 : 0 })
        return (x, [0, 2, 1, 2], MapTargets(maps: [target, nil, target, nil], gamma: 0.7))
    }

    func totalLoss(_ m: ABNModel, _ x: Tensor, _ y: [Int], _ t: MapTargets) throws -> Double {
        let s = try m.computeGradients(input: x, labels: y, trainable: .attentionAndPerception, mapTargets: t)
        return Double(s.attentionLoss) + Double(s.perceptionLoss) + Double(s.mapLoss)
    }

    func testMapLossGradientMatchesFiniteDifferences() throws {
        for attention in AttentionMechanism.allCases {
            let m = try smallModel(attention)
            let (x, y, t) = batch()
            let stats = try m.computeGradients(input: x, labels: y, trainable: .attentionAndPerception, mapTargets: t)
            XCTAssertGreaterThan(stats.mapLoss, 0)
            // Parameters on the map's path: att_conv3 and bn_att3 (only L_map and L_per reach them).
            for p in [m.attention.mapLayers!.conv.weight, m.attention.mapLayers!.norm.weight, m.attention.mapLayers!.norm.bias, m.attention.attConv.weight] {
                let analytic = p.grad
                let eps: Float = 1e-3
                var worst = 0.0
                let scale = max(analytic.map { Double(abs($0)) }.max()!, 1e-6)
                for i in stride(from: 0, to: p.value.count, by: max(1, p.value.count / 7)) {
                    let v = p.value[i]
                    p.value[i] = v + eps; let plus = try totalLoss(m, x, y, t)
                    p.value[i] = v - eps; let minus = try totalLoss(m, x, y, t)
                    p.value[i] = v
                    worst = max(worst, abs((plus - minus) / Double(2 * eps) - Double(analytic[i])) / scale)
                }
                XCTAssertLessThan(worst, 2e-2, "\(p.name) (\(attention)): worst relative difference \(worst)")
            }
        }
    }

    /// With the extractor frozen, a step from extractFeatures(x) is the step from x: the same losses,
    /// gradients and (after a few SGD steps with momentum) weights; the evaluation forward from g(x)
    /// is forward(x); and a features step that would need the extractor's backward is refused.
    func testFeaturesStepEqualsInputStep() throws {
        let (x, y, t) = batch()
        for trainable in [TrainableBranches.attentionAndPerception, .attention] {
            let a = try smallModel(.residual), b = try smallModel(.residual)
            let sa = try a.computeGradients(input: x, labels: y, trainable: trainable, mapTargets: t)
            let sb = try b.computeGradients(features: try b.extractFeatures(x), labels: y, trainable: trainable, mapTargets: t)
            XCTAssertEqual([sa.attentionLoss, sa.perceptionLoss, sa.mapLoss], [sb.attentionLoss, sb.perceptionLoss, sb.mapLoss])
            let ga = a.gradients(), gb = b.gradients()
            XCTAssertTrue(ga.values.contains { $0.contains { $0 != 0 } })
            for (name, g) in ga { XCTAssertEqual(gb[name]!, g, "\(trainable): gradient of \(name)") }
            let sgd = (SGD(learningRate: 0.05), SGD(learningRate: 0.05))
            for _ in 0..<3 {
                _ = try a.trainStep(input: x, labels: y, optimizer: sgd.0, trainable: trainable, mapTargets: t)
                _ = try b.trainStep(features: try b.extractFeatures(x), labels: y, optimizer: sgd.1, trainable: trainable, mapTargets: t)
            }
            let wa = a.stateDict(), wb = Dictionary(uniqueKeysWithValues: b.stateDict().map { ($0.name, $0.tensor) })
            for (name, w) in wa { XCTAssertEqual(wb[name], w, "\(trainable): \(name) after 3 steps") }
            XCTAssertEqual(try b.forward(features: try b.extractFeatures(x)).perceptionLogits.data,
                           try b.forward(x, training: false).perceptionLogits.data)
        }
        let m = try smallModel(.residual)
        XCTAssertThrowsError(try m.computeGradients(features: try m.extractFeatures(x), labels: y, trainable: .all, mapTargets: t))
    }

    /// The feature cache computes a sample's g(x) in one batch and reuses it in another of the same
    /// size, so there g(x) must not depend on the rest of the batch or the sample's place in it.
    /// (Across batch sizes it may: the Winograd kernel needs enough tiles for every thread.)
    func testExtractedFeaturesDoNotDependOnTheRestOfTheBatch() throws {
        for (arch, side) in [("cifar-resnet8", 32), ("cifar-resnet20", 32), ("imagenet-resnet18", 64)] {
            let m = try ABNModel(config: ModelConfig(arch: try ABNArchitecture(parsing: arch), numClasses: 3, inputChannels: 3,
                                                     inputHeight: side, inputWidth: side, attention: .residual), seed: 3)
            var rng = InitRandom(seed: 9)
            let size = 3 * side * side
            let x = (0..<13).map { _ in (0..<size).map { _ in Float(rng.normal()) } }
            func features(_ rows: [Int]) throws -> [[Float]] {
                let f = try m.extractFeatures(Tensor(shape: [rows.count, 3, side, side], data: rows.flatMap { x[$0] })).data
                let per = f.count / rows.count
                return rows.indices.map { Array(f[($0 * per)..<(($0 + 1) * per)]) }
            }
            for count in [1, 3, 8] {
                let a = try features(Array(0..<count))
                for j in 0..<count {
                    // Sample j among other samples, at the other end of the batch.
                    var rows = Array((14 - count)..<13)
                    rows.insert(j, at: count - 1 - j)
                    XCTAssertEqual(try features(rows)[count - 1 - j], a[j], "\(arch), batches of \(count): sample \(j)")
                }
            }
        }
    }

    func testMapLossValueByHand() throws {
        let (x, y, t) = batch()
        // L_map = γ · mean over edited samples of ‖M′ − M‖₂, with M from the same training-mode pass.
        let m2 = try smallModel(.residual)
        let stats = try m2.computeGradients(input: x, labels: y, trainable: .all, mapTargets: t)
        let m3 = try smallModel(.residual)
        let maps = try m3.forward(x, training: true).attentionMap.data
        var expected = 0.0
        for i in [0, 2] {
            var sq = 0.0
            for j in 0..<16 { let d = Double(maps[i * 16 + j] - t.maps[i]!.data[j]); sq += d * d }
            expected += 0.7 * sq.squareRoot() / 2
        }
        XCTAssertEqual(Double(stats.mapLoss), expected, accuracy: 1e-5)
    }

    /// L_map for an unbounded map (SE-ResNet): targets live in the display space M/max(M). A hand-worked
    /// value, the gradient (through the maximum too) against central differences in Double, and an
    /// all-zero map divided by the floor, not by 0.
    func testNormalisedMapLossByHandAndFiniteDifferences() throws {
        // M = [1, 4, 2, 0] → M/4 = [0.25, 1, 0.5, 0]; M′ = [0, 1, 1, 0]: ‖(0.25, 0, −0.5, 0)‖ = √0.3125.
        let m = Act(n: 2, c: 1, h: 2, w: 2, data: [1, 4, 2, 0, 0.5, 3, 3.5, 0.25])
        let targets = MapTargets(maps: [Tensor(shape: [1, 2, 2], data: [0, 1, 1, 0]), nil], gamma: 0.5)
        var d = [Float](repeating: 0, count: 8)
        let loss = try MapLoss.lossAndGradient(map: m, targets: targets, normalised: true, addingTo: &d)
        XCTAssertEqual(loss, 0.5 * Float(0.3125.squareRoot()), accuracy: 1e-6)
        XCTAssertEqual(Array(d[4...]), [0, 0, 0, 0], "a sample without a target gets no gradient")
        func lossAt(_ v: [Double]) -> Double {  // the same loss in Double, s = max
            let s = v[0..<4].max()!, t = [0.0, 1, 1, 0]
            return 0.5 * (0..<4).map { (v[$0] / s - t[$0]) * (v[$0] / s - t[$0]) }.reduce(0, +).squareRoot()
        }
        let base = m.data.map(Double.init)
        for j in 0..<4 {
            var plus = base, minus = base
            plus[j] += 1e-6; minus[j] -= 1e-6
            XCTAssertEqual(Double(d[j]), (lossAt(plus) - lossAt(minus)) / 2e-6, accuracy: 1e-4, "dL/dM[\(j)]")
        }
        var dz = [Float](repeating: 0, count: 4)
        let zero = try MapLoss.lossAndGradient(map: Act(n: 1, c: 1, h: 2, w: 2, data: [0, 0, 0, 0]),
                                               targets: MapTargets(maps: [Tensor(shape: [1, 2, 2], data: [0, 0.6, 0, 0.8])], gamma: 1),
                                               normalised: true, addingTo: &dz)
        XCTAssertEqual(zero, 1, accuracy: 1e-6)
        XCTAssertTrue(dz.allSatisfy(\.isFinite))
    }

    func testFrozenPartsAreBitIdentical() throws {
        for (branches, frozenPrefixes) in [(TrainableBranches.attentionAndPerception, ["conv1.", "bn1.", "layer1.", "layer2."]),
                                           (.attention, ["conv1.", "bn1.", "layer1.", "layer2.", "layer3.", "fc."])] {
            let m = try smallModel(.multiply)
            let before = Dictionary(uniqueKeysWithValues: m.stateDict().map { ($0.name, $0.tensor) })
            let (x, y, t) = batch()
            let sgd = SGD(learningRate: 0.1)
            for _ in 0..<3 { _ = try m.trainStep(input: x, labels: y, optimizer: sgd, trainable: branches, mapTargets: t) }
            var changed = 0
            for (name, tensor) in m.stateDict() {
                if frozenPrefixes.contains(where: { name.hasPrefix($0) }) {
                    XCTAssertEqual(tensor, before[name], "\(name) must not change with --branches \(branches.rawValue)")
                } else if tensor != before[name] {
                    changed += 1
                }
            }
            XCTAssertGreaterThan(changed, 0, "the trainable branches do change")
            XCTAssertNotEqual(m.stateDict().first { $0.name == "att_conv3.weight" }!.tensor, before["att_conv3.weight"])
        }
    }

    /// Same seed, data and threads → bit-identical weights.
    func testTrainingIsDeterministic() throws {
        func run() throws -> [(name: String, tensor: StateTensor)] {
            let m = try smallModel(.residual)
            let (x, y, _) = batch()
            let sgd = SGD(learningRate: 0.1)
            for _ in 0..<3 { _ = try m.trainStep(input: x, labels: y, optimizer: sgd) }
            return m.stateDict()
        }
        let a = try run(), b = try run()
        XCTAssertTrue(zip(a, b).allSatisfy { $0.name == $1.name && $0.tensor == $1.tensor })
    }
}
