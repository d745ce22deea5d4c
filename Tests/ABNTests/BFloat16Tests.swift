import XCTest
@testable import ABN

/// `--precision bf16`: convolutions with inputs and weights (in training also the incoming gradients)
/// rounded to bfloat16 and float accumulation. Checked against Double loops over inputs and weights rounded to bfloat16 by hand
/// (round to nearest, ties to even, as the AVX512_BF16 conversion does), which they must match to
/// float accumulation error, while FP32 must not (so the test sees that bf16 really ran). On a CPU
/// without AVX512_BF16, asking for bf16 must be an error.
final class BFloat16Tests: XCTestCase {
    override func tearDown() {
        try? ConvolutionPrecision.set(.fp32)
        try? ConvolutionPrecision.set(.fp32, training: true)
    }

    /// The bfloat16 nearest to `x` (ties to even), as a float.
    func bfloat16(_ x: Float) -> Float {
        let bits = x.bitPattern
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }

    func testRoundingHelperOnHandWorkedValues() {
        XCTAssertEqual(bfloat16(1), 1)
        // 1 + 2⁻⁸ lies halfway between 1 and 1 + 2⁻⁷ (bfloat16 keeps 7 fraction bits): ties to even, 1.
        XCTAssertEqual(bfloat16(1 + 1.0 / 256), 1)
        XCTAssertEqual(bfloat16(1 + 3.0 / 256), 1 + 2.0 / 128)  // halfway between 1 + 1/128 and 1 + 2/128: to even
        XCTAssertEqual(bfloat16(1 + 1.0 / 256 + 1.0 / 65536), 1 + 1.0 / 128)  // above halfway: up
        XCTAssertEqual(bfloat16(-3.14159), -3.140625)
    }

    func relativeError(_ a: [Float], _ b: [Float]) -> Float { ConvolutionLoops.relativeError(a, b) }

    /// Whether this CPU runs bf16; where it does not, checks that asking for it is an error that
    /// leaves FP32 in place.
    func bf16Runs(training: Bool) -> Bool {
        guard ConvolutionPrecision.bf16Available else {
            XCTAssertThrowsError(try ConvolutionPrecision.set(.bf16, training: training))
            XCTAssertEqual(training ? ConvolutionPrecision.training : ConvolutionPrecision.inference, .fp32)
            return false
        }
        return true
    }

    func randomInput(n: Int, c: Int, size: Int, rng: inout InitRandom) -> Act {
        Act(n: n, c: c, h: size, w: size, data: (0..<(n * c * size * size)).map { _ in Float(rng.normal()) })
    }

    /// 3×3 (the Winograd shape, which bf16 must not take), strided, 1×1 and a 3-channel plain stem;
    /// on a CPU without AVX512_BF16, that asking for bf16 is an error and leaves FP32 in place.
    func testConvolutionsRoundInputsAndWeightsToBFloat16() throws {
        guard bf16Runs(training: false) else { return }
        var rng = InitRandom(seed: 31)
        let block = Layout.preferredBlock
        let shapes = [(n: 4, c: 32, k: 32, size: 16, kernel: 3, stride: 1, pad: 1, block: block),
                      (n: 2, c: 32, k: 64, size: 16, kernel: 3, stride: 2, pad: 1, block: block),
                      (n: 2, c: 64, k: 32, size: 8, kernel: 1, stride: 1, pad: 0, block: block),
                      (n: 2, c: 3, k: 16, size: 16, kernel: 3, stride: 1, pad: 1, block: 1)]
        for s in shapes {
            let conv = Conv2d(name: "c", inChannels: s.c, outChannels: s.k, kernel: s.kernel, stride: s.stride, padding: s.pad, rng: &rng)
            let x = randomInput(n: s.n, c: s.c, size: s.size, rng: &rng)
            let w = conv.weight.value, bias = (0..<s.k).map { _ in Float(rng.normal() * 0.1) }
            let xb = x.reblocked(s.block)
            try ConvolutionPrecision.set(.fp32)
            let fp32 = try conv.forwardFolded(xb, weights: w, bias: bias, version: 1, epilogue: .none, block: s.block).reblocked(1).data
            try ConvolutionPrecision.set(.bf16)
            XCTAssertFalse(try conv.usesWinograd(xb, block: s.block), "bf16 runs on oneDNN's bfloat16 kernels")
            let bf16 = try conv.forwardFolded(xb, weights: w, bias: bias, version: 1, epilogue: .none, block: s.block).reblocked(1).data
            let rounded = Act(n: x.n, c: x.c, h: x.h, w: x.w, data: x.data.map(bfloat16))
            let shape = ConvolutionLoops.Shape(kernel: s.kernel, stride: s.stride, pad: s.pad)
            let expected = ConvolutionLoops.forward(rounded, w.map(bfloat16), bias: bias, outChannels: s.k, shape).data
            let exact = ConvolutionLoops.forward(x, w, bias: bias, outChannels: s.k, shape).data
            let error = relativeError(bf16, expected), fp32Error = relativeError(fp32, expected)
            print("\(s): bf16 against rounded Double \(error); fp32 against it \(fp32Error); bf16 against exact \(relativeError(bf16, exact))")
            XCTAssertLessThan(error, 1e-5, "\(s): bf16 result is not the rounded inputs' convolution")
            XCTAssertGreaterThan(fp32Error, 1e-4, "\(s): fp32 should differ from the rounded convolution")
            XCTAssertLessThan(relativeError(bf16, exact), 2e-2, "\(s): bf16 against the exact convolution")
        }
    }

    /// Training in bf16 (`finetune --precision bf16`): forward, backward data and backward weights of
    /// a 1×1, a strided 3×3 and a strided 1×1 in the blocked layout and a plain 3-channel stem, each
    /// against Double loops over the bf16-rounded operands of that pass (x and W; dy and W; x and dy),
    /// which must hold to float accumulation error while FP32 must not. A 3×3 stride-1 layer stays on
    /// the FP32 Winograd kernel (it matches the exact loops to FP32 error). Inference stays FP32.
    func testTrainingConvolutionsRoundOperandsToBFloat16() throws {
        guard bf16Runs(training: true) else { return }
        var rng = InitRandom(seed: 37)
        let block = Layout.preferredBlock
        let shapes = [(n: 2, c: 64, k: 32, size: 8, kernel: 1, stride: 1, pad: 0, block: block),
                      (n: 2, c: 32, k: 64, size: 12, kernel: 3, stride: 2, pad: 1, block: block),
                      (n: 2, c: 32, k: 64, size: 12, kernel: 1, stride: 2, pad: 0, block: block),
                      (n: 2, c: 3, k: 16, size: 12, kernel: 3, stride: 1, pad: 1, block: 1),
                      (n: 4, c: 32, k: 32, size: 16, kernel: 3, stride: 1, pad: 1, block: block)]
        for s in shapes {
            let shape = ConvolutionLoops.Shape(kernel: s.kernel, stride: s.stride, pad: s.pad)
            let x = randomInput(n: s.n, c: s.c, size: s.size, rng: &rng)
            let w = Conv2d(name: "c", inChannels: s.c, outChannels: s.k, kernel: s.kernel, stride: s.stride, padding: s.pad, rng: &rng).weight.value
            let oh = shape.out(s.size)
            let dy = Act(n: s.n, c: s.k, h: oh, w: oh, data: (0..<(s.n * s.k * oh * oh)).map { _ in Float(rng.normal()) })
            // One training forward and backward in `precision`: y, dx and dW in plain NCHW.
            func run(_ precision: ConvolutionPrecision) throws -> (y: [Float], dx: [Float], dw: [Float], winograd: Bool) {
                try ConvolutionPrecision.set(precision, training: true)
                var rng = InitRandom(seed: 1)
                let conv = Conv2d(name: "c", inChannels: s.c, outChannels: s.k, kernel: s.kernel, stride: s.stride, padding: s.pad, rng: &rng)
                conv.weight.value = w
                let xb = x.reblocked(s.block)
                let winograd = try conv.usesWinograd(xb, training: true, block: s.block)
                let y = try conv.forward(xb, keepForBackward: true, block: s.block)
                let dx = try conv.backward(dy.reblocked(s.block))!
                return (y.reblocked(1).data, dx.reblocked(1).data, conv.weight.grad, winograd)
            }
            let fp32 = try run(.fp32), bf16 = try run(.bf16)
            let xr = Act(n: x.n, c: x.c, h: x.h, w: x.w, data: x.data.map(bfloat16)), wr = w.map(bfloat16)
            let dyr = Act(n: dy.n, c: dy.c, h: dy.h, w: dy.w, data: dy.data.map(bfloat16))
            let exact = (y: ConvolutionLoops.forward(x, w, outChannels: s.k, shape).data,
                         dx: ConvolutionLoops.backwardData(dy, w, inChannels: s.c, h: s.size, w: s.size, shape).data,
                         dw: ConvolutionLoops.backwardWeights(x, dy, shape))
            if s.kernel == 3 && s.stride == 1 && s.block > 1 && ConvPrimitive.winogradEnabled {
                XCTAssertTrue(bf16.winograd, "\(s): a Winograd layer stays on the FP32 Winograd kernel")
                for (name, got, want) in [("y", bf16.y, exact.y), ("dx", bf16.dx, exact.dx), ("dW", bf16.dw, exact.dw)] {
                    XCTAssertLessThan(relativeError(got, want), 1e-4, "\(s) \(name): the Winograd layer should compute in FP32")
                }
                continue
            }
            XCTAssertFalse(bf16.winograd, "\(s)")
            let rounded = (y: ConvolutionLoops.forward(xr, wr, outChannels: s.k, shape).data,
                           dx: ConvolutionLoops.backwardData(dyr, wr, inChannels: s.c, h: s.size, w: s.size, shape).data,
                           dw: ConvolutionLoops.backwardWeights(xr, dyr, shape))
            for (name, got, gotFP32, want, wantExact) in [("y", bf16.y, fp32.y, rounded.y, exact.y), ("dx", bf16.dx, fp32.dx, rounded.dx, exact.dx),
                                                          ("dW", bf16.dw, fp32.dw, rounded.dw, exact.dw)] {
                let error = relativeError(got, want), fp32Error = relativeError(gotFP32, want)
                print("\(s) \(name): bf16 against rounded Double \(error); fp32 against it \(fp32Error)")
                XCTAssertLessThan(error, 1e-5, "\(s) \(name): not the convolution of the bf16-rounded operands")
                XCTAssertGreaterThan(fp32Error, 1e-4, "\(s) \(name): fp32 should differ from the rounded convolution")
                XCTAssertLessThan(relativeError(got, wantExact), 2e-2, "\(s) \(name): bf16 against the exact convolution")
            }
        }
        // Training in bf16 leaves inference in FP32.
        try ConvolutionPrecision.set(.bf16, training: true)
        XCTAssertEqual(ConvolutionPrecision.inference, .fp32)
    }
}
