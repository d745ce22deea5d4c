import Foundation
import XCTest

/// explain --method/--target/--out through the real executable: the JSON fields of docs/formats.md,
/// the pictures, and one-line errors for bad input.
final class ExplainTests: XCTestCase {
    static var made: (model: String, image: String)?

    /// A briefly trained CIFAR ResNet-8-ABN and one of its test images, shared by the tests here.
    func modelAndImage() throws -> (model: String, image: String) {
        if let m = Self.made { return m }
        let dir = try CommandRunner.temporaryDirectory("explain-model")
        let data = dir.appendingPathComponent("data")
        var r = try CommandRunner.run(["synth", "--out", data.path, "--train", "48", "--test", "8", "--seed", "5"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let model = dir.appendingPathComponent("m.safetensors").path
        r = try CommandRunner.run(["train", "--data", data.path, "--out", model, "--arch", "cifar-resnet8", "--epochs", "1", "--batch-size", "16"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let test = data.appendingPathComponent("test/circle")
        let file = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: test.path).sorted().first)
        Self.made = (model, test.appendingPathComponent(file).path)
        return Self.made!
    }

    func testClassMapsInJSON() throws {
        let (model, image) = try modelAndImage()
        let r = try CommandRunner.run(["explain", "--model", model, "--json", "--method", "abn,cam", "--method", "gradcam++",
                                       "--method", "gradcam", "--target", "cross", image])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let result = try XCTUnwrap((json["results"] as? [[String: Any]])?.first)
        XCTAssertEqual((result["attention_map"] as? [[Double]])?.count, 16)
        let maps = try XCTUnwrap(result["class_maps"] as? [[String: Any]])
        XCTAssertEqual(maps.map { $0["method"] as? String }, ["cam", "gradcam++", "gradcam"])
        var raw: [String: [Double]] = [:]
        for m in maps {
            XCTAssertEqual(m["layer"] as? String, "layer3")
            XCTAssertEqual(m["target"] as? String, "cross")
            let map = try XCTUnwrap(m["map"] as? [[Double]])
            XCTAssertEqual([map.count, map[0].count], [8, 8], "the layer's resolution")
            let resampled = try XCTUnwrap(m["at_map_size"] as? [[Double]])
            XCTAssertEqual([resampled.count, resampled[0].count], [16, 16], "the attention map's size")
            let v = Array(resampled.joined())
            XCTAssertTrue(v.allSatisfy { (0...1).contains($0) })
            XCTAssertEqual(v.max()!, 1, accuracy: 1e-5, "normalised")
            XCTAssertEqual(v.min()!, 0, accuracy: 1e-6)
            raw[m["method"] as! String] = Array(map.joined())
        }
        // GAP → fc after the stage: ∂y_c/∂A_k = w_{c,k}/64 on an 8×8 stage, so Grad-CAM = ReLU(CAM)/64.
        let cam = try XCTUnwrap(raw["cam"]), gradcam = try XCTUnwrap(raw["gradcam"])
        let scale = cam.map(abs).max()!
        for (c, g) in zip(cam, gradcam) { XCTAssertEqual(max(c, 0) / 64, g, accuracy: 1e-5 * scale) }

        // Without --method only the attention map, as before; an index works as --target.
        let plain = try CommandRunner.run(["explain", "--model", model, "--json", image])
        XCTAssertFalse(plain.stdout.contains("class_maps"))
        let byIndex = try CommandRunner.run(["explain", "--model", model, "--json", "--method", "cam", "--target", "1", image])
        XCTAssertTrue(byIndex.stdout.contains("\"target\":\"cross\""), byIndex.stdout)
    }

    func testPicturesForEveryMethodAndAGrid() throws {
        let (model, image) = try modelAndImage()
        let out = try CommandRunner.temporaryDirectory().appendingPathComponent("pictures/nested")
        let r = try CommandRunner.run(["explain", "--model", model, "--method", "abn,gradcam", "--out", out.path, "--alpha", "0.3", image])
        XCTAssertEqual(r.status, 0, r.stderr)
        let stem = "01-" + URL(fileURLWithPath: image).deletingPathExtension().lastPathComponent
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(files, ["abn", "abn-blend", "gradcam", "gradcam-blend", "grid"].map { "\(stem)-\($0).png" }.sorted())
        // PNG IHDR: width and height at bytes 16…23. 32×32 is enlarged 8×; the grid holds the image and two blends.
        func size(_ name: String) throws -> [UInt32] {
            let d = try Data(contentsOf: out.appendingPathComponent(name))
            return [16, 20].map { o in d[o..<(o + 4)].reduce(0) { $0 << 8 | UInt32($1) } }
        }
        XCTAssertEqual(try size("\(stem)-gradcam.png"), [256, 256])
        XCTAssertEqual(try size("\(stem)-abn-blend.png"), [256, 256])
        XCTAssertEqual(try size("\(stem)-grid.png"), [3 * 256 + 2 * 4, 256])
    }

    /// --precision bf16 through the executable: where the CPU has AVX512_BF16, the same prediction
    /// and a map within bfloat16's rounding of FP32's (8 bits of mantissa: a few 1e-3 on this model);
    /// elsewhere a one-line error and a non-zero exit, never a silent FP32.
    func testPrecisionBF16() throws {
        let (model, image) = try modelAndImage()
        let fp32 = try CommandRunner.run(["explain", "--model", model, "--json", "--precision", "fp32", image])
        XCTAssertEqual(fp32.status, 0, fp32.stderr)
        let bf16 = try CommandRunner.run(["explain", "--model", model, "--json", "--precision", "bf16", image])
        guard CommandRunner.bf16CPU() else {
            XCTAssertNotEqual(bf16.status, 0)
            XCTAssertTrue(bf16.stderr.contains("AVX512_BF16"), bf16.stderr)
            XCTAssertEqual(bf16.stderr.split(separator: "\n").count, 1, bf16.stderr)
            return
        }
        XCTAssertEqual(bf16.status, 0, bf16.stderr)
        func result(_ out: String) throws -> [String: Any] {
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
            return try XCTUnwrap((json["results"] as? [[String: Any]])?.first)
        }
        let a = try result(fp32.stdout), b = try result(bf16.stdout)
        XCTAssertEqual(a["predicted"] as? String, b["predicted"] as? String)
        let mapA = Array(try XCTUnwrap(a["attention_map"] as? [[Double]]).joined())
        let mapB = Array(try XCTUnwrap(b["attention_map"] as? [[Double]]).joined())
        let largest = zip(mapA, mapB).map { abs($0 - $1) }.max()!
        XCTAssertGreaterThan(largest, 0, "bf16 changes the arithmetic")
        XCTAssertLessThan(largest, 0.03)
    }

    func testBadInputIsOneLine() throws {
        let (model, image) = try modelAndImage()
        let file = try CommandRunner.temporaryDirectory().appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let cases: [([String], String)] = [
            (["--method", "cam", "--target", "4"], "--target '4'"),
            (["--method", "cam", "--target", "dog"], "--target 'dog'"),
            (["--target", "cross"], "--target applies"),
            (["--out", file.path], file.path),
            (["--alpha", "1.5"], "--alpha"),
        ]
        for (args, mention) in cases {
            let r = try CommandRunner.run(["explain", "--model", model] + args + [image])
            assertCleanFailure(r, mentions: mention)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, "\(args): \(r.stderr)")
        }
    }
}
