/// The backbones, as the official ABN code builds them (models/cifar/{resnet,wrn,resnext,densenet}.py,
/// models/imagenet/{resnet,senet_resnet}.py). A new depth is added here alone (blocks per stage); a new backbone
/// also needs its case in ABNArchitecture.Backbone (its name), then its stem, stages and head names here.
extension ABNArchitecture {
    /// ImageNet depths and their blocks per stage (torchvision's ResNets).
    static let imageNetBlocks: [Int: [Int]] = [18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3],
                                               101: [3, 4, 23, 3], 152: [3, 8, 36, 3]]
    /// The CIFAR depths of the official code's experiments (any 6n+2 builds; these are the ones listed).
    public static let cifarDepths = [20, 32, 44, 56, 110]

    /// The default of `train` and `bench`: small enough for 2 CPU cores, the official CIFAR baseline.
    public static let defaultBackbone = try! ABNArchitecture(family: .cifar, depth: 20)

    /// Every listed backbone, for help texts and shell completion: the ResNets, and the official
    /// experiments' Wide ResNet-28-10, ResNeXt-29 (8×64d) and DenseNet-BC (L = 100, k = 12), the SE-ResNets.
    public static var standard: [ABNArchitecture] {
        cifarDepths.map { try! ABNArchitecture(family: .cifar, depth: $0) }
            + imageNetBlocks.keys.sorted().map { try! ABNArchitecture(family: .imagenet, depth: $0) }
            + [try! ABNArchitecture(family: .cifar, depth: 28, backbone: .wideResNet(widen: 10, dropout: 0.3)),
               try! ABNArchitecture(family: .cifar, depth: 29, backbone: .resnext(cardinality: 8, baseWidth: 64, widen: 4)),
               try! ABNArchitecture(family: .cifar, depth: 100, backbone: .denseNetBC(growth: 12, compression: 2, dropout: 0))]
            + imageNetBlocks.keys.sorted().map { try! ABNArchitecture(family: .imagenet, depth: $0, backbone: .seResNet) }
    }

    /// Bottleneck blocks (expansion 4) or Basic blocks (expansion 1), as the official ResNet code chooses.
    public var usesBottleneck: Bool {
        switch (family, backbone) {
        case (.cifar, .resnet): return depth >= 44
        case (_, .resnet), (_, .seResNet): return depth >= 50  // ImageNet (CIFAR ResNets are above)
        case (_, .resnext), (_, .denseNetBC): return true
        case (_, .wideResNet): return false
        }
    }

    /// Blocks per stage: CIFAR backbones have three stages (DenseNet: layers per dense block), ImageNet ones four.
    public var blocksPerStage: [Int] {
        switch (family, backbone) {
        case (.cifar, .resnet):
            // The official code keeps n = (depth-2)/6 blocks per stage for Basic and Bottleneck alike.
            let n = (depth - 2) / 6
            return [n, n, n]
        case (_, .wideResNet), (_, .denseNetBC):
            let n = (depth - 4) / 6
            return [n, n, n]
        case (_, .resnext):
            let n = (depth - 2) / 9
            return [n, n, n]
        case (.imagenet, _), (_, .seResNet):
            return Self.imageNetBlocks[depth] ?? []
        }
    }

    /// DenseNet-BC's two transition widths, as the official code grows the channels: the stem has
    /// 2·growth, a dense block adds n·growth, a transition keeps ⌊channels / compression⌋.
    static func denseNetTransitionOutputs(depth: Int, growth: Int, compression: Int) -> [Int] {
        let n = (depth - 4) / 6
        var channels = 2 * growth, outputs: [Int] = []
        for _ in 0..<2 {
            channels = (channels + n * growth) / compression
            outputs.append(channels)
        }
        return outputs
    }
}

extension NetworkDescription {
    /// ABN on `config`'s backbone: its stages but the last are g(x); the last is the perception branch
    /// (layerN) and, with stride 1, the attention branch (att_layerN), as the official code builds each.
    init(config: ModelConfig) {
        let arch = config.arch, blocks = arch.blocksPerStage, c = config.inputChannels
        classes = config.numClasses
        switch arch.backbone {
        case .resnet, .seResNet:
            // SE-ResNet: ImageNet ResNet's stem and stages with squeeze-excitation in every block, and
            // the map Σ log(1 + maps) in place of att_conv3 → bn_att3 → sigmoid.
            let kind: BlockKind = arch.backbone == .seResNet ? .squeezeExcitation(bottleneck: arch.usesBottleneck)
                : arch.usesBottleneck ? .bottleneck : .basic
            if arch.backbone == .seResNet { mapHead = .logSum }
            let planes: [Int], strides: [Int]
            switch arch.family {
            case .cifar:  // a 3×3 stem, three stages
                stem = StemDescription(convName: "conv1", conv: ConvSpec(inChannels: c, outChannels: 16, kernel: 3, padding: 1),
                                       norm: "bn1", maxPool: false)
                (planes, strides) = ([16, 32, 64], [1, 2, 2])
            case .imagenet:  // torchvision's 7×7/2 stem with 3×3/2 max pooling, four stages
                stem = StemDescription(convName: "conv1", conv: ConvSpec(inChannels: c, outChannels: 64, kernel: 7, stride: 2, padding: 3),
                                       norm: "bn1", maxPool: true)
                (planes, strides) = ([64, 128, 256, 512], [1, 2, 2, 2])
            }
            let stages = Self.stages(names: planes.indices.map { "layer\($0 + 1)" }, kinds: planes.map { _ in kind },
                                     counts: blocks, inPlanes: stem.conv.outChannels, planes: planes, strides: strides)
            (featureStages, perceptionStage, attentionStage) = Self.split(stages, attentionName: "att_" + stages.last!.name)
        case .wideResNet(let widen, let dropout):
            // conv1 alone (each block normalises its input); blocks 16·k, 32·k, 64·k wide; bn1 + ReLU
            // before pooling.
            stem = StemDescription(convName: "conv1", conv: ConvSpec(inChannels: c, outChannels: 16, kernel: 3, padding: 1),
                                   norm: nil, maxPool: false)
            let planes = [16, 32, 64].map { $0 * widen }
            let stages = Self.stages(names: ["block1", "block2", "block3"], kinds: Array(repeating: .preActivation(dropout: dropout), count: 3),
                                     counts: blocks, inPlanes: 16, planes: planes, strides: [1, 2, 2])
            (featureStages, perceptionStage, attentionStage) = Self.split(stages, attentionName: "att_block3")
            perceptionNorm = "bn1"
        case .resnext(let cardinality, let baseWidth, let widen):
            // conv_1_3x3 + bn_1 (64 channels); bottlenecks of width cardinality·baseWidth·2^i; outputs
            // 64·widen·2^i; the classifier is `classifier`; bn_att is declared but not applied.
            stem = StemDescription(convName: "conv_1_3x3", conv: ConvSpec(inChannels: c, outChannels: 64, kernel: 3, padding: 1),
                                   norm: "bn_1", maxPool: false)
            let kinds = (0..<3).map { BlockKind.resnext(cardinality: cardinality, width: cardinality * baseWidth << $0) }
            let stages = Self.stages(names: ["stage_1", "stage_2", "stage_3"], kinds: kinds, counts: blocks, inPlanes: 64,
                                     planes: [64, 128, 256].map { $0 * widen }, strides: [1, 2, 2])
            (featureStages, perceptionStage, attentionStage) = Self.split(stages, attentionName: "stage_att")
            attentionNormApplied = false
            classifierName = "classifier"
        case .denseNetBC(let growth, let compression, let dropout):
            // conv1 alone (each layer normalises its input); dense1, trans1, dense2, trans2 are g(x);
            // dense3 (stride 1 like every dense block) then `bn` + ReLU before pooling.
            stem = StemDescription(convName: "conv1", conv: ConvSpec(inChannels: c, outChannels: 2 * growth, kernel: 3, padding: 1),
                                   norm: nil, maxPool: false)
            let dense = BlockKind.dense(growth: growth, dropout: dropout), n = blocks[0]
            let transitions = ABNArchitecture.denseNetTransitionOutputs(depth: arch.depth, growth: growth, compression: compression)
            var stages: [StageDescription] = []
            var inPlanes = 2 * growth
            for i in 0..<3 {
                stages.append(StageDescription(name: "dense\(i + 1)", block: dense, count: n, inPlanes: inPlanes, planes: growth, stride: 1))
                if i < 2 {
                    stages.append(StageDescription(name: "trans\(i + 1)", block: .transition, count: 1, inPlanes: stages.last!.outChannels,
                                                   planes: transitions[i], stride: 2))
                    inPlanes = transitions[i]
                }
            }
            (featureStages, perceptionStage, attentionStage) = Self.split(stages, attentionName: "att_dense3")
            perceptionNorm = "bn"
        }
    }

    /// Consecutive stages, each taking the previous one's output.
    private static func stages(names: [String], kinds: [BlockKind], counts: [Int], inPlanes: Int, planes: [Int],
                               strides: [Int]) -> [StageDescription] {
        var stages: [StageDescription] = []
        var inPlanes = inPlanes
        for i in names.indices {
            stages.append(StageDescription(name: names[i], block: kinds[i], count: counts[i], inPlanes: inPlanes,
                                           planes: planes[i], stride: strides[i]))
            inPlanes = stages[i].outChannels
        }
        return stages
    }

    /// The last stage is the perception branch's; the attention branch has a copy of it with stride 1.
    private static func split(_ stages: [StageDescription], attentionName: String)
        -> (features: [StageDescription], perception: StageDescription, attention: StageDescription) {
        var features = stages
        let perception = features.removeLast()
        var attention = perception
        attention.name = attentionName
        attention.stride = 1
        return (features, perception, attention)
    }
}
