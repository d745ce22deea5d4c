import Foundation

/// A dense float tensor in row-major order (NCHW for images). This is the interchange type between
/// modules; kernels may keep their own blocked layouts internally.
public struct Tensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "shape \(shape) does not match \(data.count) values")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }
}

/// One entry of a state_dict: float parameters and buffers, or the int64 `num_batches_tracked`.
public enum StateTensor: Sendable, Equatable {
    case float32(Tensor)
    case int64(shape: [Int], values: [Int64])

    public var shape: [Int] {
        switch self {
        case .float32(let t): return t.shape
        case .int64(let shape, _): return shape
        }
    }
}

/// How the attention map M(x) enters the perception branch.
public enum AttentionMechanism: String, Sendable, CaseIterable, Codable {
    /// g(x)·(1 + M(x)), the ABN default: regions can only be amplified.
    case residual
    /// g(x)·M(x): regions can be switched off.
    case multiply
}

/// The backbone family and depth, named like `cifar-resnet20` or `imagenet-resnet50`.
public struct ABNArchitecture: Sendable, Hashable, CustomStringConvertible {
    public enum Family: String, Sendable { case cifar, imagenet }
    public let family: Family
    public let depth: Int

    public init(family: Family, depth: Int) throws {
        switch family {
        case .cifar:
            guard depth >= 8, (depth - 2) % 6 == 0 else {
                throw ABNError.invalidArchitecture("CIFAR ResNet depth must be 6n+2 (\(Self.cifarDepths.map(String.init).joined(separator: ", "))), got \(depth)")
            }
        case .imagenet:
            guard Self.imageNetBlocks[depth] != nil else {
                let depths = Self.imageNetBlocks.keys.sorted().map(String.init)
                throw ABNError.invalidArchitecture("ImageNet ResNet depth must be \(depths.dropLast().joined(separator: ", ")) or \(depths.last!), got \(depth)")
            }
        }
        self.family = family
        self.depth = depth
    }

    /// Parses `cifar-resnet20`, `imagenet-resnet18`, and the short forms `resnet20` (CIFAR, since
    /// 20/32/44/56/110 are CIFAR depths) and `resnet18`/`resnet50` (ImageNet).
    public init(parsing text: String) throws {
        let lower = text.lowercased()
        var family: Family?
        var rest = lower
        if lower.hasPrefix("cifar-") { family = .cifar; rest = String(lower.dropFirst(6)) }
        else if lower.hasPrefix("imagenet-") { family = .imagenet; rest = String(lower.dropFirst(9)) }
        guard rest.hasPrefix("resnet"), let depth = Int(rest.dropFirst(6)) else {
            throw ABNError.invalidArchitecture("unknown architecture '\(text)' (expected e.g. cifar-resnet20, imagenet-resnet18)")
        }
        if family == nil { family = Self.imageNetBlocks[depth] != nil ? .imagenet : .cifar }
        try self.init(family: family!, depth: depth)
    }

    /// The canonical name stored in model files (`abn.arch`).
    public var name: String { "\(family.rawValue)-resnet\(depth)" }
    public var description: String { name }
    // The blocks and widths of each backbone: Engine/Backbones.swift.
}

/// Everything needed to build a model: architecture, classes, input geometry, attention mechanism.
public struct ModelConfig: Sendable, Equatable {
    public var arch: ABNArchitecture
    public var numClasses: Int
    public var inputChannels: Int
    public var inputHeight: Int
    public var inputWidth: Int
    public var attention: AttentionMechanism

    public init(arch: ABNArchitecture, numClasses: Int, inputChannels: Int = 3, inputHeight: Int = 32,
                inputWidth: Int = 32, attention: AttentionMechanism = .residual) {
        self.arch = arch
        self.numClasses = numClasses
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.attention = attention
    }
}

/// Errors of the engine and the model file layer. Descriptions are one line each.
public enum ABNError: Error, CustomStringConvertible, Equatable {
    case invalidArchitecture(String)
    case shapeMismatch(String)
    case stateDict(missing: [String], unexpected: [String], mismatched: [String])
    case modelFile(path: String, problem: String)
    case kernel(String)
    /// The network's outputs hold NaN or infinity (weights that overflow), so nothing it says can be used.
    case nonFiniteOutput(String)

    public var description: String {
        switch self {
        case .invalidArchitecture(let s), .shapeMismatch(let s), .kernel(let s), .nonFiniteOutput(let s): return s
        case .modelFile(let path, let problem): return "\(path): \(problem)"
        case .stateDict(let missing, let unexpected, let mismatched):
            var parts: [String] = []
            func list(_ a: [String]) -> String { a.count <= 4 ? a.joined(separator: ", ") : a.prefix(4).joined(separator: ", ") + " and \(a.count - 4) more" }
            if !missing.isEmpty { parts.append("missing \(list(missing))") }
            if !unexpected.isEmpty { parts.append("unexpected \(list(unexpected))") }
            if !mismatched.isEmpty { parts.append("mis-shaped \(list(mismatched))") }
            return "state_dict does not match the architecture: " + parts.joined(separator: "; ")
        }
    }
}
