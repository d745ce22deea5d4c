import XCTest
@testable import ABN

/// The engine against PyTorch (tools/make_fixtures.py with tools/abn_torch.py, the official
/// architecture): outputs in evaluation and training mode, running statistics, the gradient of every
/// parameter for L_att + L_per, and the state after three SGD steps, for g·(1+M) and g·M; and for g·M
/// three fine-tuning steps with L_map for both trainable sets. Relative error of a tensor is
/// max|swift − torch| / max|torch|.
final class ParityTests: XCTestCase {
    struct Fixture {
        let tensors: [String: StateTensor]
        func floats(_ name: String) -> [Float] {
            guard case .float32(let t)? = tensors[name] else { XCTFail("fixture lacks \(name)"); return [] }
            return t.data
        }
        func ints(_ name: String) -> [Int64] {
            guard case .int64(_, let v)? = tensors[name] else { XCTFail("fixture lacks \(name)"); return [] }
            return v
        }
    }

    func load(_ name: String) throws -> Fixture {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/" + name, withExtension: "safetensors"))
        return Fixture(tensors: try SafeTensors.read(contentsOf: url).tensors)
    }

    func relative(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count, !b.isEmpty else { return a.count == b.count ? 0 : .infinity }
        var diff: Float = 0, scale: Float = 1e-12
        for i in a.indices { diff = max(diff, abs(a[i] - b[i])); scale = max(scale, abs(b[i])) }
        return diff / scale
    }

    /// The largest relative error of each kind of check in this test, printed by `printWorst`.
    var worst: [String: Float] = [:]

    func note(_ kind: String, _ r: Float) { worst[kind] = max(worst[kind] ?? 0, r) }

    func printWorst(_ title: String) {
        print("\(title): largest relative errors: " + worst.keys.sorted().map { "\($0) \(worst[$0]!)" }.joined(separator: ", "))
        worst = [:]
    }

    func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, _ what: String, kind: String = "other",
                     file: StaticString = #filePath, line: UInt = #line) {
        let r = relative(a, b)
        note(kind, r)
        XCTAssertLessThanOrEqual(r, tolerance, "\(what): relative error \(r)", file: file, line: line)
    }

    func model(_ arch: String, classes: Int, channels: Int, size: Int, attention: AttentionMechanism = .residual) throws -> ABNModel {
        let m = try ABNModel(config: ModelConfig(arch: try ABNArchitecture(parsing: arch), numClasses: classes,
                                                 inputChannels: channels, inputHeight: size, inputWidth: size,
                                                 attention: attention), seed: 0)
        try m.loadStateDict(HashValues.state(for: m))
        return m
    }

    func check(arch: String, fixture name: String, classes: Int, size: Int, batch: Int, tolerance: Float, full: Bool,
               attention: AttentionMechanism = .residual) throws {
        let f = try load(name)
        let labels = f.ints("input_labels").map { Int($0) }
        XCTAssertEqual(labels.count, batch)
        let x = Tensor(shape: [batch, 3, size, size], data: f.floats("input"))
        func summary(_ name: String, _ data: [Float]) -> [Float] { full ? data : HashValues.checks(name, data) }

        // Evaluation mode (BN folded into the convolutions).
        let m = try model(arch, classes: classes, channels: 3, size: size, attention: attention)
        let eval = try m.forward(x, training: false)
        assertClose(eval.attentionLogits.data, f.floats("eval.attention_logits"), tolerance, "eval attention logits", kind: "eval")
        assertClose(eval.perceptionLogits.data, f.floats("eval.perception_logits"), tolerance, "eval perception logits", kind: "eval")
        assertClose(eval.attentionMap.data, f.floats("eval.map"), tolerance, "eval map", kind: "eval")

        // Training mode forward + gradients.
        let stats = try m.computeGradients(input: x, labels: labels, trainable: .all, mapTargets: nil)
        let loss = f.floats("train.loss")[0]
        XCTAssertEqual(stats.attentionLoss + stats.perceptionLoss, loss, accuracy: abs(loss) * tolerance, "training loss")
        note("train loss", abs(stats.attentionLoss + stats.perceptionLoss - loss) / abs(loss))
        let grads = m.gradients()
        // A gradient that is analytically zero (bn_att.bias: a per-channel shift before att_conv and a
        // batch-statistics BN is removed again) is compared against a floor of 1e-3 of the largest gradient.
        let floor = 1e-3 * m.parameters.map { f.floats("grad." + $0.name).map { abs($0) }.max() ?? 0 }.max()!
        for p in m.parameters {
            let a = summary(p.name, p.grad), b = f.floats("grad." + p.name)
            let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            let scale = max(b.map { abs($0) }.max() ?? 0, floor)
            note("gradients", diff / scale)
            XCTAssertLessThanOrEqual(diff / scale, tolerance, "gradient of \(p.name): relative error \(diff / scale)")
        }
        for (name, t) in m.stateDict() where name.contains("running") {
            guard case .float32(let v) = t else { continue }
            assertClose(summary(name, v.data), f.floats("after1." + name), tolerance, "\(name) after one training forward", kind: "running statistics")
        }
        XCTAssertEqual(grads.count, m.parameters.count)

        // Three SGD steps from the same weights.
        let trained = try model(arch, classes: classes, channels: 3, size: size, attention: attention)
        let sgd = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4)  // LR in make_fixtures.py
        for _ in 0..<3 { _ = try trained.trainStep(input: x, labels: labels, optimizer: sgd) }
        for (name, t) in trained.stateDict() {
            switch t {
            case .float32(let v):
                assertClose(summary(name, v.data), f.floats("step3." + name), tolerance * 10, "\(name) after three SGD steps", kind: "three steps")
            case .int64(_, let v):
                XCTAssertEqual(v, f.ints("step3." + name), name)
            }
        }
        printWorst("\(arch) \(attention)")
    }

    func testCIFARResNet20MatchesPyTorch() throws {
        try check(arch: "cifar-resnet20", fixture: "parity-cifar-resnet20", classes: 10, size: 16, batch: 4, tolerance: 1e-4, full: true)
    }

    /// g·M (AttentionMechanism.multiply): parity-cifar-resnet20-multiply (make_fixtures.py multiply).
    func testCIFARResNet20MultiplyMatchesPyTorch() throws {
        try check(arch: "cifar-resnet20", fixture: "parity-cifar-resnet20-multiply", classes: 10, size: 16, batch: 4,
                  tolerance: 1e-4, full: true, attention: .multiply)
    }

    /// Three fine-tuning steps of L_att + L_per + γ·L_map (g·M, target maps for three of the four
    /// samples) from the hashed weights, for each trainable set, against make_fixtures.fine_tune_steps:
    /// the losses of each step, every trainable tensor (parameters and the trainable BatchNorms' running
    /// statistics) within the three-step tolerance, and every frozen tensor bit-identical both to its
    /// starting value and to PyTorch's (which keeps its frozen modules in eval mode, as the engine does).
    func testCIFARResNet20FineTuningMatchesPyTorch() throws {
        let f = try load("parity-cifar-resnet20-multiply")
        let labels = f.ints("input_labels").map { Int($0) }
        let batch = labels.count, side = 8
        let targetData = f.floats("ft.map_targets"), has = f.ints("ft.has_map")
        XCTAssertEqual(targetData.count, batch * side * side)
        XCTAssertEqual(has.filter { $0 == 0 }.count, 1, "one sample without a target map")
        let maps: [Tensor?] = (0..<batch).map { i in
            has[i] == 0 ? nil : Tensor(shape: [1, side, side], data: Array(targetData[(i * side * side)..<((i + 1) * side * side)]))
        }
        let targets = MapTargets(maps: maps, gamma: f.floats("ft.gamma")[0])
        let features = ["conv1.", "bn1.", "layer1.", "layer2."]
        for (branches, frozen) in [(TrainableBranches.attentionAndPerception, features), (.attention, features + ["layer3.", "fc."])] {
            let key = "ft.\(branches.rawValue)."
            let x = Tensor(shape: [batch, 3, 16, 16], data: f.floats(key + "input"))
            let m = try model("cifar-resnet20", classes: 10, channels: 3, size: 16, attention: .multiply)
            XCTAssertEqual(m.mapHeight, side)
            let before = Dictionary(uniqueKeysWithValues: m.stateDict().map { ($0.name, $0.tensor) })
            let sgd = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4)  // LR in make_fixtures.py
            let losses = f.floats(key + "losses")
            XCTAssertEqual(losses.count, 9)
            for step in 0..<3 {
                let s = try m.trainStep(input: x, labels: labels, optimizer: sgd, trainable: branches, mapTargets: targets)
                for (j, (mine, what)) in [(s.attentionLoss, "L_att"), (s.perceptionLoss, "L_per"), (s.mapLoss, "L_map")].enumerated() {
                    let theirs = losses[step * 3 + j]
                    let r = abs(mine - theirs) / abs(theirs)
                    note("losses", r)
                    XCTAssertLessThanOrEqual(r, 1e-4, "\(branches.rawValue) step \(step + 1) \(what): \(mine) against \(theirs)")
                }
            }
            var frozenCount = 0, trainableCount = 0
            for (name, t) in m.stateDict() {
                if frozen.contains(where: { name.hasPrefix($0) }) {
                    frozenCount += 1
                    XCTAssertEqual(t, before[name], "\(name) is frozen with \(branches.rawValue) and must not change")
                    switch t {
                    case .float32(let v):
                        XCTAssertEqual(v.data.map(\.bitPattern), f.floats(key + name).map(\.bitPattern), "\(name) (frozen) against PyTorch's")
                    case .int64(_, let v):
                        XCTAssertEqual(v, f.ints(key + name), name)
                    }
                    continue
                }
                trainableCount += 1
                switch t {
                case .float32(let v):
                    // Everything trainable moves in three steps (a zero-gradient bn_att.bias still decays).
                    XCTAssertNotEqual(t, before[name], "\(name) is trainable with \(branches.rawValue)")
                    assertClose(v.data, f.floats(key + name), 1e-3, "\(name) after three fine-tuning steps (\(branches.rawValue))",
                                kind: name.contains("running") ? "running statistics" : "parameters")
                case .int64(_, let v):
                    XCTAssertEqual(v, f.ints(key + name), name)
                    XCTAssertEqual(v, [3], "\(name) counts the three training batches")
                }
            }
            XCTAssertGreaterThan(frozenCount, 0)
            XCTAssertGreaterThan(trainableCount, 0)
            printWorst("fine-tuning \(branches.rawValue)")
        }
    }

    /// Forward outputs at the CIFAR size 3×32×32 (the gradients above use 16×16; see make_fixtures.py).
    func testCIFARResNet20At32MatchesPyTorch() throws {
        try checkAt32(arch: "cifar-resnet20")
    }

    /// `mapSide`: M's side at 32×32 (16 for the CIFAR ResNets, which halve it once; 8 for DenseNet's two transitions).
    func checkAt32(arch: String, mapSide: Int = 16) throws {
        let f = try load("parity-" + arch)
        let x = Tensor(shape: [4, 3, 32, 32], data: f.floats("full.input"))
        for training in [false, true] {
            let m = try model(arch, classes: 10, channels: 3, size: 32)
            let out = try m.forward(x, training: training)
            let mode = training ? "train" : "eval"
            assertClose(out.attentionLogits.data, f.floats("full.\(mode).attention_logits"), 1e-4, "\(mode) attention logits")
            assertClose(out.perceptionLogits.data, f.floats("full.\(mode).perception_logits"), 1e-4, "\(mode) perception logits")
            assertClose(out.attentionMap.data, f.floats("full.\(mode).map"), 1e-4, "\(mode) map")
            XCTAssertEqual(out.attentionMap.shape, [4, 1, mapSide, mapSide])
        }
    }

    /// Wide ResNet (pre-activation blocks, projection and identity shortcuts, the final bn1) against
    /// tools/abn_torch.py's WideResNetABN, which matches the official wrn.py (dropout 0: torch's
    /// generator cannot be matched; Dropout has its own test).
    func testCIFARWideResNetMatchesPyTorch() throws {
        try check(arch: "cifar-wrn16-2", fixture: "parity-cifar-wrn16-2", classes: 10, size: 16, batch: 4, tolerance: 1e-4, full: false)
        try checkAt32(arch: "cifar-wrn16-2")
    }

    /// ResNeXt (grouped 3×3 convolutions, conv_reduce/conv_conv/conv_expand names, `classifier`, a
    /// bn_att in the state_dict that is never applied and never trains) against ResNeXtABN.
    func testCIFARResNeXtMatchesPyTorch() throws {
        try check(arch: "cifar-resnext11-4x4d-w1", fixture: "parity-cifar-resnext11-4x4d-w1", classes: 10, size: 16, batch: 4,
                  tolerance: 1e-4, full: false)
        try checkAt32(arch: "cifar-resnext11-4x4d-w1")
    }

    /// DenseNet-BC (bottleneck layers with concatenation, transitions with 2×2 average pooling, no BN
    /// after conv1, att_dense3, the final `bn`) against tools/abn_torch.py's DenseNetABN, which matches
    /// the official densenet.py (same keys in order, same outputs). Growth 12 and compression 3: the
    /// concatenations change layout and ⌊40 / 3⌋ = 13 floors.
    func testCIFARDenseNetBCMatchesPyTorch() throws {
        try check(arch: "cifar-densenet-bc16-12-c3", fixture: "parity-cifar-densenet-bc16-12-c3", classes: 10, size: 16, batch: 4,
                  tolerance: 1e-4, full: false)
        try checkAt32(arch: "cifar-densenet-bc16-12-c3", mapSide: 8)
    }

    func testImageNetResNet18MatchesPyTorch() throws {
        try check(arch: "imagenet-resnet18", fixture: "parity-imagenet-resnet18", classes: 5, size: 64, batch: 2, tolerance: 1e-3, full: false)
    }

    /// SE-ResNet (squeeze-excitation in Basic and Bottleneck blocks, the unbounded map Σ log(1 + maps)
    /// without att_conv3/bn_att3) against tools/abn_torch.py's SEResNetABN, which matches the official
    /// senet_resnet.py (same keys in order, same outputs at 224×224).
    func testImageNetSEResNet18MatchesPyTorch() throws {
        try check(arch: "imagenet-se-resnet18", fixture: "parity-imagenet-se-resnet18", classes: 5, size: 64, batch: 2, tolerance: 1e-3, full: false)
    }

    /// The Bottleneck SE-ResNet's forward passes (evaluation, training, running statistics). Its gradients at
    /// this input are not a sharp check: PyTorch's own float32 and float64 gradients differ by up to 25%
    /// there (ReLU inputs within 1e-6 of their kinks, BatchNorm over 2×2 maps of a batch of 2), so the
    /// Bottleneck block's backward is checked by finite differences (LayerGradientTests) and the SE backward
    /// against PyTorch by the ResNet-18 test above.
    func testImageNetSEResNet50ForwardMatchesPyTorch() throws {
        let f = try load("parity-imagenet-se-resnet50")
        let x = Tensor(shape: [2, 3, 64, 64], data: f.floats("input"))
        let m = try model("imagenet-se-resnet50", classes: 5, channels: 3, size: 64)
        for training in [false, true] {
            let out = try m.forward(x, training: training)
            let mode = training ? "train" : "eval"
            assertClose(out.attentionLogits.data, f.floats("\(mode).attention_logits"), 1e-3, "\(mode) attention logits", kind: mode)
            assertClose(out.perceptionLogits.data, f.floats("\(mode).perception_logits"), 1e-3, "\(mode) perception logits", kind: mode)
            assertClose(out.attentionMap.data, f.floats("\(mode).map"), 1e-3, "\(mode) map", kind: mode)
        }
        for (name, t) in m.stateDict() where name.contains("running") {
            guard case .float32(let v) = t else { continue }
            assertClose(HashValues.checks(name, v.data), f.floats("after1." + name), 1e-3, "\(name) after one training forward", kind: "running statistics")
        }
        printWorst("imagenet-se-resnet50 forward")
    }
}
