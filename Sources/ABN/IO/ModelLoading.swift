import Foundation

/// A model that has been read from a file, with where it came from.
public struct LoadedModel {
    public let model: ABNModel
    public let metadata: ModelMetadata
    /// SHA-256 of exactly the bytes the model was built from; sessions record it to notice a changed model.
    public let sha256: String
    public let url: URL
}

extension ModelFile {
    /// Reads a model file, builds the network its metadata names and loads the tensors strictly:
    /// every tensor of the architecture present with its exact shape and kind, nothing else.
    /// `num_batches_tracked` may be missing (checkpoints converted from before torch 0.4; filled
    /// with 0) or stored as a float (converted to an integer).
    public static func load(contentsOf url: URL, defaults: [String: String] = [:]) throws -> LoadedModel {
        let data = try FileBytes.read(url)
        // Hash and parse the same bytes, so the fingerprint is of exactly what was loaded.
        let (sha, parsed) = try data.withUnsafeBytes { raw in
            (SHA256.hex(of: raw), try SafeTensors.parse(raw, name: url.path))
        }
        let metadata = try ModelMetadata(dictionary: parsed.metadata, path: url.path, defaults: defaults)
        let model = try build(metadata.config, matching: parsed.tensors, path: url.path)
        try loadStrictly(model, parsed.tensors, path: url.path)
        return LoadedModel(model: model, metadata: metadata, sha256: sha, url: url)
    }

    /// Writes `model`'s state_dict with `metadata`, which must describe the model.
    public static func save(_ model: ABNModel, metadata: ModelMetadata, to url: URL) throws {
        guard metadata.config == model.config else {
            let c = model.config
            throw ABNError.modelFile(path: url.path, problem:
                "cannot write: metadata describe \(metadata.arch.name) with \(metadata.classes.count) classes, " +
                "\(metadata.inputChannels)x\(metadata.inputHeight)x\(metadata.inputWidth), \(metadata.attention.rawValue), " +
                "but the model is \(c.arch.name) with \(c.numClasses) classes, \(c.inputChannels)x\(c.inputHeight)x\(c.inputWidth), \(c.attention.rawValue)")
        }
        try write(metadata: metadata, tensors: model.stateDict(), to: url)
    }

    /// The one-line prefix of every mismatch: which network the file was checked against.
    private static func against(_ config: ModelConfig) -> String {
        "state_dict does not match \(config.arch.name) with \(config.numClasses) classes"
    }

    /// Builds the network. Above 1000 classes the K×K `att_conv2.weight` must first be in the file
    /// with that size, so a header that merely lists many class names cannot make the loader
    /// allocate a huge layer (its K² floats are then really in the file).
    private static func build(_ config: ModelConfig, matching tensors: [String: StateTensor], path: String) throws -> ABNModel {
        let k = config.numClasses
        if k > 1000 {
            guard let t = tensors["att_conv2.weight"] else {
                throw ABNError.modelFile(path: path, problem: "\(against(config)): missing att_conv2.weight")
            }
            guard t.shape == [k, k, 1, 1] else {
                throw ABNError.modelFile(path: path, problem: "\(against(config)): mis-shaped att_conv2.weight \(t.shape) (expected [\(k), \(k), 1, 1])")
            }
        }
        do {
            return try ABNModel(config: config, seed: 0)
        } catch {
            throw ABNError.modelFile(path: path, problem: "cannot build \(config.arch.name): \(error)")
        }
    }

    private static func loadStrictly(_ model: ABNModel, _ given: [String: StateTensor], path: String) throws {
        var tensors = given
        let expected = model.stateDict()
        var missing: [String] = [], mismatched: [String] = [], wrongKind: [String] = [], badCount: [String] = []
        var nonFinite: [String] = []
        for (name, want) in expected {
            guard let got = tensors[name] else {
                if name.hasSuffix(".num_batches_tracked") { tensors[name] = .int64(shape: want.shape, values: [0]) } else { missing.append(name) }
                continue
            }
            switch (want, got) {
            case (.float32, .float32):
                if got.shape != want.shape { mismatched.append("\(name) \(got.shape) (expected \(want.shape))") }
                // A NaN or infinite weight (a diverged run, a damaged file) makes every output NaN:
                // refused here, once, rather than printed as "nan" by every command.
                else if case .float32(let t) = got, !t.data.allSatisfy(\.isFinite) { nonFinite.append(name) }
            case (.int64, .float32(let t)):
                // A counter saved as a float: accept whole, non-negative, exactly representable values.
                guard t.count == 1, t.shape.count <= 1, let v = t.data.first, v.isFinite, v >= 0, v <= 16_777_216, v == v.rounded() else {
                    badCount.append(name); continue
                }
                tensors[name] = .int64(shape: want.shape, values: [Int64(v)])
            case (.int64, .int64(let shape, let values)):
                guard values.count == 1, shape.count <= 1 else { mismatched.append("\(name) \(shape) (expected \(want.shape))"); continue }
                guard values[0] >= 0 else { badCount.append(name); continue }
                tensors[name] = .int64(shape: want.shape, values: values)
            case (.float32, .int64):
                wrongKind.append(name)
            }
        }
        let known = Set(expected.map(\.name))
        let unexpected = given.keys.filter { !known.contains($0) }.sorted()
        var parts: [String] = []
        func list(_ label: String, _ items: [String]) {
            guard !items.isEmpty else { return }
            let shown = items.prefix(5).joined(separator: ", ")
            parts.append("\(label) \(shown)" + (items.count > 5 ? " and \(items.count - 5) more" : ""))
        }
        list("missing", missing)
        list("unexpected", unexpected)
        list("mis-shaped", mismatched)
        list("integer where a float tensor is expected:", wrongKind)
        list("num_batches_tracked that is not a non-negative whole number:", badCount)
        list("NaN or infinite values in", nonFinite)
        guard parts.isEmpty else {
            throw ABNError.modelFile(path: path, problem: "\(against(model.config)): " + parts.joined(separator: "; "))
        }
        do { try model.loadStateDict(tensors) } catch {
            throw ABNError.modelFile(path: path, problem: "\(against(model.config)): \(error)")
        }
    }
}
