import Foundation
import XCTest

/// Every command on each backbone family (issue 13), through the real executable on a small member
/// of each: train → eval → explain (ABN, CAM, Grad-CAM) → collect → import-maps → finetune → eval →
/// export, and bench. `review` on them runs in tmux (ReviewCommandTmuxTests.testReviewOnEachBackbone).
final class ModelZooCommandTests: XCTestCase {
    func testEveryCommandOnEachBackbone() throws {
        let dir = try CommandRunner.temporaryDirectory()
        func run(_ args: [String]) throws -> CommandResult { try CommandRunner.succeed(args, cwd: dir) }
        _ = try run(["synth", "--out", "data", "--train", "96", "--test", "24", "--seed", "4"])
        let image = "data/test/circle/" + (try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("data/test/circle").path).sorted()[0])
        // g(x), and so the map, is 16×16 at 32×32 input, DenseNet's 8×8 (two transitions), an ImageNet
        // backbone's 2×2 (input / 16; 32×32 is the least it takes).
        for (arch, side) in [("cifar-wrn10-1-dropout0.3", 16), ("cifar-resnext11-2x4d-w1", 16), ("cifar-densenet-bc16-12", 8),
                             ("imagenet-se-resnet18", 2)] {
            let model = "\(arch).safetensors", tuned = "\(arch)-ft.safetensors", session = "s-\(arch)"
            // g·(1+M) on one of them (g·M is the default): both mechanisms work on any backbone with a sigmoid map.
            let mechanism = arch.hasPrefix("cifar-resnext") ? ["--attention", "residual"] : []
            _ = try run(["train", "--data", "data", "--out", model, "--arch", arch, "--epochs", "1", "--batch-size", "24"] + mechanism)
            let eval = try run(["eval", "--model", model, "--data", "data", "--json"])
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(json["n"] as? Int, 24, arch)
            for method in ["abn", "cam", "gradcam"] {
                let e = try run(["explain", "--model", model, "--method", method, "--json", image])
                let result = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(e.stdout.utf8)) as? [String: Any])?["results"] as? [[String: Any]])
                XCTAssertEqual(result.count, 1, "\(arch) \(method)")
                XCTAssertEqual((result[0]["attention_map"] as? [[Double]])?.count, side, "\(arch): the map is g(x)'s \(side)×\(side)")
            }
            let collected = try run(["collect", "--model", model, "--data", "data", "--session", session, "--select", "all", "--limit", "12"])
            XCTAssertTrue(collected.stderr.contains("added 12 new"), collected.stderr)
            let imported = try run(["import-maps", "--session", session, "--masks", "data/masks/train"])
            XCTAssertTrue(imported.stderr.contains("imported 12 maps"), imported.stderr)
            let ft = try run(["finetune", "--session", session, "--out", tuned, "--epochs", "1"])
            XCTAssertTrue(ft.stdout.contains("decoy mass"), ft.stdout)
            _ = try run(["eval", "--model", tuned, "--data", "data"])
            _ = try run(["export", "--session", session, "--out", "export-\(arch)"])
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("export-\(arch)/manifest.json").path))
            let bench = try run(["bench", "--arch", arch, "--batch-size", "4", "--steps", "1", "--json"])
            let b = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as? [String: Any])
            XCTAssertEqual(b["arch"] as? String, arch)
            XCTAssertGreaterThan(try XCTUnwrap(b["inference_images_per_second"] as? Double), 0)
        }
    }
}
