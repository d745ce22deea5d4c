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

/// The backbone: family (the input it was designed for), kind and depth, named like `cifar-resnet20`,
/// `imagenet-resnet50`, `cifar-wrn28-10`, `cifar-resnext29-8x64d`, `cifar-densenet-bc100-12` or
/// `imagenet-se-resnet50`, as the official ABN code's models.
public struct ABNArchitecture: Sendable, Hashable, CustomStringConvertible {
    public enum Family: String, Sendable { case cifar, imagenet }

    /// The backbone kinds with their parameters beyond the depth.
    public enum Backbone: Sendable, Hashable {
        /// ResNet (Basic or Bottleneck blocks, post-activation).
        case resnet
        /// Wide ResNet: pre-activation Basic blocks `widen` times wider, dropout between the convolutions.
        case wideResNet(widen: Int, dropout: Float)
        /// ResNeXt: bottlenecks whose 3×3 convolution has `cardinality` groups of `baseWidth` channels
        /// (doubling per stage); stage outputs 64·widen, 128·widen, 256·widen.
        case resnext(cardinality: Int, baseWidth: Int, widen: Int)
        /// DenseNet-BC: (depth − 4)/6 bottleneck layers a dense block, each adding `growth` channels;
        /// transitions keep ⌊channels / compression⌋; dropout after each layer's 3×3 convolution.
        case denseNetBC(growth: Int, compression: Int, dropout: Float)
        /// SE-ResNet: ImageNet ResNet blocks with squeeze-excitation, and the log-sum attention map.
        case seResNet
    }

    public let family: Family
    public let depth: Int
    public let backbone: Backbone

    /// Limits that keep a name (or a hostile model file header) from building an enormous network.
    static let maxWidth = 64, maxCardinality = 256, maxBaseWidth = 1024, maxDepth = 1202
    static let maxGrowth = 256, maxCompression = 16

    /// A ResNet of `family` and `depth`.
    public init(family: Family, depth: Int) throws {
        try self.init(family: family, depth: depth, backbone: .resnet)
    }

    public init(family: Family, depth: Int, backbone: Backbone) throws {
        func fail(_ s: String) -> ABNError { .invalidArchitecture(s) }
        switch (family, backbone) {
        case (.cifar, .resnet):
            guard depth >= 8, (depth - 2) % 6 == 0 else {
                throw fail("CIFAR ResNet depth must be 6n+2 (\(Self.cifarDepths.map(String.init).joined(separator: ", "))), got \(depth)")
            }
        case (.imagenet, .resnet):
            guard Self.imageNetBlocks[depth] != nil else {
                let depths = Self.imageNetBlocks.keys.sorted().map(String.init)
                throw fail("ImageNet ResNet depth must be \(depths.dropLast().joined(separator: ", ")) or \(depths.last!), got \(depth)")
            }
        case (.cifar, .wideResNet(let widen, let dropout)):
            guard depth >= 10, (depth - 4) % 6 == 0 else { throw fail("Wide ResNet depth must be 6n+4 (e.g. 16, 28, 40), got \(depth)") }
            guard (1...Self.maxWidth).contains(widen) else { throw fail("Wide ResNet widen factor must be 1 to \(Self.maxWidth), got \(widen)") }
            guard dropout >= 0, dropout < 1 else { throw fail("Wide ResNet dropout must be in [0, 1), got \(dropout)") }
        case (.cifar, .resnext(let cardinality, let baseWidth, let widen)):
            guard depth >= 11, (depth - 2) % 9 == 0 else { throw fail("ResNeXt depth must be 9n+2 (e.g. 29), got \(depth)") }
            guard (1...Self.maxCardinality).contains(cardinality) else { throw fail("ResNeXt cardinality must be 1 to \(Self.maxCardinality), got \(cardinality)") }
            guard (1...Self.maxBaseWidth).contains(baseWidth) else { throw fail("ResNeXt base width must be 1 to \(Self.maxBaseWidth), got \(baseWidth)") }
            guard (1...Self.maxWidth).contains(widen) else { throw fail("ResNeXt widen factor must be 1 to \(Self.maxWidth), got \(widen)") }
        case (.cifar, .denseNetBC(let growth, let compression, let dropout)):
            // The official code asserts 3n+4 but builds (depth − 4) // 6 bottleneck layers a block, so
            // only 6n+4 names a network once (BC-100, BC-190, BC-250).
            guard depth >= 10, (depth - 4) % 6 == 0 else { throw fail("DenseNet-BC depth must be 6n+4 (e.g. 100, 190, 250), got \(depth)") }
            guard (1...Self.maxGrowth).contains(growth) else { throw fail("DenseNet-BC growth rate must be 1 to \(Self.maxGrowth), got \(growth)") }
            guard (1...Self.maxCompression).contains(compression) else {
                throw fail("DenseNet-BC compression must be 1 to \(Self.maxCompression), got \(compression)")
            }
            guard dropout >= 0, dropout < 1 else { throw fail("DenseNet-BC dropout must be in [0, 1), got \(dropout)") }
            // (Past the depth bound the check below throws; the channel sums could overflow first.)
            guard depth > Self.maxDepth || Self.denseNetTransitionOutputs(depth: depth, growth: growth, compression: compression).allSatisfy({ $0 > 0 }) else {
                throw fail("DenseNet-BC compression \(compression) leaves a transition of depth \(depth), growth \(growth) without channels")
            }
        case (.imagenet, .seResNet):
            guard Self.imageNetBlocks[depth] != nil else {
                let depths = Self.imageNetBlocks.keys.sorted().map(String.init)
                throw fail("SE-ResNet depth must be \(depths.dropLast().joined(separator: ", ")) or \(depths.last!), got \(depth)")
            }
        case (.cifar, .seResNet):
            throw fail("the official ABN code has SE-ResNet for ImageNet only (imagenet-se-resnet…)")
        case (.imagenet, .wideResNet), (.imagenet, .resnext), (.imagenet, .denseNetBC):
            throw fail("the official ABN code has Wide ResNet, ResNeXt and DenseNet-BC for CIFAR only (cifar-wrn…, cifar-resnext…, cifar-densenet-bc…)")
        }
        // (A ResNet's depth is bounded where model files are read: ModelMetadata.maxCIFARDepth.)
        if backbone != .resnet, depth > Self.maxDepth {
            throw fail("depth \(depth) is beyond the supported \(Self.maxDepth) layers")
        }
        self.family = family
        self.depth = depth
        self.backbone = backbone
    }

    /// Parses the names `name` prints: `cifar-resnet20`, `imagenet-resnet18` and the short forms
    /// `resnet20` (CIFAR, since 20/32/44/56/110 are CIFAR depths) and `resnet18`/`resnet50` (ImageNet);
    /// `cifar-wrn28-10` (depth-widen) with an optional `-dropout0.3`; `cifar-resnext29-8x64d`
    /// (depth-cardinality×base width) with an optional `-w4` (widen factor, 4 by default as the official);
    /// `cifar-densenet-bc100-12` (depth-growth rate) with an optional `-c2` (compression, 2 by default as
    /// the official) and `-dropout0.2`, in that order;
    /// `imagenet-se-resnet50` or `se-resnet50`.
    public init(parsing text: String) throws {
        let lower = text.lowercased()
        var family: Family?
        var rest = lower
        if lower.hasPrefix("cifar-") { family = .cifar; rest = String(lower.dropFirst(6)) }
        else if lower.hasPrefix("imagenet-") { family = .imagenet; rest = String(lower.dropFirst(9)) }
        let unknown = ABNError.invalidArchitecture("unknown architecture '\(text)' (expected e.g. cifar-resnet20, imagenet-resnet18, cifar-wrn28-10, cifar-resnext29-8x64d, cifar-densenet-bc100-12, imagenet-se-resnet50)")
        if rest.hasPrefix("se-resnet") {
            guard let depth = Int(rest.dropFirst(9)) else { throw unknown }
            try self.init(family: family ?? .imagenet, depth: depth, backbone: .seResNet)
            return
        }
        if rest.hasPrefix("wrn") {
            // wrn<depth>-<widen>[-dropout<p>]
            let parts = rest.dropFirst(3).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3, let depth = Int(parts[0]), let widen = Int(parts[1]) else { throw unknown }
            var dropout: Float = 0
            if parts.count == 3 {
                guard parts[2].hasPrefix("dropout"), let p = Float(parts[2].dropFirst(7)) else { throw unknown }
                dropout = p
            }
            try self.init(family: family ?? .cifar, depth: depth, backbone: .wideResNet(widen: widen, dropout: dropout))
            return
        }
        if rest.hasPrefix("resnext") {
            // resnext<depth>-<cardinality>x<width>d[-w<widen>]
            let parts = rest.dropFirst(7).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2 || parts.count == 3, let depth = Int(parts[0]), parts[1].hasSuffix("d") else { throw unknown }
            let cw = parts[1].dropLast().split(separator: "x", omittingEmptySubsequences: false)
            guard cw.count == 2, let cardinality = Int(cw[0]), let width = Int(cw[1]) else { throw unknown }
            var widen = 4
            if parts.count == 3 {
                guard parts[2].hasPrefix("w"), let w = Int(parts[2].dropFirst()) else { throw unknown }
                widen = w
            }
            try self.init(family: family ?? .cifar, depth: depth,
                          backbone: .resnext(cardinality: cardinality, baseWidth: width, widen: widen))
            return
        }
        if rest.hasPrefix("densenet-bc") {
            // densenet-bc<depth>-<growth>[-c<compression>][-dropout<p>]
            var parts = rest.dropFirst(11).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count >= 2, parts.count <= 4, let depth = Int(parts[0]), let growth = Int(parts[1]) else { throw unknown }
            parts.removeFirst(2)
            var compression = 2, dropout: Float = 0
            if let c = parts.first, c.hasPrefix("c") {
                guard let value = Int(c.dropFirst()) else { throw unknown }
                compression = value
                parts.removeFirst()
            }
            if let d = parts.first {
                guard parts.count == 1, d.hasPrefix("dropout"), let p = Float(d.dropFirst(7)) else { throw unknown }
                dropout = p
            }
            try self.init(family: family ?? .cifar, depth: depth,
                          backbone: .denseNetBC(growth: growth, compression: compression, dropout: dropout))
            return
        }
        guard rest.hasPrefix("resnet"), let depth = Int(rest.dropFirst(6)) else { throw unknown }
        if family == nil { family = Self.imageNetBlocks[depth] != nil ? .imagenet : .cifar }
        try self.init(family: family!, depth: depth)
    }

    /// The canonical name stored in model files (`abn.arch`); parsing it gives this architecture back.
    public var name: String {
        switch backbone {
        case .resnet:
            return "\(family.rawValue)-resnet\(depth)"
        case .wideResNet(let widen, let dropout):
            return "\(family.rawValue)-wrn\(depth)-\(widen)" + (dropout > 0 ? "-dropout\(dropout)" : "")
        case .resnext(let cardinality, let baseWidth, let widen):
            return "\(family.rawValue)-resnext\(depth)-\(cardinality)x\(baseWidth)d" + (widen == 4 ? "" : "-w\(widen)")
        case .denseNetBC(let growth, let compression, let dropout):
            return "\(family.rawValue)-densenet-bc\(depth)-\(growth)" + (compression == 2 ? "" : "-c\(compression)")
                + (dropout > 0 ? "-dropout\(dropout)" : "")
        case .seResNet:
            return "\(family.rawValue)-se-resnet\(depth)"
        }
    }
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
