import ABN
import ABNData

/// Deletion and insertion (Petsiuk et al., RISE, 2018): how fast the target class's probability falls
/// as the pixels a map calls most salient are removed first (deletion, lower is better), and how fast
/// it rises as they are put back first into a blank image (insertion, higher is better). Removed
/// pixels take the baseline's value; here the baseline is 0 in normalised input space, i.e. the
/// model's normalisation mean. Pure, apart from the `score` closure that runs the model.
public enum Faithfulness {
    /// Pixel indices of an [H×W] saliency map, most salient first. Ties keep raster order so a run
    /// repeats exactly (Grad-CAM's ReLU leaves many zeros; they go last, top row first).
    public static func order(_ saliency: [Float]) -> [Int] {
        saliency.indices.sorted { a, b in saliency[a] != saliency[b] ? saliency[a] > saliency[b] : a < b }
    }

    /// Pixels changed after step s = 0…steps: ⌊s·pixels/steps⌋, so 0 first and every pixel last.
    public static func schedule(pixels: Int, steps: Int) -> [Int] {
        precondition(pixels > 0 && steps > 0)
        return (0...steps).map { $0 * pixels / steps }
    }

    /// Deletion: the image with the first `count` pixels of `order` (all channels) set to the baseline.
    /// Insertion: the baseline with those pixels taken from the image. Images are [C×H×W].
    public static func perturbed(_ image: [Float], baseline: [Float], channels: Int, order: [Int], count: Int,
                                 insertion: Bool) -> [Float] {
        precondition(image.count == baseline.count && channels > 0 && image.count == channels * order.count)
        let plane = order.count
        var out = insertion ? baseline : image
        let source = insertion ? image : baseline
        for p in order.prefix(count) {
            for c in 0..<channels { out[c * plane + p] = source[c * plane + p] }
        }
        return out
    }

    /// Area under the curve (x_i, y_i) by the trapezoid rule; x ascending.
    public static func auc(x: [Double], y: [Double]) -> Double {
        precondition(x.count == y.count && x.count >= 2)
        var area = 0.0
        for i in 1..<x.count { area += (x[i] - x[i - 1]) * (y[i] + y[i - 1]) / 2 }
        return area
    }

    public struct Curves: Sendable, Equatable {
        /// Fraction of the pixels removed (deletion) or inserted (insertion) at each step, 0…1.
        public var fractions: [Double]
        public var deletion: [Double]
        public var insertion: [Double]
        public var deletionAUC: Double { Faithfulness.auc(x: fractions, y: deletion) }
        public var insertionAUC: Double { Faithfulness.auc(x: fractions, y: insertion) }
    }

    /// Both curves of one image [C×H×W] under one saliency map [H×W]. `score` gets `n` images
    /// concatenated (all steps of both curves in one call, so the model sees one batch) and returns the
    /// target class's probability for each.
    public static func curves(image: [Float], baseline: [Float], channels: Int, saliency: [Float], steps: Int,
                              score: (_ images: [Float], _ n: Int) throws -> [Double]) throws -> Curves {
        let pixels = saliency.count
        let ranked = order(saliency)
        let counts = schedule(pixels: pixels, steps: steps)
        var batch: [Float] = []
        batch.reserveCapacity(2 * counts.count * image.count)
        for insertion in [false, true] {
            for count in counts {
                batch += perturbed(image, baseline: baseline, channels: channels, order: ranked, count: count, insertion: insertion)
            }
        }
        let scores = try score(batch, 2 * counts.count)
        precondition(scores.count == 2 * counts.count)
        return Curves(fractions: counts.map { Double($0) / Double(pixels) },
                      deletion: Array(scores[..<counts.count]), insertion: Array(scores[counts.count...]))
    }
}

/// `eval --faithfulness`: mean deletion and insertion AUC of each method's map over a split.
public struct FaithfulnessReport: Codable, Sendable, Equatable {
    public struct Scores: Codable, Sendable, Equatable {
        public var deletionAUC: Double
        public var insertionAUC: Double
        enum CodingKeys: String, CodingKey { case deletionAUC = "deletion_auc", insertionAUC = "insertion_auc" }
    }
    public var n: Int
    public var steps: Int
    /// What removed pixels become: "mean" (0 in normalised input space).
    public var baseline: String
    /// Keyed by ExplanationMethod's raw value.
    public var methods: [String: Scores]
}

/// Deletion and insertion AUC of `methods` for every image of the split, for the perception branch's
/// probability of its own prediction on the unmodified image. The ABN map is M(x) upsampled
/// bilinearly to the input; class maps as ClassMap.resampled (the same order: normalising is monotone).
public func faithfulness(model: LoadedModel, folder: ImageFolder, methods: [ExplanationMethod], steps: Int,
                         progress: ProgressHandler? = nil) throws -> FaithfulnessReport {
    precondition(!methods.isEmpty && steps > 0)
    let m = model.metadata
    let C = m.inputChannels, H = m.inputHeight, W = m.inputWidth
    let size = C * H * W
    let baseline = [Float](repeating: 0, count: size)
    var deletion = [Double](repeating: 0, count: methods.count), insertion = deletion
    var n = 0
    try forEachBatch(model: model, folder: folder, batchSize: 16, progress: progress, label: "faithfulness \(folder.split)") { batch in
        for i in 0..<batch.count {
            let image = Array(batch.inputs[(i * size)..<((i + 1) * size)])
            let e = try explain(model.model, input: image, methods: methods)
            let target = argmax(e.probabilities)
            // Evaluation-mode forwards of every perturbed image, in chunks of 64 to bound memory.
            func score(_ images: [Float], _ count: Int) throws -> [Double] {
                var out: [Double] = []
                let k = m.classes.count
                for start in stride(from: 0, to: count, by: 64) {
                    let end = min(start + 64, count)
                    let x = Tensor(shape: [end - start, C, H, W], data: Array(images[(start * size)..<(end * size)]))
                    let logits = try model.model.forward(x, training: false).perceptionLogits.data
                    for j in 0..<(end - start) { out.append(Double(softmax(Array(logits[(j * k)..<((j + 1) * k)]))[target])) }
                }
                return out
            }
            for (mi, method) in methods.enumerated() {
                guard let saliency = e.map(method, toHeight: H, toWidth: W) else { continue }
                let curves = try Faithfulness.curves(image: image, baseline: baseline, channels: C, saliency: saliency,
                                                     steps: steps, score: score)
                deletion[mi] += curves.deletionAUC
                insertion[mi] += curves.insertionAUC
            }
            n += 1
        }
    }
    var scores: [String: FaithfulnessReport.Scores] = [:]
    for (mi, method) in methods.enumerated() where n > 0 {
        scores[method.rawValue] = .init(deletionAUC: deletion[mi] / Double(n), insertionAUC: insertion[mi] / Double(n))
    }
    return FaithfulnessReport(n: n, steps: steps, baseline: "mean", methods: scores)
}
