import ABN
import ABNData
import Foundation

/// What `eval` reports; encodes to exactly the `eval --json` object of docs/formats.md.
public struct EvalReport: Codable, Sendable, Equatable {
    public struct Attention: Codable, Sendable, Equatable {
        public var massInMask: Double?
        public var pointingGame: Double?
        public var iou: Double?
        public var decoyMass: Double?
        enum CodingKeys: String, CodingKey {
            case massInMask = "mass_in_mask", pointingGame = "pointing_game", iou, decoyMass = "decoy_mass"
        }
    }
    public var split: String
    public var n: Int
    public var accuracy: Double
    public var attentionBranchAccuracy: Double
    public var perClassAccuracy: [String: Double]
    public var confusion: [[Int]]
    public var attention: Attention?
    /// Only with `eval --faithfulness`.
    public var faithfulness: FaithfulnessReport?

    enum CodingKeys: String, CodingKey {
        case split, n, accuracy, confusion, attention, faithfulness
        case attentionBranchAccuracy = "attention_branch_accuracy"
        case perClassAccuracy = "per_class_accuracy"
    }
}

/// Per-sample results of running a model over a split in evaluation mode.
public struct Prediction: Sendable {
    public var sampleIndex: Int
    public var probabilities: [Float]
    public var attentionProbabilities: [Float]
    /// M(x) in [0, 1]: the sigmoid map as it is, an unbounded map divided by its maximum (ABNModel.mapDisplayScale),
    /// the space sessions, metrics and the review UI work in.
    public var map: [Float]
    public var predicted: Int { argmax(probabilities) }
    public var attentionPredicted: Int { argmax(attentionProbabilities) }
}

/// Images per inference batch for H × W inputs: 64, or fewer where the largest activation would pass
/// 32 MB (a ResNet-ABN's is about 16 floats per input pixel and image: 64 channels at half resolution,
/// 256 at a quarter). glibc maps anything larger afresh on every allocation, and the kernel zeroes
/// every page of it: ResNet-50-ABN at 224² spent a third of `eval` in page faults at batch 64; at 8 it
/// ran 1.2× faster in fp32 and 1.7× in bf16 (200 images, AVX-512).
public func inferenceBatchSize(height: Int, width: Int) -> Int {
    let activationBytesPerImage = 16 * 4 * height * width
    return max(1, min(64, (32 << 20) / max(1, activationBytesPerImage)))
}

/// Every sample of a folder in file order, preprocessed as the model expects, in batches (nil:
/// inferenceBatchSize); progress counts images. The loop under predictAll and faithfulness.
public func forEachBatch(model: LoadedModel, folder: ImageFolder, batchSize: Int? = nil, progress: ProgressHandler? = nil,
                         label: String, body: (Batch) throws -> Void) throws {
    let batchSize = batchSize ?? inferenceBatchSize(height: model.metadata.inputHeight, width: model.metadata.inputWidth)
    let loader = try BatchLoader(folder: folder, preprocessing: model.metadata.preprocessing, batchSize: batchSize, shuffle: false,
                                 augmentation: .none, seed: 0, cacheImages: false)
    let batches = loader.epoch(0)
    var done = 0
    while let batch = try batches.next() {
        try body(batch)
        done += batch.count
        progress?(WorkProgress(label: label, done: done, total: folder.samples.count))
    }
    progress?(WorkProgress(label: label, done: done, total: folder.samples.count, finished: true))
}

/// Runs the model over every sample of a folder in batches (evaluation mode, BN folded), calling
/// `body` with each batch's predictions.
public func predictAll(model: LoadedModel, folder: ImageFolder, batchSize: Int? = nil, progress: ProgressHandler? = nil,
                       label: String = "predict",
                       body: ([Prediction]) throws -> Void) throws {
    let m = model.metadata
    let plane = model.model.mapHeight * model.model.mapWidth
    try forEachBatch(model: model, folder: folder, batchSize: batchSize, progress: progress, label: label) { batch in
        let x = Tensor(shape: [batch.count, m.inputChannels, m.inputHeight, m.inputWidth], data: batch.inputs)
        let out = try model.model.forward(x, training: false)
        let k = m.classes.count
        var predictions: [Prediction] = []
        for (i, index) in batch.indices.enumerated() {
            let raw = out.attentionMap.data[(i * plane)..<(i * plane + plane)]
            let scale = model.model.mapDisplayScale(raw)
            predictions.append(Prediction(
                sampleIndex: index,
                probabilities: softmax(Array(out.perceptionLogits.data[(i * k)..<(i * k + k)])),
                attentionProbabilities: softmax(Array(out.attentionLogits.data[(i * k)..<(i * k + k)])),
                map: scale == 1 ? Array(raw) : raw.map { $0 / scale }))
        }
        try body(predictions)
    }
}

/// Accuracy of both branches, per-class accuracy, confusion, and attention metrics where the
/// folder has masks (mass in mask, pointing game, IoU) or decoys (decoy mass).
public func evaluate(model: LoadedModel, folder: ImageFolder, progress: ProgressHandler? = nil) throws -> EvalReport {
    let classes = model.metadata.classes
    let k = classes.count
    let mh = model.model.mapHeight, mw = model.model.mapWidth
    let m = model.metadata
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
    var attentionCorrect = 0, n = 0
    var mass = 0.0, pointing = 0.0, iou = 0.0, masked = 0
    var decoy = 0.0, decoyed = 0
    func mapMask(_ url: URL) throws -> [Float] {
        try loadMapMask(url, inputHeight: m.inputHeight, inputWidth: m.inputWidth, mapHeight: mh, mapWidth: mw)
    }
    let label = "eval \(folder.split)"
    try predictAll(model: model, folder: folder, progress: progress, label: label) { predictions in
        for p in predictions {
            let sample = folder.samples[p.sampleIndex]
            confusion[sample.label][p.predicted] += 1
            if p.attentionPredicted == sample.label { attentionCorrect += 1 }
            n += 1
            if let url = sample.maskURL {
                let mask = try mapMask(url)
                mass += AttentionMetrics.massInMask(map: p.map, mask: mask)
                pointing += AttentionMetrics.pointingGame(map: p.map, mask: mask) ? 1 : 0
                iou += AttentionMetrics.iou(map: p.map, mask: mask)
                masked += 1
            }
            if let url = sample.decoyURL {
                decoy += AttentionMetrics.decoyMass(map: p.map, decoy: try mapMask(url))
                decoyed += 1
            }
        }
    }
    var perClass: [String: Double] = [:]
    for (c, name) in classes.enumerated() {
        let total = confusion[c].reduce(0, +)
        if total > 0 { perClass[name] = Double(confusion[c][c]) / Double(total) }
    }
    let correct = (0..<k).map { confusion[$0][$0] }.reduce(0, +)
    var attention: EvalReport.Attention?
    if masked > 0 || decoyed > 0 {
        attention = EvalReport.Attention(
            massInMask: masked > 0 ? mass / Double(masked) : nil, pointingGame: masked > 0 ? pointing / Double(masked) : nil,
            iou: masked > 0 ? iou / Double(masked) : nil, decoyMass: decoyed > 0 ? decoy / Double(decoyed) : nil)
    }
    return EvalReport(split: folder.split, n: n, accuracy: n > 0 ? Double(correct) / Double(n) : 0,
                      attentionBranchAccuracy: n > 0 ? Double(attentionCorrect) / Double(n) : 0,
                      perClassAccuracy: perClass, confusion: confusion, attention: attention)
}
