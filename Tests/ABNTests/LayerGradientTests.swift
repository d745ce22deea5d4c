import XCTest
import Foundation
@testable import ABN

/// Each layer's backward against central finite differences of L = Σ y·r (r fixed random), on small
/// shapes. Float32 forward passes, so eps = 1e-3 and a tolerance of a few 1e-3 relative.
final class LayerGradientTests: XCTestCase {
    var rng = InitRandom(seed: 42)

    func randomAct(_ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Act {
        Act(n: n, c: c, h: h, w: w, data: (0..<(n * c * h * w)).map { _ in Float(rng.normal()) })
    }

    func dot(_ a: [Float], _ b: [Float]) -> Double { zip(a, b).reduce(0) { $0 + Double($1.0) * Double($1.1) } }

    /// Compares analytic dL/dv (v: an input or parameter array) with central differences on a few entries.
    func checkGradient(name: String, count: Int, analytic: [Float], perturb: (Int, Float) -> Void, loss: () throws -> Double,
                       file: StaticString = #filePath, line: UInt = #line) rethrows {
        let eps: Float = 1e-3  // small enough that few values cross a ReLU kink
        var worst = 0.0
        let scale = max(analytic.map { Double(abs($0)) }.max() ?? 0, 1e-6)
        for i in stride(from: 0, to: count, by: max(1, count / 23)) {
            perturb(i, eps); let plus = try loss()
            perturb(i, -2 * eps); let minus = try loss()
            perturb(i, eps)
            let numeric = (plus - minus) / Double(2 * eps)
            worst = max(worst, abs(numeric - Double(analytic[i])) / scale)
        }
        XCTAssertLessThan(worst, 5e-3, "\(name): worst relative difference \(worst)", file: file, line: line)
    }

    func testConvolutions() throws {
        // Small and wide channel counts: oneDNN picks plain kernels for the first, blocked ones (with
        // reorders at the edges) for the second.
        for (k, stride, pad, cin, cout, size) in [(3, 1, 1, 3, 4, 9), (3, 2, 1, 3, 4, 8), (1, 2, 0, 3, 4, 9), (1, 1, 0, 3, 4, 8),
                                                  (7, 2, 3, 3, 4, 9), (3, 2, 1, 16, 32, 16), (1, 2, 0, 16, 32, 16), (3, 1, 1, 32, 32, 8)] {
            let conv = Conv2d(name: "c", inChannels: cin, outChannels: cout, kernel: k, stride: stride, padding: pad, rng: &rng)
            var x = randomAct(2, cin, size, size)
            let y0 = try conv.forward(x, keepForBackward: true)
            let r = (0..<y0.count).map { _ in Float(rng.normal()) }
            conv.weight.zeroGrad()
            let dx = try conv.backward(Act(n: y0.n, c: y0.c, h: y0.h, w: y0.w, data: r))!
            let dw = conv.weight.grad
            let lossX = { [self] in self.dot(try conv.forward(x, keepForBackward: false).data, r) }
            try checkGradient(name: "conv\(k)s\(stride) input", count: x.count, analytic: dx.data,
                              perturb: { x.data[$0] += $1 }, loss: lossX)
            try checkGradient(name: "conv\(k)s\(stride) weight", count: dw.count, analytic: dw,
                              perturb: { conv.weight.value[$0] += $1 }, loss: lossX)
        }
    }

    func testBatchNormTrainingAndFrozen() throws {
        for frozen in [false, true] {
            let bn = BatchNorm2d(name: "bn", channels: 3)
            bn.frozen = frozen
            bn.weight.value = [1.5, 0.5, -1]
            bn.bias.value = [0.1, -0.2, 0.3]
            bn.runningVar = [0.5, 2, 1]
            var x = randomAct(3, 3, 4, 5)
            let y0 = try bn.forward(x, training: true)
            let r = (0..<y0.count).map { _ in Float(rng.normal()) }
            bn.weight.zeroGrad(); bn.bias.zeroGrad()
            let dx = try bn.backward(Act(n: 3, c: 3, h: 4, w: 5, data: r))
            let loss = { [self] in self.dot(try bn.forward(x, training: true).data, r) }
            try checkGradient(name: "bn input (frozen \(frozen))", count: x.count, analytic: dx.data, perturb: { x.data[$0] += $1 }, loss: loss)
            if !frozen {
                try checkGradient(name: "bn weight", count: 3, analytic: bn.weight.grad, perturb: { bn.weight.value[$0] += $1 }, loss: loss)
                try checkGradient(name: "bn bias", count: 3, analytic: bn.bias.grad, perturb: { bn.bias.value[$0] += $1 }, loss: loss)
            }
        }
    }

    func testResidualBlocks() throws {
        for (bottleneck, stride, inPlanes) in [(false, 1, 4), (false, 2, 4), (true, 2, 8), (true, 1, 16)] {
            let block = ResidualBlock(name: "b", inPlanes: inPlanes, planes: 4, stride: stride, kind: bottleneck ? .bottleneck : .basic, rng: &rng)
            var x = randomAct(2, inPlanes, 6, 6)
            let y0 = try block.forward(x, training: true)
            let r = (0..<y0.count).map { _ in Float(rng.normal()) }
            for (c, b) in block.layers { c.weight.zeroGrad(); b.weight.zeroGrad(); b.bias.zeroGrad() }
            let dx = try block.backward(Act(n: y0.n, c: y0.c, h: y0.h, w: y0.w, data: r))
            let firstConv = block.layers[0].0
            let lastNorm = block.layers[block.layers.count - 1].1
            let dw = firstConv.weight.grad, db = lastNorm.bias.grad
            let loss = { [self] in self.dot(try block.forward(x, training: true).data, r) }
            try checkGradient(name: "block input (bottleneck \(bottleneck), stride \(stride))", count: x.count, analytic: dx.data,
                              perturb: { x.data[$0] += $1 }, loss: loss)
            try checkGradient(name: "block first conv", count: dw.count, analytic: dw, perturb: { firstConv.weight.value[$0] += $1 }, loss: loss)
            try checkGradient(name: "block last bn bias", count: db.count, analytic: db, perturb: { lastNorm.bias.value[$0] += $1 }, loss: loss)
        }
    }

    func testLinearPoolingAndLoss() throws {
        let fc = Linear(name: "fc", inFeatures: 5, outFeatures: 3, rng: &rng)
        var x = (0..<10).map { _ in Float(rng.normal()) }
        let r = (0..<6).map { _ in Float(rng.normal()) }
        _ = fc.forward(x, batch: 2, keepForBackward: true)
        fc.weight.zeroGrad(); fc.bias.zeroGrad()
        let dx = fc.backward(r)
        let loss = { [self] in self.dot(fc.forward(x, batch: 2, keepForBackward: false), r) }
        checkGradient(name: "linear input", count: 10, analytic: dx, perturb: { x[$0] += $1 }, loss: loss)
        checkGradient(name: "linear weight", count: 15, analytic: fc.weight.grad, perturb: { fc.weight.value[$0] += $1 }, loss: loss)

        let pool = MaxPool3x3s2()
        var a = randomAct(1, 2, 7, 7)
        let y = pool.forward(a, keepForBackward: true)
        let rp = (0..<y.count).map { _ in Float(rng.normal()) }
        let da = pool.backward(Act(n: 1, c: 2, h: y.h, w: y.w, data: rp))
        checkGradient(name: "maxpool", count: a.count, analytic: da.data, perturb: { a.data[$0] += $1 * 0.1 },
                      loss: { self.dot(pool.forward(a, keepForBackward: false).data, rp) / 0.1 })

        var logits = (0..<8).map { _ in Float(rng.normal()) }
        let labels = [1, 3]
        let g = SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels, classes: 4).gradient
        checkGradient(name: "cross-entropy", count: 8, analytic: g, perturb: { logits[$0] += $1 },
                      loss: { Double(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels, classes: 4).loss) })
    }
}
