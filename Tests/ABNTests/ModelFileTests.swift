import XCTest
@testable import ABN

final class ModelFileTests: XCTestCase {
    func fixture(_ name: String) throws -> URL {
        try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/io/" + name, withExtension: "safetensors"))
    }

    /// A small network for file tests: cifar-resnet8 (one block per stage), 3 classes, 1×8×8.
    func smallModel(classes: Int = 3, seed: UInt64 = 1) throws -> (ABNModel, ModelMetadata) {
        let model = try ABNModel(config: ModelConfig(arch: try ABNArchitecture(parsing: "cifar-resnet8"), numClasses: classes,
                                                     inputChannels: 1, inputHeight: 8, inputWidth: 8, attention: .multiply), seed: seed)
        let meta = ModelMetadata(arch: model.config.arch, classes: (0..<classes).map { "class \($0)" }, inputChannels: 1,
                                 inputHeight: 8, inputWidth: 8, mean: [0.5], std: [0.25], attention: .multiply)
        return (model, meta)
    }

    /// Writes tensors and metadata as a model file in a fresh directory.
    func file(_ name: String, _ tensors: [(name: String, tensor: StateTensor)], _ meta: [String: String]) throws -> URL {
        let url = try ioTempDirectory("abn-mf").appendingPathComponent(name)
        try SafeTensors.write(tensors, metadata: meta, to: url)
        return url
    }

    func assertLoadFails(_ url: URL, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelFile.load(contentsOf: url), file: file, line: line) { error in
            XCTAssertEqual("\(error)", "\(url.path): \(expected)", file: file, line: line)
        }
    }

    /// An official-style checkpoint (module. prefixes, no num_batches_tracked) of the PyTorch
    /// reference, converted by tools/convert_official_checkpoint.py, loads strictly and gives
    /// PyTorch's outputs (tools/make_converted_fixture.sh wrote both files).
    func testConvertedOfficialCheckpointMatchesPyTorch() throws {
        let url = try fixture("converted-official")
        let loaded = try ModelFile.load(contentsOf: url)
        XCTAssertEqual(loaded.metadata, ModelMetadata(arch: try ABNArchitecture(parsing: "cifar-resnet20"), classes: (0..<10).map(String.init),
                                                      inputChannels: 3, inputHeight: 32, inputWidth: 32, mean: [0.4914, 0.4822, 0.4465],
                                                      std: [0.2023, 0.1994, 0.2010], attention: .residual))
        // `sha256sum` of the committed file (regenerating it reorders the metadata, so update this then).
        XCTAssertEqual(loaded.sha256, "12c1b23676b99f4a069f01e21e801df9930ba0148aac4a0fc3988903ce11743e")
        XCTAssertEqual(loaded.url, url)
        try assertMatchesPyTorch(loaded.model, outputs: try fixture("official-outputs"))
    }

    /// Compares a model's evaluation outputs with PyTorch's, stored as input, perception_logits,
    /// attention_logits and map.
    func assertMatchesPyTorch(_ model: ABNModel, outputs: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let (expected, _) = try SafeTensors.read(contentsOf: outputs)
        guard case .float32(let x)? = expected["input"], case .float32(let p)? = expected["perception_logits"],
              case .float32(let a)? = expected["attention_logits"], case .float32(let m)? = expected["map"] else {
            return XCTFail("\(outputs.path) incomplete", file: file, line: line)
        }
        let out = try model.forward(x, training: false)
        for (got, want, name) in [(out.perceptionLogits, p, "perception"), (out.attentionLogits, a, "attention"),
                                  (out.attentionMap, m, "map")] {
            XCTAssertEqual(got.count, want.count, name, file: file, line: line)
            let scale = max(want.data.map { abs($0) }.max()!, 1e-3)
            XCTAssertLessThan(zip(got.data, want.data).map { abs($0 - $1) }.max()! / scale, 1e-4, "\(outputs.lastPathComponent) \(name)", file: file, line: line)
        }
    }

    /// Save then load gives the same metadata and tensors, bit for bit, and the file's SHA-256.
    func testSaveLoadRoundTrip() throws {
        let (model, meta) = try smallModel()
        let url = try ioTempDirectory("abn-mf").appendingPathComponent("m.safetensors")
        try ModelFile.save(model, metadata: meta, to: url)
        let loaded = try ModelFile.load(contentsOf: url)
        XCTAssertEqual(loaded.metadata, meta)
        XCTAssertEqual(loaded.model.config, model.config)
        XCTAssertEqual(loaded.model.stateDict().map(\.name), model.stateDict().map(\.name))
        XCTAssertTrue(zip(loaded.model.stateDict(), model.stateDict()).allSatisfy { $0.tensor == $1.tensor })
        XCTAssertEqual(loaded.sha256, try ModelFile.sha256(of: url))
        let (readMeta, tensors) = try ModelFile.read(contentsOf: url)
        XCTAssertEqual(readMeta, meta)
        XCTAssertEqual(tensors.count, model.stateDict().count)
    }

    /// Finite weights so large that the outputs overflow: evaluation-mode forward and the what-if
    /// branches report non-finite outputs instead of returning them (every command goes through these).
    func testOverflowingWeightsAreReportedAsNonFiniteOutputs() throws {
        let (model, _) = try smallModel()
        var tensors = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })
        // logit = 3e38 · (1 + Σ pooled features) overflows once the (non-negative) features sum past 0.14.
        for name in ["fc.weight", "fc.bias"] {
            guard case .float32(let t) = try XCTUnwrap(tensors[name]) else { return XCTFail("\(name) is a float tensor") }
            tensors[name] = .float32(Tensor(shape: t.shape, data: t.data.map { _ in 3e38 }))
        }
        try model.loadStateDict(tensors)
        let x = Tensor(shape: [2, 1, 8, 8], data: (0..<128).map { Float($0 % 7) / 7 })
        XCTAssertThrowsError(try model.forward(x, training: false)) { error in
            XCTAssertTrue("\(error)".hasPrefix("the model's perception logits are not finite"), "\(error)")
        }
        let features = try model.extractFeatures(x)
        let map = try model.attentionBranch(features: features).map
        XCTAssertThrowsError(try model.perceptionBranch(features: features, map: map)) { error in
            XCTAssertTrue("\(error)".contains("not finite"), "\(error)")
        }
    }

    /// The message names the file, the architecture it was checked against, and the tensors.
    func testStateDictMismatchIsOneLineNamingTensors() throws {
        let (model, meta) = try smallModel()
        var state = model.stateDict().filter { $0.name != "fc.bias" }
        let i = state.firstIndex { $0.name == "fc.weight" }!
        state[i].tensor = .float32(Tensor(zeros: [5, 64]))
        let url = try file("m.safetensors", state, meta.dictionary)
        assertLoadFails(url, "state_dict does not match cifar-resnet8 with 3 classes: missing fc.bias; mis-shaped fc.weight [5, 64] (expected [3, 64])")

        state = model.stateDict()
        state.append(("extra.weight", .float32(Tensor(zeros: [1]))))
        let j = state.firstIndex { $0.name == "conv1.weight" }!
        state[j].tensor = .int64(shape: [16, 1, 3, 3], values: [Int64](repeating: 0, count: 144))
        assertLoadFails(try file("m.safetensors", state, meta.dictionary),
                        "state_dict does not match cifar-resnet8 with 3 classes: unexpected extra.weight; integer where a float tensor is expected: conv1.weight")
    }

    /// A model of another class count or depth than the metadata say.
    func testOtherArchitectureOrClassCount() throws {
        let (model, meta) = try smallModel()
        var other = meta
        other.classes.append("class 3")
        assertLoadFails(try file("classes.safetensors", model.stateDict(), other.dictionary),
                        "state_dict does not match cifar-resnet8 with 4 classes: mis-shaped att_conv.weight [3, 64, 1, 1] (expected [4, 64, 1, 1]), "
                        + "bn_att2.weight [3] (expected [4]), bn_att2.bias [3] (expected [4]), bn_att2.running_mean [3] (expected [4]), "
                        + "bn_att2.running_var [3] (expected [4]) and 4 more")
        XCTAssertThrowsError(try ModelFile.read(contentsOf: try file("classes.safetensors", model.stateDict(), other.dictionary))) {
            XCTAssertTrue("\($0)".hasSuffix(": metadata 'abn.classes' names 4 classes but fc.weight has 3 rows"), "\($0)")
        }
        other = meta
        other.arch = try ABNArchitecture(parsing: "cifar-resnet14")
        let url = try file("depth.safetensors", model.stateDict(), other.dictionary)
        XCTAssertThrowsError(try ModelFile.load(contentsOf: url)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("\(url.path): state_dict does not match cifar-resnet14 with 3 classes: missing layer1.1.conv1.weight, "), text)
            XCTAssertFalse(text.contains("\n"))
        }
        other = meta
        other.inputChannels = 3
        other.mean = [0, 0, 0]
        other.std = [1, 1, 1]
        assertLoadFails(try file("channels.safetensors", model.stateDict(), other.dictionary),
                        "state_dict does not match cifar-resnet8 with 3 classes: mis-shaped conv1.weight [16, 1, 3, 3] (expected [16, 3, 3, 3])")
    }

    /// num_batches_tracked: missing → 0 (torch < 0.4 checkpoints), float → integer, nonsense → error.
    func testNumBatchesTrackedLeniency() throws {
        let (model, meta) = try smallModel()
        let trained = model.stateDict().map { e -> (name: String, tensor: StateTensor) in
            e.name.hasSuffix("num_batches_tracked") ? (e.name, .int64(shape: [], values: [17])) : e
        }
        try model.loadStateDict(Dictionary(uniqueKeysWithValues: trained.map { ($0.name, $0.tensor) }))
        let withoutCounters = model.stateDict().filter { !$0.name.hasSuffix("num_batches_tracked") }
        XCTAssertLessThan(withoutCounters.count, model.stateDict().count)
        var loaded = try ModelFile.load(contentsOf: try file("old.safetensors", withoutCounters, meta.dictionary)).model
        for (name, t) in loaded.stateDict() {
            if name.hasSuffix("num_batches_tracked") { XCTAssertEqual(t, .int64(shape: [], values: [0]), name) }
            else { XCTAssertEqual(t, model.stateDict().first { $0.name == name }!.tensor, name) }
        }
        let floats = model.stateDict().map { e -> (name: String, tensor: StateTensor) in
            e.name.hasSuffix("num_batches_tracked") ? (e.name, .float32(Tensor(shape: [], data: [17]))) : e
        }
        loaded = try ModelFile.load(contentsOf: try file("float.safetensors", floats, meta.dictionary)).model
        XCTAssertTrue(loaded.stateDict().allSatisfy { !$0.name.hasSuffix("num_batches_tracked") || $0.tensor == .int64(shape: [], values: [17]) })

        for bad: Float in [.nan, -1, 0.5, .infinity] {
            let state = floats.map { e -> (name: String, tensor: StateTensor) in
                e.name == "bn1.num_batches_tracked" ? (e.name, .float32(Tensor(shape: [], data: [bad]))) : e
            }
            assertLoadFails(try file("bad.safetensors", state, meta.dictionary),
                            "state_dict does not match cifar-resnet8 with 3 classes: num_batches_tracked that is not a non-negative whole number: bn1.num_batches_tracked")
        }
    }

    /// SE-ResNet names: the canonical `imagenet-se-resnet<depth>`, the short `se-resnet<depth>`, all listed.
    func testSEResNetNames() throws {
        for depth in [18, 34, 50, 101, 152] {
            let a = try ABNArchitecture(parsing: "se-resnet\(depth)")
            XCTAssertEqual(a, try ABNArchitecture(family: .imagenet, depth: depth, backbone: .seResNet))
            XCTAssertEqual(a.name, "imagenet-se-resnet\(depth)")
            XCTAssertEqual(try ABNArchitecture(parsing: a.name), a)
            XCTAssertEqual(a.usesBottleneck, depth >= 50)
            XCTAssertTrue(ABNArchitecture.standard.contains(a))
        }
        XCTAssertNotEqual(try ABNArchitecture(parsing: "imagenet-se-resnet18"), try ABNArchitecture(parsing: "imagenet-resnet18"))
    }

    /// The size bound on headers counts what the built model really has: every 4-D tensor of its state_dict.
    func testConvolutionWeightsCountTheModelsConvolutions() throws {
        for name in ["cifar-resnet20", "cifar-resnet56", "imagenet-resnet50", "cifar-wrn16-2", "cifar-wrn10-1", "cifar-resnext11-4x4d-w1",
                     "cifar-densenet-bc100-12", "cifar-densenet-bc16-12-c3", "cifar-densenet-bc22-5-c1",
                     "imagenet-se-resnet18", "imagenet-se-resnet50"] {
            let config = ModelConfig(arch: try ABNArchitecture(parsing: name), numClasses: 7, inputHeight: 64, inputWidth: 64)
            let model = try ABNModel(config: config, seed: 0)
            let counted = model.stateDict().filter { $0.tensor.shape.count == 4 }.map { $0.tensor.shape.reduce(1, *) }.reduce(0, +)
            // att_conv, att_conv2, and att_conv3 where the map has one (not SE-ResNet's log-sum map)
            let classHead = 7 * model.network.attentionStage.outChannels + 7 * 7 + (model.mapIsBounded ? 7 * 9 : 0)
            XCTAssertEqual(NetworkDescription(config: config).convolutionWeights + classHead, counted, name)
        }
    }

    /// DenseNet-BC names: the default compression 2 left out of the canonical name, the short form
    /// without `cifar-`, parsing the canonical name gives the architecture back; the official BC-100-12
    /// is listed, with 16 layers a dense block and the official state_dict's channel counts.
    func testDenseNetNames() throws {
        for (text, canonical) in [("cifar-densenet-bc100-12", "cifar-densenet-bc100-12"), ("densenet-bc100-12-c2", "cifar-densenet-bc100-12"),
                                  ("CIFAR-DenseNet-BC190-40-c4", "cifar-densenet-bc190-40-c4"),
                                  ("cifar-densenet-bc100-12-dropout0.2", "cifar-densenet-bc100-12-dropout0.2"),
                                  ("cifar-densenet-bc16-12-c3-dropout0.1", "cifar-densenet-bc16-12-c3-dropout0.1")] {
            let arch = try ABNArchitecture(parsing: text)
            XCTAssertEqual(arch.name, canonical)
            XCTAssertEqual(try ABNArchitecture(parsing: arch.name), arch)
        }
        for bad in ["cifar-densenet-bc100", "cifar-densenet-bc100-12-dropout0.2-c2", "cifar-densenet-bc100-12-x3", "cifar-densenet-bc100-12-c"] {
            XCTAssertThrowsError(try ABNArchitecture(parsing: bad), bad)
        }
        let official = try ABNArchitecture(parsing: "cifar-densenet-bc100-12")
        XCTAssertTrue(ABNArchitecture.standard.contains(official))
        XCTAssertEqual(official.blocksPerStage, [16, 16, 16])
        // 24 + 16·12 = 216 → 108, 108 + 192 = 300 → 150, 150 + 192 = 342 (bn_att, bn and fc).
        let d = NetworkDescription(config: ModelConfig(arch: official, numClasses: 10))
        XCTAssertEqual(d.featureStages.map(\.name), ["dense1", "trans1", "dense2", "trans2"])
        XCTAssertEqual(d.featureStages.map(\.outChannels), [216, 108, 300, 150])
        XCTAssertEqual([d.attentionStage.name, d.perceptionStage.name], ["att_dense3", "dense3"])
        XCTAssertEqual([d.attentionStage.outChannels, d.perceptionStage.outChannels], [342, 342])
        XCTAssertEqual(d.featureSide(32), 8)
    }

    /// Metadata read from real files: missing keys are named (or filled from defaults), bad values refused.
    func testMetadataInFiles() throws {
        let (model, meta) = try smallModel()
        var d = meta.dictionary
        d.removeValue(forKey: "abn.classes")
        let url = try file("nometa.safetensors", model.stateDict(), d)
        assertLoadFails(url, "metadata 'abn.classes' is missing (not an abn-hitl model file? tools/convert_official_checkpoint.py writes all abn.* keys)")
        XCTAssertEqual(try ModelFile.load(contentsOf: url, defaults: ["abn.classes": #"["x", "y", "z"]"#]).metadata.classes, ["x", "y", "z"])
        XCTAssertEqual(try ModelFile.read(contentsOf: url, defaults: meta.dictionary).metadata, meta)

        let cases: [(String, String, String)] = [
            ("abn.arch", "vgg16", "metadata 'abn.arch': unknown architecture 'vgg16' (expected e.g. cifar-resnet20, imagenet-resnet18, cifar-wrn28-10, cifar-resnext29-8x64d, cifar-densenet-bc100-12, imagenet-se-resnet50)"),
            ("abn.arch", "cifar-resnet21", "metadata 'abn.arch': CIFAR ResNet depth must be 6n+2 (20, 32, 44, 56, 110), got 21"),
            ("abn.arch", "cifar-resnet6002", "metadata 'abn.arch': cifar-resnet6002 is deeper than the supported 1202 layers"),
            ("abn.arch", "cifar-wrn28-100", "metadata 'abn.arch': Wide ResNet widen factor must be 1 to 64, got 100"),
            ("abn.arch", "cifar-wrn1000-64", "metadata 'abn.arch': cifar-wrn1000-64 has 115766M convolution weights, more than the supported 1000M"),
            ("abn.arch", "cifar-resnext29-8x64d-w0", "metadata 'abn.arch': ResNeXt widen factor must be 1 to 64, got 0"),
            ("abn.arch", "imagenet-wrn28-10", "metadata 'abn.arch': the official ABN code has Wide ResNet, ResNeXt and DenseNet-BC for CIFAR only (cifar-wrn…, cifar-resnext…, cifar-densenet-bc…)"),
            ("abn.arch", "cifar-densenet-bc103-12", "metadata 'abn.arch': DenseNet-BC depth must be 6n+4 (e.g. 100, 190, 250), got 103"),
            ("abn.arch", "cifar-densenet-bc100-0", "metadata 'abn.arch': DenseNet-BC growth rate must be 1 to 256, got 0"),
            ("abn.arch", "cifar-densenet-bc100-12-c17", "metadata 'abn.arch': DenseNet-BC compression must be 1 to 16, got 17"),
            ("abn.arch", "cifar-densenet-bc10-1-c16", "metadata 'abn.arch': DenseNet-BC compression 16 leaves a transition of depth 10, growth 1 without channels"),
            ("abn.arch", "cifar-densenet-bc100-12-dropout1", "metadata 'abn.arch': DenseNet-BC dropout must be in [0, 1), got 1.0"),
            ("abn.arch", "cifar-densenet-bc1000-256", "metadata 'abn.arch': cifar-densenet-bc1000-256 has 33521M convolution weights, more than the supported 1000M"),
            ("abn.arch", "imagenet-se-resnet20", "metadata 'abn.arch': SE-ResNet depth must be 18, 34, 50, 101 or 152, got 20"),
            ("abn.arch", "cifar-se-resnet18", "metadata 'abn.arch': the official ABN code has SE-ResNet for ImageNet only (imagenet-se-resnet…)"),
            ("abn.arch", "se-resnet", "metadata 'abn.arch': unknown architecture 'se-resnet' (expected e.g. cifar-resnet20, imagenet-resnet18, cifar-wrn28-10, cifar-resnext29-8x64d, cifar-densenet-bc100-12, imagenet-se-resnet50)"),
            ("abn.classes", "[]", "metadata 'abn.classes' is empty"),
            ("abn.classes", #"["a", "a"]"#, #"metadata 'abn.classes' names "a" twice"#),
            ("abn.classes", #"["a", ""]"#, "metadata 'abn.classes': class 1 has an empty name"),
            ("abn.classes", #"["a", 1]"#, "metadata 'abn.classes' must be a JSON array of strings"),
            ("abn.classes", "a,b", "metadata 'abn.classes' is not valid JSON: unexpected character 'a' at byte 0"),
            ("abn.input", "1x8", "metadata 'abn.input' must be CxHxW (e.g. 3x32x32), got '1x8'"),
            ("abn.input", "1x8x8x", "metadata 'abn.input' must be CxHxW (e.g. 3x32x32), got '1x8x8x'"),
            ("abn.input", "4x8x8", "metadata 'abn.input': 4 channels (1 or 3 supported)"),
            ("abn.input", "1x0x8", "metadata 'abn.input': size 0x8 out of range (1 to 4096)"),
            ("abn.mean", "[0.5, 0.5]", "metadata 'abn.mean' has 2 values for 1 channels"),
            ("abn.mean", "[1e39]", "metadata 'abn.mean' must be finite, got [inf]"),
            ("abn.mean", "[true]", "metadata 'abn.mean' must be a JSON array of numbers"),
            ("abn.std", "[0]", "metadata 'abn.std' must be positive and finite, got [0.0]"),
            ("abn.std", "[-0.25]", "metadata 'abn.std' must be positive and finite, got [-0.25]"),
            ("abn.attention", "additive", "metadata 'abn.attention' must be residual or multiply, got 'additive'"),
        ]
        for (key, value, message) in cases {
            var d = meta.dictionary
            d[key] = value
            let url = try file("bad-\(key).safetensors", [], d)
            XCTAssertThrowsError(try ModelFile.read(contentsOf: url), "\(key)=\(value)") { XCTAssertEqual("\($0)", "\(url.path): \(message)") }
        }
        // Written floats read back exactly.
        var odd = meta
        odd.mean = [0.1 + 0.2]
        odd.std = [Float.leastNonzeroMagnitude]
        odd.classes = ["ä \"q\" \\", "tab\t", "😀"]
        XCTAssertEqual(try ModelMetadata(dictionary: odd.dictionary, path: "p"), odd)
    }

    /// A header claiming a huge class count is refused before a K×K attention layer is built.
    func testHugeClassCountIsRefusedBeforeBuilding() throws {
        let (_, meta) = try smallModel()
        var d = meta.dictionary
        d["abn.classes"] = "[" + (0..<90_000).map { "\"\($0)\"" }.joined(separator: ",") + "]"
        let url = try file("huge.safetensors", [("att_conv2.weight", .float32(Tensor(zeros: [3, 3, 1, 1])))], d)
        assertLoadFails(url, "state_dict does not match cifar-resnet8 with 90000 classes: mis-shaped att_conv2.weight [3, 3, 1, 1] (expected [90000, 90000, 1, 1])")
    }

    func testSaveRefusesMetadataThatDoNotDescribeTheModel() throws {
        let (model, meta) = try smallModel()
        let url = try ioTempDirectory("abn-mf").appendingPathComponent("m.safetensors")
        var other = meta
        other.attention = .residual
        XCTAssertThrowsError(try ModelFile.save(model, metadata: other, to: url)) {
            XCTAssertEqual("\($0)", "\(url.path): cannot write: metadata describe cifar-resnet8 with 3 classes, 1x8x8, residual, but the model is cifar-resnet8 with 3 classes, 1x8x8, multiply")
        }
        other = meta
        other.std = [0]
        XCTAssertThrowsError(try ModelFile.save(model, metadata: other, to: url)) { XCTAssertTrue("\($0)".contains("'abn.std' must be positive"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    /// Damaged files through the model loader: the same one-line errors naming the file.
    func testDamagedModelFiles() throws {
        let (model, meta) = try smallModel()
        let good = try file("m.safetensors", model.stateDict(), meta.dictionary)
        let bytes = [UInt8](try Data(contentsOf: good))
        let truncated = good.deletingLastPathComponent().appendingPathComponent("truncated.safetensors")
        try Data(bytes[0..<(bytes.count - 1)]).write(to: truncated)
        XCTAssertThrowsError(try ModelFile.load(contentsOf: truncated)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(truncated.path): tensor 'fc.bias': data_offsets ["), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("out of range (the data buffer is \(bytes.count - 1 - 8 - Int(bytes[0]) - Int(bytes[1]) * 256) bytes)"), "\(error)")
        }
        let empty = good.deletingLastPathComponent().appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        assertLoadFails(empty, "not a safetensors file: 0 bytes, shorter than the 8-byte header length")
        assertLoadFails(good.deletingLastPathComponent().appendingPathComponent("absent.safetensors"), "cannot read: no such file")
    }
}
