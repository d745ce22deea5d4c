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
        // 256 images in batches of 24: ten full batches and a partial one of 16 each epoch.
        let common = ["--data", data.path, "--epochs", "3", "--batch-size", "24", "--seed", "5"]
        XCTAssertEqual(try CommandRunner.run(["train", "--out", straight] + common).status, 0)

        // Interrupt the same run with SIGINT once its first checkpoint (end of epoch 1) exists: it stops
        // after the batch it is on, in epoch 2 (two more epochs take far longer than the 10 ms poll).
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
        XCTAssertEqual(process.terminationStatus, 130, "the run must be interrupted, not finish before the signal")
        XCTAssertFalse(FileManager.default.fileExists(atPath: resumed), "no model before the run completes")

        // The checkpoint holds the run's settings: a flag resume would ignore is refused, and --out defaults to the run's.
        let refused = try CommandRunner.run(["train", "--resume", checkpoint, "--epochs", "5", "--seed", "1"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertTrue(refused.stderr.contains("--resume continues the checkpoint's run with its own settings; drop --epochs, --seed"), refused.stderr)
        let r = try CommandRunner.run(["train", "--resume", checkpoint])
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try Data(contentsOf: URL(fileURLWithPath: straight))
        let b = try Data(contentsOf: URL(fileURLWithPath: resumed))
        XCTAssertEqual(a, b, "resumed run must give the same bytes as the uninterrupted one")
    }

    /// Partial batches are trained on (PyTorch's default); only a last batch of one image is left out.
    func testEveryImageIsTrainedOnWithAPartialLastBatch() throws {
        let dir = try CommandRunner.temporaryDirectory()
        for (images, trained) in [(70, 70), (65, 64)] {
            let data = dir.appendingPathComponent("data\(images)")
            XCTAssertEqual(try CommandRunner.run(["synth", "--out", data.path, "--train", "\(images)", "--test", "4"]).status, 0)
            let r = try CommandRunner.run(["train", "--data", data.path, "--out", dir.appendingPathComponent("m\(images).safetensors").path,
                                           "--epochs", "1", "--batch-size", "64"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stderr.contains("epoch 1/1 done: \(trained) img"), "\(images) images in batches of 64 train \(trained): \(r.stderr)")
        }
        // One class folder holding one image (copied from the 70-image set).
        let one = dir.appendingPathComponent("one")
        try FileManager.default.createDirectory(at: one.appendingPathComponent("train/circle"), withIntermediateDirectories: true)
        let circles = dir.appendingPathComponent("data70/train/circle")
        let first = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: circles.path).sorted().first)
        try FileManager.default.copyItem(at: circles.appendingPathComponent(first), to: one.appendingPathComponent("train/circle/\(first)"))
        let r = try CommandRunner.run(["train", "--data", one.path, "--out", dir.appendingPathComponent("one.safetensors").path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("1 training image(s); training needs at least 2"), r.stderr)
    }
}
