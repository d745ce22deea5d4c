import XCTest
@testable import ABN

/// The review UI's what-if: the perception branch on one image's cached features under a given map.
/// It must agree with a full forward pass under the model's own map, and an edited map must enter
/// exactly as the mechanism says (residual g·(1 + M), multiply g·M).
final class WhatIfBranchTests: XCTestCase {
    func testBranchesAgreeWithForwardAndTheMapEntersAsTheMechanismSays() throws {
        for mechanism in AttentionMechanism.allCases {
            let m = try ABNModel(config: ModelConfig(arch: try ABNArchitecture(parsing: "cifar-resnet20"), numClasses: 4, attention: mechanism), seed: 2)
            var rng = InitRandom(seed: 4)
            let x = Tensor(shape: [1, 3, 32, 32], data: (0..<3072).map { _ in Float(rng.normal()) })
            let full = try m.forward(x, training: false)
            let features = try m.extractFeatures(x)
            let (logits, map) = try m.attentionBranch(features: features)
            XCTAssertEqual(map.data, full.attentionMap.data, "\(mechanism)")
            XCTAssertEqual(logits.data, full.attentionLogits.data, "\(mechanism)")
            let under = try m.perceptionBranch(features: features, map: map)
            for (a, b) in zip(under.data, full.perceptionLogits.data) { XCTAssertEqual(a, b, accuracy: 1e-5, "\(mechanism)") }

            // An edited map M' on g gives the same logits as g scaled by hand by the mechanism's factor
            // under the neutral map (0 for residual, 1 for multiply).
            let plane = map.data.count, channels = features.shape[1]
            XCTAssertEqual(features.shape, [1, channels, map.shape[2], map.shape[3]])
            let edited = Tensor(shape: map.shape, data: (0..<plane).map { Float($0 % 5) / 4 })
            let neutral: Float = mechanism == .residual ? 0 : 1
            let scaled = Tensor(shape: features.shape, data: features.data.indices.map { i in
                let e = edited.data[i % plane]
                return features.data[i] * (mechanism == .residual ? 1 + e : e)
            })
            let byMap = try m.perceptionBranch(features: features, map: edited)
            let byHand = try m.perceptionBranch(features: scaled, map: Tensor(shape: map.shape, data: [Float](repeating: neutral, count: plane)))
            for (a, b) in zip(byMap.data, byHand.data) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b)), "\(mechanism)") }
            XCTAssertGreaterThan(zip(byMap.data, under.data).map { abs($0 - $1) }.max()!, 1e-3, "\(mechanism): the edit reaches the logits")
        }
    }
}
