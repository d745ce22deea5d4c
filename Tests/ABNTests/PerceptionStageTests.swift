import XCTest
@testable import ABN

/// The entry points CAM and Grad-CAM use: the perception stage's output A from an evaluation forward,
/// and ∂(perception logit)/∂A. Checked against the ordinary forward, against the head worked by hand
/// (logits = fc(GAP(A)), so ∂y_c/∂A_k(i, j) = w_{c,k}/(h·w)), and against the activations and gradients
/// pytorch-grad-cam's hooks saw (tools/make_gradcam_fixtures.py).
final class PerceptionStageTests: XCTestCase {
    func model(_ arch: String, classes: Int, size: Int, attention: AttentionMechanism, seed: UInt64 = 3) throws -> ABNModel {
        try ABNModel(config: ModelConfig(arch: try ABNArchitecture(parsing: arch), numClasses: classes, inputChannels: 3,
                                         inputHeight: size, inputWidth: size, attention: attention), seed: seed)
    }

    func testStageOutputAgreesWithForwardAndTheHeadByHand() throws {
        for (arch, size, stageName, side) in [("cifar-resnet8", 32, "layer3", 8), ("imagenet-resnet18", 64, "layer4", 2),
                                              ("cifar-densenet-bc16-12-c3", 32, "dense3+bn", 8)] {
            for mechanism in AttentionMechanism.allCases {
                let m = try model(arch, classes: 5, size: size, attention: mechanism)
                XCTAssertEqual(m.perceptionStageName, stageName)
                var rng = InitRandom(seed: 9)
                let x = Tensor(shape: [2, 3, size, size], data: (0..<(6 * size * size)).map { _ in Float(rng.normal()) })
                let plain = try m.forward(x, training: false)
                let (out, stage) = try m.forwardKeepingPerceptionStage(x)
                XCTAssertEqual(out.perceptionLogits, plain.perceptionLogits, "\(arch) \(mechanism)")
                XCTAssertEqual(out.attentionLogits, plain.attentionLogits)
                XCTAssertEqual(out.attentionMap, plain.attentionMap)
                let c = stage.shape[1]
                XCTAssertEqual(stage.shape, [2, c, side, side])
                XCTAssertTrue(stage.data.allSatisfy { $0 >= 0 }, "A is after the last block's ReLU")

                // logits = W · mean(A) + b, from the state dict.
                let state = Dictionary(uniqueKeysWithValues: m.stateDict().map { ($0.name, $0.tensor) })
                guard case .float32(let w)? = state["fc.weight"], case .float32(let b)? = state["fc.bias"] else { return XCTFail("no fc") }
                XCTAssertEqual(m.classifierWeight, w)
                let plane = side * side
                for n in 0..<2 {
                    for k in 0..<5 {
                        var y = Double(b.data[k])
                        for ch in 0..<c {
                            let mean = stage.data[((n * c + ch) * plane)..<((n * c + ch + 1) * plane)].reduce(0.0) { $0 + Double($1) } / Double(plane)
                            y += Double(w.data[k * c + ch]) * mean
                        }
                        XCTAssertEqual(Double(out.perceptionLogits.data[n * 5 + k]), y, accuracy: 1e-4 * max(1, abs(y)))
                    }
                }

                // ∂y_c/∂A = w_c / (h·w), one class per sample; no parameter gradient accumulates.
                let classes = [4, 1]
                let g = try m.perceptionLogitGradient(stageShape: stage.shape, classes: classes)
                XCTAssertEqual(g.shape, stage.shape)
                for n in 0..<2 {
                    for ch in 0..<c {
                        let expected = w.data[classes[n] * c + ch] / Float(plane)
                        for p in 0..<plane { XCTAssertEqual(g.data[(n * c + ch) * plane + p], expected, accuracy: 1e-7) }
                    }
                }
                XCTAssertTrue(m.gradients().values.allSatisfy { $0.allSatisfy { $0 == 0 } })
            }
        }
    }

    func testBadShapesAndClassesAreErrors() throws {
        let m = try model("cifar-resnet8", classes: 4, size: 32, attention: .multiply)
        XCTAssertThrowsError(try m.perceptionLogitGradient(stageShape: [1, 64, 8, 8], classes: [4]))
        XCTAssertThrowsError(try m.perceptionLogitGradient(stageShape: [1, 64, 8, 8], classes: [-1]))
        XCTAssertThrowsError(try m.perceptionLogitGradient(stageShape: [1, 32, 8, 8], classes: [0]))
        XCTAssertThrowsError(try m.perceptionLogitGradient(stageShape: [2, 64, 8, 8], classes: [0]))
    }

    /// ImageNet ResNet-18-ABN (g·M) at 128×128 with the hashed weights: A (layer4's output) and
    /// ∂y_c/∂A for the predicted and another class, as pytorch-grad-cam recorded them.
    func testImageNetStageAndGradientMatchPytorch() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/gradcam-imagenet-resnet18", withExtension: "safetensors"))
        let f = try SafeTensors.read(contentsOf: url).tensors
        func floats(_ name: String) throws -> [Float] {
            guard case .float32(let t)? = f[name] else { return try XCTUnwrap(nil, "fixture lacks float tensor \(name)") }
            return t.data
        }
        let m = try model("imagenet-resnet18", classes: 5, size: 128, attention: .multiply)
        try m.loadStateDict(HashValues.state(for: m))
        let (_, stage) = try m.forwardKeepingPerceptionStage(Tensor(shape: [1, 3, 128, 128], data: try floats("input.0")))
        XCTAssertEqual(stage.shape, [1, 512, 4, 4])
        func relative(_ a: [Float], _ b: [Float]) -> Float {
            XCTAssertEqual(a.count, b.count)
            return (zip(a, b).map { abs($0 - $1) }.max() ?? .infinity) / max(b.map(abs).max() ?? 1, 1e-12)
        }
        let dA = relative(stage.data, try floats("activations.0"))
        XCTAssertLessThanOrEqual(dA, 1e-4)
        var dG: Float = 0
        for j in 0..<2 {
            guard case .int64(_, let t)? = f["target.0.\(j)"] else { return XCTFail("no target") }
            let g = try m.perceptionLogitGradient(stageShape: stage.shape, classes: [Int(t[0])])
            dG = max(dG, relative(g.data, try floats("gradients.0.\(j)")))
        }
        XCTAssertLessThanOrEqual(dG, 1e-5)
        print("imagenet-resnet18 layer4 against pytorch-grad-cam: relative error of A \(dA), of ∂y/∂A \(dG)")
    }
}
