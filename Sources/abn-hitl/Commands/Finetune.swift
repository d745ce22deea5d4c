import ArgumentParser
import ABN
import HITL
import Foundation

struct Finetune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune the model with the session's edited maps (L_att + L_per + γ·L_map) and counterexamples made from them.",
        discussion: """
        Recipe: each edited sample trains with its map M′ (L_map) and 2 fresh counterexamples that keep its evidence and take \
        other images' backgrounds elsewhere; the epoch kept is the best on held-out edits. --counterexamples 0: the paper's recipe.

        The feature extractor trains with the branches: a cue the base model learnt into its features (a background \
        tint) stays in frozen features, and unfreezing repaired every measured run (docs/benchmarks.md); \
        --branches attention+perception keeps it frozen (the paper's shape). With counterexamples, inputs and their \
        maps are mirrored and shifted alike and 10% of the edited samples are held out. --counterexamples 0 is the paper's \
        recipe exactly: the feature extractor frozen, no counterexamples, no augmentation, one replayed unedited sample per \
        edited one, no hold-out, the last epoch kept. Writes a new model file atomically and records the run (parameters, validation accuracy per epoch, \
        accuracy and attention metrics before and after on the test split, which is never used to choose) in the session. \
        docs/finetuning.md has the construction; docs/benchmarks.md how the defaults were chosen.
        """)

    @Option(name: .long, help: "Session directory.")
    var session: String

    @Option(name: .long, help: "Model file to write.")
    var out: String

    @Option(name: .long, help: "Model to start from (default: the session's model).")
    var model: String?

    @Option(name: .long, help: "all (the feature extractor trains too), attention+perception (the extractor frozen, the paper's shape), or attention (only the attention branch). (default: all, or attention+perception with --counterexamples 0)")
    var branches: TrainableBranches?

    @Option(name: .long, help: "Weight γ of the map loss.")
    var gamma: Float = FinetuneOptions().gamma

    @Option(name: .long, help: "Epochs over the edited samples. (default: 30, or more to make at least 900 steps)")
    var epochs: Int?

    @Option(name: .long, help: "Learning rate (SGD, momentum 0.9, weight decay 1e-4).")
    var lr: Float = FinetuneOptions().learningRate

    @Option(name: .long, help: "Batch size (edited + replayed samples).")
    var batchSize: Int = FinetuneOptions().batchSize

    @Option(name: .long, help: "Replayed unedited samples per edited sample. (default: 0, or 1 with --counterexamples 0)")
    var replay: Int?

    @Option(name: .long, help: "Counterexamples per edited sample each time it enters a batch; 0: the paper's recipe.")
    var counterexamples: Int = FinetuneOptions().counterexamples

    @Option(name: .long, help: ArgumentHelp("Pixels a counterexample's kept evidence region grows by. (default: 1 per 32 px of the input's shorter side, at least 1)", valueName: "px"))
    var dilation: Int?

    @Flag(name: .long, inversion: .prefixedNo, help: "Mirror and shift training inputs and their target maps alike. (default: on, off with --counterexamples 0)")
    var augment: Bool?

    @Flag(name: .long, inversion: .prefixedNo, help: "Train on each edited sample itself too, besides its counterexamples.")
    var originals = FinetuneOptions().keepOriginals

    @Option(name: .long, help: ArgumentHelp("Fraction of edited samples held out to choose the epoch by. (default: 0.1, or 0 with --counterexamples 0)", valueName: "fraction"))
    var holdout: Double?

    @Option(name: .long, help: "Stop once this many steps pass without a better validation accuracy (checked each epoch); 0: run every planned epoch and keep the best.")
    var patience: Int = FinetuneOptions().patience

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 0

    @Flag(name: .long, help: "Accept a model other than the session's, and record the change.")
    var allowModelChange = false

    @Option(name: .long, help: ArgumentHelp(
        "Arithmetic of the trained layers' convolutions, forward and backward: fp32, or bf16 (inputs, weights and "
            + "incoming gradients rounded to bfloat16, float accumulation and float weights; CPUs with AVX512_BF16 "
            + "only; about 1.3× faster for ResNet-50-ABN). 3×3 stride-1 layers stay fp32 on the Winograd kernel; the "
            + "frozen extractor, validation and the before/after evaluation stay fp32. Speed and outcome against fp32: "
            + "docs/benchmarks.md, \"bf16 fine-tuning\".",
        valueName: "fp32|bf16"))
    var precision: ConvolutionPrecision = FinetuneOptions().precision

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard gamma >= 0, (epochs ?? 1) >= 1, lr > 0, batchSize >= 2, (replay ?? 0) >= 0 else {
            throw ValidationError("need --gamma ≥ 0, --epochs ≥ 1, --lr > 0, --batch-size ≥ 2, --replay ≥ 0")
        }
        guard counterexamples >= 0, patience >= 0, dilation.map({ $0 >= 0 }) ?? true, holdout.map({ (0..<1).contains($0) }) ?? true else {
            throw ValidationError("need --counterexamples ≥ 0, --patience ≥ 0, --dilation ≥ 0 and --holdout in [0, 1)")
        }
    }

    func run() throws {
        try reportingErrors {
            compute.apply()
            try checkWritable(out)
            let s = try Session.open(URL(fileURLWithPath: session))
            let loaded = try loadSessionModel(s, override: model, allowChange: allowModelChange)
            var options = FinetuneOptions()
            options.branches = branches
            options.gamma = gamma
            options.epochs = epochs
            options.learningRate = lr
            options.batchSize = batchSize
            options.replayRatio = replay
            options.counterexamples = counterexamples
            options.dilation = dilation
            options.holdout = holdout
            options.keepOriginals = originals
            options.augment = augment
            options.patience = patience
            options.seed = seed
            options.precision = precision
            let report = try runFinetune(session: s, model: loaded, out: URL(fileURLWithPath: out), options: options)
            if let before = report.before, let after = report.after {
                print(compareReports(before, after))
            }
        }
    }
}

/// Fine-tunes with a progress line per step, then says what was trained, which epoch was kept and where it went.
func runFinetune(session: Session, model: LoadedModel, out: URL, options: FinetuneOptions) throws -> FinetuneReport {
    let printer = ProgressPrinter()
    let report = try finetune(session: session, model: model, out: out, options: options) { printer.show($0.work) }
    printer.show(WorkProgress(label: "finetune", done: report.steps, total: report.steps, unit: "batch",
                              detail: String(format: "map loss %.4f", report.finalMapLoss), finished: true))
    let kept = report.validationAccuracy.isEmpty ? "" : String(format: "; kept epoch %d of %d (validation accuracy %.1f%% on %d held-out samples' counterexamples)",
        report.keptEpoch, report.epochs, 100 * report.validationAccuracy[report.keptEpoch - 1], report.heldOut)
    let trained: String
    switch options.effectiveBranches {
    case .all: trained = "the whole network"
    case .attentionAndPerception: trained = "the attention and perception branches (feature extractor frozen)"
    case .attention: trained = "the attention branch"
    }
    note("epochs took " + report.epochSeconds.map { String(format: "%.1f", $0) }.joined(separator: ", ") + " s")
    if report.featuresFromCache + report.featuresComputed > 0 {
        note("feature cache: g(x) of \(report.featuresFromCache) inputs reused, \(report.featuresComputed) computed by the frozen extractor")
    }
    if report.excludedSamples > 0 { note("skipped \(report.excludedSamples) excluded sample\(report.excludedSamples == 1 ? "" : "s") (marked x in review)") }
    let arithmetic = options.precision == .fp32 ? "" : " in \(options.precision.rawValue)"
    note("fine-tuned \(trained)\(arithmetic) on \(report.editedSamples - report.heldOut) edited samples in \(report.steps) steps\(kept); wrote \(out.path)")
    return report
}

/// Before/after side by side.
func compareReports(_ before: EvalReport, _ after: EvalReport) -> String {
    func row(_ name: String, _ a: Double?, _ b: Double?, _ format: (Double) -> String) -> String? {
        guard let a, let b else { return nil }
        // Percentages change in percentage points; other metrics in their own units.
        let change = format(1) == percent(1) ? String(format: "%+.1f pt", 100 * (b - a)) : String(format: "%+.3f", b - a)
        return pad(name, 34) + pad(format(a), 10) + pad(format(b), 10) + change
    }
    let three = { (x: Double) in String(format: "%.3f", x) }
    let lines: [String?] = [
        pad("on split \(after.split) (\(after.n) images)", 34) + pad("before", 10) + pad("after", 10) + "change",
        row("accuracy (perception branch)", before.accuracy, after.accuracy, percent),
        row("accuracy (attention branch)", before.attentionBranchAccuracy, after.attentionBranchAccuracy, percent),
        row("attention mass in mask", before.attention?.massInMask, after.attention?.massInMask, three),
        row("pointing game", before.attention?.pointingGame, after.attention?.pointingGame, percent),
        row("IoU (M ≥ 0.5 vs mask)", before.attention?.iou, after.attention?.iou, three),
        row("decoy mass", before.attention?.decoyMass, after.attention?.decoyMass, three),
    ]
    return lines.compactMap { $0 }.joined(separator: "\n")
}
