/// A convolution's shape (none has a bias).
struct ConvSpec: Equatable, Sendable {
    var inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0
    /// Channel groups (ResNeXt's 3×3 convolutions); 1 otherwise.
    var groups: Int = 1

    /// The output side for an input side n: ⌊(n + 2p − k) / s⌋ + 1.
    func outputSide(_ n: Int) -> Int { (n + 2 * padding - kernel) / stride + 1 }
}

/// A convolution and the BatchNorm after it, by their state_dict names.
struct ConvNorm: Equatable, Sendable {
    var conv: String
    var norm: String
    var spec: ConvSpec
}

/// Squeeze-excitation's two Linear layers (with bias) after a block's last BatchNorm: fc1 from the
/// block's `channels` to `hidden`, fc2 back (SE-ResNet).
struct SqueezeSpec: Equatable, Sendable {
    var fc1: String, fc2: String
    var channels: Int, hidden: Int
    /// The official Basic block declares its projection before fc1/fc2, the Bottleneck after them:
    /// the state_dict order.
    var shortcutFirst: Bool
}

/// A post-activation block's layers: its convolutions in order (ReLU after each but the last), the
/// projection shortcut, if any, and squeeze-excitation on the last BatchNorm's output, if any.
struct PostActivationLayout: Equatable, Sendable {
    var convs: [ConvNorm]
    var shortcut: ConvNorm?
    var squeeze: SqueezeSpec?
}

/// The block types. A new block type is a new case here (its convolutions and names) and, if it
/// is not post-activation, a block class of its own (Blocks.swift).
enum BlockKind: Equatable, Sendable {
    /// ResNet: two 3×3 convolutions, the first with the stride.
    case basic
    /// ResNet: 1×1 to `planes`, 3×3 with the stride, 1×1 to 4 × `planes`.
    case bottleneck
    /// ResNeXt: 1×1 to `width`, 3×3 with the stride in `cardinality` groups, 1×1 to the output.
    case resnext(cardinality: Int, width: Int)
    /// Wide ResNet's pre-activation Basic block: BN, ReLU, 3×3 (stride), BN, ReLU, dropout, 3×3.
    case preActivation(dropout: Float)
    /// DenseNet-BC's bottleneck layer: BN, ReLU, 1×1 to 4·growth, BN, ReLU, 3×3 to growth, dropout,
    /// then its input and those `growth` channels concatenated.
    case dense(growth: Int, dropout: Float)
    /// DenseNet's transition: BN, ReLU, 1×1 to the stage's `planes`, 2×2 average pooling (the stride 2).
    case transition
    /// SE-ResNet: a Basic or Bottleneck block whose last BatchNorm output is scaled per channel by
    /// σ(fc2(relu(fc1(GAP)))) before the shortcut is added.
    case squeezeExcitation(bottleneck: Bool)

    /// Output channels per `planes` (the stage's `planes` is the output width for the other kinds).
    var expansion: Int { self == .bottleneck || self == .squeezeExcitation(bottleneck: true) ? 4 : 1 }

    /// Whether a pre-activation block's shortcut is the 1×1 projection: the official block projects where
    /// the channels differ (a stride never comes alone there; it would need one too).
    static func preActivationProjects(inPlanes: Int, planes: Int, stride: Int) -> Bool { inPlanes != planes || stride != 1 }

    /// The state_dict prefix of block `index` in a stage named `stage`.
    func blockName(stage: String, index: Int) -> String {
        switch self {
        case .basic, .bottleneck, .squeezeExcitation: return "\(stage).\(index)"
        case .resnext: return "\(stage).\(stage)_bottleneck_\(index)"
        case .preActivation: return "\(stage).layer.\(index)"
        case .dense: return "\(stage).\(index)"
        case .transition: return stage
        }
    }

    /// A post-activation block's layers (the last convolution adds the shortcut first); nil for
    /// pre-activation blocks.
    func postActivationLayout(name: String, inPlanes: Int, planes: Int, stride: Int) -> PostActivationLayout? {
        let out = planes * expansion
        let convs: [ConvNorm]
        let shortcutNames: (String, String)
        var squeeze: SqueezeSpec?
        switch self {
        case .basic, .squeezeExcitation(bottleneck: false):
            convs = [ConvNorm(conv: name + ".conv1", norm: name + ".bn1",
                              spec: ConvSpec(inChannels: inPlanes, outChannels: planes, kernel: 3, stride: stride, padding: 1)),
                     ConvNorm(conv: name + ".conv2", norm: name + ".bn2",
                              spec: ConvSpec(inChannels: planes, outChannels: planes, kernel: 3, padding: 1))]
            shortcutNames = (name + ".downsample.0", name + ".downsample.1")
            if self != .basic {  // the official reduction: round(planes / 16)
                squeeze = SqueezeSpec(fc1: name + ".fc1", fc2: name + ".fc2", channels: out,
                                      hidden: Int((Double(planes) / 16).rounded(.toNearestOrEven)), shortcutFirst: true)
            }
        case .bottleneck, .squeezeExcitation(bottleneck: true):
            convs = [ConvNorm(conv: name + ".conv1", norm: name + ".bn1", spec: ConvSpec(inChannels: inPlanes, outChannels: planes, kernel: 1)),
                     ConvNorm(conv: name + ".conv2", norm: name + ".bn2",
                              spec: ConvSpec(inChannels: planes, outChannels: planes, kernel: 3, stride: stride, padding: 1)),
                     ConvNorm(conv: name + ".conv3", norm: name + ".bn3", spec: ConvSpec(inChannels: planes, outChannels: out, kernel: 1))]
            shortcutNames = (name + ".downsample.0", name + ".downsample.1")
            if self != .bottleneck {  // round(planes / 4), i.e. the 4·planes outputs reduced 16 times
                squeeze = SqueezeSpec(fc1: name + ".fc1", fc2: name + ".fc2", channels: out,
                                      hidden: Int((Double(planes) / 4).rounded(.toNearestOrEven)), shortcutFirst: false)
            }
        case .resnext(let cardinality, let width):
            convs = [ConvNorm(conv: name + ".conv_reduce", norm: name + ".bn_reduce", spec: ConvSpec(inChannels: inPlanes, outChannels: width, kernel: 1)),
                     ConvNorm(conv: name + ".conv_conv", norm: name + ".bn",
                              spec: ConvSpec(inChannels: width, outChannels: width, kernel: 3, stride: stride, padding: 1, groups: cardinality)),
                     ConvNorm(conv: name + ".conv_expand", norm: name + ".bn_expand", spec: ConvSpec(inChannels: width, outChannels: out, kernel: 1))]
            shortcutNames = (name + ".shortcut.shortcut_conv", name + ".shortcut.shortcut_bn")
        case .preActivation, .dense, .transition:
            return nil
        }
        // The official ResNeXt checks only the channels; a stride with equal channels never occurs there.
        let needsProjection = stride != 1 || inPlanes != out
        let shortcut = needsProjection
            ? ConvNorm(conv: shortcutNames.0, norm: shortcutNames.1, spec: ConvSpec(inChannels: inPlanes, outChannels: out, kernel: 1, stride: stride))
            : nil
        return PostActivationLayout(convs: convs, shortcut: shortcut, squeeze: squeeze)
    }
}

/// The first convolution (stem), its BatchNorm and ReLU where the backbone has them, and 3×3/2 max pooling (ImageNet).
struct StemDescription: Equatable, Sendable {
    var convName: String
    var conv: ConvSpec
    /// The BatchNorm (then ReLU) after the convolution; nil where the blocks start with their own (Wide ResNet).
    var norm: String?
    var maxPool: Bool

    func outputSide(_ n: Int) -> Int {
        let side = conv.outputSide(n)
        return maxPool ? (side + 2 - 3) / 2 + 1 : side
    }
    var downsampling: Int { conv.stride * (maxPool ? 2 : 1) }
}

/// A stage of `count` blocks under one state_dict prefix (`layer2`, `att_layer3`, `block3`,
/// `stage_att`, `dense1`, `trans1`): the first block has the stride and takes `inPlanes`, the rest
/// keep `outChannels` (dense layers: see `blockInput`).
struct StageDescription: Equatable, Sendable {
    var name: String
    var block: BlockKind
    var count: Int
    var inPlanes: Int
    var planes: Int
    var stride: Int

    /// A dense block adds `growth` channels a layer; the other stages end at `planes × expansion`.
    var outChannels: Int {
        if case .dense(let growth, _) = block { return inPlanes + count * growth }
        return planes * block.expansion
    }

    /// The input channels of block `index`: a dense layer reads every earlier layer's output too.
    func blockInput(_ index: Int) -> Int {
        if case .dense(let growth, _) = block { return inPlanes + index * growth }
        return index == 0 ? inPlanes : outChannels
    }

    /// Every block keeps the side but the first, whose 3×3 convolution (and shortcut) has the stride;
    /// a transition's 2×2 average pooling floors the side instead.
    func outputSide(_ n: Int) -> Int {
        if block == .transition { return n / stride }
        return (n - 1) / stride + 1  // a 3×3 with padding 1, and the 1×1 shortcut, alike
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

/// How the attention head makes the map M from its K maps (bn_att2 and ReLU applied).
enum MapHead: Equatable, Sendable {
    /// att_conv3 (3×3 to 1) → bn_att3 → sigmoid: M in (0, 1). The original ABN.
    case sigmoid
    /// M = Σ_k log(1 + maps_k), no parameters: M ≥ 0 and unbounded. The official SE-ResNet.
    case logSum
}

/// The whole network as data: the model builds its layers, state_dict entries, parameter groups,
/// forward and backward from this. The fixed parts of ABN (the attention head bn_att … bn_att3 and
/// the classifier) are built in AttentionBranch and PerceptionBranch; everything that differs between
/// backbones is here, made by `init(config:)` in Backbones.swift.
struct NetworkDescription: Equatable, Sendable {
    var stem: StemDescription
    /// The stages of g(x).
    var featureStages: [StageDescription]
    /// att_layerN: the backbone's last stage with stride 1, so M keeps g(x)'s resolution.
    var attentionStage: StageDescription
    /// Whether bn_att normalises the attention stage's output before att_conv. The official ResNeXt
    /// declares bn_att (it is in the state_dict) but never applies it.
    var attentionNormApplied = true
    /// How M is made from the head's K maps.
    var mapHead = MapHead.sigmoid
    /// layerN: the backbone's last stage.
    var perceptionStage: StageDescription
    /// The BatchNorm (then ReLU) between the perception stage and pooling: pre-activation backbones
    /// end with one (`bn1` in Wide ResNet); nil for the others.
    var perceptionNorm: String?
    /// The classifier's state_dict name: `fc`, or `classifier` in the official ResNeXt.
    var classifierName = "fc"
    var classes: Int

    /// Channels of g(x).
    var featureChannels: Int { featureStages.last?.outChannels ?? stem.conv.outChannels }

    /// The side of g(x), and so of M, for an input side n.
    func featureSide(_ n: Int) -> Int {
        featureStages.reduce(stem.outputSide(n)) { $1.outputSide($0) }
    }

    /// How many input pixels one cell of g(x) spans along a side.
    var downsampling: Int { featureStages.reduce(stem.downsampling) { $0 * $1.stride } }

    /// The number of convolution weights (nearly all of the parameters): what a model file header
    /// must not be able to inflate without bound. (SE-ResNet's fc1/fc2, 2-D and under an eighth of
    /// their block's convolution weights, are left out, as is the class-sized attention head.)
    var convolutionWeights: Int {
        func weights(_ c: ConvSpec) -> Int { c.outChannels * (c.inChannels / c.groups) * c.kernel * c.kernel }
        var total = weights(stem.conv)
        for stage in featureStages + [attentionStage, perceptionStage] {
            for i in 0..<max(stage.count, 1) {
                let inPlanes = stage.blockInput(i), stride = i == 0 ? stage.stride : 1
                if let layout = stage.block.postActivationLayout(name: "", inPlanes: inPlanes, planes: stage.planes, stride: stride) {
                    total += (layout.convs.map(\.spec) + (layout.shortcut.map { [$0.spec] } ?? [])).map(weights).reduce(0, +)
                } else if case .dense(let growth, _) = stage.block {  // 1×1 to 4·growth, 3×3 to growth
                    total += 4 * growth * (inPlanes + 9 * growth)
                } else if stage.block == .transition {  // one 1×1
                    total += inPlanes * stage.planes
                } else {  // pre-activation: two 3×3 and a 1×1 projection where the channels change
                    let projection = BlockKind.preActivationProjects(inPlanes: inPlanes, planes: stage.planes, stride: stride)
                    total += 9 * stage.planes * (inPlanes + stage.planes) + (projection ? inPlanes * stage.planes : 0)
                }
            }
        }
        return total
    }
}
