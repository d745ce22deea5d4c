import XCTest
@testable import ABN

/// Inside the model activations are channel-blocked (oneDNN's nChw16c or nChw8c); the layer tests
/// and the reference tests use plain NCHW. The layers must compute the same values in both.
final class LayoutTests: XCTestCase {
    var rng = InitRandom(seed: 11)
    let block = Layout.preferredBlock

    func randomAct(_ n: Int, _ c: Int, _ h: Int, _ w: Int) -> Act {
        Act(n: n, c: c, h: h, w: w, data: (0..<(n * c * h * w)).map { _ in Float(rng.normal()) })
    }

    func assertSame(_ blocked: Act, _ plain: Act, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(blocked.block, block, "\(what) left the blocked layout", file: file, line: line)
        let a = blocked.reblocked(1).data, b = plain.data
        let scale = max(b.map { abs($0) }.max() ?? 0, 1e-6)
        let diff = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(diff / scale, 1e-5, "\(what): blocked and plain differ by \(diff / scale)", file: file, line: line)
    }

    func testReblockingRoundTrips() {
        let x = randomAct(2, 2 * block, 3, 5)
        let b = x.reblocked(block)
        XCTAssertEqual(b.reblocked(1).data, x.data)
        // Element (n=1, c=block+1, y=2, x=4) sits in the second channel block, lane 1.
        let plainIndex = ((1 * x.c + block + 1) * 3 + 2) * 5 + 4
        let blockedIndex = ((1 * 2 + 1) * 15 + 2 * 5 + 4) * block + 1
        XCTAssertEqual(b.data[blockedIndex], x.data[plainIndex])
    }

    func testResidualBlockForwardAndBackwardAgree() throws {
        for (stride, inPlanes) in [(1, block), (2, block)] {
            let planes = 2 * block
            let blocked = ResidualBlock(name: "b", inPlanes: inPlanes, planes: planes, stride: stride, kind: .basic, rng: &rng)
            let plain = ResidualBlock(name: "b", inPlanes: inPlanes, planes: planes, stride: stride, kind: .basic, rng: &rng)
            for ((c1, b1), (c2, b2)) in zip(blocked.layers, plain.layers) {
                c2.weight.value = c1.weight.value
                b1.weight.value = (0..<b1.channels).map { _ in Float(1 + 0.1 * rng.normal()) }
                b1.bias.value = (0..<b1.channels).map { _ in Float(0.1 * rng.normal()) }
                b2.weight.value = b1.weight.value
                b2.bias.value = b1.bias.value
            }
            let x = randomAct(2, inPlanes, 8, 8)
            let yb = try blocked.forward(x.reblocked(block), training: true)
            let yp = try plain.forward(x, training: true)
            assertSame(yb, yp, "block forward (stride \(stride))")
            let dy = randomAct(yp.n, yp.c, yp.h, yp.w)
            assertSame(try blocked.backward(dy.reblocked(block)), try plain.backward(dy), "block backward (stride \(stride))")
            for ((c1, b1), (c2, b2)) in zip(blocked.layers, plain.layers) {
                XCTAssertEqual(c1.weight.grad.count, c2.weight.grad.count)
                let scale = c2.weight.grad.map { abs($0) }.max()!
                XCTAssertLessThan(zip(c1.weight.grad, c2.weight.grad).map { abs($0 - $1) }.max()! / scale, 1e-5, c1.weight.name)
                XCTAssertLessThan(zip(b1.bias.grad, b2.bias.grad).map { abs($0 - $1) }.max()!, 1e-4, b1.name)
            }
            let folded = try blocked.forwardFolded(x.reblocked(block), version: 1)
            assertSame(folded, try plain.forward(x, training: false), "block evaluation, folded and fused (stride \(stride))")
        }
    }

    /// A convolution drops its folded weights once the kernel keeps its own copy, and folds again
    /// for a kernel that has not got them: other batch sizes in turn, and a new model version, give
    /// exactly what a convolution folding them afresh computes (Winograd 3×3 and oneDNN 1×1).
    func testFoldedWeightsServeEveryBatchSizeAndVersion() throws {
        for (kernel, padding) in [(3, 1), (1, 0)] {
            let conv = Conv2d(name: "c", inChannels: 2 * block, outChannels: 2 * block, kernel: kernel, padding: padding, rng: &rng)
            let bn = BatchNorm2d(name: "bn", channels: 2 * block)
            bn.runningMean = (0..<bn.channels).map { _ in Float(rng.normal()) }
            bn.runningVar = (0..<bn.channels).map { _ in Float(rng.uniform(0.5, 2)) }
            func fresh(_ x: Act, version: Int) throws -> [Float] {
                var copyRng = InitRandom(seed: 0)
                let other = Conv2d(name: "c", inChannels: conv.inChannels, outChannels: conv.outChannels, kernel: kernel,
                                   padding: padding, rng: &copyRng)
                other.weight.value = conv.weight.value
                return try other.forwardFolded(x, foldingIn: bn, version: version, epilogue: .relu).data
            }
            for (n, version) in [(4, 1), (2, 1), (4, 1), (2, 1), (4, 2), (2, 2)] {
                if version == 2 && n == 4 { conv.weight.value = conv.weight.value.map { $0 * 0.5 + 0.01 } }
                let x = randomAct(n, 2 * block, 10, 10).reblocked(block)
                XCTAssertEqual(try conv.forwardFolded(x, foldingIn: bn, version: version, epilogue: .relu).data, try fresh(x, version: version),
                               "\(kernel)×\(kernel), batch \(n), version \(version)")
            }
        }
    }

    func testChannelwiseLoopsAgree() {
        let x = randomAct(3, 2 * block, 4, 4)
        let m = Act(n: 3, c: 1, h: 4, w: 4, data: (0..<48).map { _ in Float(rng.uniform(0, 1)) })
        let xb = x.reblocked(block)
        assertSame(Channelwise.scaled(xb, byMap: m, offset: 1), Channelwise.scaled(x, byMap: m, offset: 1), "map product")
        let d = randomAct(3, 2 * block, 4, 4)
        let (gb, mb) = Channelwise.scaledBackward(d.reblocked(block), g: xb, map: m, offset: 0)
        let (gp, mp) = Channelwise.scaledBackward(d, g: x, map: m, offset: 0)
        assertSame(gb, gp, "map product backward")
        XCTAssertLessThan(zip(mb, mp).map { abs($0 - $1) }.max()!, 1e-4)
    }
    /// BatchNorm in plain layout runs on PlaneRun's eight-lane loops, blocked on the per-block loops:
    /// the two must agree for training and frozen statistics, with and without the fused ReLU and
    /// residual, on planes that leave a scalar tail (3×5 = 15 = 8 + 7).
    func testBatchNormPlainRunsAgreeWithBlockedLoops() throws {
        for frozen in [false, true] {
            for (relu, withResidual) in [(false, false), (true, false), (true, true), (false, true)] {
                let plainNorm = BatchNorm2d(name: "p", channels: 2 * block), blockedNorm = BatchNorm2d(name: "b", channels: 2 * block)
                for bn in [plainNorm, blockedNorm] {
                    bn.frozen = frozen
                    bn.weight.value = (0..<bn.channels).map { Float(1 + 0.1 * Double($0 % 5)) }
                    bn.bias.value = (0..<bn.channels).map { Float(0.05 * Double($0 % 7) - 0.1) }
                    bn.runningMean = (0..<bn.channels).map { Float(0.1 * Double($0 % 3)) }
                    bn.runningVar = (0..<bn.channels).map { Float(0.5 + 0.25 * Double($0 % 4)) }
                }
                let x = randomAct(3, 2 * block, 3, 5), residual = randomAct(3, 2 * block, 3, 5)
                let what = "BN frozen \(frozen) relu \(relu) residual \(withResidual)"
                let yp = try plainNorm.forward(x, training: true, relu: relu, residual: withResidual ? residual : nil)
                let yb = try blockedNorm.forward(x.reblocked(block), training: true, relu: relu,
                                                 residual: withResidual ? residual.reblocked(block) : nil)
                assertSame(yb, yp, what + " forward")
                let dy = randomAct(3, 2 * block, 3, 5)
                assertSame(try blockedNorm.backward(dy.reblocked(block)), try plainNorm.backward(dy), what + " backward")
                XCTAssertLessThan(zip(plainNorm.weight.grad, blockedNorm.weight.grad).map { abs($0 - $1) }.max()!, 1e-4, what)
                XCTAssertLessThan(zip(plainNorm.bias.grad, blockedNorm.bias.grad).map { abs($0 - $1) }.max()!, 1e-4, what)
                XCTAssertLessThan(zip(plainNorm.runningVar, blockedNorm.runningVar).map { abs($0 - $1) }.max()!, 1e-6, what)
            }
        }
    }
}
