import XCTest
@testable import ABN

/// `--precision bf16`: inference convolutions with inputs and weights rounded to bfloat16 and float
/// accumulation. Checked against Double loops over inputs and weights rounded to bfloat16 by hand
/// (round to nearest, ties to even, as the AVX512_BF16 conversion does), which they must match to
/// float accumulation error, while FP32 must not (so the test sees that bf16 really ran). On a CPU
/// without AVX512_BF16, asking for bf16 must be an error.
final class BFloat16Tests: XCTestCase {
    override func tearDown() { try? InferencePrecision.set(.fp32) }

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

    /// y = conv(x, w) + b, plain NCHW, in Double.
    func reference(_ x: Act, _ w: [Float], _ b: [Float], k: Int, kernel: Int, stride: Int, pad: Int) -> [Float] {
        let oh = (x.h + 2 * pad - kernel) / stride + 1, ow = (x.w + 2 * pad - kernel) / stride + 1
        var y = [Float](repeating: 0, count: x.n * k * oh * ow)
        for n in 0..<x.n { for o in 0..<k { for i in 0..<oh { for j in 0..<ow {
            var s = Double(b[o])
            for c in 0..<x.c { for a in 0..<kernel { for bb in 0..<kernel {
                let yy = i * stride - pad + a, xx = j * stride - pad + bb
                if yy < 0 || yy >= x.h || xx < 0 || xx >= x.w { continue }
                s += Double(x.data[((n * x.c + c) * x.h + yy) * x.w + xx]) * Double(w[((o * x.c + c) * kernel + a) * kernel + bb])
            } } }
            y[((n * k + o) * oh + i) * ow + j] = Float(s)
        } } } }
        return y
    }

    func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max()! / b.map { abs($0) }.max()!
    }

    /// 3×3 (the Winograd shape, which bf16 must not take), strided, 1×1 and a 3-channel plain stem;
    /// on a CPU without AVX512_BF16, that asking for bf16 is an error and leaves FP32 in place.
    func testConvolutionsRoundInputsAndWeightsToBFloat16() throws {
        guard InferencePrecision.bf16Available else {
            XCTAssertThrowsError(try InferencePrecision.set(.bf16))
            XCTAssertEqual(InferencePrecision.current, .fp32)
            return
        }
        var rng = InitRandom(seed: 31)
        let block = Layout.preferredBlock
        let shapes = [(n: 4, c: 32, k: 32, size: 16, kernel: 3, stride: 1, pad: 1, block: block),
                      (n: 2, c: 32, k: 64, size: 16, kernel: 3, stride: 2, pad: 1, block: block),
                      (n: 2, c: 64, k: 32, size: 8, kernel: 1, stride: 1, pad: 0, block: block),
                      (n: 2, c: 3, k: 16, size: 16, kernel: 3, stride: 1, pad: 1, block: 1)]
        for s in shapes {
            let conv = Conv2d(name: "c", inChannels: s.c, outChannels: s.k, kernel: s.kernel, stride: s.stride, padding: s.pad, rng: &rng)
            let x = Act(n: s.n, c: s.c, h: s.size, w: s.size, data: (0..<(s.n * s.c * s.size * s.size)).map { _ in Float(rng.normal()) })
            let w = conv.weight.value, bias = (0..<s.k).map { _ in Float(rng.normal() * 0.1) }
            let xb = x.reblocked(s.block)
            try InferencePrecision.set(.fp32)
            let fp32 = try conv.forwardFolded(xb, weights: w, bias: bias, version: 1, epilogue: .none, block: s.block).reblocked(1).data
            try InferencePrecision.set(.bf16)
            XCTAssertFalse(try conv.usesWinograd(xb, block: s.block), "bf16 runs on oneDNN's bfloat16 kernels")
            let bf16 = try conv.forwardFolded(xb, weights: w, bias: bias, version: 1, epilogue: .none, block: s.block).reblocked(1).data
            let rounded = Act(n: x.n, c: x.c, h: x.h, w: x.w, data: x.data.map(bfloat16))
            let expected = reference(rounded, w.map(bfloat16), bias, k: s.k, kernel: s.kernel, stride: s.stride, pad: s.pad)
            let exact = reference(x, w, bias, k: s.k, kernel: s.kernel, stride: s.stride, pad: s.pad)
            let error = relativeError(bf16, expected), fp32Error = relativeError(fp32, expected)
            print("\(s): bf16 against rounded Double \(error); fp32 against it \(fp32Error); bf16 against exact \(relativeError(bf16, exact))")
            XCTAssertLessThan(error, 1e-5, "\(s): bf16 result is not the rounded inputs' convolution")
            XCTAssertGreaterThan(fp32Error, 1e-4, "\(s): fp32 should differ from the rounded convolution")
            XCTAssertLessThan(relativeError(bf16, exact), 2e-2, "\(s): bf16 against the exact convolution")
        }
    }
}
