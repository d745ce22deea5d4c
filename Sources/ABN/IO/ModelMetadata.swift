import Foundation

/// What a model file says about its model beyond the tensors, stored in the safetensors
/// `__metadata__` (string → string):
///
/// | key             | example                          |
/// |-----------------|----------------------------------|
/// | `abn.arch`      | `cifar-resnet20`                 |
/// | `abn.classes`   | `["airplane", "automobile"]`     |
/// | `abn.input`     | `3x32x32` (C×H×W)                |
/// | `abn.mean`      | `[0.4914, 0.4822, 0.4465]`       |
/// | `abn.std`       | `[0.2023, 0.1994, 0.201]`        |
/// | `abn.attention` | `residual` or `multiply`         |
public struct ModelMetadata: Equatable, Sendable {
    public var arch: ABNArchitecture
    public var classes: [String]
    public var inputChannels: Int
    public var inputHeight: Int
    public var inputWidth: Int
    public var mean: [Float]
    public var std: [Float]
    public var attention: AttentionMechanism

    public static let keys = ["abn.arch", "abn.classes", "abn.input", "abn.mean", "abn.std", "abn.attention"]

    /// The largest CIFAR ResNet accepted from a file (ResNet-1202 is the deepest published one);
    /// it keeps a hostile header from making the loader build an enormous network.
    public static let maxCIFARDepth = 1202
    /// The most convolution weights a model file may describe (4 GB of float32; the official
    /// WRN-28-10 has 36M, ResNet-152 58M).
    public static let maxConvolutionWeights = 1_000_000_000

    public init(arch: ABNArchitecture, classes: [String], inputChannels: Int, inputHeight: Int, inputWidth: Int,
                mean: [Float], std: [Float], attention: AttentionMechanism) {
        self.arch = arch
        self.classes = classes
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.mean = mean
        self.std = std
        self.attention = attention
    }

    /// The configuration of the network these metadata describe.
    public var config: ModelConfig {
        ModelConfig(arch: arch, numClasses: classes.count, inputChannels: inputChannels, inputHeight: inputHeight,
                    inputWidth: inputWidth, attention: attention)
    }

    /// The `__metadata__` entries. Floats are written in their shortest form that reads back as the
    /// same Float, so a write/read round trip is exact.
    public var dictionary: [String: String] {
        func numbers(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
        return [
            "abn.arch": arch.name,
            "abn.classes": "[" + classes.map(HeaderJSON.quoted).joined(separator: ", ") + "]",
            "abn.input": "\(inputChannels)x\(inputHeight)x\(inputWidth)",
            "abn.mean": numbers(mean),
            "abn.std": numbers(std),
            "abn.attention": attention.rawValue,
        ]
    }

    /// Parses and validates the `abn.*` entries; `path` names the file in errors. A key missing
    /// from `dictionary` is taken from `defaults` if there (e.g. for a converted checkpoint that
    /// lacks some), else it is an error naming the key.
    public init(dictionary d: [String: String], path: String, defaults: [String: String] = [:]) throws {
        func fail(_ problem: String) -> ABNError { .modelFile(path: path, problem: problem) }
        func value(_ key: String) throws -> String {
            guard let v = d[key] ?? defaults[key] else {
                throw fail("metadata '\(key)' is missing (not an abn-hitl model file? tools/convert_official_checkpoint.py writes all abn.* keys)")
            }
            return v
        }
        func json(_ key: String) throws -> HeaderJSON {
            let text = try value(key)
            do { return try HeaderJSON.parse(text) } catch {
                throw fail("metadata '\(key)' is not valid JSON: \(error)")
            }
        }

        let archText = try value("abn.arch")
        do { arch = try ABNArchitecture(parsing: archText) } catch {
            throw fail("metadata 'abn.arch': \(error)")
        }

        guard let names = try json("abn.classes").array, let strings = Optional(names.compactMap(\.string)),
              strings.count == names.count else {
            throw fail("metadata 'abn.classes' must be a JSON array of strings")
        }
        classes = strings

        let input = try value("abn.input")
        let parts = input.split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let c = parts[0], let h = parts[1], let w = parts[2] else {
            throw fail("metadata 'abn.input' must be CxHxW (e.g. 3x32x32), got '\(input)'")
        }
        (inputChannels, inputHeight, inputWidth) = (c, h, w)

        func numbers(_ key: String) throws -> [Float] {
            guard let items = try json(key).array, let values = Optional(items.compactMap(\.double)), values.count == items.count else {
                throw fail("metadata '\(key)' must be a JSON array of numbers")
            }
            return values.map { Float($0) }
        }
        mean = try numbers("abn.mean")
        std = try numbers("abn.std")

        let mechanism = try value("abn.attention")
        guard let a = AttentionMechanism(rawValue: mechanism) else {
            throw fail("metadata 'abn.attention' must be residual or multiply, got '\(mechanism)'")
        }
        attention = a
        try validate(path: path)
    }

    /// Checks what a loadable model needs; used after parsing and before writing.
    public func validate(path: String) throws {
        func fail(_ problem: String) -> ABNError { .modelFile(path: path, problem: problem) }
        if arch.family == .cifar, arch.depth > Self.maxCIFARDepth {
            throw fail("metadata 'abn.arch': \(arch.name) is deeper than the supported \(Self.maxCIFARDepth) layers")
        }
        let weights = NetworkDescription(config: config).convolutionWeights
        guard weights <= Self.maxConvolutionWeights else {
            throw fail("metadata 'abn.arch': \(arch.name) has \(weights / 1_000_000)M convolution weights, more than the supported \(Self.maxConvolutionWeights / 1_000_000)M")
        }
        guard !classes.isEmpty else { throw fail("metadata 'abn.classes' is empty") }
        if let empty = classes.firstIndex(of: "") { throw fail("metadata 'abn.classes': class \(empty) has an empty name") }
        var seen = Set<String>()
        for name in classes where !seen.insert(name).inserted {
            throw fail("metadata 'abn.classes' names \(HeaderJSON.quoted(name)) twice")
        }
        guard inputChannels == 1 || inputChannels == 3 else {
            throw fail("metadata 'abn.input': \(inputChannels) channels (1 or 3 supported)")
        }
        guard (1...4096).contains(inputHeight), (1...4096).contains(inputWidth) else {
            throw fail("metadata 'abn.input': size \(inputHeight)x\(inputWidth) out of range (1 to 4096)")
        }
        guard mean.count == inputChannels else {
            throw fail("metadata 'abn.mean' has \(mean.count) values for \(inputChannels) channels")
        }
        guard std.count == inputChannels else {
            throw fail("metadata 'abn.std' has \(std.count) values for \(inputChannels) channels")
        }
        guard mean.allSatisfy(\.isFinite) else { throw fail("metadata 'abn.mean' must be finite, got \(mean)") }
        guard std.allSatisfy({ $0.isFinite && $0 > 0 }) else { throw fail("metadata 'abn.std' must be positive and finite, got \(std)") }
    }
}
