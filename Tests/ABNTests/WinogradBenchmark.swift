import XCTest
@testable import ABN

/// Per-layer times of the Winograd and the direct inference convolution at the 3×3 stride-1 shapes
/// of ResNet-20-ABN (batch 64; ImageNet ResNet stage widths at batch 8), alternating the two so machine noise hits both alike. Prints only;
/// runs when ABN_KERNEL_BENCH=1:
///   ABN_KERNEL_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter WinogradBenchmark
final class WinogradBenchmark: XCTestCase {
    func testLayerTimes() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["ABN_KERNEL_BENCH"] == "1", "set ABN_KERNEL_BENCH=1 to run")
        try XCTSkipUnless(ConvPrimitive.winogradEnabled, "this CPU lacks AVX2/FMA (or ABN_WINOGRAD=0)")
        setComputeThreads(2)
        var rng = InitRandom(seed: 1)
        for (c, k, size, n) in [(16, 16, 32, 64), (32, 32, 16, 64), (32, 64, 16, 64), (64, 64, 16, 64), (64, 64, 8, 64),
                                (128, 128, 28, 8), (256, 256, 14, 8), (512, 512, 7, 8), (256, 256, 14, 1), (512, 512, 7, 1)] {
            let winograd = Conv2d(name: "w", inChannels: c, outChannels: k, kernel: 3, padding: 1, rng: &rng)
            let direct = Conv2d(name: "d", inChannels: c, outChannels: k, kernel: 3, padding: 1, rng: &rng)
            direct.directOnly = true
            let x = Act(n: n, c: c, h: size, w: size, data: (0..<(n * c * size * size)).map { _ in Float(rng.normal()) }).reblocked(8)
            let bias = [Float](repeating: 0.1, count: k)
            func time(_ conv: Conv2d) throws -> Double {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try conv.forwardFolded(x, weights: conv.weight.value, bias: bias, version: 1, epilogue: .relu, block: 8)
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            }
            var best = (winograd: Double.infinity, direct: Double.infinity)
            for _ in 0..<15 {
                best.winograd = min(best.winograd, try time(winograd))
                best.direct = min(best.direct, try time(direct))
            }
            let chosen = try winograd.usesWinograd(x, epilogue: .relu, block: 8) ? "" : "  (not chosen: both ran direct)"
            let gflop = 2.0 * Double(n) * Double(c * k * 9 * size * size) / 1e9
            print(String(format: "%3d→%3d @%2d², batch %2d: Winograd %.2f ms, direct %.2f ms (%.0f GFLOP/s), %.2f×", c, k, size, n,
                         best.winograd, best.direct, gflop / best.direct * 1e3, best.direct / best.winograd) + chosen)
        }
    }

    /// The whole evaluation-mode forward pass of ResNet-20-ABN at batch 64 (for a profiler:
    /// `perf record -e cpu-clock` on the test binary with this test's name).
    func testModelInference() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["ABN_KERNEL_BENCH"] == "1", "set ABN_KERNEL_BENCH=1 to run")
        setComputeThreads(2)
        let model = try ABNModel(config: ModelConfig(arch: try ABNArchitecture(family: .cifar, depth: 20), numClasses: 10,
                                                     inputChannels: 3, inputHeight: 32, inputWidth: 32), seed: 0)
        var rng = InitRandom(seed: 1)
        let x = Tensor(shape: [64, 3, 32, 32], data: (0..<(64 * 3 * 32 * 32)).map { _ in Float(rng.normal()) })
        for _ in 0..<3 { _ = try model.forward(x, training: false) }
        var best = Double.infinity
        for _ in 0..<30 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try model.forward(x, training: false)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        print(String(format: "ResNet-20-ABN inference, batch 64: best %.2f ms (%.0f img/s)", best, 64 / best * 1e3))
    }
}
