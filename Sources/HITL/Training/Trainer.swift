import Foundation
import ABN
import ABNData

/// What `abn-hitl train` was asked to do. Recorded in every checkpoint so `--resume` continues
/// exactly the same run.
public struct TrainOptions: Codable, Equatable, Sendable {
    public var dataRoot: String
    public var arch: String = ABNArchitecture.defaultBackbone.name
    public var epochs: Int = 10
    public var batchSize: Int = 64
    public var learningRate: Float = 0.1
    public var momentum: Float = 0.9
    public var weightDecay: Float = 1e-4
    /// g·M by default: the mechanism the human-in-the-loop cycle repairs best (docs/benchmarks.md).
    public var attention: AttentionMechanism = .multiply
    /// "CxHxW"; nil takes the size and channel count of the first training image.
    public var input: String?
    public var seed: UInt64 = 0
    public var augment: Bool = true
    public var skipBad: Bool = false

    public init(dataRoot: String) { self.dataRoot = dataRoot }

    /// The defaults, for the command line to show.
    public static let defaults = TrainOptions(dataRoot: "")
}

/// Where a run stands: the next batch to train is `batch` of `epoch` (both from 0).
public struct TrainPosition: Codable, Equatable, Sendable {
    public var epoch: Int
    public var batch: Int
}

public struct EpochSummary: Sendable {
    public var epoch: Int
    public var attentionLoss: Double
    public var perceptionLoss: Double
    public var trainAccuracy: Double
    public var attentionTrainAccuracy: Double
    public var testAccuracy: Double?
    public var imagesPerSecond: Double
}

public struct TrainResult: Sendable {
    /// False when a stop was requested (Ctrl-C): the checkpoint holds the position to resume from.
    public var completed: Bool
    public var epochs: [EpochSummary]
    public var checkpoint: URL
    /// Where a stopped run stopped (the next batch to train); nil when completed.
    public var stoppedAt: TrainPosition?
}

/// Trains an ABN with the official schedule, writing an atomic checkpoint every epoch (and on a
/// stop request), and the final model file with its metadata.
public final class Trainer {
    public let options: TrainOptions
    public let outURL: URL
    public let checkpointURL: URL
    public let folder: ImageFolder
    public let metadata: ModelMetadata
    public let model: ABNModel
    private let optimizer: SGD
    private let schedule: StepSchedule
    private var position: TrainPosition
    /// Receives each batch's progress and each epoch's summary (none when nil).
    public var progress: ProgressHandler?

    /// The checkpoint that goes with a model path: `model.safetensors` → `model.safetensors.ckpt`.
    public static func checkpointURL(for out: URL) -> URL {
        URL(fileURLWithPath: out.path + ".ckpt")
    }

    /// A new run.
    public init(options: TrainOptions, out: URL) throws {
        self.options = options
        self.outURL = out
        self.checkpointURL = Trainer.checkpointURL(for: out)
        try Trainer.validate(options)
        let root = URL(fileURLWithPath: options.dataRoot)
        folder = try ImageFolder(root: root, split: "train", skipBad: options.skipBad)
        try Trainer.requireTwoImages(folder)
        let arch = try ABNArchitecture(parsing: options.arch)
        let attention = options.attention
        let (c, h, w) = try Trainer.inputGeometry(options.input, folder: folder)
        let stats = try channelStatistics(folder, channels: c, height: h, width: w)
        metadata = ModelMetadata(arch: arch, classes: folder.classes, inputChannels: c, inputHeight: h, inputWidth: w,
                                 mean: stats.mean, std: stats.std, attention: attention)
        model = try ABNModel(config: metadata.modelConfig, seed: options.seed)
        optimizer = SGD(learningRate: options.learningRate, momentum: options.momentum, weightDecay: options.weightDecay)
        schedule = StepSchedule(baseLearningRate: options.learningRate, epochs: options.epochs)
        position = TrainPosition(epoch: 0, batch: 0)
    }

    /// Continues the run a checkpoint describes; `out` may differ from the original.
    public init(resuming checkpoint: URL, out: URL?) throws {
        let saved = try Checkpoint.read(from: checkpoint)
        options = saved.options
        outURL = out ?? URL(fileURLWithPath: saved.outPath)
        checkpointURL = checkpoint
        folder = try ImageFolder(root: URL(fileURLWithPath: options.dataRoot), split: "train", skipBad: options.skipBad)
        try Trainer.requireTwoImages(folder)
        guard folder.classes == saved.metadata.classes else {
            throw TrainError("\(options.dataRoot): classes \(folder.classes) differ from the checkpoint's \(saved.metadata.classes)")
        }
        metadata = saved.metadata
        model = try ABNModel(config: metadata.modelConfig, seed: options.seed)
        try model.loadStateDict(Dictionary(saved.modelState.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
        optimizer = SGD(learningRate: options.learningRate, momentum: options.momentum, weightDecay: options.weightDecay)
        try optimizer.loadState(saved.optimizerState)
        schedule = StepSchedule(baseLearningRate: options.learningRate, epochs: options.epochs)
        position = saved.position
    }

    static func validate(_ o: TrainOptions) throws {
        guard o.epochs >= 1 else { throw TrainError("--epochs must be at least 1, got \(o.epochs)") }
        guard o.batchSize >= 2 else { throw TrainError("--batch-size must be at least 2 (BatchNorm needs a batch), got \(o.batchSize)") }
        guard o.learningRate > 0, o.learningRate.isFinite else { throw TrainError("--lr must be positive, got \(o.learningRate)") }
        _ = try ABNArchitecture(parsing: o.arch)
    }

    static func requireTwoImages(_ folder: ImageFolder) throws {
        guard folder.samples.count >= 2 else {
            throw TrainError("\(folder.splitURL.path): \(folder.samples.count) training image(s); training needs at least 2 (BatchNorm's batch statistics)")
        }
    }

    /// "3x32x32" → (3, 32, 32); nil → the first training image's size and channels (gray stays 1).
    static func inputGeometry(_ text: String?, folder: ImageFolder) throws -> (Int, Int, Int) {
        if let text {
            return try parseInputGeometry(text)
        }
        guard let first = folder.samples.first else { throw TrainError("\(folder.root.path): no training images") }
        let image = try ImageIO.decode(fileAt: first.imageURL)
        let channels = image.channels <= 2 ? 1 : 3
        return (channels, image.height, image.width)
    }

    /// Every image is trained on each epoch, the last batch partial (PyTorch's default, which the
    /// official training uses), except a last batch of one image: BatchNorm's batch statistics need two.
    public var batchesPerEpoch: Int { Trainer.batchesPerEpoch(images: folder.samples.count, batchSize: options.batchSize) }

    static func batchesPerEpoch(images: Int, batchSize: Int) -> Int {
        images / batchSize + (images % batchSize >= 2 ? 1 : 0)
    }

    /// Runs until the last epoch or a stop request; returns what happened.
    public func run() throws -> TrainResult {
        let loader = try BatchLoader(folder: folder, preprocessing: metadata.preprocessing, batchSize: options.batchSize,
                                     shuffle: true, augmentation: options.augment ? .cifar : .none, seed: options.seed,
                                     dropLast: false)
        var summaries: [EpochSummary] = []
        let perEpoch = batchesPerEpoch
        let imagesPerEpoch = min(folder.samples.count, perEpoch * options.batchSize)  // all but a last lone image
        while position.epoch < options.epochs {
            let epoch = position.epoch
            optimizer.learningRate = schedule.learningRate(epoch: epoch)
            let label = "epoch \(epoch + 1)/\(options.epochs)"
            var att = 0.0, per = 0.0, attCorrect = 0, perCorrect = 0, seen = 0
            let started = Date()
            let batches = loader.epoch(epoch)
            var batchIndex = -1
            while let batch = try batches.next() {
                batchIndex += 1
                if batchIndex >= perEpoch { break }  // a last batch of one image
                if batchIndex < position.batch { continue }  // already trained before the resume
                let x = Tensor(shape: [batch.count, metadata.inputChannels, metadata.inputHeight, metadata.inputWidth],
                               data: batch.inputs)
                let stats = try model.trainStep(input: x, labels: batch.labels, optimizer: optimizer)
                // Diverged weights would be written as a model every command then refuses: stop here,
                // keeping the last good checkpoint.
                guard stats.attentionLoss.isFinite, stats.perceptionLoss.isFinite else {
                    throw TrainError("training diverged (loss is not finite at epoch \(position.epoch + 1), batch \(batchIndex + 1)); try a smaller --lr; the last checkpoint is kept and no model was written")
                }
                att += Double(stats.attentionLoss) * Double(stats.count)
                per += Double(stats.perceptionLoss) * Double(stats.count)
                attCorrect += stats.attentionCorrect
                perCorrect += stats.perceptionCorrect
                seen += stats.count
                position.batch = batchIndex + 1
                progress?(WorkProgress(label: label, done: seen, total: imagesPerEpoch,
                                       detail: String(format: "batch %d/%d loss att %.3f per %.3f acc %.1f%%", position.batch, perEpoch, att / Double(seen),
                                                      per / Double(seen), 100 * Double(perCorrect) / Double(seen))))
                if StopSignal.isRequested { break }
            }
            if StopSignal.isRequested && position.batch < perEpoch {
                try saveCheckpoint()
                return TrainResult(completed: false, epochs: summaries, checkpoint: checkpointURL, stoppedAt: position)
            }
            let seconds = Date().timeIntervalSince(started)
            let summary = EpochSummary(epoch: epoch, attentionLoss: att / Double(max(seen, 1)),
                                       perceptionLoss: per / Double(max(seen, 1)),
                                       trainAccuracy: Double(perCorrect) / Double(max(seen, 1)),
                                       attentionTrainAccuracy: Double(attCorrect) / Double(max(seen, 1)),
                                       testAccuracy: nil, imagesPerSecond: Double(seen) / max(seconds, 1e-9))
            summaries.append(summary)
            position = TrainPosition(epoch: epoch + 1, batch: 0)
            try saveCheckpoint()
            progress?(WorkProgress(label: label, done: seen, total: imagesPerEpoch,
                                   detail: String(format: "loss att %.3f per %.3f, train acc %.1f%% (attention %.1f%%)",
                                                  summary.attentionLoss, summary.perceptionLoss,
                                                  100 * summary.trainAccuracy, 100 * summary.attentionTrainAccuracy),
                                   finished: true))
            if StopSignal.isRequested && position.epoch < options.epochs {
                return TrainResult(completed: false, epochs: summaries, checkpoint: checkpointURL, stoppedAt: position)
            }
        }
        try ModelFile.save(model, metadata: metadata, to: outURL)
        return TrainResult(completed: true, epochs: summaries, checkpoint: checkpointURL, stoppedAt: nil)
    }

    private func saveCheckpoint() throws {
        try Checkpoint(options: options, outPath: outURL.path, metadata: metadata, position: position,
                       modelState: model.stateDict(), optimizerState: optimizer.state())
            .write(to: checkpointURL)
    }
}

/// "3x32x32" → (3, 32, 32).
public func parseInputGeometry(_ text: String) throws -> (Int, Int, Int) {
    let parts = text.lowercased().split(separator: "x").map { Int($0) }
    guard parts.count == 3, let c = parts[0], let h = parts[1], let w = parts[2], c == 1 || c == 3, h >= 8, w >= 8,
          h <= 4096, w <= 4096 else {
        throw TrainError("--input must be CxHxW with C 1 or 3 and H, W from 8 to 4096 (e.g. 3x32x32), got '\(text)'")
    }
    return (c, h, w)
}

public struct TrainError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension ModelMetadata {
    public var modelConfig: ModelConfig {
        ModelConfig(arch: arch, numClasses: classes.count, inputChannels: inputChannels, inputHeight: inputHeight,
                    inputWidth: inputWidth, attention: attention)
    }

    public var preprocessing: Preprocessing {
        Preprocessing(channels: inputChannels, height: inputHeight, width: inputWidth, mean: mean, std: std)
    }
}
