/// A convolution's shape (each is followed by its BatchNorm; none has a bias).
struct ConvSpec: Equatable, Sendable {
    var inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0

    /// The output side for an input side n: ⌊(n + 2p − k) / s⌋ + 1.
    func outputSide(_ n: Int) -> Int { (n + 2 * padding - kernel) / stride + 1 }
}

/// The residual block types. A new block type is a new case here: ResidualBlock builds and runs any
/// list of convolutions (ReLU after each but the last, which adds the shortcut first).
enum BlockKind: Equatable, Sendable {
    /// Two 3×3 convolutions, the first with the stride.
    case basic
    /// 1×1 to `planes`, 3×3 with the stride, 1×1 to 4 × `planes`.
    case bottleneck

    /// Output channels per `planes`.
    var expansion: Int { self == .bottleneck ? 4 : 1 }

    /// The convolutions in order; their state_dict names are conv1, conv2, … with bn1, bn2, ….
    func convolutions(inPlanes: Int, planes: Int, stride: Int) -> [ConvSpec] {
        switch self {
        case .basic:
            return [ConvSpec(inChannels: inPlanes, outChannels: planes, kernel: 3, stride: stride, padding: 1),
                    ConvSpec(inChannels: planes, outChannels: planes, kernel: 3, padding: 1)]
        case .bottleneck:
            return [ConvSpec(inChannels: inPlanes, outChannels: planes, kernel: 1),
                    ConvSpec(inChannels: planes, outChannels: planes, kernel: 3, stride: stride, padding: 1),
                    ConvSpec(inChannels: planes, outChannels: planes * 4, kernel: 1)]
        }
    }
}

/// conv1 → bn1 → ReLU (→ 3×3/2 max pooling).
struct StemDescription: Equatable, Sendable {
    var conv: ConvSpec
    var maxPool: Bool

    func outputSide(_ n: Int) -> Int {
        let side = conv.outputSide(n)
        return maxPool ? (side + 2 - 3) / 2 + 1 : side
    }
    var downsampling: Int { conv.stride * (maxPool ? 2 : 1) }
}

/// A stage of `count` blocks under one state_dict prefix (`layer2`, `att_layer3`): the first block has
/// the stride and takes `inPlanes`, the rest keep `planes × expansion` channels.
struct StageDescription: Equatable, Sendable {
    var name: String
    var block: BlockKind
    var count: Int
    var inPlanes: Int
    var planes: Int
    var stride: Int

    var outChannels: Int { planes * block.expansion }

    /// The first block sets the side; the others have stride 1 and keep it.
    func outputSide(_ n: Int) -> Int {
        block.convolutions(inPlanes: inPlanes, planes: planes, stride: stride).reduce(n) { $1.outputSide($0) }
    }
}

/// The parts of an ABN, in state_dict order: what TrainableBranches freezes part by part.
enum Branch: CaseIterable {
    /// g(x): the stem and the feature stages.
    case features
    /// The attention stage and head: the logits of the attention branch and the map M.
    case attention
    /// g·(1+M) or g·M, the perception stage, GAP and fc.
    case perception
}

/// The whole network as data: the model builds its layers, state_dict entries, parameter groups,
/// forward and backward from this. The fixed parts of ABN (the attention head bn_att … bn_att3 and
/// the fc) are named in AttentionBranch and PerceptionBranch; everything that differs between
/// backbones is here, made by `init(config:)` in Backbones.swift.
struct NetworkDescription: Equatable, Sendable {
    var stem: StemDescription
    /// The stages of g(x).
    var featureStages: [StageDescription]
    /// att_layerN: the backbone's last stage with stride 1, so M keeps g(x)'s resolution.
    var attentionStage: StageDescription
    /// layerN: the backbone's last stage.
    var perceptionStage: StageDescription
    var classes: Int

    /// Channels of g(x).
    var featureChannels: Int { featureStages.last?.outChannels ?? stem.conv.outChannels }

    /// The side of g(x), and so of M, for an input side n.
    func featureSide(_ n: Int) -> Int {
        featureStages.reduce(stem.outputSide(n)) { $1.outputSide($0) }
    }

    /// How many input pixels one cell of g(x) spans along a side.
    var downsampling: Int { featureStages.reduce(stem.downsampling) { $0 * $1.stride } }
}
