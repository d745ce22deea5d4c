import ArgumentParser
import ABN
import HITL
import Foundation

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train an ABN on an ImageFolder dataset (official schedule: SGD momentum 0.9, wd 1e-4, lr ×0.1 at 50% and 75%).",
        discussion: """
        Input size and channel count come from the training images (or --input); normalisation from the training \
        split's per-channel mean and std; both are recorded in the model file. A checkpoint MODEL.ckpt is written \
        atomically every epoch. Ctrl-C stops after the current batch with the checkpoint saved; --resume MODEL.ckpt \
        continues the run with the same result as an uninterrupted one (the checkpoint holds the run's settings, so \
        --resume takes only --out, to write the model elsewhere, and --threads). Every image is trained on each \
        epoch, the last batch partial, except a last batch of one image.
        """)

    @Option(name: .long, help: "Dataset root with train/<class>/*.png|jpg (and optionally test/).")
    var data: String?

    @Option(name: .long, help: "Model file to write (safetensors); with --resume, default: the interrupted run's.")
    var out: String?

    @Option(name: .long, help: "Backbone: cifar-resnet<6n+2>, imagenet-resnet<18|34|50|101|152>, cifar-wrn<6n+4>-<widen>[-dropout<p>], cifar-resnext<9n+2>-<cardinality>x<width>d[-w<widen>] (docs/guide.md compares them). (default: \(TrainOptions.defaults.arch))")
    var arch: ABNArchitecture?

    @Option(name: .long, help: "Epochs. (default: \(TrainOptions.defaults.epochs))")
    var epochs: Int?

    @Option(name: .long, help: "Batch size. (default: \(TrainOptions.defaults.batchSize))")
    var batchSize: Int?

    @Option(name: .long, help: "Initial learning rate. (default: \(TrainOptions.defaults.learningRate))")
    var lr: Float?

    @Option(name: .long, help: "Attention mechanism: multiply (g·M), which lets edited maps switch a spurious cue off, or residual (g·(1+M), the original ABN's), which can only amplify. multiply is the default because fine-tuning with edited maps repairs it far more (docs/benchmarks.md). (default: \(TrainOptions.defaults.attention.rawValue))")
    var attention: AttentionMechanism?

    @Option(name: .long, help: "Model input as CxHxW (default: the first training image's size and channels).")
    var input: String?

    @Option(name: .long, help: "Random seed (weights, shuffling, augmentation). (default: \(TrainOptions.defaults.seed))")
    var seed: UInt64?

    @OptionGroup var compute: ComputeOptions

    @Option(name: .long, help: "Continue an interrupted run from its checkpoint (MODEL.ckpt).")
    var resume: String?

    @Flag(name: .long, help: "Turn off the CIFAR augmentation (4 px zero padding + random crop, horizontal flip).")
    var noAugment = false

    @Flag(name: .long, help: "Skip unreadable images with a warning instead of stopping.")
    var skipBad = false

    func validate() throws {
        guard resume == nil else {
            // The checkpoint holds the run's settings; a flag that would be ignored is refused instead.
            let ignored = [("--data", data != nil), ("--arch", arch != nil), ("--epochs", epochs != nil), ("--batch-size", batchSize != nil),
                           ("--lr", lr != nil), ("--attention", attention != nil), ("--input", input != nil), ("--seed", seed != nil),
                           ("--no-augment", noAugment), ("--skip-bad", skipBad)].filter(\.1).map(\.0)
            if !ignored.isEmpty {
                throw ValidationError("--resume continues the checkpoint's run with its own settings; drop \(ignored.joined(separator: ", "))")
            }
            return
        }
        if data == nil { throw ValidationError("--data is required (or --resume CHECKPOINT)") }
        if out == nil { throw ValidationError("--out is required (the model file to write)") }
    }

    func run() throws {
        try reportingErrors {
            if let resume { try requireFile(resume, "checkpoint") } else { try requireDirectory(data!, "dataset") }
            compute.apply()
            if let out { try checkWritable(out) }
            let trainer: Trainer
            if let resume {
                trainer = try Trainer(resuming: URL(fileURLWithPath: resume), out: out.map { URL(fileURLWithPath: $0) })
                try checkWritable(trainer.outURL.path)
            } else {
                var options = TrainOptions(dataRoot: data!)
                options.arch = arch?.name ?? options.arch
                options.epochs = epochs ?? options.epochs
                options.batchSize = batchSize ?? options.batchSize
                options.learningRate = lr ?? options.learningRate
                options.attention = attention ?? options.attention
                options.input = input
                options.seed = seed ?? options.seed
                options.augment = !noAugment
                options.skipBad = skipBad
                trainer = try Trainer(options: options, out: URL(fileURLWithPath: out!))
            }
            for warning in trainer.folder.warnings { note("warning: \(warning)") }
            let m = trainer.metadata
            note("training \(m.arch.name) (\(m.attention.rawValue)) on \(trainer.folder.samples.count) images, \(m.classes.count) classes, input \(m.inputChannels)x\(m.inputHeight)x\(m.inputWidth), \(trainer.options.epochs) epochs")
            trainer.progress = ProgressPrinter().handler
            StopSignal.install()
            defer { StopSignal.uninstall() }
            let result = try trainer.run()
            if trainer.folder.skippedCount > 0 {
                note("skipped \(trainer.folder.skippedCount) bad files (listed above)")
            }
            guard result.completed else { throw stopped(result) }
            note("wrote \(trainer.outURL.path)")
        }
    }
}

/// Says where a stopped run stopped and how to continue it; the exit code of an interrupt.
func stopped(_ result: TrainResult) -> ExitCode {
    let at = result.stoppedAt.map { $0.batch == 0 ? "after epoch \($0.epoch)" : "in epoch \($0.epoch + 1) after batch \($0.batch)" } ?? ""
    note("\nstopped \(at); checkpoint saved to \(result.checkpoint.path); continue with --resume \(result.checkpoint.path)")
    return ExitCode(130)
}

/// Fails early, before hours of work, when the output cannot be written.
func checkWritable(_ path: String) throws {
    let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
        throw CommandError("\(path): cannot write: directory \(dir) does not exist")
    }
    guard FileManager.default.isWritableFile(atPath: dir) else {
        throw CommandError("\(path): cannot write: directory \(dir) is not writable")
    }
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
        throw CommandError("\(path): cannot write: it is a directory")
    }
}
