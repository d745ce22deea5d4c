import ABN
import ABNData
import Foundation

/// Fine-tuning with the human-edited maps (Mitsuhara et al.): L = L_att + L_per + γ·L_map, with
/// L_map = ‖M′ − M‖₂ per edited sample averaged over the edited samples of a batch, the feature
/// extractor frozen. Defaults were chosen on the shortcut dataset (docs/formats-session.md, "Fine-tuning").
public struct FinetuneOptions: Codable, Sendable, Equatable {
    /// "attention+perception" (default) or "attention" (TrainableBranches raw values).
    public var branches: String = TrainableBranches.attentionAndPerception.rawValue
    /// Weight of L_map.
    public var gamma: Float = 1
    /// Passes over the edited samples; nil: `automaticEpochs`. The perception branch has to relearn
    /// the task from what the edited maps let through, which takes many steps whatever the number of
    /// edits (docs/benchmarks.md: 630 steps gave +7 pt test accuracy, 1890 steps +52 pt).
    public var epochs: Int? = nil
    /// SGD with momentum 0.9 and weight decay 1e-4 (the official training's), constant rate.
    public var learningRate: Float = 0.02
    /// Samples per step: edited ones plus replayed unedited ones.
    public var batchSize: Int = 32
    /// Replayed unedited training samples per edited sample in each batch, so the rest is not forgotten.
    public var replayRatio: Int = 1
    public var seed: UInt64 = 0

    public init() {}

    /// The default length: at least 30 epochs and at least 900 steps, so a handful of edits still
    /// gets enough steps (100 edits, 1001 steps: +18 pt; the same at 30 epochs is 210 steps).
    public static func automaticEpochs(batchesPerEpoch: Int) -> Int {
        max(30, (900 + batchesPerEpoch - 1) / max(1, batchesPerEpoch))
    }
}

public struct FinetuneReport: Sendable {
    /// Samples with a target map: edited ones (newest edit) and accepted ones (their original map).
    public var editedSamples: Int
    public var steps: Int
    /// Mean γ·L_map over the last epoch's steps.
    public var finalMapLoss: Double
    public var outputSHA256: String
    /// On the evaluation split (test), where it exists.
    public var before: EvalReport?
    public var after: EvalReport?
}

public struct FinetuneError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Progress of fine-tuning: steps done of the total, the epoch, and running mean losses.
public struct FinetuneProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var epoch: Int
    public var mapLoss: Double
    public var perceptionLoss: Double
}

/// Fine-tunes `model` (in place) on the session's edited and accepted samples and writes it to `out`
/// atomically (a temporary file, then rename: the destination never holds a partial model). Records
/// the run (options, input and output model, before/after metrics on `evaluationSplit`) in the session.
///
/// Targets: an edited sample's newest edit. An accepted-as-is sample's target is its original map:
/// the annotator confirmed it, so fine-tuning should keep it there rather than let it drift.
/// Each step takes up to batchSize/(1+replayRatio) target samples and fills the batch with unedited
/// training samples of the session's split (drawn with replacement; no map loss for them).
public func finetune(session: Session, model: LoadedModel, out: URL, options: FinetuneOptions, evaluationSplit: String? = "test",
                     progress: ((FinetuneProgress) -> Void)? = nil) throws -> FinetuneReport {
    guard let branches = TrainableBranches(rawValue: options.branches), branches != .all else {
        throw FinetuneError("--branches must be attention+perception or attention, got '\(options.branches)'")
    }
    guard options.epochs.map({ $0 >= 1 }) ?? true, options.batchSize >= 2, options.replayRatio >= 0, options.gamma >= 0, options.gamma.isFinite,
          options.learningRate > 0, options.learningRate.isFinite else {
        throw FinetuneError("fine-tuning needs epochs ≥ 1, batch size ≥ 2, replay ratio ≥ 0, finite γ ≥ 0 and a positive learning rate")
    }
    let info = session.info
    let m = model.metadata
    guard m.classes == info.classes, model.model.mapHeight == info.mapHeight, model.model.mapWidth == info.mapWidth,
          m.inputChannels == info.inputChannels, m.inputHeight == info.inputHeight, m.inputWidth == info.inputWidth else {
        throw FinetuneError("\(model.url.path): classes, input or map size differ from the session's (\(session.directory.path))")
    }
    let outPath = out.standardizedFileURL.path
    guard outPath != model.url.standardizedFileURL.path, outPath != URL(fileURLWithPath: info.modelPath).standardizedFileURL.path else {
        throw FinetuneError("\(out.path): would overwrite the model the session refers to; write the fine-tuned model to a new file")
    }
    let samples = try session.samples()
    let targets = fineTuningTargets(samples)
    guard !targets.isEmpty else {
        throw FinetuneError("\(session.directory.path): no edited or accepted samples to fine-tune with (use review or import-maps first)")
    }
    let root = URL(fileURLWithPath: info.dataRoot)
    let folder = try ImageFolder(root: root, split: info.split, classes: info.classes, skipBad: true)
    let targetPaths = Set(targets.map(\.relativePath))
    let replay = folder.samples.filter { !targetPaths.contains($0.relativePath) }
    let testFolder: ImageFolder? = try evaluationSplit.flatMap { split in
        FileManager.default.fileExists(atPath: root.appendingPathComponent(split).path)
            ? try ImageFolder(root: root, split: split, classes: info.classes, skipBad: true) : nil
    }
    let before = try testFolder.map { try evaluate(model: model, folder: $0) }

    var inputs: [String: [Float]] = [:]
    func input(_ relativePath: String) throws -> [Float] {
        if let x = inputs[relativePath] { return x }
        let x = try loadInput(folder.splitURL.appendingPathComponent(relativePath), m.preprocessing)
        inputs[relativePath] = x
        return x
    }
    let plan = BatchPlan(targets: targets.count, replayPool: replay.count, batchSize: options.batchSize, replayRatio: options.replayRatio)
    var options = options
    let epochs = options.epochs ?? FinetuneOptions.automaticEpochs(batchesPerEpoch: plan.batchesPerEpoch)
    options.epochs = epochs  // recorded with the run as it was used
    var rng = SplitMix64(seed: options.seed)
    let sgd = SGD(learningRate: options.learningRate)
    let reporter = progress == nil ? ProgressReporter(label: "finetune", total: epochs * plan.batchesPerEpoch, unit: "batch") : nil
    var steps = 0, lastMapLoss = 0.0
    for epoch in 0..<epochs {
        let order = rng.permutation(targets.count)
        var mapLoss = 0.0, perLoss = 0.0, counted = 0
        for b in 0..<plan.batchesPerEpoch {
            let chosen = order[(b * plan.targetsPerBatch)..<min(targets.count, (b + 1) * plan.targetsPerBatch)]
            var xs: [Float] = [], labels: [Int] = [], maps: [Tensor?] = []
            for i in chosen {
                xs += try input(targets[i].relativePath)
                labels.append(targets[i].label)
                maps.append(Tensor(shape: [1, info.mapHeight, info.mapWidth], data: targets[i].map))
            }
            for _ in 0..<plan.replayPerBatch {
                let s = replay[rng.nextInt(below: replay.count)]
                xs += try input(s.relativePath)
                labels.append(s.label)
                maps.append(nil)
            }
            guard labels.count >= 2 else { continue }  // BatchNorm's batch statistics need two samples
            let x = Tensor(shape: [labels.count, m.inputChannels, m.inputHeight, m.inputWidth], data: xs)
            let stats = try model.model.trainStep(input: x, labels: labels, optimizer: sgd, trainable: branches,
                                                  mapTargets: MapTargets(maps: maps, gamma: options.gamma))
            guard stats.mapLoss.isFinite, stats.perceptionLoss.isFinite, stats.attentionLoss.isFinite else {
                throw FinetuneError("fine-tuning diverged (loss is not finite at step \(steps + 1)); try a smaller --lr; nothing was written")
            }
            mapLoss += Double(stats.mapLoss); perLoss += Double(stats.perceptionLoss); counted += 1
            steps += 1
            let p = FinetuneProgress(step: steps, totalSteps: epochs * plan.batchesPerEpoch, epoch: epoch + 1,
                                     mapLoss: mapLoss / Double(counted), perceptionLoss: perLoss / Double(counted))
            progress?(p)
            reporter?.update(done: steps, detail: String(format: "epoch %d map loss %.4f per %.3f", p.epoch, p.mapLoss, p.perceptionLoss))
        }
        lastMapLoss = counted > 0 ? mapLoss / Double(counted) : 0
    }
    reporter?.finish(detail: String(format: "map loss %.4f", lastMapLoss))
    try ModelFile.save(model.model, metadata: m, to: out)
    let written = try ModelFile.load(contentsOf: out)
    let after = try testFolder.map { try evaluate(model: written, folder: $0) }
    try recordFinetuneRun(session: session, options: options, input: model, output: written, targets: targets.count, steps: steps,
                          finalMapLoss: lastMapLoss, before: before, after: after)
    return FinetuneReport(editedSamples: targets.count, steps: steps, finalMapLoss: lastMapLoss, outputSHA256: written.sha256,
                          before: before, after: after)
}

/// A sample and the map fine-tuning pulls its attention towards.
public struct FinetuneTarget: Sendable, Equatable {
    public var relativePath: String
    public var label: Int
    public var map: [Float]
}

/// Edited samples → their newest edit; accepted, unedited samples → their original map; others none.
public func fineTuningTargets(_ samples: [SessionSample]) -> [FinetuneTarget] {
    samples.compactMap { s in
        if s.edited { return FinetuneTarget(relativePath: s.relativePath, label: s.label, map: s.currentMap) }
        if s.accepted { return FinetuneTarget(relativePath: s.relativePath, label: s.label, map: s.originalMap) }
        return nil
    }
}

/// How target and replayed samples share a batch.
struct BatchPlan: Equatable {
    var targetsPerBatch: Int
    var replayPerBatch: Int
    var batchesPerEpoch: Int

    init(targetsPerBatch: Int, replayPerBatch: Int, batchesPerEpoch: Int) {
        self.targetsPerBatch = targetsPerBatch
        self.replayPerBatch = replayPerBatch
        self.batchesPerEpoch = batchesPerEpoch
    }

    init(targets: Int, replayPool: Int, batchSize: Int, replayRatio: Int) {
        targetsPerBatch = max(1, batchSize / (1 + replayRatio))
        replayPerBatch = replayPool == 0 ? 0 : batchSize - targetsPerBatch
        batchesPerEpoch = (targets + targetsPerBatch - 1) / targetsPerBatch
    }
}

private func recordFinetuneRun(session: Session, options: FinetuneOptions, input: LoadedModel, output: LoadedModel, targets: Int,
                               steps: Int, finalMapLoss: Double, before: EvalReport?, after: EvalReport?) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    struct Parameters: Encodable {
        var options: FinetuneOptions
        var input_model: String, input_sha256: String, output_model: String, output_sha256: String
        var target_samples: Int, steps: Int
    }
    struct Results: Encodable { var before: EvalReport?; var after: EvalReport?; var final_map_loss: Double }
    let parameters = Parameters(options: options, input_model: input.url.standardizedFileURL.path, input_sha256: input.sha256,
                                output_model: output.url.standardizedFileURL.path, output_sha256: output.sha256,
                                target_samples: targets, steps: steps)
    try session.recordRun(kind: "finetune",
                          parameters: String(decoding: try encoder.encode(parameters), as: UTF8.self),
                          results: String(decoding: try encoder.encode(Results(before: before, after: after, final_map_loss: finalMapLoss)), as: UTF8.self))
}
