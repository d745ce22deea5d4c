import ABN
import ABNData
import Foundation

/// Fine-tuning with the human-edited maps (Mitsuhara et al.): L = L_att + L_per + γ·L_map, with
/// L_map = ‖M′ − M‖₂ per edited sample averaged over the edited samples of a batch, the feature
/// extractor frozen; plus counterexamples built from the edited maps (docs/finetuning.md) and model
/// selection on held-out targets. Defaults were chosen by the grid in docs/benchmarks.md.
public struct FinetuneOptions: Codable, Sendable, Equatable {
    /// What trains: `.all` (the feature extractor too), `.attentionAndPerception` (the extractor
    /// frozen: the paper's shape) or `.attention` alone. nil: `.all` with counterexamples, the
    /// paper's `.attentionAndPerception` without. Measured at 500 edits over three shortcut kinds ×
    /// 3 seeds, the frozen extractor keeps the cue wherever the base model learnt it into its
    /// features (a background tint: 39.9% test frozen, 95.9% unfrozen, control 99.6%; docs/benchmarks.md
    /// "Fourth pass"), and unfreezing won on 9 of 9 runs.
    public var branches: TrainableBranches? = nil
    /// Weight of L_map.
    public var gamma: Float = 1
    /// Passes over the edited samples; nil: `automaticEpochs`. The perception branch has to relearn
    /// the task from what the edited maps let through, which takes many steps whatever the number of
    /// edits (docs/benchmarks.md: 630 steps gave +7 pt test accuracy, 1890 steps +52 pt).
    public var epochs: Int? = nil
    /// SGD with momentum 0.9 and weight decay 1e-4 (the official training's), constant rate (the
    /// official step schedule, ×0.1 at 50% and 75%, measured worse: docs/benchmarks.md).
    public var learningRate: Float = 0.02
    /// Samples per step: targets, their counterexamples and replayed unedited samples.
    public var batchSize: Int = 32
    /// Replayed unedited training samples per target in each batch, so the rest is not forgotten;
    /// nil: 1 without counterexamples (the paper's recipe), 0 with them (measured no better, and slower).
    public var replayRatio: Int? = nil
    /// Fresh counterexamples per target each time it enters a batch (0: the paper's recipe).
    public var counterexamples: Int = FinetuneOptions.defaultCounterexamples
    /// Pixels the kept evidence region grows by in a counterexample; nil: Counterexamples.dilationRadius.
    public var dilation: Int? = nil
    /// Whether a target also enters its batch as itself, besides its counterexamples (always without counterexamples).
    public var keepOriginals: Bool = true
    /// Mirror and shift each training input (and its target map with it): TargetAugmentation.
    /// nil: on with counterexamples, off without (the paper's recipe).
    public var augment: Bool? = nil
    /// Fraction of the targets held out to choose the epoch by; nil: 0.1 with counterexamples, 0 without
    /// (so `counterexamples = 0` alone is the paper's recipe exactly: every target trained on, last epoch kept).
    public var holdout: Double? = nil
    /// Stop once this many steps have passed without a better validation accuracy (checked at the end
    /// of each epoch); 0 (the default): run the planned epochs and keep the best. In steps, not epochs:
    /// 100 edits make 9 steps an epoch, and a patience of 10 epochs stopped those runs before the
    /// perception branch had relearnt anything.
    public var patience: Int = 0
    public var seed: UInt64 = 0
    /// The arithmetic of the trained layers' convolutions (ConvolutionPrecision.training during the
    /// run; everything evaluated stays at ConvolutionPrecision.inference). FP32 by default; bf16's speed
    /// and outcome against it are in docs/benchmarks.md ("bf16 fine-tuning").
    public var precision: ConvolutionPrecision = .fp32

    /// Chosen on a development split over three shortcut kinds (docs/benchmarks.md, "Third pass"):
    /// at 500 edits +22 (patch), +5 (background) and +14 (stamp) points over the paper's recipe, 3 seeds each.
    public static let defaultCounterexamples = 2
    /// The validation set (built once) holds at least this many counterexamples of the held-out
    /// targets, and at least `minimumValidationPerTarget` of each (with 10 held-out targets and 4 each,
    /// one image was 2.5 points of validation accuracy).
    public static let validationSize = 256
    public static let minimumValidationPerTarget = 4

    public init() {}

    // Settings left nil follow the recipe: counterexamples, or (with 0 of them) the paper's.
    public var effectiveHoldout: Double { holdout ?? (counterexamples > 0 ? 0.1 : 0) }
    public var effectiveReplayRatio: Int { replayRatio ?? (counterexamples > 0 ? 0 : 1) }
    public var effectiveAugment: Bool { augment ?? (counterexamples > 0) }
    public var effectiveBranches: TrainableBranches { branches ?? (counterexamples > 0 ? .all : .attentionAndPerception) }

    /// Every setting filled in, as a run records it.
    public var resolved: FinetuneOptions {
        var o = self
        o.holdout = effectiveHoldout
        o.replayRatio = effectiveReplayRatio
        o.augment = effectiveAugment
        o.branches = effectiveBranches
        return o
    }

    /// The default length: at least 30 epochs and at least 900 steps, so a handful of edits still
    /// gets enough steps (100 edits, 1001 steps: +18 pt; the same at 30 epochs is 210 steps).
    public static func automaticEpochs(batchesPerEpoch: Int) -> Int {
        max(30, (900 + batchesPerEpoch - 1) / max(1, batchesPerEpoch))
    }
}

public struct FinetuneReport: Sendable {
    /// Samples with a target map: edited ones (newest edit) and accepted ones (their original map).
    public var editedSamples: Int
    /// Of those, held out for validation (not trained on).
    public var heldOut: Int
    /// Session samples marked excluded: neither targets nor replayed.
    public var excludedSamples: Int
    public var steps: Int
    /// Epochs run (fewer than planned when validation stopped early).
    public var epochs: Int
    /// Validation accuracy (perception branch, on the held-out targets' counterexamples) after each epoch.
    public var validationAccuracy: [Double]
    /// The epoch kept (1-based): the best by validation accuracy, or the last without validation.
    public var keptEpoch: Int
    /// Mean γ·L_map over the last epoch's steps.
    public var finalMapLoss: Double
    /// Inputs (training and validation, over all epochs) whose g(x) came from the feature cache, and
    /// those the cache had to run through the frozen extractor (first seen, past the budget, or never
    /// the same twice); both 0 without a cache (the extractor trains, or the budget is 0).
    public var featuresFromCache: Int
    public var featuresComputed: Int
    /// Wall-clock seconds of each epoch run (its steps and its validation), for timing; not recorded.
    public var epochSeconds: [Double]
    public var outputSHA256: String
    /// On the evaluation split (test), where it exists.
    public var before: EvalReport?
    public var after: EvalReport?
}

public struct FinetuneError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// Progress of fine-tuning: steps done of the total, the epoch, running mean losses, and the
/// validation accuracy of the epochs finished so far.
public struct FinetuneProgress: Sendable {
    public var step: Int
    public var totalSteps: Int
    public var epoch: Int
    public var mapLoss: Double
    public var perceptionLoss: Double
    /// After the last finished epoch, when there is a validation set.
    public var validationAccuracy: Double?
    /// The best so far and its epoch.
    public var bestValidation: (accuracy: Double, epoch: Int)?
    /// Inputs so far (training and validation) whose g(x) came from the feature cache.
    public var featuresFromCache: Int = 0
}

/// Fine-tunes `model` (in place) on the session's edited and accepted samples and writes it to `out`
/// atomically (a temporary file, then rename: the destination never holds a partial model). Records
/// the run (options, input and output model, validation per epoch, before/after metrics on
/// `evaluationSplit`) in the session.
///
/// Targets: an edited sample's newest edit. An accepted-as-is sample's target is its original map:
/// the annotator confirmed it, so fine-tuning should keep it there rather than let it drift.
/// A fraction of the targets is held out: their counterexamples (built once) are the validation set,
/// and the epoch with the best validation accuracy is the one written. Each step takes up to
/// batchSize/(1+K+replayRatio) training targets, each with K fresh counterexamples (same label and
/// target map), and fills the batch with unedited training samples of the session's split (drawn with
/// replacement; no map loss for them). The test split is only measured, before and after.
///
/// With the feature extractor frozen, g(x) of every input that is the same in every epoch (targets as
/// themselves and replayed samples when nothing is augmented; the validation set) is computed once
/// and kept, up to `featureCacheBudget` bytes (nil: FeatureCache.budgetFromEnvironment(); 0 turns it off). The weights written
/// are the same either way.
public func finetune(session: Session, model: LoadedModel, out: URL, options: FinetuneOptions, evaluationSplit: String? = "test",
                     featureCacheBudget: Int? = nil,
                     progress: ((FinetuneProgress) -> Void)? = nil) throws -> FinetuneReport {
    let branches = options.effectiveBranches
    guard options.epochs.map({ $0 >= 1 }) ?? true, options.batchSize >= 2, options.effectiveReplayRatio >= 0, options.gamma >= 0, options.gamma.isFinite,
          options.learningRate > 0, options.learningRate.isFinite else {
        throw FinetuneError("fine-tuning needs epochs ≥ 1, batch size ≥ 2, replay ratio ≥ 0, finite γ ≥ 0 and a positive learning rate")
    }
    guard options.counterexamples >= 0, options.patience >= 0, (0..<1).contains(options.effectiveHoldout) else {
        throw FinetuneError("fine-tuning needs counterexamples ≥ 0, patience ≥ 0 and a holdout fraction in [0, 1)")
    }
    // The trained layers' arithmetic for this run only (an error before any work where the CPU lacks it).
    let previousPrecision = ConvolutionPrecision.training
    try ConvolutionPrecision.set(options.precision, training: true)
    defer { try? ConvolutionPrecision.set(previousPrecision, training: true) }
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
    let excluded = Set(samples.filter(\.excluded).map(\.relativePath))
    guard !targets.isEmpty else {
        let also = excluded.isEmpty ? "" : " that are not excluded (\(excluded.count) excluded)"
        throw FinetuneError("\(session.directory.path): no edited or accepted samples\(also) to fine-tune with (use review or import-maps first)")
    }
    let root = URL(fileURLWithPath: info.dataRoot)
    let folder = try ImageFolder(root: root, split: info.split, classes: info.classes, skipBad: true)
    let targetPaths = Set(targets.map(\.relativePath))
    let replay = folder.samples.filter { !targetPaths.contains($0.relativePath) && !excluded.contains($0.relativePath) }
    let testFolder: ImageFolder? = try evaluationSplit.flatMap { split in
        FileManager.default.fileExists(atPath: root.appendingPathComponent(split).path)
            ? try ImageFolder(root: root, split: split, classes: info.classes, skipBad: true) : nil
    }
    let before = try testFolder.map { try evaluate(model: model, folder: $0) }

    var inputs: [String: [Float]] = [:]
    func input(_ relativePath: String) throws -> [Float] {
        if let x = inputs[relativePath] { return x }
        let x = try loadInput(try SamplePath.resolve(relativePath, under: folder.splitURL), m.preprocessing)
        inputs[relativePath] = x
        return x
    }
    var options = options
    var rng = SplitMix64(seed: options.seed)
    let split = TargetSplit(count: targets.count, holdout: options.effectiveHoldout, rng: &rng)
    let pool = try CounterexamplePool(targets: targets, training: split.training, mapHeight: info.mapHeight, mapWidth: info.mapWidth,
                                      preprocessing: m.preprocessing, dilation: options.dilation, input: input)
    let validation = try pool.validationSet(heldOut: split.heldOut, seed: SplitMix64.derive(options.seed, 0xDA7A))
    let plan = BatchPlan(targets: split.training.count, replayPool: replay.count, batchSize: options.batchSize,
                         replayRatio: options.effectiveReplayRatio, counterexamples: options.counterexamples, originals: options.keepOriginals)
    let epochs = options.epochs ?? FinetuneOptions.automaticEpochs(batchesPerEpoch: plan.batchesPerEpoch)
    options.epochs = epochs  // recorded with the run as it was used
    options = options.resolved
    let sgd = SGD(learningRate: options.learningRate)
    let augmentation = options.effectiveAugment ? TargetAugmentation(preprocessing: m.preprocessing, mapHeight: info.mapHeight, mapWidth: info.mapWidth) : nil
    // g(x) depends on the input alone only while the extractor is frozen.
    let cacheBudget = try featureCacheBudget ?? FeatureCache.budgetFromEnvironment()
    let cache = branches.freezesFeatureExtractor && cacheBudget > 0 ? FeatureCache(budget: cacheBudget) : nil
    var steps = 0, lastMapLoss = 0.0, epochsRun = 0
    var history: [Double] = []
    var epochSeconds: [Double] = []
    var selection = EpochSelection()
    var bestState: [String: StateTensor]?  // the weights of selection.best
    // The largest batch the plan makes of inputs that never change (each target as itself and its
    // replayed samples): never more than there are targets, so few edits are not padded to --batch-size.
    let fullBatchOfUnchangingInputs = min(plan.targetsPerBatch, split.training.count) * (1 + plan.replayPerTarget)
    for epoch in 0..<epochs {
        let started = Date()
        defer { epochSeconds.append(Date().timeIntervalSince(started)) }
        let order = rng.permutation(split.training.count).map { split.training[$0] }
        var mapLoss = 0.0, perLoss = 0.0, counted = 0
        for b in 0..<plan.batchesPerEpoch {
            let chosen = order[(b * plan.targetsPerBatch)..<min(order.count, (b + 1) * plan.targetsPerBatch)]
            var xs: [Float] = [], labels: [Int] = [], maps: [Tensor?] = []
            // Per input, the sample it is unchanged from (its g(x) may be cached), or nil.
            var keys: [String?] = []
            func add(_ x: [Float], key: String?, label: Int, map: [Float]?) {
                var x = x, map = map, key = key
                if let a = augmentation {
                    let d = a.draw(using: &rng)
                    x = a.apply(d, image: x)
                    map = map.map { a.apply(d, map: $0) }
                    key = nil  // a different image every time
                }
                xs += x
                keys.append(key)
                labels.append(label)
                maps.append(map.map { Tensor(shape: [1, info.mapHeight, info.mapWidth], data: $0) })
            }
            for i in chosen {
                let made = pool.counterexamples(of: i, count: options.counterexamples, rng: &rng)
                if options.keepOriginals || made.isEmpty {
                    add(try input(targets[i].relativePath), key: targets[i].relativePath, label: targets[i].label, map: targets[i].map)
                }
                // Fresh donors every time: never the same input twice.
                for x in made { add(x, key: nil, label: targets[i].label, map: targets[i].map) }
            }
            for _ in 0..<(plan.replayPerTarget * chosen.count) {
                let s = replay[rng.nextInt(below: replay.count)]
                add(try input(s.relativePath), key: s.relativePath, label: s.label, map: nil)
            }
            guard labels.count >= 2 else { continue }  // BatchNorm's batch statistics need two samples
            let x = Tensor(shape: [labels.count, m.inputChannels, m.inputHeight, m.inputWidth], data: xs)
            let targetMaps = MapTargets(maps: maps, gamma: options.gamma)
            let stats: StepStats
            if branches.freezesFeatureExtractor && keys.allSatisfy({ $0 != nil }) {
                // Inputs that never change: g(x) extracted at the full batch size, so a sample's is the
                // same bits in every epoch and the cache serves every epoch after the first.
                let rows = max(fullBatchOfUnchangingInputs, labels.count)
                let g = try cache?.features(of: x, keys: keys, rows: rows, model: model.model)
                    ?? FeatureCache.extract(x, rows: rows, model: model.model)
                stats = try model.model.trainStep(features: g, labels: labels, optimizer: sgd, trainable: branches, mapTargets: targetMaps)
            } else {
                stats = try model.model.trainStep(input: x, labels: labels, optimizer: sgd, trainable: branches, mapTargets: targetMaps)
            }
            guard stats.mapLoss.isFinite, stats.perceptionLoss.isFinite, stats.attentionLoss.isFinite else {
                throw FinetuneError("fine-tuning diverged (loss is not finite at step \(steps + 1)); try a smaller --lr; nothing was written")
            }
            mapLoss += Double(stats.mapLoss); perLoss += Double(stats.perceptionLoss); counted += 1
            steps += 1
            let p = FinetuneProgress(step: steps, totalSteps: epochs * plan.batchesPerEpoch, epoch: epoch + 1,
                                     mapLoss: mapLoss / Double(counted), perceptionLoss: perLoss / Double(counted),
                                     validationAccuracy: history.last, bestValidation: selection.best.map { ($0.accuracy, $0.epoch) },
                                     featuresFromCache: cache?.served ?? 0)
            progress?(p)
        }
        lastMapLoss = counted > 0 ? mapLoss / Double(counted) : 0
        epochsRun = epoch + 1
        guard let validation else { continue }
        let accuracy = try validation.accuracy(of: model.model, cache: cache)
        history.append(accuracy)
        if selection.record(accuracy: accuracy, epoch: epoch + 1, step: steps) {
            bestState = Dictionary(uniqueKeysWithValues: model.model.stateDict().map { ($0.name, $0.tensor) })
        }
        if selection.shouldStop(step: steps, patience: options.patience) { break }
    }
    if let bestState { try model.model.loadStateDict(bestState) }
    let kept = selection.best?.epoch ?? epochsRun
    try ModelFile.save(model.model, metadata: m, to: out)
    let written = try ModelFile.load(contentsOf: out)
    let after = try testFolder.map { try evaluate(model: written, folder: $0) }
    let report = FinetuneReport(editedSamples: targets.count, heldOut: split.heldOut.count, excludedSamples: excluded.count,
                                steps: steps, epochs: epochsRun,
                                validationAccuracy: history, keptEpoch: kept, finalMapLoss: lastMapLoss,
                                featuresFromCache: cache?.served ?? 0, featuresComputed: cache?.computed ?? 0, epochSeconds: epochSeconds,
                                outputSHA256: written.sha256, before: before, after: after)
    try recordFinetuneRun(session: session, options: options, input: model, output: written, report: report)
    return report
}

extension FinetuneProgress {
    /// For a progress printer: steps done of the total, with `summary` as the detail.
    public var work: WorkProgress {
        WorkProgress(label: "finetune", done: step, total: totalSteps, unit: "batch", detail: summary)
    }

    /// "epoch 3 map loss 0.0123 per 0.456 val 71.2% (best 73.0% @2)".
    public var summary: String {
        var s = String(format: "epoch %d map loss %.4f per %.3f", epoch, mapLoss, perceptionLoss)
        if let v = validationAccuracy { s += String(format: " val %.1f%%", 100 * v) }
        if let b = bestValidation { s += String(format: " (best %.1f%% @%d)", 100 * b.accuracy, b.epoch) }
        if featuresFromCache > 0 { s += " cached g(x) \(featuresFromCache)" }
        return s
    }
}

/// Which epoch to keep, by validation accuracy: the best, a tie going to the later epoch (it has
/// trained longer on the same evidence); and when to stop: `patience` steps after the best.
struct EpochSelection {
    private(set) var best: (accuracy: Double, epoch: Int, step: Int)?

    /// Records an epoch's accuracy; true when it is the new best.
    mutating func record(accuracy: Double, epoch: Int, step: Int) -> Bool {
        guard best.map({ accuracy >= $0.accuracy }) ?? true else { return false }
        best = (accuracy, epoch, step)
        return true
    }

    func shouldStop(step: Int, patience: Int) -> Bool {
        guard patience > 0, let best else { return false }
        return step - best.step >= patience
    }
}

/// Which targets are trained on and which are held out for validation: a seeded shuffle, the first
/// ⌊fraction·count⌋ held out (none when that is 0 or would leave fewer than two to train on).
struct TargetSplit: Equatable {
    var training: [Int]
    var heldOut: [Int]

    init(count: Int, holdout: Double, rng: inout SplitMix64) {
        let n = Int((holdout * Double(count)).rounded(.down))
        guard n > 0, count - n >= 2 else {
            training = Array(0..<count)
            heldOut = []
            return
        }
        let order = rng.permutation(count)
        heldOut = Array(order[..<n]).sorted()
        training = Array(order[n...]).sorted()
    }
}

/// The targets' inputs and replaced regions, and counterexamples drawn from them. Donors are
/// training targets only, so no held-out image enters a training batch.
struct CounterexamplePool {
    let targets: [FinetuneTarget]
    let channels: Int
    /// Per target: the pixels its counterexamples replace (nil: it has no evidence to keep).
    let replaced: [[Bool]?]
    let images: [Int: [Float]]
    let donors: [Int]

    init(targets: [FinetuneTarget], training: [Int], mapHeight: Int, mapWidth: Int, preprocessing p: Preprocessing, dilation: Int?,
         input: (String) throws -> [Float]) throws {
        self.targets = targets
        channels = p.channels
        let regions: [[Bool]?] = targets.map { t in
            let r = Counterexamples.replacedRegion(original: t.originalMap, edited: t.map, mapHeight: mapHeight, mapWidth: mapWidth,
                                                    height: p.height, width: p.width, dilation: dilation)
            return r.allSatisfy { $0 } ? nil : r
        }
        var images: [Int: [Float]] = [:]
        for i in targets.indices where regions[i] != nil { images[i] = try input(targets[i].relativePath) }
        replaced = regions
        self.images = images
        donors = training.filter { regions[$0] != nil }
    }

    /// `count` fresh counterexamples of target `i` (none when it has no evidence or there is no other donor).
    func counterexamples(of i: Int, count: Int, rng: inout SplitMix64) -> [[Float]] {
        guard count > 0, let replace = replaced[i], let image = images[i] else { return [] }
        let others = donors.filter { $0 != i }
        guard !others.isEmpty else { return [] }
        return (0..<count).map { _ in
            var chosen: [Int] = []
            for _ in 0..<min(Counterexamples.maxDonors, others.count) {
                var d = others[rng.nextInt(below: others.count)]
                while chosen.contains(d) { d = others[rng.nextInt(below: others.count)] }
                chosen.append(d)
            }
            return Counterexamples.compose(image: image, channels: channels, replace: replace,
                                           donors: chosen.map { Counterexamples.Donor(image: images[$0]!, usable: replaced[$0]!) })
        }
    }

    /// The held-out targets' counterexamples, built once; nil when nothing is held out or none can be built.
    func validationSet(heldOut: [Int], seed: UInt64) throws -> ValidationSet? {
        var rng = SplitMix64(seed: seed)
        var xs: [[Float]] = [], labels: [Int] = []
        let perTarget = ValidationSet.counterexamplesPerTarget(heldOut: heldOut.count)
        for i in heldOut {
            for x in counterexamples(of: i, count: perTarget, rng: &rng) {
                xs.append(x)
                labels.append(targets[i].label)
            }
        }
        return labels.isEmpty ? nil : ValidationSet(inputs: xs, labels: labels)
    }
}

/// Fixed validation inputs and labels; accuracy of the perception branch in evaluation mode.
struct ValidationSet {
    var inputs: [[Float]]
    var labels: [Int]

    /// Enough per held-out target to make `validationSize` in all, and at least `minimumValidationPerTarget`.
    static func counterexamplesPerTarget(heldOut: Int) -> Int {
        heldOut == 0 ? 0 : max(FinetuneOptions.minimumValidationPerTarget, (FinetuneOptions.validationSize + heldOut - 1) / heldOut)
    }

    /// With a cache (the extractor frozen), each input's g(x) is computed once: the inputs never change.
    func accuracy(of model: ABNModel, cache: FeatureCache? = nil, batch: Int = 64) throws -> Double {
        let c = model.config
        var correct = 0
        for start in stride(from: 0, to: labels.count, by: batch) {
            let end = min(labels.count, start + batch)
            let x = Tensor(shape: [end - start, c.inputChannels, c.inputHeight, c.inputWidth], data: inputs[start..<end].flatMap { $0 })
            let logits: Tensor
            if let cache {
                // "\u{0}" cannot start a sample's relative path, so these keys never meet a training input's.
                let keys = (start..<end).map { "\u{0}validation \($0)" }
                // Unpadded (rows: the batch's own), as the uncached path below runs it.
                logits = try model.forward(features: try cache.features(of: x, keys: keys, rows: end - start, model: model)).perceptionLogits
            } else {
                logits = try model.forward(x, training: false).perceptionLogits
            }
            for (row, label) in zip(start..<end, labels[start..<end]) where argmax(Array(logits.data[(row - start) * c.numClasses..<(row - start + 1) * c.numClasses])) == label {
                correct += 1
            }
        }
        return Double(correct) / Double(labels.count)
    }
}

/// A sample and the map fine-tuning pulls its attention towards.
public struct FinetuneTarget: Sendable, Equatable {
    public var relativePath: String
    public var label: Int
    public var map: [Float]
    /// The model's own map when collected: what the edit changed (erase-only edits replace only what was erased).
    public var originalMap: [Float]
}

/// Edited samples → their newest edit; accepted, unedited samples → their original map; excluded
/// samples and the others none.
public func fineTuningTargets(_ samples: [SessionSample]) -> [FinetuneTarget] {
    samples.compactMap { s in
        if s.excluded { return nil }
        if s.edited { return FinetuneTarget(relativePath: s.relativePath, label: s.label, map: s.currentMap, originalMap: s.originalMap) }
        if s.accepted { return FinetuneTarget(relativePath: s.relativePath, label: s.label, map: s.originalMap, originalMap: s.originalMap) }
        return nil
    }
}

/// How targets, their counterexamples and replayed samples share a batch: each target brings itself,
/// `counterexamples` counterexamples and `replayRatio` replayed samples.
struct BatchPlan: Equatable {
    var targetsPerBatch: Int
    var replayPerTarget: Int
    var batchesPerEpoch: Int

    init(targetsPerBatch: Int, replayPerTarget: Int, batchesPerEpoch: Int) {
        self.targetsPerBatch = targetsPerBatch
        self.replayPerTarget = replayPerTarget
        self.batchesPerEpoch = batchesPerEpoch
    }

    init(targets: Int, replayPool: Int, batchSize: Int, replayRatio: Int, counterexamples: Int = 0, originals: Bool = true) {
        targetsPerBatch = max(1, batchSize / ((originals || counterexamples == 0 ? 1 : 0) + counterexamples + replayRatio))
        replayPerTarget = replayPool == 0 ? 0 : replayRatio
        batchesPerEpoch = (targets + targetsPerBatch - 1) / targetsPerBatch
    }
}

private func recordFinetuneRun(session: Session, options: FinetuneOptions, input: LoadedModel, output: LoadedModel,
                               report: FinetuneReport) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    struct Parameters: Encodable {
        var options: FinetuneOptions
        var input_model: String, input_sha256: String, output_model: String, output_sha256: String
        var target_samples: Int, held_out: Int, excluded_samples: Int, steps: Int, epochs_run: Int
    }
    struct Results: Encodable {
        var before: EvalReport?; var after: EvalReport?; var final_map_loss: Double
        var validation_accuracy: [Double]; var kept_epoch: Int
    }
    let parameters = Parameters(options: options, input_model: input.url.standardizedFileURL.path, input_sha256: input.sha256,
                                output_model: output.url.standardizedFileURL.path, output_sha256: output.sha256,
                                target_samples: report.editedSamples, held_out: report.heldOut,
                                excluded_samples: report.excludedSamples, steps: report.steps, epochs_run: report.epochs)
    let results = Results(before: report.before, after: report.after, final_map_loss: report.finalMapLoss,
                          validation_accuracy: report.validationAccuracy, kept_epoch: report.keptEpoch)
    try session.recordRun(kind: "finetune",
                          parameters: String(decoding: try encoder.encode(parameters), as: UTF8.self),
                          results: String(decoding: try encoder.encode(results), as: UTF8.self))
}
