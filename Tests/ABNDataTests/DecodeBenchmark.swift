import Foundation
import XCTest
@testable import ABNData

/// Not a timed test: runs only when bench/decode/run.sh sets ABN_DATA_BENCH_DIR. It generates the
/// shortcut dataset there (timing the generator) if absent, then measures decode+augment
/// throughput and prints one JSON line for the script to pick up.
final class DecodeBenchmark: XCTestCase {
    func testDecodeThroughput() throws {
        guard let dir = ProcessInfo.processInfo.environment["ABN_DATA_BENCH_DIR"] else {
            throw XCTSkip("set ABN_DATA_BENCH_DIR to run the decode benchmark (bench/decode/run.sh)")
        }
        let seconds = Double(ProcessInfo.processInfo.environment["ABN_DATA_BENCH_SECONDS"] ?? "") ?? 5
        let root = URL(fileURLWithPath: dir)
        var generateSeconds = -1.0
        if kindOfItem(root.appendingPathComponent("train").path) == nil {
            let start = Date()
            try ShortcutDataset.generate(at: root, train: 4000, test: 1000, seed: 0)
            generateSeconds = Date().timeIntervalSince(start)
        }
        let rate = try measureDecodeThroughput(root: root, split: "train", seconds: seconds)
        print("ABN_DATA_BENCH {\"swift_images_per_second\": \(rate), \"generate_seconds\": \(generateSeconds)}")
    }
}
