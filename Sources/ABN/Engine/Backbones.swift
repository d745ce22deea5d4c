/// The ResNet backbones, as the official ResNet-ABN code builds them. A new depth is added here alone
/// (blocks per stage, block type); a new family also needs its case in ABNArchitecture.Family, then
/// its stem, stage widths and strides here.
extension ABNArchitecture {
    /// ImageNet depths and their blocks per stage (torchvision's ResNets).
    static let imageNetBlocks: [Int: [Int]] = [18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3],
                                               101: [3, 4, 23, 3], 152: [3, 8, 36, 3]]
    /// The CIFAR depths of the official code's experiments (any 6n+2 builds; these are the ones listed).
    public static let cifarDepths = [20, 32, 44, 56, 110]

    /// The default of `train` and `bench`: small enough for 2 CPU cores, the official CIFAR baseline.
    public static let defaultBackbone = try! ABNArchitecture(family: .cifar, depth: 20)

    /// Every listed backbone, for help texts and shell completion.
    public static var standard: [ABNArchitecture] {
        cifarDepths.map { try! ABNArchitecture(family: .cifar, depth: $0) }
            + imageNetBlocks.keys.sorted().map { try! ABNArchitecture(family: .imagenet, depth: $0) }
    }

    /// Bottleneck blocks (expansion 4) or Basic blocks (expansion 1), as the official code chooses.
    public var usesBottleneck: Bool {
        switch family {
        case .cifar: return depth >= 44
        case .imagenet: return depth >= 50
        }
    }

    var blockKind: BlockKind { usesBottleneck ? .bottleneck : .basic }

    /// Blocks per stage: CIFAR has three stages, ImageNet four.
    public var blocksPerStage: [Int] {
        switch family {
        case .cifar:
            // The official code keeps n = (depth-2)/6 blocks per stage for Basic and Bottleneck alike.
            let n = (depth - 2) / 6
            return [n, n, n]
        case .imagenet:
            return Self.imageNetBlocks[depth] ?? []
        }
    }
}

extension NetworkDescription {
    /// ResNet-ABN for `config`: the backbone's stages but the last are g(x); the last is the perception
    /// branch (layerN) and, with stride 1, the attention branch (att_layerN).
    init(config: ModelConfig) {
        let arch = config.arch, kind = arch.blockKind, blocks = arch.blocksPerStage, c = config.inputChannels
        let stemConv: ConvSpec, maxPool: Bool, planes: [Int], strides: [Int]
        switch arch.family {
        case .cifar:  // a 3×3 stem, three stages
            (stemConv, maxPool) = (ConvSpec(inChannels: c, outChannels: 16, kernel: 3, padding: 1), false)
            (planes, strides) = ([16, 32, 64], [1, 2, 2])
        case .imagenet:  // torchvision's 7×7/2 stem with 3×3/2 max pooling, four stages
            (stemConv, maxPool) = (ConvSpec(inChannels: c, outChannels: 64, kernel: 7, stride: 2, padding: 3), true)
            (planes, strides) = ([64, 128, 256, 512], [1, 2, 2, 2])
        }
        stem = StemDescription(conv: stemConv, maxPool: maxPool)
        var stages: [StageDescription] = []
        var inPlanes = stemConv.outChannels
        for i in planes.indices {
            stages.append(StageDescription(name: "layer\(i + 1)", block: kind, count: blocks[i], inPlanes: inPlanes,
                                           planes: planes[i], stride: strides[i]))
            inPlanes = planes[i] * kind.expansion
        }
        perceptionStage = stages.removeLast()
        featureStages = stages
        attentionStage = perceptionStage
        attentionStage.name = "att_" + perceptionStage.name
        attentionStage.stride = 1
        classes = config.numClasses
    }
}
