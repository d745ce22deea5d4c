import XCTest
import ABN
@testable import HITL

/// CAM, Grad-CAM and Grad-CAM++: the formulas on values worked by hand, and the whole path (engine
/// activations and gradients, maps, normalisation, resizing) against pytorch-grad-cam's output for the
/// same model (tools/make_gradcam_fixtures.py).
final class ClassActivationMapsTests: XCTestCase {
    // Two channels on a 1×2 plane: A₀ = [1, 3], A₁ = [2, 0]; gradients g₀ = [0.5, −0.5], g₁ = [0, 1].
    let a: [Float] = [1, 3, 2, 0]
    let g: [Float] = [0.5, -0.5, 0, 1]

    func testWeightedSumAndCAMByHand() {
        // CAM with w = [2, −1]: [2·1 − 2, 2·3 − 0] = [0, 6]; negative values stay (no ReLU).
        XCTAssertEqual(ClassActivationMaps.cam(activations: a, channels: 2, classWeights: [2, -1]), [0, 6])
        XCTAssertEqual(ClassActivationMaps.cam(activations: a, channels: 2, classWeights: [-1, 0]), [-1, -3])
    }

    func testGradCAMByHand() {
        // α = spatial means of g: [0, 0.5]; ReLU(0·A₀ + 0.5·A₁) = [1, 0].
        XCTAssertEqual(ClassActivationMaps.gradCAMWeights(gradients: g, channels: 2), [0, 0.5])
        XCTAssertEqual(ClassActivationMaps.gradCAM(activations: a, gradients: g, channels: 2), [1, 0])
    }

    func testGradCAMPlusPlusByHand() {
        // Channel 0: ΣA = 4. At g = 0.5: 0.25 / (2·0.25 + 4·0.125 + 1e-6) = 0.25/1.000001, times max(g, 0) = 0.5;
        // at g = −0.5 max(g, 0) = 0. Channel 1: ΣA = 2; g = 0 counts 0; at g = 1: 1/(2 + 2 + 1e-6).
        let w0 = 0.5 * 0.25 / 1.000001, w1 = 1 / 4.000001
        let w = ClassActivationMaps.gradCAMPlusPlusWeights(activations: a, gradients: g, channels: 2)
        XCTAssertEqual(Double(w[0]), w0, accuracy: 1e-8)
        XCTAssertEqual(Double(w[1]), w1, accuracy: 1e-8)
        let m = ClassActivationMaps.gradCAMPlusPlus(activations: a, gradients: g, channels: 2)
        XCTAssertEqual(Double(m[0]), w0 * 1 + w1 * 2, accuracy: 1e-7)
        XCTAssertEqual(Double(m[1]), w0 * 3, accuracy: 1e-7)
        // Negative sums are cut by the ReLU: flip every activation's sign.
        XCTAssertEqual(ClassActivationMaps.gradCAMPlusPlus(activations: a.map { -$0 }, gradients: g, channels: 2).max(), 0)
    }

    func testNormalisationIsScaleCamImage() {
        // (m − min)/(1e-7 + max(m − min)); a constant map becomes 0, not NaN.
        let n = ClassActivationMaps.normalised([2, 4, 6])
        XCTAssertEqual(n[0], 0)
        XCTAssertEqual(n[1], 2 / (4 + 1e-7), accuracy: 1e-7)
        XCTAssertEqual(n[2], 4 / (4 + 1e-7), accuracy: 1e-7)
        XCTAssertEqual(ClassActivationMaps.normalised([3, 3]), [0, 0])
    }

    /// With GAP → fc after A, ∂y_c/∂A_k = w_{c,k}/(h·w) everywhere: Grad-CAM is ReLU(CAM)/(h·w).
    func testGradCAMIsReLUOfCAMUnderAGlobalAveragePoolHead() {
        let channels = 3, plane = 4
        let acts: [Float] = (0..<(channels * plane)).map { Float(($0 * 7) % 5) - 1.5 }
        let w: [Float] = [0.3, -0.8, 0.5]
        let grads = (0..<channels).flatMap { k in [Float](repeating: w[k] / Float(plane), count: plane) }
        let cam = ClassActivationMaps.cam(activations: acts, channels: channels, classWeights: w)
        let grad = ClassActivationMaps.gradCAM(activations: acts, gradients: grads, channels: channels)
        for (x, y) in zip(cam, grad) { XCTAssertEqual(max(x, 0) / Float(plane), y, accuracy: 1e-6) }
    }

    // MARK: - Parity with pytorch-grad-cam

    func fixture(_ name: String) throws -> [String: StateTensor] {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/gradcam/" + name, withExtension: "safetensors"))
        return try SafeTensors.read(contentsOf: url).tensors
    }

    func floats(_ f: [String: StateTensor], _ name: String) throws -> (shape: [Int], data: [Float]) {
        // A missing tensor is a broken fixture: the test fails, it is not skipped.
        guard case .float32(let t)? = f[name] else { return try XCTUnwrap(nil, "fixture lacks float tensor \(name)") }
        return (t.shape, t.data)
    }

    func target(_ f: [String: StateTensor], _ name: String) throws -> Int {
        guard case .int64(_, let v)? = f[name], let t = v.first else { return try XCTUnwrap(nil, "fixture lacks integer tensor \(name)") }
        return Int(t)
    }

    func maxAbs(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    /// The maths alone: pytorch-grad-cam's own activations and gradients through our formulas and
    /// normalisation give its maps (both architectures: layer3 of a CIFAR ResNet-8, layer4 of an
    /// ImageNet ResNet-18 at 128×128).
    func testFormulasOnPytorchGradCAMsInputsGiveItsMaps() throws {
        for (name, inputs, size) in [("cifar-resnet8-cams", 2, 32), ("imagenet-resnet18-cams", 1, 128)] {
            let f = try fixture(name)
            var worst: [String: Float] = [:]
            for i in 0..<inputs {
                let acts = try floats(f, "activations.\(i)")
                let (c, h, w) = (acts.shape[0], acts.shape[1], acts.shape[2])
                for j in 0..<2 {
                    let grads = try floats(f, "gradients.\(i).\(j)").data
                    let gc = ClassActivationMaps.gradCAM(activations: acts.data, gradients: grads, channels: c)
                    let gpp = ClassActivationMaps.gradCAMPlusPlus(activations: acts.data, gradients: grads, channels: c)
                    for (method, m) in [("gradcam", gc), ("gradcam++", gpp)] {
                        let ours = ClassActivationMaps.asPytorchGradCAM(m, height: h, width: w, toHeight: size, toWidth: size)
                        let d = maxAbs(ours, try floats(f, "\(method).\(i).\(j)").data)
                        worst[method] = max(worst[method] ?? 0, d)
                        XCTAssertLessThanOrEqual(d, 1e-4, "\(name) \(method) input \(i) target \(j)")
                    }
                }
            }
            print("\(name): formulas on pytorch-grad-cam's activations, max |ours − pytorch-grad-cam|: \(worst)")
        }
    }

    /// The whole path on a model file: our engine's activations and gradients, then the maps, against
    /// pytorch-grad-cam on the same weights and inputs, for the predicted class and another one.
    func testExplainMatchesPytorchGradCAM() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/gradcam/cifar-resnet8", withExtension: "safetensors"))
        let loaded = try ModelFile.load(contentsOf: url)
        XCTAssertEqual(loaded.model.perceptionStageName, "layer3")
        let f = try fixture("cifar-resnet8-cams")
        var worst: [String: Float] = [:]
        for i in 0..<2 {
            let input = try floats(f, "input.\(i)").data
            let torchActs = try floats(f, "activations.\(i)").data
            for j in 0..<2 {
                let t = try target(f, "target.\(i).\(j)")
                let e = try explain(loaded.model, input: input, methods: [.abn, .cam, .gradcam, .gradcamPlusPlus], target: j == 0 ? nil : t)
                XCTAssertEqual(e.classMaps.map(\.method), [.cam, .gradcam, .gradcamPlusPlus])
                XCTAssertEqual(e.classMaps.map(\.target), [t, t, t], "target \(j)")
                for c in e.classMaps {
                    XCTAssertEqual([c.height, c.width], [8, 8])
                    XCTAssertEqual(c.layer, "layer3")
                }
                // CAM at the layer's resolution, relative to its largest value.
                let cam = try floats(f, "cam.\(i).\(j)").data
                let scale = cam.map(abs).max() ?? 1
                let dCam = maxAbs(e.classMaps[0].values, cam) / scale
                worst["cam (relative, 8×8)"] = max(worst["cam (relative, 8×8)"] ?? 0, dCam)
                XCTAssertLessThanOrEqual(dCam, 1e-5)
                for (k, method) in [(1, "gradcam"), (2, "gradcam++")] {
                    let d = maxAbs(e.classMaps[k].resampled(toHeight: 32, toWidth: 32), try floats(f, "\(method).\(i).\(j)").data)
                    worst[method] = max(worst[method] ?? 0, d)
                    XCTAssertLessThanOrEqual(d, 1e-4, "\(method) input \(i) target \(j)")
                }
                // The engine's A and ∂y_c/∂A against what pytorch-grad-cam's hooks saw.
                let (_, stage) = try loaded.model.forwardKeepingPerceptionStage(Tensor(shape: [1, 3, 32, 32], data: input))
                let dA = maxAbs(stage.data, torchActs) / (torchActs.map(abs).max() ?? 1)
                XCTAssertLessThanOrEqual(dA, 1e-5)
                worst["activations (relative)"] = max(worst["activations (relative)"] ?? 0, dA)
                let grad = try loaded.model.perceptionLogitGradient(stageShape: stage.shape, classes: [t]).data
                let torchGrad = try floats(f, "gradients.\(i).\(j)").data
                let dG = maxAbs(grad, torchGrad) / (torchGrad.map(abs).max() ?? 1)
                XCTAssertLessThanOrEqual(dG, 1e-5)
                worst["gradients (relative)"] = max(worst["gradients (relative)"] ?? 0, dG)
            }
        }
        print("cifar-resnet8: explain against pytorch-grad-cam, max |ours − pytorch-grad-cam| after its normalisation: \(worst)")
    }
}
