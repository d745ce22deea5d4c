import XCTest
import Foundation
@testable import ABN

/// Each backbone of the model zoo through real PyTorch processes, both ways:
/// an official-format checkpoint (`{'state_dict': {'module.…'}}`, no num_batches_tracked, as the
/// official code saves) of tools/abn_torch.py's reference with trained-looking statistics →
/// tools/convert_official_checkpoint.py (architecture inferred from the keys) → abn-hitl loads it
/// and gives PyTorch's evaluation outputs; and the file abn-hitl writes loads into the reference
/// with strict=True and gives the same outputs there.
final class ModelZooInteropTests: XCTestCase {
    /// (architecture, input side, classes): small members of each family, the official names; with
    /// ABN_ZOO_FULL_SIZE=1 (tools/check_zoo_full_size.sh) the official sizes instead, too slow for CI.
    static var cases: [(arch: String, side: Int, classes: Int)] {
        if ProcessInfo.processInfo.environment["ABN_ZOO_FULL_SIZE"] == "1" {
            return [("cifar-resnet110", 32, 10), ("cifar-wrn28-10", 32, 10), ("cifar-resnext29-8x64d", 32, 10),
                    ("cifar-densenet-bc100-12", 32, 10), ("imagenet-resnet50", 224, 1000), ("imagenet-se-resnet50", 224, 1000)]
        }
        return [("cifar-resnet20", 32, 10), ("cifar-wrn16-2", 32, 10), ("cifar-resnext11-4x4d-w1", 32, 10),
                ("cifar-densenet-bc16-12-c3", 32, 10), ("imagenet-se-resnet18", 64, 5)]
    }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Fails (rather than skips) without the reference python: tools/test.sh makes it, and a run that
    /// checked nothing must not look green.
    func python() throws -> String {
        let python = ProcessInfo.processInfo.environment["ABN_TORCH_PYTHON"] ?? "/tmp/abn-torch-env/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw MissingReference(description: "no reference python at \(python): run `bash tools/torch-env.sh` and set ABN_TORCH_PYTHON")
        }
        return python
    }

    struct MissingReference: Error, CustomStringConvertible { let description: String }

    @discardableResult
    func run(_ python: String, _ arguments: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "\(arguments.prefix(2)): \(stderr)")
        return stdout
    }

    /// Builds the reference, randomises its BatchNorm statistics and affine parameters as training would,
    /// saves it as the official code does, and stores an input with the reference's evaluation outputs
    /// in float32 and (`exact.*`) in float64: deep wide networks amplify rounding (WRN-28-10's map
    /// differs by 1e-4 between PyTorch's own float32 and float64), so the engine is held to float64
    /// within whatever float32 PyTorch itself achieves.
    static let makeCheckpoint = """
    import copy, sys, torch
    from safetensors.torch import save_file
    sys.path.insert(0, sys.argv[1])
    from abn_torch import build
    arch, side, classes, out = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    torch.manual_seed(7)
    model = build(arch, classes)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("running_var"): t.uniform_(0.5, 1.5)
            elif name.endswith("running_mean"): t.uniform_(-0.2, 0.2)
            elif t.dim() == 1 and not name.endswith("num_batches_tracked"): t.add_(torch.empty_like(t).uniform_(-0.1, 0.1))
    model.eval()
    x = torch.randn(3, 3, side, side)
    with torch.no_grad():
        a, p, m = model(x)
        exact = copy.deepcopy(model).double()(x.double())
    state = {"module." + k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    torch.save({"epoch": 3, "best_acc": 50.0, "state_dict": state}, out + "/checkpoint.pth.tar")
    outputs = {"attention": a, "perception": p, "map": m}
    outputs.update({"exact." + k: v.float() for k, v in zip(["attention", "perception", "map"], exact)})
    save_file({"x": x} | {k: v.contiguous() for k, v in outputs.items()}, out + "/reference.safetensors")
    """

    /// Strict load of a file abn-hitl wrote into the reference named by its metadata; prints the
    /// largest difference of each output from the stored reference outputs.
    static let loadOurs = """
    import sys, json, torch
    from safetensors import safe_open
    from safetensors.torch import load_file
    sys.path.insert(0, sys.argv[1])
    from abn_torch import build
    path, ref = sys.argv[2], load_file(sys.argv[3])
    with safe_open(path, "pt") as f: meta = f.metadata()
    model = build(meta["abn.arch"], len(json.loads(meta["abn.classes"])), attention=meta["abn.attention"])
    model.load_state_dict(load_file(path), strict=True)
    model.eval()
    with torch.no_grad():
        a, p, m = model(ref["x"])
    print(json.dumps({"arch": meta["abn.arch"], "attention": float((a - ref["attention"]).abs().max()),
                      "perception": float((p - ref["perception"]).abs().max()), "map": float((m - ref["map"]).abs().max())}))
    """

    func relative(_ a: [Float], _ b: [Float]) -> Float {
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max()! / scale
    }

    func testOfficialCheckpointsConvertLoadAndMatchPyTorch() throws {
        let python = try python()
        let tools = Self.repository.appendingPathComponent("tools").path
        for c in Self.cases {
            let dir = try ioTempDirectory("abn-zoo-\(c.arch)")
            try run(python, ["-c", Self.makeCheckpoint, tools, c.arch, "\(c.side)", "\(c.classes)", dir.path])
            let converted = dir.appendingPathComponent("model.safetensors")
            let said = try run(python, [tools + "/convert_official_checkpoint.py", dir.appendingPathComponent("checkpoint.pth.tar").path,
                                        "--out", converted.path, "--classes", "\(c.classes)",
                                        "--input", "3x\(c.side)x\(c.side)"])
            XCTAssertTrue(said.contains(": \(c.arch), \(c.classes) classes"), "the converter infers \(c.arch): \(said)")
            XCTAssertTrue(said.contains("strict load into tools/abn_torch.py OK"), said)

            let loaded = try ModelFile.load(contentsOf: converted)
            XCTAssertEqual(loaded.metadata.arch.name, c.arch)
            let reference = try SafeTensors.read(contentsOf: dir.appendingPathComponent("reference.safetensors")).tensors
            func floats(_ name: String) throws -> Tensor {
                guard case .float32(let t)? = reference[name] else { throw MissingReference(description: "\(c.arch): the reference file lacks \(name)") }
                return t
            }
            let out = try loaded.model.forward(try floats("x"), training: false)
            for (mine, name) in [(out.attentionLogits, "attention"), (out.perceptionLogits, "perception"), (out.attentionMap, "map")] {
                let exact = try floats("exact." + name), torch32 = try floats(name)
                XCTAssertEqual(mine.shape, exact.shape, "\(c.arch) \(name)")
                let ours = relative(mine.data, exact.data), theirs = relative(torch32.data, exact.data)
                print("\(c.arch) \(name): relative error against float64, abn-hitl \(ours), PyTorch float32 \(theirs)")
                XCTAssertLessThanOrEqual(ours, max(1e-4, 4 * theirs), "\(c.arch) \(name) against PyTorch in float64")
            }

            // And back: what abn-hitl writes, PyTorch loads strictly and computes the same.
            let written = dir.appendingPathComponent("written.safetensors")
            try ModelFile.save(loaded.model, metadata: loaded.metadata, to: written)
            let report = try run(python, ["-c", Self.loadOurs, tools, written.path, dir.appendingPathComponent("reference.safetensors").path])
            let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any], report)
            XCTAssertEqual(json["arch"] as? String, c.arch)
            for name in ["attention", "perception", "map"] {
                XCTAssertEqual(try XCTUnwrap(json[name] as? Double), 0, "\(c.arch) \(name): the same weights give the same outputs")
            }
        }
    }
}
