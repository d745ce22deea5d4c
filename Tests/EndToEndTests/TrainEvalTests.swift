import Foundation
import XCTest

/// synth → train → eval → explain through the real executable, and the resume contract:
/// a run interrupted by Ctrl-C and resumed gives the same bytes as an uninterrupted run.
final class TrainEvalTests: XCTestCase {
    static var dataDir: URL?

    /// One small dataset shared by the tests of this class.
    func smallDataset() throws -> URL {
        if let d = Self.dataDir { return d }
        let dir = try CommandRunner.temporaryDirectory("shared-data")
        let r = try CommandRunner.run(["synth", "--out", dir.path, "--train", "256", "--test", "64", "--seed", "3"])
        XCTAssertEqual(r.status, 0, r.stderr)
        Self.dataDir = dir
        return dir
    }

    func testTrainEvalExplainJSON() throws {
        let data = try smallDataset()
        let dir = try CommandRunner.temporaryDirectory()
        let model = dir.appendingPathComponent("m.safetensors").path
        var r = try CommandRunner.run(["train", "--data", data.path, "--out", model, "--epochs", "2", "--batch-size", "32"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: model))

        r = try CommandRunner.run(["eval", "--model", model, "--data", data.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let eval = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(eval["split"] as? String, "test")
        XCTAssertEqual(eval["n"] as? Int, 64)
        let accuracy = try XCTUnwrap(eval["accuracy"] as? Double)
        XCTAssertTrue((0...1).contains(accuracy))
        let confusion = try XCTUnwrap(eval["confusion"] as? [[Int]])
        XCTAssertEqual(confusion.flatMap { $0 }.reduce(0, +), 64)
        // Accuracy is the confusion matrix's trace over its total: two ways of counting must agree.
        let trace = confusion.indices.map { confusion[$0][$0] }.reduce(0, +)
        XCTAssertEqual(accuracy, Double(trace) / 64, accuracy: 1e-9)
        let attention = try XCTUnwrap(eval["attention"] as? [String: Double])
        for key in ["mass_in_mask", "pointing_game", "iou", "decoy_mass"] {
            let v = try XCTUnwrap(attention[key], key)
            XCTAssertTrue((0...1).contains(v), "\(key) = \(v)")
        }

        let image = data.appendingPathComponent("test").path
        let firstClass = try FileManager.default.contentsOfDirectory(atPath: image).sorted()[0]
        let file = try FileManager.default.contentsOfDirectory(atPath: image + "/" + firstClass).sorted()[0]
        r = try CommandRunner.run(["explain", "--model", model, "--json", image + "/" + firstClass + "/" + file])
        XCTAssertEqual(r.status, 0, r.stderr)
        let explain = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let result = try XCTUnwrap((explain["results"] as? [[String: Any]])?.first)
        let probs = try XCTUnwrap(result["probabilities"] as? [Double])
        XCTAssertEqual(probs.reduce(0, +), 1, accuracy: 1e-4)
        let map = try XCTUnwrap(result["attention_map"] as? [[Double]])
        XCTAssertEqual(map.count, 16)
        XCTAssertEqual(map[0].count, 16)
        // A sigmoid lies in (0, 1); in Float32 it rounds to exactly 0 or 1 once saturated (g·M
        // models, the default, saturate their maps), so the closed interval, and not constant.
        let values = Array(map.joined())
        XCTAssertTrue(values.allSatisfy { $0 >= 0 && $0 <= 1 }, "a sigmoid map lies in [0, 1]")
        XCTAssertGreaterThan(values.max()! - values.min()!, 0, "the map is not constant")
    }

    func testInterruptedAndResumedRunMatchesUninterrupted() throws {
        let data = try smallDataset()
        let dir = try CommandRunner.temporaryDirectory()
        let straight = dir.appendingPathComponent("straight.safetensors").path
        let common = ["--data", data.path, "--epochs", "3", "--batch-size", "16", "--seed", "5"]
        XCTAssertEqual(try CommandRunner.run(["train", "--out", straight] + common).status, 0)

        // Interrupt the same run with SIGINT once its first checkpoint exists, then resume it.
        let resumed = dir.appendingPathComponent("resumed.safetensors").path
        let process = Process()
        process.executableURL = CommandRunner.executable
        process.arguments = ["train", "--out", resumed] + common
        process.standardError = FileHandle.nullDevice
        try process.run()
        let checkpoint = resumed + ".ckpt"
        let deadline = Date().addingTimeInterval(300)
        while !FileManager.default.fileExists(atPath: checkpoint), process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        process.waitUntilExit()
        if process.terminationStatus == 130 {
            XCTAssertFalse(FileManager.default.fileExists(atPath: resumed), "no model before the run completes")
            let r = try CommandRunner.run(["train", "--resume", checkpoint, "--out", resumed])
            XCTAssertEqual(r.status, 0, r.stderr)
        } else {
            XCTAssertEqual(process.terminationStatus, 0, "the run finished before the signal arrived")
        }
        let a = try Data(contentsOf: URL(fileURLWithPath: straight))
        let b = try Data(contentsOf: URL(fileURLWithPath: resumed))
        XCTAssertEqual(a, b, "resumed run must give the same bytes as the uninterrupted one")
    }
}
