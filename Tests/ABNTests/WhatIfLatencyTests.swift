import XCTest
@testable import ABN

/// The review UI's what-if: the perception branch on one image's cached features under an edited
/// map. Checks that it agrees with a full forward pass under the model's own map, and prints the
/// latency (reported in docs/benchmarks.md; wall-clock is never asserted).
final class WhatIfLatencyTests: XCTestCase {
    func testWhatIfAgreesWithForwardAndReportsLatency() throws {
        let m = try ABNModel(config: ModelConfig(arch: try ABNArchitecture(parsing: "cifar-resnet20"), numClasses: 4), seed: 2)
        var rng = InitRandom(seed: 4)
        let x = Tensor(shape: [1, 3, 32, 32], data: (0..<3072).map { _ in Float(rng.normal()) })
        let full = try m.forward(x, training: false)
        let features = try m.extractFeatures(x)
        let (logits, map) = try m.attentionBranch(features: features)
        XCTAssertEqual(map.data, full.attentionMap.data)
        XCTAssertEqual(logits.data, full.attentionLogits.data)
        let under = try m.perceptionBranch(features: features, map: map)
        for (a, b) in zip(under.data, full.perceptionLogits.data) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // An edited map changes the answer's logits.
        let edited = Tensor(shape: map.shape, data: map.data.map { 1 - $0 })
        XCTAssertNotEqual(try m.perceptionBranch(features: features, map: edited).data, under.data)
        var times: [Double] = []
        for _ in 0..<20 {
            let start = Date()
            _ = try m.perceptionBranch(features: features, map: edited)
            times.append(Date().timeIntervalSince(start) * 1000)
        }
        times.sort()
        print(String(format: "what-if (ResNet-20-ABN perception branch, 1 image): median %.2f ms, best %.2f ms", times[10], times[0]))
    }
}
