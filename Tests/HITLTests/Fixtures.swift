import Foundation
import XCTest
import ABN
import ABNData
@testable import HITL

/// Real files for the tests that need a model and a dataset: a small shortcut dataset (48 train /
/// 16 test, masks and decoys) and an untrained CIFAR ResNet-8-ABN saved as a model file. Made once
/// per test process; each test gets its own copy of the model so none sees another's training.
enum Fixture {
    static let root: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("abn-hitl-fixture-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try! ShortcutDataset.generate(at: dir.appendingPathComponent("data"), train: 48, test: 16, seed: 3)
        return dir
    }()
    static var data: URL { root.appendingPathComponent("data") }

    static func metadata(arch: String = "cifar-resnet8", attention: AttentionMechanism = .residual) throws -> ModelMetadata {
        ModelMetadata(arch: try ABNArchitecture(parsing: arch), classes: ShortcutDataset.classNames, inputChannels: 3,
                      inputHeight: 32, inputWidth: 32, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], attention: attention)
    }

    /// A fresh model file in `dir` (seeded, so the same seed gives the same file).
    static func modelFile(in dir: URL, name: String = "model.safetensors", arch: String = "cifar-resnet8", seed: UInt64 = 1,
                          attention: AttentionMechanism = .residual) throws -> LoadedModel {
        let meta = try metadata(arch: arch, attention: attention)
        let model = try ABNModel(config: ModelConfig(arch: meta.arch, numClasses: 4, attention: attention), seed: seed)
        let url = dir.appendingPathComponent(name)
        try ModelFile.save(model, metadata: meta, to: url)
        return try ModelFile.load(contentsOf: url)
    }

    static func temporaryDirectory(_ name: String = #function) throws -> URL {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        let dir = root.appendingPathComponent("\(clean)-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The model's own outputs for one image of the dataset (a full forward pass, evaluation mode).
    static func outputs(_ model: LoadedModel, split: String = "train", _ relativePath: String) throws -> (probabilities: [Float], attention: [Float], map: [Float]) {
        let m = model.metadata
        let x = Tensor(shape: [1, 3, 32, 32], data: try loadInput(data.appendingPathComponent(split).appendingPathComponent(relativePath), m.preprocessing))
        let out = try model.model.forward(x, training: false)
        return (softmax(out.perceptionLogits.data), softmax(out.attentionLogits.data), out.attentionMap.data)
    }

    /// A mask PNG at 32×32 brought to the 16×16 map by 2×2 block means, written out independently of
    /// MapResampling so the two can check each other.
    static func blockMeanMask(_ url: URL) throws -> [Float] {
        let image = try ImageIO.decode(fileAt: url).converted(toChannels: 1)
        precondition(image.width == 32 && image.height == 32)
        var out = [Float](repeating: 0, count: 256)
        for y in 0..<16 {
            for x in 0..<16 {
                var s = 0
                for dy in 0..<2 { for dx in 0..<2 { s += Int(image.pixels[(2 * y + dy) * 32 + 2 * x + dx]) } }
                out[y * 16 + x] = Float(s) / (4 * 255)
            }
        }
        return out
    }
}

func assertClose(_ a: [Float], _ b: [Float], _ tolerance: Float, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    XCTAssertLessThanOrEqual(worst, tolerance, "\(message) worst difference \(worst)", file: file, line: line)
}

func assertOneLineError(_ expression: @autoclosure () throws -> Any, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        let text = "\(error)"
        for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' should mention '\(p)'", file: file, line: line) }
        XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
    }
}
