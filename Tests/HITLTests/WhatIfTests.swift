import XCTest
import ABN
import ABNData
@testable import HITL

/// What-if from cached features: the model's own answer under its own map, a different one under an
/// edit, and the latency of one update (printed; wall-clock is not asserted on a shared machine).
final class WhatIfTests: XCTestCase {
    func testAgreesWithTheFullForwardPassAndChangesUnderAnEdit() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir)
        let whatIf = WhatIf(model: model, dataRoot: Fixture.data, split: "train", cacheLimit: 2)
        let paths = ["circle/00000.png", "cross/00001.png", "square/00002.png"]
        for path in paths + paths {  // the second round evicts and recomputes: same answers
            let o = try Fixture.outputs(model, path)
            assertClose(try whatIf.probabilities(relativePath: path, map: o.map), o.probabilities, 1e-5, path)
        }
        let o = try Fixture.outputs(model, paths[0])
        let edited = try whatIf.probabilities(relativePath: paths[0], map: o.map.map { 1 - $0 })
        XCTAssertGreaterThan(zip(edited, o.probabilities).map { abs($0 - $1) }.max()!, 1e-4, "the map reaches the decision")
        XCTAssertEqual(edited.reduce(0, +), 1, accuracy: 1e-5)
        assertOneLineError(try whatIf.probabilities(relativePath: paths[0], map: [0.5]), mentions: [paths[0], "16×16 values, got 1"])
        assertOneLineError(try whatIf.probabilities(relativePath: "circle/missing.png", map: o.map), mentions: ["circle/missing.png"])
    }

    func testLatencyOfOneUpdateOnResNet20() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir, arch: "cifar-resnet20")
        let whatIf = WhatIf(model: model, dataRoot: Fixture.data, split: "train")
        let path = "triangle/00003.png"
        var map = try Fixture.outputs(model, path).map
        _ = try whatIf.probabilities(relativePath: path, map: map)  // features cached, primitives built
        var times: [Double] = []
        for i in 0..<30 {
            map[i % map.count] = Float(i % 2)  // a stroke changes the map each time
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try whatIf.probabilities(relativePath: path, map: map)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        print(String(format: "what-if update (ResNet-20-ABN, 32×32, cached features): median %.2f ms, best %.2f ms, worst %.2f ms",
                     times[15], times[0], times[29]))
    }
}
