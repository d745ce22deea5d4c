/// What `explain --method` can show: the ABN's own attention map, or a class activation map of the
/// perception branch at its last convolutional stage.
public enum ExplanationMethod: String, CaseIterable, Sendable {
    case abn, cam, gradcam
    case gradcamPlusPlus = "gradcam++"
}

/// CAM, Grad-CAM and Grad-CAM++ of one sample from its activations A [C×h×w] (row-major, channel
/// planes one after the other) and the class weights or the gradients ∂y_c/∂A of the same shape, with
/// the formulas and the normalisation of pytorch-grad-cam (jacobgil/pytorch-grad-cam: base_cam.py,
/// grad_cam.py, grad_cam_plusplus.py, utils/image.py's scale_cam_image). Pure; maps are [h×w].
public enum ClassActivationMaps {
    /// Σ_k weights[k]·A_k.
    public static func weightedSum(_ activations: [Float], channels: Int, weights: [Float]) -> [Float] {
        precondition(channels > 0 && weights.count == channels && activations.count % channels == 0)
        let plane = activations.count / channels
        var out = [Double](repeating: 0, count: plane)
        for k in 0..<channels where weights[k] != 0 {
            let w = Double(weights[k]), base = k * plane
            for p in 0..<plane { out[p] += w * Double(activations[base + p]) }
        }
        return out.map { Float($0) }
    }

    /// CAM (Zhou et al., 2016): Σ_k w_{c,k}·A_k with w_c the fc row of class c. No ReLU: it is negative
    /// where the evidence speaks against c. With GAP → fc after A (ABN's perception branch),
    /// ∂y_c/∂A_k(i,j) = w_{c,k}/(h·w), so Grad-CAM = ReLU(CAM)/(h·w).
    public static func cam(activations: [Float], channels: Int, classWeights: [Float]) -> [Float] {
        weightedSum(activations, channels: channels, weights: classWeights)
    }

    /// Grad-CAM's channel weights: α_k = the spatial mean of ∂y_c/∂A_k.
    public static func gradCAMWeights(gradients: [Float], channels: Int) -> [Float] {
        precondition(channels > 0 && gradients.count % channels == 0)
        let plane = gradients.count / channels
        return (0..<channels).map { k in
            Float(gradients[(k * plane)..<((k + 1) * plane)].reduce(0.0) { $0 + Double($1) } / Double(plane))
        }
    }

    /// Grad-CAM++'s channel weights as pytorch-grad-cam computes them (eq. 19 of Chattopadhay et al.,
    /// with exp(S)'s derivatives replaced by powers of the gradient g = ∂y_c/∂A):
    /// a_ij = g² / (2g² + (Σ_ij A_k)·g³ + 1e-6), 0 where g = 0; w_k = Σ_ij max(g, 0)·a_ij.
    public static func gradCAMPlusPlusWeights(activations: [Float], gradients: [Float], channels: Int) -> [Float] {
        precondition(channels > 0 && activations.count == gradients.count && gradients.count % channels == 0)
        let plane = gradients.count / channels
        // The same epsilon: at the small gradients of a GAP → fc head it is not negligible beside 2g².
        let eps = 1e-6
        return (0..<channels).map { k in
            let base = k * plane
            let sumA = activations[base..<(base + plane)].reduce(0.0) { $0 + Double($1) }
            var w = 0.0
            for p in 0..<plane {
                let g = Double(gradients[base + p])
                guard g != 0 else { continue }
                let g2 = g * g
                w += max(g, 0) * g2 / (2 * g2 + sumA * g2 * g + eps)
            }
            return Float(w)
        }
    }

    /// Grad-CAM: ReLU(Σ_k α_k·A_k).
    public static func gradCAM(activations: [Float], gradients: [Float], channels: Int) -> [Float] {
        relu(weightedSum(activations, channels: channels, weights: gradCAMWeights(gradients: gradients, channels: channels)))
    }

    /// Grad-CAM++: ReLU(Σ_k w_k·A_k) with gradCAMPlusPlusWeights.
    public static func gradCAMPlusPlus(activations: [Float], gradients: [Float], channels: Int) -> [Float] {
        relu(weightedSum(activations, channels: channels,
                         weights: gradCAMPlusPlusWeights(activations: activations, gradients: gradients, channels: channels)))
    }

    static func relu(_ m: [Float]) -> [Float] { m.map { max($0, 0) } }

    /// scale_cam_image's normalisation: (m − min) / (1e-7 + max(m − min)), so a constant map is all 0.
    public static func normalised(_ m: [Float]) -> [Float] {
        guard let lo = m.min() else { return m }
        let shifted = m.map { $0 - lo }
        let scale = 1e-7 + (shifted.max() ?? 0)
        return shifted.map { $0 / scale }
    }

    /// Normalise, bilinear (half-pixel centres, as cv2.resize) from [h×w] to [H×W], normalise again
    /// (pytorch-grad-cam's compute_cam_per_layer, then aggregate_multi_layers): in [0, 1].
    public static func normalisedAndResampled(_ m: [Float], height h: Int, width w: Int, toHeight H: Int, toWidth W: Int) -> [Float] {
        normalised(MapResampling.upsampleBilinear(normalised(m), height: h, width: w, toHeight: H, toWidth: W))
    }

    /// What pytorch-grad-cam's GradCAM / GradCAMPlusPlus return for one target layer, from the map at
    /// the layer's resolution: its ReLU (a no-op on our Grad-CAM maps, which have it already), then
    /// normalisedAndResampled to the input size.
    public static func asPytorchGradCAM(_ m: [Float], height h: Int, width w: Int, toHeight H: Int, toWidth W: Int) -> [Float] {
        normalisedAndResampled(relu(m), height: h, width: w, toHeight: H, toWidth: W)
    }
}
