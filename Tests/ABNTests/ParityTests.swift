import XCTest
@testable import ABN

/// The engine against PyTorch (tools/make_fixtures.py with tools/abn_torch.py, the official
/// architecture): outputs in evaluation and training mode, running statistics, the gradient of every
/// parameter for L_att + L_per, and the state after three SGD steps. Relative error of a tensor is
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

    func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let r = relative(a, b)
        XCTAssertLessThanOrEqual(r, tolerance, "\(what): relative error \(r)", file: file, line: line)
    }

    func model(_ arch: String, classes: Int, channels: Int, size: Int) throws -> ABNModel {
        let m = try ABNModel(config: ModelConfig(arch: try ABNArchitecture(parsing: arch), numClasses: classes,
                                                 inputChannels: channels, inputHeight: size, inputWidth: size), seed: 0)
        try m.loadStateDict(HashValues.state(for: m))
        return m
    }

    func check(arch: String, fixture name: String, classes: Int, size: Int, batch: Int, tolerance: Float, full: Bool) throws {
        let f = try load(name)
        let labels = f.ints("input_labels").map { Int($0) }
        XCTAssertEqual(labels.count, batch)
        let x = Tensor(shape: [batch, 3, size, size], data: f.floats("input"))
        func summary(_ name: String, _ data: [Float]) -> [Float] { full ? data : HashValues.checks(name, data) }

        // Evaluation mode (BN folded into the convolutions).
        let m = try model(arch, classes: classes, channels: 3, size: size)
        let eval = try m.forward(x, training: false)
        assertClose(eval.attentionLogits.data, f.floats("eval.attention_logits"), tolerance, "eval attention logits")
        assertClose(eval.perceptionLogits.data, f.floats("eval.perception_logits"), tolerance, "eval perception logits")
        assertClose(eval.attentionMap.data, f.floats("eval.map"), tolerance, "eval map")

        // Training mode forward + gradients.
        let stats = try m.computeGradients(input: x, labels: labels, trainable: .all, mapTargets: nil)
        let loss = f.floats("train.loss")[0]
        XCTAssertEqual(stats.attentionLoss + stats.perceptionLoss, loss, accuracy: abs(loss) * tolerance, "training loss")
        let grads = m.gradients()
        // A gradient that is analytically zero (bn_att.bias: a per-channel shift before att_conv and a
        // batch-statistics BN is removed again) is compared against a floor of 1e-3 of the largest gradient.
        let floor = 1e-3 * m.parameters.map { f.floats("grad." + $0.name).map { abs($0) }.max() ?? 0 }.max()!
        for p in m.parameters {
            let a = summary(p.name, p.grad), b = f.floats("grad." + p.name)
            let diff = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            let scale = max(b.map { abs($0) }.max() ?? 0, floor)
            XCTAssertLessThanOrEqual(diff / scale, tolerance, "gradient of \(p.name): relative error \(diff / scale)")
        }
        for (name, t) in m.stateDict() where name.contains("running") {
            guard case .float32(let v) = t else { continue }
            assertClose(summary(name, v.data), f.floats("after1." + name), tolerance, "\(name) after one training forward")
        }
        XCTAssertEqual(grads.count, m.parameters.count)

        // Three SGD steps from the same weights.
        let trained = try model(arch, classes: classes, channels: 3, size: size)
        let sgd = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 1e-4)  // LR in make_fixtures.py
        for _ in 0..<3 { _ = try trained.trainStep(input: x, labels: labels, optimizer: sgd) }
        for (name, t) in trained.stateDict() {
            switch t {
            case .float32(let v):
                assertClose(summary(name, v.data), f.floats("step3." + name), tolerance * 10, "\(name) after three SGD steps")
            case .int64(_, let v):
                XCTAssertEqual(v, f.ints("step3." + name), name)
            }
        }
    }

    func testCIFARResNet20MatchesPyTorch() throws {
        try check(arch: "cifar-resnet20", fixture: "parity-cifar-resnet20", classes: 10, size: 16, batch: 4, tolerance: 1e-4, full: true)
    }

    /// Forward outputs at the CIFAR size 3×32×32 (the gradients above use 16×16; see make_fixtures.py).
    func testCIFARResNet20At32MatchesPyTorch() throws {
        let f = try load("parity-cifar-resnet20")
        let x = Tensor(shape: [4, 3, 32, 32], data: f.floats("full.input"))
        for training in [false, true] {
            let m = try model("cifar-resnet20", classes: 10, channels: 3, size: 32)
            let out = try m.forward(x, training: training)
            let mode = training ? "train" : "eval"
            assertClose(out.attentionLogits.data, f.floats("full.\(mode).attention_logits"), 1e-4, "\(mode) attention logits")
            assertClose(out.perceptionLogits.data, f.floats("full.\(mode).perception_logits"), 1e-4, "\(mode) perception logits")
            assertClose(out.attentionMap.data, f.floats("full.\(mode).map"), 1e-4, "\(mode) map")
            XCTAssertEqual(out.attentionMap.shape, [4, 1, 16, 16])
        }
    }

    func testImageNetResNet18MatchesPyTorch() throws {
        try check(arch: "imagenet-resnet18", fixture: "parity-imagenet-resnet18", classes: 5, size: 64, batch: 2, tolerance: 1e-3, full: false)
    }
}
