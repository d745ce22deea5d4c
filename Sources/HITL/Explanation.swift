import ABN

/// A class activation map of the perception branch at its last convolutional stage, for one class.
public struct ClassMap: Sendable, Equatable {
    public var method: ExplanationMethod
    /// The stage's state_dict prefix (`layer3`, `layer4`): pytorch-grad-cam's target layer.
    public var layer: String
    public var target: Int
    public var height: Int, width: Int
    /// The map at the layer's resolution, before any normalisation (CAM: Σ w·A, may be negative;
    /// Grad-CAM(++): after its ReLU).
    public var values: [Float]

    /// Normalised (pytorch-grad-cam's scale_cam_image), bilinear to H×W, normalised again: in [0, 1].
    /// For Grad-CAM(++) at the input size this is exactly what pytorch-grad-cam returns.
    public func resampled(toHeight H: Int, toWidth W: Int) -> [Float] {
        ClassActivationMaps.normalisedAndResampled(values, height: height, width: width, toHeight: H, toWidth: W)
    }
}

/// One image explained: both branches' outputs and the requested class maps.
public struct Explanation: Sendable {
    public var probabilities: [Float]
    public var attentionProbabilities: [Float]
    /// M(x), the raw map [mapHeight × mapWidth] (sigmoid, or SE-ResNet's unbounded Σ log(1 + maps)).
    public var attentionMap: [Float]
    /// The display scale s (ABNModel.mapDisplayScale): 1 for the sigmoid map, max(M) for an unbounded one.
    public var mapScale: Float = 1
    public var mapHeight: Int, mapWidth: Int
    /// One per method other than `abn`, in the order asked.
    public var classMaps: [ClassMap]

    /// A method's map at an image's size, as the pictures and the faithfulness curves use it: the ABN
    /// map raw (bilinear; divided by `mapScale`, so in [0, 1] for an unbounded map too), a class map as pytorch-grad-cam returns it (normalised, resampled,
    /// normalised); nil for a method that was not computed.
    public func map(_ method: ExplanationMethod, toHeight H: Int, toWidth W: Int) -> [Float]? {
        if method == .abn {
            let display = mapScale == 1 ? attentionMap : attentionMap.map { $0 / mapScale }
            return MapResampling.upsampleBilinear(display, height: mapHeight, width: mapWidth, toHeight: H, toWidth: W)
        }
        return classMaps.first { $0.method == method }?.resampled(toHeight: H, toWidth: W)
    }
}

/// Runs the model on one input [C×H×W] (preprocessed) in evaluation mode and computes the class maps
/// of `methods` for `target` (default: the perception branch's prediction). ∂y_c/∂A is the gradient of
/// the perception logit (not the softmax), as pytorch-grad-cam's ClassifierOutputTarget.
public func explain(_ model: ABNModel, input: [Float], methods: [ExplanationMethod], target: Int? = nil) throws -> Explanation {
    let c = model.config
    let x = Tensor(shape: [1, c.inputChannels, c.inputHeight, c.inputWidth], data: input)
    let (out, stage) = try model.forwardKeepingPerceptionStage(x)
    let probs = softmax(out.perceptionLogits.data)
    let cls = target ?? argmax(probs)
    let channels = stage.shape[1], h = stage.shape[2], w = stage.shape[3]
    let needsGradient = methods.contains(.gradcam) || methods.contains(.gradcamPlusPlus)
    let gradient = needsGradient ? try model.perceptionLogitGradient(stageShape: stage.shape, classes: [cls]).data : []
    let classMaps: [ClassMap] = methods.compactMap { method in
        let values: [Float]
        switch method {
        case .abn: return nil
        case .cam:
            let weight = model.classifierWeight
            let row = Array(weight.data[(cls * channels)..<((cls + 1) * channels)])
            values = ClassActivationMaps.cam(activations: stage.data, channels: channels, classWeights: row)
        case .gradcam:
            values = ClassActivationMaps.gradCAM(activations: stage.data, gradients: gradient, channels: channels)
        case .gradcamPlusPlus:
            values = ClassActivationMaps.gradCAMPlusPlus(activations: stage.data, gradients: gradient, channels: channels)
        }
        return ClassMap(method: method, layer: model.perceptionStageName, target: cls, height: h, width: w, values: values)
    }
    return Explanation(probabilities: probs, attentionProbabilities: softmax(out.attentionLogits.data),
                       attentionMap: out.attentionMap.data, mapScale: model.mapDisplayScale(out.attentionMap.data),
                       mapHeight: out.attentionMap.shape[2], mapWidth: out.attentionMap.shape[3], classMaps: classMaps)
}
