import ArgumentParser
import ABN
import ABNData
import HITL
import ReviewUI
import Foundation

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The whole human-in-the-loop cycle on the built-in shortcut dataset, in a few minutes.",
        discussion: """
        synth → train → eval → collect into sessions/demo → review (in a terminal; otherwise, or with --auto, \
        the dataset's object masks play the annotator) → finetune → eval, then accuracy and attention metrics \
        before and after side by side. Work files go to --workdir (default runs/demo); existing data and model \
        there are reused, --fresh starts over.
        """)

    @Flag(name: .long, help: "Let the dataset's masks play the annotator instead of opening the review UI.")
    var auto = false

    @Flag(name: .long, help: "Delete the demo's data, model and session first.")
    var fresh = false

    @Option(name: .long, help: "Directory for the demo's data and models.")
    var workdir: String = "runs/demo"

    @Option(name: .long, help: "Session directory.")
    var session: String = "sessions/demo"

    @Option(name: .long, help: "Training images to synthesise.")
    var train: Int = 2000

    @Option(name: .long, help: "Training epochs.")
    var epochs: Int = 6

    @Option(name: .long, help: "Attention mechanism of the demo model: residual (g·(1+M)) or multiply (g·M).")
    var attention: AttentionMechanism = TrainOptions.defaults.attention

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard train >= 64, epochs >= 1 else { throw ValidationError("--train must be at least 64 and --epochs at least 1") }
    }

    func run() throws {
        try reportingErrors {
            compute.apply()
            let fm = FileManager.default
            let work = URL(fileURLWithPath: workdir)
            let data = work.appendingPathComponent("data")
            let model = work.appendingPathComponent("model.safetensors")
            let tuned = work.appendingPathComponent("model-finetuned.safetensors")
            let sessionURL = URL(fileURLWithPath: session)
            if fresh {
                for url in [data, model, Trainer.checkpointURL(for: model), tuned, sessionURL] { try? fm.removeItem(at: url) }
            }
            try fm.createDirectory(at: work, withIntermediateDirectories: true)

            step(1, "synthesise the shortcut dataset in \(data.path)")
            if fm.fileExists(atPath: data.appendingPathComponent("train").path) {
                note("  (reusing it)")
            } else {
                try ShortcutDataset.generate(at: data, train: train, test: max(200, train / 4), seed: 0)
            }

            step(2, "train an ABN (\(attention.rawValue)) for \(epochs) epochs")
            if fm.fileExists(atPath: model.path) {
                note("  (reusing \(model.path))")
            } else {
                var options = TrainOptions(dataRoot: data.path)
                options.epochs = epochs
                options.attention = attention
                let trainer = try Trainer(options: options, out: model)
                trainer.progress = ProgressPrinter().handler
                StopSignal.install()
                let result = try trainer.run()
                StopSignal.uninstall()
                guard result.completed else { throw stopped(result) }
            }
            let loaded = try ModelFile.load(contentsOf: model)

            step(3, "evaluate on the shortcut-free test split")
            let test = try ImageFolder(root: data, split: "test")
            let trainFolder = try ImageFolder(root: data, split: "train")
            let before = try evaluate(model: loaded, folder: test)
            let beforeTrain = try evaluate(model: loaded, folder: trainFolder)
            note("  train accuracy \(percent(beforeTrain.accuracy)), test accuracy \(percent(before.accuracy)), decoy mass \(String(format: "%.3f", before.attention?.decoyMass ?? 0)): the model leans on the patch")

            step(4, "collect samples into \(session)")
            let summary = try collect(model: loaded, folder: trainFolder, session: sessionURL, selection: .all, limit: 500,
                                      allowModelChange: true, progress: ProgressPrinter().handler)
            note("  \(summary.added) new samples (\(summary.selected) selected)")

            let s = try Session.open(sessionURL)
            let interactive = !auto && isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0
            if interactive {
                step(5, "review: paint attention onto the object, erase it from the corner patch; q when done")
                let backend = try SessionReviewBackend(session: s, model: loaded, annotator: loginName())
                try ReviewApp.run(backend: backend, annotator: "demo", environment: ProcessInfo.processInfo.environment)
            }
            if try s.samples().allSatisfy({ !$0.edited && !$0.accepted }) || !interactive {
                if interactive {
                    note("  nothing was edited or accepted, so the object masks play the annotator (import-maps)")
                } else {
                    step(5, "the object masks play the annotator (import-maps)")
                }
                let whatIf = WhatIf(model: loaded, dataRoot: data, split: "train")
                let imported = try importMaps(session: s, masks: data.appendingPathComponent("masks/train"), whatIf: whatIf, annotator: "masks")
                note("  \(imported.imported) maps imported")
            }

            step(6, "fine-tune with L_map and counterexamples")
            let report = try runFinetune(session: s, model: loaded, out: tuned, options: FinetuneOptions())
            step(7, "before and after")
            if let b = report.before, let a = report.after { print(compareReports(b, a)) }
            note("\nsession: \(session) (abn-hitl review \(session); abn-hitl export --session \(session) --out audit)")
        }
    }

    private func step(_ n: Int, _ text: String) {
        note("[\(n)/7] \(text)")
    }
}
