import XCTest
import CDNNL
@testable import ABN

/// The Winograd F(4×4, 3×3) convolution (winograd.c, AVX2) against direct loops in Double with the
/// same bias, residual and ReLU, in both activation layouts it reads (nChw8c on AVX2 machines,
/// nChw16c on AVX-512 ones), at the shapes of ResNet-20-ABN and at sizes that leave partial tiles
/// (14×14 as in ImageNet models, 7×9, 5×3) and a last block of 8 outputs.
/// On a CPU without AVX2 and FMA (or with ABN_WINOGRAD=0) oneDNN's direct kernel serves these
/// shapes, and the same checks hold for it.
final class WinogradTests: XCTestCase {
    struct Shape { var n, c, k, h, w: Int }
    /// nChw8c and nChw16c: every test runs in both, whichever the CPU prefers.
    let blocks = [8, 16]

    /// Runs `check` on every shape in each layout its channels split into; returns how many ran.
    func inEveryLayout(_ shapes: [Shape], _ check: (Shape, Int) throws -> Void) rethrows -> Int {
        var checked = 0
        for block in blocks {
            for s in shapes where s.c % block == 0 && s.k % block == 0 {
                try check(s, block)
                checked += 1
            }
        }
        return checked
    }

    // The kernel is chosen only where every thread gets work: fix the thread count the shapes assume.
    // These tests check the kernel's backward weights at every shape, also where training leaves
    // them to oneDNN by default (few channels on AVX-512; testDefaultBackwardWeightsRule checks that).
    private var defaultWgradMinimum = 0
    override func setUp() {
        setComputeThreads(2)
        defaultWgradMinimum = ConvPrimitive.winogradBackwardWeightsMinimumChannels
        ConvPrimitive.winogradBackwardWeightsMinimumChannels = 0
    }
    override func tearDown() {
        setComputeThreads(ProcessInfo.processInfo.activeProcessorCount)
        ConvPrimitive.winogradBackwardWeightsMinimumChannels = defaultWgradMinimum
    }

    /// By default on AVX-512 a layer with fewer than 32 channels on a side runs its forward pass and
    /// backward data on Winograd but its backward weights on oneDNN's direct kernel; from 32 all three on
    /// Winograd; on AVX2 all three everywhere. Either way the gradient agrees with Double loops.
    func testDefaultBackwardWeightsRule() throws {
        ConvPrimitive.winogradBackwardWeightsMinimumChannels = defaultWgradMinimum
        XCTAssertEqual(defaultWgradMinimum, Layout.preferredBlock == 16 ? 32 : 0)
        var rng = InitRandom(seed: 23)
        for (c, k, side) in [(16, 16, 16), (16, 32, 16), (32, 16, 16), (32, 32, 16), (32, 64, 16)] {
            let conv = Conv2d(name: "c", inChannels: c, outChannels: k, kernel: 3, padding: 1, rng: &rng)
            let x = Act(n: 4, c: c, h: side, w: side, data: random(4 * c * side * side, &rng))
            let dy = Act(n: 4, c: k, h: side, w: side, data: random(4 * k * side * side, &rng))
            let block = Layout.preferredBlock
            guard ConvPrimitive.winogradEnabled else { return }
            XCTAssertTrue(try conv.usesWinograd(x.reblocked(block), training: true, block: block))
            XCTAssertEqual(try conv.backwardWeightsUseWinograd(x.reblocked(block), block: block),
                           block == 8 || (c >= 32 && k >= 32), "\(c) → \(k)")
            XCTAssertLessThan(relativeError(try weightGradient(conv, x, dy, block: block), referenceWeightGradient(x, dy)), 2e-5,
                              "\(c) → \(k)")
        }
    }

    func testFewTilesStayOnTheDirectKernel() throws {
        var rng = InitRandom(seed: 10)
        let conv = Conv2d(name: "c", inChannels: 32, outChannels: 32, kernel: 3, padding: 1, rng: &rng)
        // 1×32×7×7: 4 tiles, one chunk, so the second thread would idle.
        XCTAssertFalse(try conv.usesWinograd(Act(zerosN: 1, c: 32, h: 7, w: 7, block: 8), epilogue: .relu, block: 8))
        XCTAssertEqual(try conv.usesWinograd(Act(zerosN: 8, c: 32, h: 7, w: 7, block: 8), epilogue: .relu, block: 8), ConvPrimitive.winogradEnabled)
    }

    /// y = relu(conv(x, w) + b + residual), plain NCHW, accumulated in Double.
    func reference(_ x: Act, _ w: [Float], _ b: [Float], residual: Act?, k: Int, relu: Bool) -> [Float] {
        var y = [Float](repeating: 0, count: x.n * k * x.h * x.w)
        for n in 0..<x.n { for o in 0..<k { for i in 0..<x.h { for j in 0..<x.w {
            var s = Double(b[o])
            for c in 0..<x.c { for a in 0..<3 { for bb in 0..<3 {
                let yy = i - 1 + a, xx = j - 1 + bb
                if yy < 0 || yy >= x.h || xx < 0 || xx >= x.w { continue }
                s += Double(x.data[((n * x.c + c) * x.h + yy) * x.w + xx]) * Double(w[((o * x.c + c) * 3 + a) * 3 + bb])
            } } }
            let index = ((n * k + o) * x.h + i) * x.w + j
            if let r = residual { s += Double(r.data[index]) }
            y[index] = Float(relu ? max(s, 0) : s)
        } } } }
        return y
    }

    func random(_ count: Int, _ rng: inout InitRandom, scale: Double = 1) -> [Float] {
        (0..<count).map { _ in Float(rng.normal() * scale) }
    }

    func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let scale = b.map { abs($0) }.max()!
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    func testMatchesDirectConvolutionWithFusedEpilogues() throws {
        var rng = InitRandom(seed: 11)
        // Batches large enough that each of the two threads gets a chunk of 18 tiles (else direct).
        let shapes = [Shape(n: 2, c: 16, k: 16, h: 32, w: 32), Shape(n: 2, c: 32, k: 32, h: 16, w: 16),
                      Shape(n: 2, c: 64, k: 64, h: 16, w: 16), Shape(n: 5, c: 64, k: 64, h: 8, w: 8),
                      Shape(n: 2, c: 32, k: 64, h: 16, w: 16), Shape(n: 3, c: 24, k: 40, h: 14, w: 14),
                      Shape(n: 4, c: 16, k: 24, h: 7, w: 9), Shape(n: 10, c: 32, k: 16, h: 5, w: 3),
                      Shape(n: 3, c: 48, k: 32, h: 14, w: 14), Shape(n: 4, c: 16, k: 32, h: 7, w: 9)]
        var worst: Float = 0
        let checked = try inEveryLayout(shapes) { s, block in
            let conv = Conv2d(name: "c", inChannels: s.c, outChannels: s.k, kernel: 3, padding: 1, rng: &rng)
            let w = conv.weight.value, bias = random(s.k, &rng, scale: 0.5)
            let x = Act(n: s.n, c: s.c, h: s.h, w: s.w, data: random(s.n * s.c * s.h * s.w, &rng))
            let residual = Act(n: s.n, c: s.k, h: s.h, w: s.w, data: random(s.n * s.k * s.h * s.w, &rng))
            let xb = x.reblocked(block)
            for epilogue in [ConvEpilogue.none, .relu, .sumRelu] {
                XCTAssertEqual(try conv.usesWinograd(xb, epilogue: epilogue, block: block), ConvPrimitive.winogradEnabled,
                               "\(s) nChw\(block)c takes the Winograd kernel where the CPU has it")
                let y = try conv.forwardFolded(xb, weights: w, bias: bias, version: 1, epilogue: epilogue,
                                               residual: epilogue == .sumRelu ? residual.reblocked(block) : nil, block: block)
                let ref = reference(x, w, bias, residual: epilogue == .sumRelu ? residual : nil, k: s.k, relu: epilogue != .none)
                let error = relativeError(y.reblocked(1).data, ref)
                XCTAssertLessThan(error, 1e-5, "\(s) nChw\(block)c \(epilogue): relative error \(error)")
                worst = max(worst, error)
            }
        }
        XCTAssertEqual(checked, 18)
        print("Winograd F(4×4, 3×3): worst relative error \(worst) over \(checked) shapes and layouts")
    }

    func testNewWeightVersionIsUsedAndOldOneKept() throws {
        var rng = InitRandom(seed: 12)
        let conv = Conv2d(name: "c", inChannels: 16, outChannels: 16, kernel: 3, padding: 1, rng: &rng)
        let x = Act(n: 5, c: 16, h: 8, w: 8, data: random(5 * 16 * 64, &rng))
        let w1 = conv.weight.value, w2 = random(w1.count, &rng, scale: 0.1)
        let b1 = random(16, &rng), b2 = random(16, &rng)
        // Same version: the transformed weights are reused, only the bias is read again.
        _ = try conv.forwardFolded(x.reblocked(8), weights: w1, bias: b1, version: 1, epilogue: .none, block: 8)
        let sameVersion = try conv.forwardFolded(x.reblocked(8), weights: w2, bias: b2, version: 1, epilogue: .none, block: 8)
        XCTAssertLessThan(relativeError(sameVersion.reblocked(1).data, reference(x, w1, b2, residual: nil, k: 16, relu: false)), 1e-5)
        let newVersion = try conv.forwardFolded(x.reblocked(8), weights: w2, bias: b2, version: 2, epilogue: .none, block: 8)
        XCTAssertLessThan(relativeError(newVersion.reblocked(1).data, reference(x, w2, b2, residual: nil, k: 16, relu: false)), 1e-5)
    }

    func testSameResultOnOneAndTwoThreads() throws {
        var rng = InitRandom(seed: 13)
        let conv = Conv2d(name: "c", inChannels: 32, outChannels: 32, kernel: 3, padding: 1, rng: &rng)
        let plain = Act(n: 4, c: 32, h: 16, w: 16, data: random(4 * 32 * 256, &rng))
        let bias = random(32, &rng)
        for block in blocks {
            let x = plain.reblocked(block)
            setComputeThreads(1)
            let one = try conv.forwardFolded(x, weights: conv.weight.value, bias: bias, version: 1, epilogue: .relu, block: block)
            setComputeThreads(2)
            let two = try conv.forwardFolded(x, weights: conv.weight.value, bias: bias, version: 1, epilogue: .relu, block: block)
            XCTAssertEqual(one.data, two.data, "nChw\(block)c")
        }
    }

    /// Past 256×256 channels the tiles are multiplied by output-channel shares in groups of at most
    /// 192 (one group of 20 tiles, two of 98, three of 134, 134 and 132): an image's output is the
    /// same bits in every group and batch, and on one thread or two.
    func testLargeLayersSameBitsInEveryBatchAndThreadCount() throws {
        var rng = InitRandom(seed: 18)
        let conv = Conv2d(name: "c", inChannels: 512, outChannels: 384, kernel: 3, padding: 1, rng: &rng)
        let bias = random(384, &rng)
        let images = random(100 * 512 * 64, &rng)
        for block in blocks {
            func infer(_ n: Int) throws -> [Float] {
                let x = Act(n: n, c: 512, h: 8, w: 8, data: Array(images[0..<(n * 512 * 64)])).reblocked(block)
                return try conv.forwardFolded(x, weights: conv.weight.value, bias: bias, version: 1, epilogue: .relu, block: block)
                    .reblocked(1).data
            }
            setComputeThreads(1)
            let one = try infer(5)
            setComputeThreads(2)
            let few = try infer(5), more = try infer(49), many = try infer(100) // 20, 196 and 400 tiles
            XCTAssertEqual(one, few, "nChw\(block)c")
            XCTAssertEqual(Array(more[0..<few.count]), few, "nChw\(block)c")
            XCTAssertEqual(Array(many[0..<more.count]), more, "nChw\(block)c")
            // The last group's images (tiles 268–399) against the same images in a batch of their own.
            let lastImages = Act(n: 33, c: 512, h: 8, w: 8, data: Array(images[(67 * 512 * 64)..<(100 * 512 * 64)])).reblocked(block)
            let alone = try conv.forwardFolded(lastImages, weights: conv.weight.value, bias: bias, version: 1, epilogue: .relu,
                                               block: block).reblocked(1).data
            XCTAssertEqual(Array(many[(67 * 384 * 64)...]), alone, "nChw\(block)c")
        }
    }

    /// The direct path stays reachable and agrees, so the two kernels can be compared in one build.
    func testDirectOnlyAgreesWithWinograd() throws {
        var rng = InitRandom(seed: 14)
        let conv = Conv2d(name: "c", inChannels: 64, outChannels: 64, kernel: 3, padding: 1, rng: &rng)
        let x = Act(n: 2, c: 64, h: 16, w: 16, data: random(2 * 64 * 256, &rng)).reblocked(8)
        let bias = random(64, &rng)
        let fast = try conv.forwardFolded(x, weights: conv.weight.value, bias: bias, version: 1, epilogue: .relu, block: 8)
        conv.directOnly = true
        XCTAssertFalse(try conv.usesWinograd(x, epilogue: .relu, block: 8))
        let direct = try conv.forwardFolded(x, weights: conv.weight.value, bias: bias, version: 1, epilogue: .relu, block: 8)
        XCTAssertLessThan(relativeError(fast.data, direct.data), 1e-5)
    }

    /// Training uses the kernel for the forward pass (no bias or epilogue), backward data and
    /// backward weights.
    func testTrainingForwardAndBackward() throws {
        for block in blocks { try checkTrainingForwardAndBackward(block: block) }
    }

    func checkTrainingForwardAndBackward(block: Int) throws {
        var rng = InitRandom(seed: 15)
        let conv = Conv2d(name: "c", inChannels: 32, outChannels: 16, kernel: 3, padding: 1, rng: &rng)
        let x = Act(n: 3, c: 32, h: 12, w: 12, data: random(3 * 32 * 144, &rng))
        let xb = x.reblocked(block)
        XCTAssertEqual(try conv.usesWinograd(xb, training: true, block: block), ConvPrimitive.winogradEnabled)
        let y = try conv.forward(xb, keepForBackward: true, block: block)
        let zero = [Float](repeating: 0, count: 16)
        XCTAssertLessThan(relativeError(y.reblocked(1).data, reference(x, conv.weight.value, zero, residual: nil, k: 16, relu: false)), 1e-5)
        // Backward data (Winograd with flipped, transposed weights) against Double loops:
        // dx[n, c, y, x] = Σ dy[n, o, y + 1 − a, x + 1 − b] · W[o, c, a, b].
        let dyPlain = Act(n: 3, c: 16, h: 12, w: 12, data: random(3 * 16 * 144, &rng))
        conv.weight.zeroGrad()
        let dx = try conv.backward(dyPlain.reblocked(block))!.reblocked(1)
        var dxRef = [Float](repeating: 0, count: x.count)
        let w = conv.weight.value
        for n in 0..<3 { for c in 0..<32 { for yy in 0..<12 { for xx in 0..<12 {
            var s = 0.0
            for o in 0..<16 { for a in 0..<3 { for b in 0..<3 {
                let i = yy + 1 - a, j = xx + 1 - b
                if i < 0 || i >= 12 || j < 0 || j >= 12 { continue }
                s += Double(dyPlain.data[((n * 16 + o) * 12 + i) * 12 + j]) * Double(w[((o * 32 + c) * 3 + a) * 3 + b])
            } } }
            dxRef[((n * 32 + c) * 12 + yy) * 12 + xx] = Float(s)
        } } } }
        XCTAssertLessThan(relativeError(dx.data, dxRef), 1e-5, "backward data, nChw\(block)c")
        // dW = Σ dy ⊗ x: with dy = 1 everywhere, dW[o, c, a, b] = the sum of x[c] over the window shifted by (a, b).
        _ = try conv.forward(xb, keepForBackward: true, block: block)
        let dy = Act(n: 3, c: 16, h: 12, w: 12, data: [Float](repeating: 1, count: 3 * 16 * 144)).reblocked(block)
        conv.weight.zeroGrad()
        _ = try conv.backward(dy)
        for c in [0, 17, 31] {
            for (a, b) in [(0, 0), (1, 1), (2, 1)] {
                var s = 0.0
                for n in 0..<3 { for i in 0..<12 { for j in 0..<12 {
                    let yy = i - 1 + a, xx = j - 1 + b
                    if yy >= 0, yy < 12, xx >= 0, xx < 12 { s += Double(x.data[((n * 32 + c) * 12 + yy) * 12 + xx]) }
                } } }
                XCTAssertEqual(Double(conv.weight.grad[((5 * 32 + c) * 3 + a) * 3 + b]), s, accuracy: 1e-3 * max(1, abs(s)))
            }
        }
    }

    /// Layers up to 512×512 channels run on the kernel, in inference and in all three training passes,
    /// and agree with oneDNN's direct kernel there: few tiles (20: the batch's tiles multiplied by
    /// output-channel shares) and many (196: chunks of tiles), in this machine's layout (oneDNN has no
    /// AVX2 kernel for nChw16c: its reference loops took 7 minutes here; the kernel reads both layouts
    /// through the same code, checked in both by the tests above and below).
    func test512ChannelLayers() throws {
        var rng = InitRandom(seed: 17)
        let conv = Conv2d(name: "c", inChannels: 512, outChannels: 512, kernel: 3, padding: 1, rng: &rng)
        let bias = (0..<512).map { _ in Float(rng.normal()) }
        for n in [5, 49] { // 8×8 maps: 4 tiles an image
            let x = Act(n: n, c: 512, h: 8, w: 8, data: random(n * 512 * 64, &rng))
            let dy = Act(n: n, c: 512, h: 8, w: 8, data: random(n * 512 * 64, &rng))
            for block in [Layout.preferredBlock] {
                let xb = x.reblocked(block), dyb = dy.reblocked(block), what = "batch \(n), nChw\(block)c"
                XCTAssertEqual(try conv.usesWinograd(xb, training: true, block: block), ConvPrimitive.winogradEnabled, what)
                XCTAssertEqual(try conv.usesWinograd(xb, training: false, epilogue: .relu, block: block), ConvPrimitive.winogradEnabled, what)
                func passes(directOnly: Bool) throws -> (y: [Float], dx: [Float], dw: [Float], inference: [Float]) {
                    conv.directOnly = directOnly
                    defer { conv.directOnly = false }
                    let y = try conv.forward(xb, keepForBackward: true, block: block)
                    conv.weight.zeroGrad()
                    let dx = try conv.backward(dyb)!
                    let inference = try conv.forwardFolded(xb, weights: conv.weight.value, bias: bias, version: directOnly ? 2 : 1,
                                                           epilogue: .relu, block: block)
                    return (y.reblocked(1).data, dx.reblocked(1).data, conv.weight.grad, inference.reblocked(1).data)
                }
                let winograd = try passes(directOnly: false), direct = try passes(directOnly: true)
                // Sums over 512 × 9 products, 8-30× longer than the shapes above, so twice their bound (2e-5) is
                // allowed; a wrong tile, channel or flip is off by O(1).
                XCTAssertLessThan(relativeError(winograd.y, direct.y), 4e-5, "forward, \(what)")
                XCTAssertLessThan(relativeError(winograd.dx, direct.dx), 4e-5, "backward data, \(what)")
                XCTAssertLessThan(relativeError(winograd.dw, direct.dw), 4e-5, "backward weights, \(what)")
                XCTAssertLessThan(relativeError(winograd.inference, direct.inference), 4e-5, "inference, \(what)")
            }
        }
    }

    /// dW[o, c, a, b] = Σ dy[n, o, i, j] · x[n, c, i − 1 + a, j − 1 + b], accumulated in Double.
    func referenceWeightGradient(_ x: Act, _ dy: Act) -> [Float] {
        var dw = [Float](repeating: 0, count: dy.c * x.c * 9)
        for o in 0..<dy.c { for c in 0..<x.c { for a in 0..<3 { for b in 0..<3 {
            var s = 0.0
            for n in 0..<x.n { for i in 0..<x.h { for j in 0..<x.w {
                let yy = i - 1 + a, xx = j - 1 + b
                if yy < 0 || yy >= x.h || xx < 0 || xx >= x.w { continue }
                s += Double(dy.data[((n * dy.c + o) * x.h + i) * x.w + j]) * Double(x.data[((n * x.c + c) * x.h + yy) * x.w + xx])
            } } }
            dw[((o * x.c + c) * 3 + a) * 3 + b] = Float(s)
        } } } }
        return dw
    }

    func weightGradient(_ conv: Conv2d, _ x: Act, _ dy: Act, block: Int) throws -> [Float] {
        _ = try conv.forward(x.reblocked(block), keepForBackward: true, block: block)
        conv.weight.zeroGrad()
        _ = try conv.backward(dy.reblocked(block), needInputGradient: false)
        return conv.weight.grad
    }

    /// Backward weights on the Winograd kernel against Double loops, at ResNet shapes and at sizes
    /// with partial tiles (the output rows and columns past the edge must contribute nothing), a last
    /// block of 8 output channels, and input channels in blocks of 4 that do not fill a block of 16.
    func testBackwardWeightsMatchesDoubleLoops() throws {
        var rng = InitRandom(seed: 16)
        let shapes = [Shape(n: 2, c: 16, k: 16, h: 32, w: 32), Shape(n: 16, c: 16, k: 16, h: 32, w: 32), Shape(n: 5, c: 64, k: 64, h: 8, w: 8),
                      Shape(n: 2, c: 32, k: 64, h: 16, w: 16), Shape(n: 3, c: 24, k: 40, h: 14, w: 14),
                      Shape(n: 4, c: 16, k: 24, h: 7, w: 9), Shape(n: 10, c: 40, k: 16, h: 5, w: 3),
                      Shape(n: 3, c: 48, k: 32, h: 14, w: 14), Shape(n: 4, c: 16, k: 32, h: 7, w: 9)]
        var worst: Float = 0
        let checked = try inEveryLayout(shapes) { s, block in
            let conv = Conv2d(name: "c", inChannels: s.c, outChannels: s.k, kernel: 3, padding: 1, rng: &rng)
            let x = Act(n: s.n, c: s.c, h: s.h, w: s.w, data: random(s.n * s.c * s.h * s.w, &rng))
            let dy = Act(n: s.n, c: s.k, h: s.h, w: s.w, data: random(s.n * s.k * s.h * s.w, &rng))
            XCTAssertEqual(try conv.usesWinograd(x.reblocked(block), training: true, block: block), ConvPrimitive.winogradEnabled,
                           "\(s) nChw\(block)c")
            let reference = referenceWeightGradient(x, dy)
            let error = relativeError(try weightGradient(conv, x, dy, block: block), reference)
            conv.directOnly = true
            let directError = relativeError(try weightGradient(conv, x, dy, block: block), reference)
            print("\(s) nChw\(block)c: Winograd \(error), direct \(directError)")
            // F(4×4, 3×3)'s transforms round about 4× more than direct loops (the direct kernel's error
            // is printed beside it); the model's parity tests allow 1e-4 on gradients.
            XCTAssertLessThan(error, 2e-5, "\(s) nChw\(block)c: relative error \(error)")
            worst = max(worst, error)
        }
        XCTAssertEqual(checked, 15)
        print("Winograd backward weights: worst relative error \(worst) over \(checked) shapes and layouts")
    }

    /// Each weight's sum runs over the tiles in one order whatever the thread count, and agrees
    /// with oneDNN's direct kernel.
    func testBackwardWeightsSameOnOneAndTwoThreadsAndAsDirect() throws {
        var rng = InitRandom(seed: 17)
        let conv = Conv2d(name: "c", inChannels: 32, outChannels: 48, kernel: 3, padding: 1, rng: &rng)
        let x = Act(n: 4, c: 32, h: 16, w: 16, data: random(4 * 32 * 256, &rng))
        let dy = Act(n: 4, c: 48, h: 16, w: 16, data: random(4 * 48 * 256, &rng))
        for block in blocks {
            conv.directOnly = false
            setComputeThreads(1)
            let one = try weightGradient(conv, x, dy, block: block)
            setComputeThreads(2)
            let two = try weightGradient(conv, x, dy, block: block)
            XCTAssertEqual(one, two, "nChw\(block)c")
            conv.directOnly = true
            XCTAssertFalse(try conv.usesWinograd(x.reblocked(block), training: true, block: block))
            XCTAssertLessThan(relativeError(two, try weightGradient(conv, x, dy, block: block)), 1e-5, "nChw\(block)c")
        }
    }
    /// On an AVX-512 CPU the forward products take 64 or 32 output channels a call (then 16), each
    /// output still summed over the input channels in one order, so inference, training's forward and
    /// its backward data are the AVX2 kernel's bit for bit: by chunks (64 → 64 at 28², 64 → 112 =
    /// 64 + 32 + 16 at 14²) and by groups with the output channels shared between two threads
    /// (512 → 512 at 14², batch 32: three groups). Where the CPU has no AVX-512 both runs are AVX2.
    func testForwardSameBitsOnTheAVX512Kernels() throws {
        var rng = InitRandom(seed: 21)
        for (c, k, n, side) in [(64, 64, 8, 28), (64, 112, 4, 14), (512, 512, 32, 14)] {
            let conv = Conv2d(name: "c", inChannels: c, outChannels: k, kernel: 3, padding: 1, rng: &rng)
            let bias = random(k, &rng)
            let block = Layout.preferredBlock
            let x = Act(n: n, c: c, h: side, w: side, data: random(n * c * side * side, &rng)).reblocked(block)
            let dy = Act(n: n, c: k, h: side, w: side, data: random(n * k * side * side, &rng)).reblocked(block)
            XCTAssertTrue(try conv.usesWinograd(x, epilogue: .relu, block: block) || !ConvPrimitive.winogradEnabled)
            func run() throws -> (inference: [Float], training: [Float], inputGradient: [Float]) {
                let inference = try conv.forwardFolded(x, weights: conv.weight.value, bias: bias, version: 1, epilogue: .relu,
                                                       block: block)
                let training = try conv.forward(x, keepForBackward: true, block: block)
                let dx = try XCTUnwrap(try conv.backward(dy))
                conv.weight.zeroGrad()
                return (inference.data, training.data, dx.data)
            }
            cdnnl_winograd_allow_avx512(0)
            let narrow = try run()
            cdnnl_winograd_allow_avx512(1)
            let wide = try run()
            XCTAssertEqual(zip(narrow.inference, wide.inference).filter { $0 != $1 }.count, 0, "\(c) → \(k), inference")
            XCTAssertEqual(zip(narrow.training, wide.training).filter { $0 != $1 }.count, 0, "\(c) → \(k), training")
            XCTAssertEqual(zip(narrow.inputGradient, wide.inputGradient).filter { $0 != $1 }.count, 0, "\(c) → \(k), dx")
        }
    }

    /// On an AVX-512 CPU the backward weights multiply 8 input × 32 output channels at a time; each
    /// weight's sum still runs over the tiles in one order, so the result is the AVX2 kernels' bit for
    /// bit: 14×14 maps, by channels (512 → 64, batch 8: one group of 128 tiles; batch 32: four) and by
    /// groups (256 → 64, batch 64: eight groups on two threads), and 48 output channels, which stay on
    /// the AVX2 kernels.
    func testBackwardWeightsSameBitsOnTheAVX512Kernel() throws {
        var rng = InitRandom(seed: 19)
        for (c, k, n) in [(512, 64, 8), (512, 64, 32), (256, 64, 64), (64, 48, 8)] {
            let conv = Conv2d(name: "c", inChannels: c, outChannels: k, kernel: 3, padding: 1, rng: &rng)
            let x = Act(n: n, c: c, h: 14, w: 14, data: random(n * c * 196, &rng))
            let dy = Act(n: n, c: k, h: 14, w: 14, data: random(n * k * 196, &rng))
            let block = Layout.preferredBlock
            XCTAssertTrue(try conv.usesWinograd(x.reblocked(block), training: true, block: block) || !ConvPrimitive.winogradEnabled)
            cdnnl_winograd_allow_avx512(0)
            let narrow = try weightGradient(conv, x, dy, block: block)
            cdnnl_winograd_allow_avx512(1)
            let wide = try weightGradient(conv, x, dy, block: block)
            XCTAssertEqual(zip(narrow, wide).filter { $0 != $1 }.count, 0, "\(c) → \(k), batch \(n)")
            if n == 8 { XCTAssertLessThan(relativeError(wide, referenceWeightGradient(x, dy)), 2e-5, "\(c) → \(k), batch \(n)") }
        }
    }
}
