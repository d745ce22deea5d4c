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
    /// `oneSidedAtKinks`: where a ReLU input crosses 0 inside [v − eps, v + eps] (likely when every
    /// BatchNorm parameter of a block with two BN-ReLU pairs is checked), the central difference mixes
    /// two slopes, but the side without the crossing still gives the gradient: an entry then passes
    /// when the forward or the backward difference matches. eps 1e-3 is small enough that few values
    /// cross a kink; a block whose loss bends faster (two batch-normalised ReLUs on few values) passes
    /// a smaller one.
    func checkGradient(name: String, count: Int, analytic: [Float], perturb: (Int, Float) -> Void, loss: () throws -> Double,
                       eps: Float = 1e-3, oneSidedAtKinks: Bool = false, file: StaticString = #filePath, line: UInt = #line) rethrows {
        var worst = 0.0
        let scale = max(analytic.map { Double(abs($0)) }.max() ?? 0, 1e-6)
        for i in stride(from: 0, to: count, by: max(1, count / 23)) {
            let base = oneSidedAtKinks ? try loss() : 0
            perturb(i, eps); let plus = try loss()
            perturb(i, -2 * eps); let minus = try loss()
            perturb(i, eps)
            var estimates = [(plus - minus) / Double(2 * eps)]
            if oneSidedAtKinks { estimates += [(plus - base) / Double(eps), (base - minus) / Double(eps)] }
            worst = max(worst, estimates.map { abs($0 - Double(analytic[i])) / scale }.min()!)
        }
        XCTAssertLessThan(worst, 5e-3, "\(name): worst relative difference \(worst)", file: file, line: line)
    }

    func testConvolutions() throws {
        // Small and wide channel counts: oneDNN picks plain kernels for the first, blocked ones (with
        // reorders at the edges) for the second.
        for (k, stride, pad, cin, cout, size) in [(3, 1, 1, 3, 4, 9), (3, 2, 1, 3, 4, 8), (1, 2, 0, 3, 4, 9), (1, 1, 0, 3, 4, 8),
                                                  (7, 2, 3, 3, 4, 9), (3, 2, 1, 16, 32, 16), (1, 2, 0, 16, 32, 16), (3, 1, 1, 32, 32, 8)] {
            try checkConvolution(kernel: k, stride: stride, padding: pad, inChannels: cin, outChannels: cout, groups: 1, size: size,
                                 blockedInput: false)
        }
    }

    /// dL/dx and dL/dW of one convolution against central differences (the input plain, or in its blocked layout).
    func checkConvolution(kernel k: Int, stride: Int, padding pad: Int, inChannels cin: Int, outChannels cout: Int, groups: Int,
                          size: Int, blockedInput: Bool) throws {
        let conv = Conv2d(name: "c", inChannels: cin, outChannels: cout, kernel: k, stride: stride, padding: pad, groups: groups, rng: &rng)
        XCTAssertEqual(conv.weight.shape, [cout, cin / groups, k, k])
        var x = blockedInput ? randomAct(2, cin, size, size).reblocked(Layout.block(forChannels: cin)) : randomAct(2, cin, size, size)
        let y0 = try conv.forward(x, keepForBackward: true)
        let r = (0..<y0.count).map { _ in Float(rng.normal()) }
        conv.weight.zeroGrad()
        let dx = try conv.backward(Act(n: y0.n, c: y0.c, h: y0.h, w: y0.w, block: y0.block, data: r))!
        let dw = conv.weight.grad
        let lossX = { [self] in self.dot(try conv.forward(x, keepForBackward: false).data, r) }
        let what = "conv\(k)s\(stride)" + (groups > 1 ? " in \(groups) groups" : "")
        try checkGradient(name: "\(what) input", count: x.count, analytic: dx.data, perturb: { x.data[$0] += $1 }, loss: lossX)
        try checkGradient(name: "\(what) weight", count: dw.count, analytic: dw, perturb: { conv.weight.value[$0] += $1 }, loss: lossX)
    }

    /// Grouped convolutions (ResNeXt's 3×3): small and blocked channel counts, stride 1 and 2.
    func testGroupedConvolutions() throws {
        for (k, stride, pad, cin, cout, groups, size) in [(3, 1, 1, 4, 8, 2, 6), (3, 2, 1, 8, 8, 4, 8), (3, 1, 1, 32, 32, 8, 6),
                                                          (1, 1, 0, 16, 32, 4, 5)] {
            try checkConvolution(kernel: k, stride: stride, padding: pad, inChannels: cin, outChannels: cout, groups: groups, size: size,
                                 blockedInput: cin >= 16)
        }
    }

    /// A grouped convolution's output equals, group by group, ordinary convolutions on the channel slices
    /// (the definition, computed with Double loops).
    func testGroupedConvolutionIsPerGroupConvolution() throws {
        let (cin, cout, groups, size) = (6, 4, 2, 5)
        let conv = Conv2d(name: "g", inChannels: cin, outChannels: cout, kernel: 3, padding: 1, groups: groups, rng: &rng)
        let x = randomAct(1, cin, size, size)
        let y = try conv.forward(x, keepForBackward: false)
        let ig = cin / groups, og = cout / groups
        var worst = 0.0
        for o in 0..<cout {
            let g = o / og
            for i in 0..<size { for j in 0..<size {
                var sum = 0.0
                for c in 0..<ig { for di in -1...1 { for dj in -1...1 {
                    let (a, b) = (i + di, j + dj)
                    guard a >= 0, a < size, b >= 0, b < size else { continue }
                    let w = conv.weight.value[((o * ig + c) * 3 + di + 1) * 3 + dj + 1]
                    sum += Double(w) * Double(x.data[((g * ig + c) * size + a) * size + b])
                } } }
                worst = max(worst, abs(sum - Double(y.data[(o * size + i) * size + j])))
            } }
        }
        XCTAssertLessThan(worst, 1e-4)
    }

    /// ResNeXt and Wide ResNet blocks: every input and a parameter of each kind, with projection and
    /// identity shortcuts.
    func testResNeXtAndPreActivationBlocks() throws {
        let blocks: [(String, NetworkBlock, Int)] = [
            ("resnext projection", ResidualBlock(name: "x", inPlanes: 8, planes: 16, stride: 2, kind: .resnext(cardinality: 4, width: 8), rng: &rng), 8),
            ("resnext identity", ResidualBlock(name: "x", inPlanes: 8, planes: 8, stride: 1, kind: .resnext(cardinality: 2, width: 4), rng: &rng), 8),
            ("pre-activation projection", PreActivationBlock(name: "w", inPlanes: 4, planes: 8, stride: 2, dropout: 0, rng: &rng), 4),
            ("pre-activation identity", PreActivationBlock(name: "w", inPlanes: 8, planes: 8, stride: 1, dropout: 0, rng: &rng), 8),
        ]
        for (what, block, inPlanes) in blocks {
            try checkBlockGradients(what, block, input: randomAct(2, inPlanes, 6, 6),
                                    parameters: ["conv_conv.weight", "conv1.weight", "convShortcut.weight", "bn1.weight", "bn_expand.bias"])
        }
    }

    /// A block's input gradient, and the gradients of its parameters whose names end with one of
    /// `suffixes`, against central differences of Σ block(x)·r in training mode.
    func checkBlockGradients(_ what: String, _ block: NetworkBlock, input: Act, parameters suffixes: [String],
                             file: StaticString = #filePath, line: UInt = #line) throws {
        var x = input
        let y0 = try block.forward(x, training: true)
        let r = (0..<y0.count).map { _ in Float(rng.normal()) }
        let parameters = block.entries.flatMap(\.parameters)
        for p in parameters { p.zeroGrad() }
        let dx = try block.backward(Act(n: y0.n, c: y0.c, h: y0.h, w: y0.w, block: y0.block, data: r))
        let loss = { [self] in self.dot(try block.forward(x, training: true).data, r) }
        try checkGradient(name: "\(what) input", count: x.count, analytic: dx.reblocked(x.block).data,
                          perturb: { x.data[$0] += $1 }, loss: loss, file: file, line: line)
        for p in parameters where suffixes.contains(where: { p.name.hasSuffix($0) }) {
            try checkGradient(name: "\(what) \(p.name)", count: p.value.count, analytic: p.grad,
                              perturb: { p.value[$0] += $1 }, loss: loss, file: file, line: line)
        }
    }

    /// Concatenation along the channels and its inverse, in every combination of plain and blocked
    /// layouts (blocked only where the counts split into blocks), against [a, b] written out in NCHW.
    func testConcatenationAndChannelSlices() throws {
        let p = Layout.preferredBlock, concat = ChannelConcat()
        for (ca, cb) in [(2 * p, p), (2 * p, 12), (12, p), (5, 3)] {
            let a = randomAct(2, ca, 3, 3), b = randomAct(2, cb, 3, 3)
            var expected: [Float] = []  // sample by sample: a's channels, then b's
            for i in 0..<2 {
                expected += a.data[(i * ca * 9)..<((i + 1) * ca * 9)]
                expected += b.data[(i * cb * 9)..<((i + 1) * cb * 9)]
            }
            let layouts = { (c: Int) in c % p == 0 ? [1, p] : [1] }
            for la in layouts(ca) { for lb in layouts(cb) { for lo in [1, p] where (ca + cb) % lo == 0 && (lo == 1 || (ca % lo == 0 && cb % lo == 0)) {
                let y = try concat.concatenated(a.reblocked(la), b.reblocked(lb), block: lo)
                XCTAssertEqual(y.c, ca + cb)
                XCTAssertEqual(y.block, lo)
                XCTAssertEqual(y.reblocked(1).data, expected, "[\(ca) in \(la), \(cb) in \(lb)] in \(lo)")
                for back in [1, p] {
                    if ca % back == 0 { XCTAssertEqual(try concat.channels(y, 0..<ca, block: back).reblocked(1).data, a.data) }
                    if cb % back == 0 { XCTAssertEqual(try concat.channels(y, ca..<ca + cb, block: back).reblocked(1).data, b.data) }
                }
            } } }
        }
    }

    /// 2×2 average pooling on a hand-worked 5×5 plane: the odd last row and column are dropped (floor),
    /// and each input of a window gets a quarter of its output's gradient; the same in the blocked
    /// layout (every channel of a block a multiple of the first).
    func testAveragePooling() throws {
        let p = Layout.preferredBlock
        for block in [1, p] {
            let channels = block  // 1 plain channel, or one full block
            let plane = (0..<25).map(Float.init)
            let x = Act(n: 1, c: channels, h: 5, w: 5, data: (0..<channels).flatMap { c in plane.map { $0 * Float(c + 1) } }).reblocked(block)
            let pool = AveragePool(window: 2)
            let y = try pool.forward(x, keepForBackward: true)
            XCTAssertEqual([y.h, y.w, y.block], [2, 2, block])
            let yPlain = y.reblocked(1).data
            for c in 0..<channels {
                XCTAssertEqual(Array(yPlain[(4 * c)..<(4 * c + 4)]), [3, 5, 13, 15].map { $0 * Float(c + 1) })  // (0+1+5+6)/4, (2+3+7+8)/4, …
            }
            let dy = Act(n: 1, c: channels, h: 2, w: 2, data: (0..<channels).flatMap { c in [4, 8, 12, 16].map { $0 * Float(c + 1) } })
            let dx = try pool.backward(dy).reblocked(1).data
            let expected: [Float] = [1, 1, 2, 2, 0,
                                     1, 1, 2, 2, 0,
                                     3, 3, 4, 4, 0,
                                     3, 3, 4, 4, 0,
                                     0, 0, 0, 0, 0]
            for c in 0..<channels { XCTAssertEqual(Array(dx[(25 * c)..<(25 * c + 25)]), expected.map { $0 * Float(c + 1) }) }
        }
    }

    /// Global average pooling against Double sums, plain and blocked, on a 3×5 plane; its backward
    /// spreads dy/15 over every position, with and without a forward before it.
    func testGlobalAveragePooling() throws {
        let p = Layout.preferredBlock
        let x = randomAct(3, 2 * p, 3, 5)
        var expected = [Float](repeating: 0, count: 3 * 2 * p)
        for i in 0..<(3 * 2 * p) { expected[i] = Float(x.data[(15 * i)..<(15 * i + 15)].reduce(0.0) { $0 + Double($1) } / 15) }
        let dy = (0..<(3 * 2 * p)).map { Float($0) - 7 }
        for block in [1, p] {
            let pool = AveragePool(window: nil)
            let y = try pool.pooled(x.reblocked(block), keepForBackward: true)
            XCTAssertLessThan(zip(y, expected).map { abs($0 - $1) }.max()!, 1e-6, "block \(block)")
            let dx = try pool.pooledBackward(dy)
            XCTAssertEqual(dx.block, block)
            XCTAssertEqual(dx.reblocked(1).data, dy.flatMap { [Float](repeating: $0 / 15, count: 15) })
            XCTAssertEqual(try pool.spread(dy, like: x.reblocked(block).geometry).data, dx.data)
            XCTAssertThrowsError(try pool.pooledBackward(dy), "a second backward without a forward")
        }
    }

    /// DenseNet-BC's bottleneck layer (growth 12, not a multiple of the block; and growth of one block,
    /// so the concatenation stays blocked) from plain and blocked inputs, and the transition (odd side,
    /// so pooling floors): every input and the convolution and BatchNorm parameters; the evaluation
    /// forward with folded BatchNorms equals the unfolded one.
    func testDenseLayerAndTransition() throws {
        let p = Layout.preferredBlock
        let cases: [(String, NetworkBlock, Int, Int, Int)] = [
            ("dense growth 12, plain input", DenseLayer(name: "dense1.0", inPlanes: 6, growth: 12, dropout: 0, rng: &rng), 6, 1, 5),
            ("dense growth 12, blocked input", DenseLayer(name: "dense1.1", inPlanes: p, growth: 12, dropout: 0, rng: &rng), p, p, 5),
            ("dense growth \(p), blocked input", DenseLayer(name: "dense1.2", inPlanes: p, growth: p, dropout: 0, rng: &rng), p, p, 4),
            ("transition, plain input", Transition(name: "trans1", inPlanes: 10, outPlanes: 3, rng: &rng), 10, 1, 7),
            ("transition, blocked output", Transition(name: "trans2", inPlanes: 2 * p + 4, outPlanes: p, rng: &rng), 2 * p + 4, 1, 6),
        ]
        for (what, block, inPlanes, inBlock, side) in cases {
            var x = randomAct(2, inPlanes, side, side).reblocked(inBlock)
            let y0 = try block.forward(x, training: true)
            let r = (0..<y0.count).map { _ in Float(rng.normal()) }
            let parameters = block.entries.flatMap(\.parameters)
            for q in parameters { q.zeroGrad() }
            let dx = try block.backward(Act(n: y0.n, c: y0.c, h: y0.h, w: y0.w, block: y0.block, data: r))
            XCTAssertEqual(dx.shape, x.shape)
            let loss = { [self] in self.dot(try block.forward(x, training: true).data, r) }
            try checkGradient(name: "\(what) input", count: x.count, analytic: dx.reblocked(x.block).data,
                              perturb: { x.data[$0] += $1 }, loss: loss, eps: 3e-4, oneSidedAtKinks: true)
            for q in parameters {
                try checkGradient(name: "\(what) \(q.name)", count: q.value.count, analytic: q.grad,
                                  perturb: { q.value[$0] += $1 }, loss: loss, eps: 3e-4, oneSidedAtKinks: true)
            }
            // Evaluation: running statistics away from the identity, folded against unfolded.
            for case .norm(let bn) in block.entries {
                bn.runningMean = (0..<bn.channels).map { _ in Float(rng.normal()) * 0.1 }
                bn.runningVar = (0..<bn.channels).map { _ in 1 + abs(Float(rng.normal())) * 0.2 }
            }
            let plain = try block.forward(x, training: false).reblocked(1).data
            let folded = try block.forwardFolded(x, version: 1).reblocked(1).data
            let scale = plain.map(abs).max()!
            XCTAssertLessThan(zip(plain, folded).map { abs($0 - $1) }.max()! / scale, 1e-5, "\(what) folded evaluation")
        }
    }

    /// Dropout: the kept fraction near 1 − p, kept values scaled by 1/(1 − p), the backward the same
    /// mask, evaluation the identity; p = 0 the identity in training too.
    func testDropout() throws {
        let d = Dropout(name: "block1.layer.0", probability: 0.3)
        let x = Act(n: 2, c: 8, h: 16, w: 16, data: [Float](repeating: 2, count: 4096))
        let y = d.forward(x, training: true)
        let kept = y.data.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 4096, 0.7, accuracy: 0.03)
        XCTAssertTrue(kept.allSatisfy { abs($0 - 2 / 0.7) < 1e-5 })
        let dy = Act(n: 2, c: 8, h: 16, w: 16, data: [Float](repeating: 1, count: 4096))
        let dx = d.backward(dy)
        for i in 0..<4096 { XCTAssertEqual(dx.data[i], y.data[i] / 2, accuracy: 1e-6) }
        XCTAssertEqual(d.forward(x, training: false).data, x.data)
        XCTAssertEqual(Dropout(name: "n", probability: 0).forward(x, training: true).data, x.data)
        // Two masks in a row differ (a fresh draw every step).
        XCTAssertNotEqual(d.forward(x, training: true).data, d.forward(x, training: true).data)
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

    /// SE-ResNet's blocks: squeeze-excitation between the last BN and the add, Basic (projection with the
    /// stride, blocked layout) and Bottleneck (identity); the input and a convolution's and BatchNorms'
    /// parameters; and the evaluation forward (BN folded, the scale, add and ReLU in one pass)
    /// against the training-mode forward on frozen statistics.
    func testSqueezeExcitationBlocks() throws {
        for (bottleneck, stride, inPlanes, planes, blocked) in [(false, 2, 16, 32, true), (true, 1, 32, 8, false)] {
            let block = ResidualBlock(name: "s", inPlanes: inPlanes, planes: planes, stride: stride,
                                      kind: .squeezeExcitation(bottleneck: bottleneck), rng: &rng)
            let se = try XCTUnwrap(block.squeeze)
            XCTAssertEqual(se.fc1.weight.shape, [2, planes * (bottleneck ? 4 : 1)])  // round(32/16), round(8/4)
            // Biases away from 0 so the hidden ReLU is not at a kink for every sample.
            se.fc1.bias!.value = se.fc1.bias!.value.map { $0 + 0.3 }
            let plain = randomAct(2, inPlanes, 6, 6)
            let x = blocked ? plain.reblocked(Layout.block(forChannels: inPlanes)) : plain
            let what = bottleneck ? "SE bottleneck" : "SE basic"
            // (fc1 and fc2 move whole channels across the block's final ReLU kinks: testSqueezeExcitation
            // checks them on the module alone.)
            try checkBlockGradients(what, block, input: x,
                                    parameters: [".conv1.weight", "bn2.bias", "bn3.weight"])
            // Evaluation: folded forward = the unfolded one with running statistics (frozen BNs).
            for entry in block.entries { entry.setFrozen(true) }
            let reference = try block.forward(x, training: true)
            let folded = try block.forwardFolded(x, version: 1)
            XCTAssertEqual(folded.shape, reference.shape)
            let diff = zip(folded.reblocked(1).data, reference.reblocked(1).data).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(diff, 1e-4 * max(1, reference.data.map { abs($0) }.max()!), "\(what) folded forward")
        }
    }

    /// Squeeze-excitation alone, v = u·σ(fc2(relu(fc1(GAP(u))))): dL/du (directly and through the
    /// pooled mean) and fc1's and fc2's gradients, plain and channel-blocked.
    func testSqueezeExcitation() throws {
        for (channels, hidden) in [(8, 3), (32, 2)] {
            let se = SqueezeExcitation(SqueezeSpec(fc1: "fc1", fc2: "fc2", channels: channels, hidden: hidden, shortcutFirst: true), rng: &rng)
            se.fc1.bias!.value = se.fc1.bias!.value.map { $0 + 0.5 }  // hidden units away from the ReLU's kink
            var u = randomAct(3, channels, 4, 5)
            u = u.reblocked(Layout.block(forChannels: channels))
            let v0 = Channelwise.excited(u, factors: try se.factors(u, keepForBackward: true))
            let r = (0..<v0.count).map { _ in Float(rng.normal()) }
            for p in se.entries.flatMap(\.parameters) { p.zeroGrad() }
            let du = try se.backward(Act(n: v0.n, c: v0.c, h: v0.h, w: v0.w, block: v0.block, data: r))
            XCTAssertEqual(du.block, u.block)
            let loss = { [self] in self.dot(Channelwise.excited(u, factors: try se.factors(u, keepForBackward: false)).data, r) }
            try checkGradient(name: "SE input (\(channels) channels)", count: u.count, analytic: du.data, perturb: { u.data[$0] += $1 }, loss: loss)
            for p in se.entries.flatMap(\.parameters) {
                try checkGradient(name: "SE \(p.name) (\(channels) channels)", count: p.value.count, analytic: p.grad,
                              perturb: { p.value[$0] += $1 }, loss: loss)
            }
        }
    }

    /// SE-ResNet's map M = Σ_k log(1 + maps_k): a hand-worked value, and its backward dM/(1 + x) against
    /// finite differences, plain and channel-blocked.
    func testLogSumMap() throws {
        let e = Float(M_E)
        let m = Channelwise.logSum(Act(n: 1, c: 3, h: 1, w: 2, data: [e - 1, 0, 0, e * e - 1, 3, 0]))
        XCTAssertEqual(m.data[0], 1 + 0 + log(4), accuracy: 1e-6)
        XCTAssertEqual(m.data[1], 0 + 2 + 0, accuracy: 1e-6)
        for channels in [5, 16] {
            var x = randomAct(2, channels, 3, 4)
            x.data = x.data.map { abs($0) }  // the maps come after a ReLU
            x = x.reblocked(Layout.block(forChannels: channels))
            let y = Channelwise.logSum(x)
            XCTAssertEqual(y.shape, [2, 1, 3, 4])
            let r = (0..<y.count).map { _ in Float(rng.normal()) }
            let dx = Channelwise.logSumBackward(r, input: x)
            XCTAssertEqual(dx.block, x.block)
            checkGradient(name: "log-sum map (\(channels) channels)", count: x.count, analytic: dx.data,
                          perturb: { x.data[$0] += $1 }, loss: { self.dot(Channelwise.logSum(x).data, r) })
        }
    }

    /// Max pooling 3×3, stride 2, padding 1 (padding never wins) against the definition, in every
    /// layout, at the training path (winners kept) and the inference one, with ties from rounding.
    func testMaxPoolMatchesTheDefinitionInEveryLayout() throws {
        for (h, w) in [(7, 7), (8, 5), (112, 112)] {
            // Values on a coarse grid, so windows often hold equal maxima.
            let x = Act(n: 2, c: 16, h: h, w: w, data: (0..<(2 * 16 * h * w)).map { _ in Float(Int(rng.normal() * 3)) })
            let oh = (h - 1) / 2 + 1, ow = (w - 1) / 2 + 1
            var expected = [Float](repeating: 0, count: 2 * 16 * oh * ow)
            for nc in 0..<32 { for oy in 0..<oh { for ox in 0..<ow {
                var m = -Float.infinity
                for iy in max(0, 2 * oy - 1)...min(h - 1, 2 * oy + 1) {
                    for ix in max(0, 2 * ox - 1)...min(w - 1, 2 * ox + 1) { m = max(m, x.data[(nc * h + iy) * w + ix]) }
                }
                expected[(nc * oh + oy) * ow + ox] = m
            } } }
            // The backward routes each window's gradient to its first largest input in scan order (rows,
            // then columns), as PyTorch's max_pool2d does.
            let dy = (0..<expected.count).map { _ in Float(rng.normal()) }
            var expectedDx = [Float](repeating: 0, count: x.count)
            for nc in 0..<32 { for oy in 0..<oh { for ox in 0..<ow {
                var winner = -1
                for iy in max(0, 2 * oy - 1)...min(h - 1, 2 * oy + 1) {
                    for ix in max(0, 2 * ox - 1)...min(w - 1, 2 * ox + 1) {
                        let at = (nc * h + iy) * w + ix
                        if winner < 0 || x.data[at] > x.data[winner] { winner = at }
                    }
                }
                expectedDx[winner] += dy[(nc * oh + oy) * ow + ox]
            } } }
            for block in [1, 8, 16] {
                for training in [true, false] {
                    let pool = MaxPool3x3s2()
                    let y = pool.forward(x.reblocked(block), keepForBackward: training)
                    XCTAssertEqual([y.h, y.w], [oh, ow])
                    XCTAssertEqual(y.reblocked(1).data, expected, "\(h)×\(w), block \(block), training \(training)")
                    if training {
                        let dx = pool.backward(Act(n: 2, c: 16, h: oh, w: ow, data: dy))
                        XCTAssertEqual(dx.block, block)
                        XCTAssertEqual(dx.reblocked(1).data, expectedDx, "backward, \(h)×\(w), block \(block)")
                    }
                }
            }
        }
    }

    /// The engine's own loops split work over the OpenMP team by channels (BatchNorm's sums), planes
    /// (pooling), samples (the map-weighted features, squeeze-excitation, the log-sum map) or elements
    /// (the optimizer, ReLU's backward, the residual add), never within one reduction, so one thread and
    /// two give the same bits. Sizes are past Team.minimumParallelWork.
    func testEngineLoopsGiveTheSameBitsOnOneAndTwoThreads() throws {
        defer { setComputeThreads(ProcessInfo.processInfo.activeProcessorCount) }
        let x = randomAct(3, 32, 28, 28), residual = randomAct(3, 32, 28, 28)
        let dy = (0..<x.count).map { _ in Float(rng.normal()) }
        func run(threads: Int) throws -> [[Float]] {
            setComputeThreads(threads)
            var results: [[Float]] = []
            for block in [1, 8, 16] {
                let bn = BatchNorm2d(name: "bn", channels: 32)
                bn.weight.value = (0..<32).map { Float($0) / 16 - 1 }
                let xb = x.reblocked(block)
                let y = try bn.forward(xb, training: true, relu: true, residual: residual.reblocked(block))
                let dx = try bn.backward(Act(n: 3, c: 32, h: 28, w: 28, data: dy).reblocked(block))
                results += [y.reblocked(1).data, dx.reblocked(1).data, bn.weight.grad, bn.bias.grad, bn.runningMean, bn.runningVar]
                let pool = MaxPool3x3s2()
                let p = pool.forward(xb, keepForBackward: true)
                results += [p.reblocked(1).data, pool.backward(Act(n: p.n, c: p.c, h: p.h, w: p.w, data: Array(dy[0..<p.count]))).reblocked(1).data]
                // The attention-weighted features, squeeze-excitation's scaling and the log-sum map (by samples).
                let map = Act(n: 3, c: 1, h: 28, w: 28, data: Array(x.data[0..<(3 * 28 * 28)]))
                let dyb = Act(n: 3, c: 32, h: 28, w: 28, data: dy).reblocked(block)
                let scaled = Channelwise.scaledBackward(dyb, g: xb, map: map, offset: 1)
                results += [Channelwise.scaled(xb, byMap: map, offset: 1).reblocked(1).data, scaled.dg.reblocked(1).data, scaled.dm]
                let factors = Array(dy[0..<(3 * 32)])
                let excited = Channelwise.excitedBackward(dyb, input: xb, factors: factors)
                results += [Channelwise.excited(xb, factors: factors, residual: residual.reblocked(block), relu: true).reblocked(1).data,
                            excited.dx.reblocked(1).data, excited.ds]
                let positive = Act(n: 3, c: 32, h: 28, w: 28, data: x.data.map { abs($0) }).reblocked(block)
                results += [Channelwise.logSum(positive).data, Channelwise.logSumBackward(map.data, input: positive).reblocked(1).data]
            }
            var sum = x.data
            Vec.add(&sum, dy)
            results += [sum, Vec.reluBackward(dy, output: x.data)]
            let weights = Parameter(name: "w", shape: [x.count], value: x.data)
            weights.grad = dy
            let sgd = SGD(learningRate: 0.1)
            sgd.step([weights])
            sgd.step([weights])
            results.append(weights.value)
            return results
        }
        let one = try run(threads: 1), two = try run(threads: 2)
        XCTAssertEqual(one.count, two.count)
        for (i, (a, b)) in zip(one, two).enumerated() {
            XCTAssertEqual(a.count, b.count, "result \(i)")
            let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(differing, 0, "result \(i): \(differing) of \(a.count) values differ between one thread and two")
        }
    }

    /// A convolution's weight gradient goes straight into grad after zeroGrad and is added onto it
    /// after that: two backward passes give exactly twice one, and zeroGrad starts over. On the
    /// Winograd kernel (3×3, 32 channels) and oneDNN's (1×1, stride 2).
    func testConvolutionWeightGradientsAccumulateUntilZeroed() throws {
        for (kernel, stride, padding) in [(3, 1, 1), (1, 2, 0)] {
            let conv = Conv2d(name: "c", inChannels: 32, outChannels: 32, kernel: kernel, stride: stride, padding: padding, rng: &rng)
            let x = randomAct(4, 32, 12, 12).reblocked(Layout.preferredBlock)
            func pass() throws {
                let y = try conv.forward(x, keepForBackward: true)
                _ = try conv.backward(Act(n: y.n, c: y.c, h: y.h, w: y.w, block: y.block, data: y.data.map { $0 * 0.5 + 0.1 }))
            }
            conv.weight.zeroGrad()
            try pass()
            let once = conv.weight.grad
            XCTAssertGreaterThan(once.map(abs).max()!, 0, "kernel \(kernel)")
            try pass()
            // Compared element by element (exactly), reported as the count that differ.
            func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0 != $1 }.count }
            XCTAssertEqual(differing(conv.weight.grad, once.map { $0 + $0 }), 0, "kernel \(kernel): the second pass is added")
            conv.weight.zeroGrad()
            try pass()
            XCTAssertEqual(differing(conv.weight.grad, once), 0, "kernel \(kernel): after zeroGrad the first pass again")
        }
    }

    func testLinearPoolingAndLoss() throws {
        let fc = Linear(name: "fc", inFeatures: 5, outFeatures: 3, rng: &rng)
        var x = (0..<10).map { _ in Float(rng.normal()) }
        let r = (0..<6).map { _ in Float(rng.normal()) }
        _ = fc.forward(x, batch: 2, keepForBackward: true)
        fc.weight.zeroGrad(); fc.bias!.zeroGrad()
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
