import XCTest
@testable import ABN

/// oneDNN's convolutions at the real shapes of ResNet-20-ABN (where it picks blocked kernels and
/// the shim reorders) against direct loops in Double.
final class ConvolutionReferenceTests: XCTestCase {
    func testResNet20Shapes() throws {
        var rng = InitRandom(seed: 7)
        for (cin, cout, size, k, stride, pad) in [(16, 32, 32, 3, 2, 1), (16, 32, 32, 1, 2, 0), (16, 16, 32, 3, 1, 1), (32, 64, 16, 3, 2, 1)] {
            let conv = Conv2d(name: "c", inChannels: cin, outChannels: cout, kernel: k, stride: stride, padding: pad, rng: &rng)
            let x = Act(n: 2, c: cin, h: size, w: size, data: (0..<(2 * cin * size * size)).map { _ in Float(rng.normal()) })
            let y = try conv.forward(x, keepForBackward: true)
            let ref = ConvolutionLoops.forward(x, conv.weight.value, outChannels: cout, .init(kernel: k, stride: stride, pad: pad))
            let fscale = ref.data.map { abs($0) }.max()!
            XCTAssertLessThan(zip(y.data, ref.data).map { abs($0 - $1) }.max()! / fscale, 1e-5, "forward \(cin)->\(cout) k\(k) s\(stride)")
            let dy = Act(n: y.n, c: y.c, h: y.h, w: y.w, data: (0..<y.count).map { _ in Float(rng.normal()) })
            let dx = try conv.backward(dy)!
            let dref = ConvolutionLoops.backwardData(dy, conv.weight.value, inChannels: cin, h: size, w: size, .init(kernel: k, stride: stride, pad: pad))
            let scale = dref.data.map { abs($0) }.max()!
            XCTAssertLessThan(zip(dx.data, dref.data).map { abs($0 - $1) }.max()! / scale, 1e-5, "backward data \(cin)->\(cout) k\(k) s\(stride)")
        }
    }

    /// Folded inference adding a residual (`.sum`, `.sumRelu`) on oneDNN's kernels: 1×1, strided 1×1 and
    /// 3×3, and a 3×3 kept off the Winograd kernel, in every layout, against Double loops. In the
    /// engine's layout the residual must be read where it lies (oneDNN's binary post-op), not copied into
    /// the output first; elsewhere either way must give the same values, and the residual is left as it was.
    func testResidualEpiloguesOnOneDNNKernels() throws {
        var rng = InitRandom(seed: 19)
        let blocks = Array(Set([1, 8, Layout.preferredBlock])).sorted()
        var inPlace: [String] = [], copied: [String] = []
        for (cin, cout, size, k, stride, pad) in [(64, 256, 7, 1, 1, 0), (32, 64, 9, 1, 2, 0), (32, 32, 8, 3, 2, 1), (16, 32, 6, 3, 1, 1)] {
            let conv = Conv2d(name: "c", inChannels: cin, outChannels: cout, kernel: k, stride: stride, padding: pad, rng: &rng)
            conv.directOnly = true
            let x = Act(n: 2, c: cin, h: size, w: size, data: (0..<(2 * cin * size * size)).map { _ in Float(rng.normal()) })
            let bias = (0..<cout).map { _ in Float(rng.normal()) }
            let plain = ConvolutionLoops.forward(x, conv.weight.value, outChannels: cout, .init(kernel: k, stride: stride, pad: pad))
            let residual = Act(n: 2, c: cout, h: plain.h, w: plain.w, data: (0..<plain.count).map { _ in Float(rng.normal()) })
            for block in blocks {
                for (version, epilogue) in [ConvEpilogue.sum, .sumRelu].enumerated() {
                    let shape = "\(cin)->\(cout) k\(k) s\(stride) nChw\(block)c \(epilogue)"
                    let xb = x.reblocked(block), rb = residual.reblocked(block)
                    let y = try conv.forwardFolded(xb, weights: conv.weight.value, bias: bias, version: version,
                                                   epilogue: epilogue, residual: rb, block: block)
                    let ref = plain.data.indices.map { i -> Float in
                        let v = plain.data[i] + bias[(i / plain.plane) % cout] + residual.data[i]
                        return epilogue == .sumRelu ? max(v, 0) : v
                    }
                    let error = zip(y.reblocked(1).data, ref).map { abs($0 - $1) }.max()! / ref.map { abs($0) }.max()!
                    XCTAssertLessThan(error, 1e-5, shape)
                    XCTAssertEqual(rb.reblocked(1).data, residual.data, "\(shape): the residual is left as it was")
                    if try conv.readsResidualWhereItLies(xb, epilogue: epilogue, block: block) { inPlace.append(shape) } else { copied.append(shape) }
                    if block == Layout.preferredBlock {
                        XCTAssertTrue(try conv.readsResidualWhereItLies(xb, epilogue: epilogue, block: block), "\(shape) reads the residual where it lies")
                    }
                }
            }
        }
        print("residual read where it lies: \(inPlace.count) cases; copied into the output (oneDNN's sum post-op): \(copied)")
    }
}
