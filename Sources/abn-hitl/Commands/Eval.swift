import ArgumentParser
import ABN
import ABNData
import HITL
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a model: accuracy of both branches, per-class accuracy, confusion, attention metrics.",
        discussion: """
        Attention metrics appear where the dataset has masks/<split> (mass in mask, pointing game, IoU of M ≥ 0.5 \
        against mask ≥ 0.5) or decoys/<split> (decoy mass: the share of attention on a known spurious cue).

        --faithfulness adds deletion and insertion AUC (Petsiuk et al., RISE) of each --method's map (default abn,cam,gradcam; \
        gradcam++ too): per image, the pixels are ranked by the map (upsampled bilinearly to the input), removed most \
        salient first in --steps equal steps (deletion; removed pixels become the normalisation mean, 0 after \
        normalising) or put back in that order into the mean image (insertion), and the perception branch's \
        probability of the class it predicts on the unmodified image is recorded after each step; the AUC is the \
        trapezoid area over the fraction changed, 0–1. Lower deletion and higher insertion AUC mean the map ranks \
        the pixels the decision depends on first. The means over the split are reported, and in --json as \
        "faithfulness": {"n", "steps", "baseline", "methods": {METHOD: {"deletion_auc", "insertion_auc"}}}.
        """)

    @OptionGroup var input: ModelAndDataOptions

    @Option(name: .long, help: "Split to evaluate.")
    var split: String = "test"

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    @Flag(name: .long, help: "Also measure deletion and insertion AUC of each --method's map.")
    var faithfulness = false

    @Option(name: .long, help: ArgumentHelp("Maps --faithfulness scores: abn, cam, gradcam, gradcam++ (repeatable, or comma-separated; default abn,cam,gradcam).",
                                            valueName: "method"))
    var method: [ExplanationMethodList] = []

    @Option(name: .long, help: "Steps of the --faithfulness curves (pixels changed per step: pixels/steps).")
    var steps: Int = 32

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var precision: PrecisionOptions

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if !faithfulness && (!method.isEmpty || steps != 32) {
            throw ValidationError("--method and --steps apply with --faithfulness")
        }
    }

    func run() throws {
        try reportingErrors {
            compute.apply()
            try precision.apply()
            let (loaded, folder) = try input.load(split: split)
            var report = try evaluate(model: loaded, folder: folder, progress: json ? nil : ProgressPrinter().handler)
            if faithfulness {
                let chosen = ExplanationMethodList.flattened(method)
                report.faithfulness = try HITL.faithfulness(model: loaded, folder: folder, methods: chosen.isEmpty ? [.abn, .cam, .gradcam] : chosen,
                                                            steps: steps, progress: json ? nil : ProgressPrinter().handler)
            }
            if json {
                try printJSON(report)
            } else {
                print(formatReport(report, classes: loaded.metadata.classes))
            }
            if folder.skippedCount > 0 { note("skipped \(folder.skippedCount) bad files (listed above)") }
        }
    }
}

/// A dataset whose classes differ from the model's would be scored against the wrong names.
func checkClasses(folder: ImageFolder, model: LoadedModel) throws {
    guard folder.classes == model.metadata.classes else {
        throw CommandError("\(folder.root.path)/\(folder.split): classes \(folder.classes) differ from the model's \(model.metadata.classes) (\(model.url.path))")
    }
}

/// The plain-text form of an evaluation: summary, per-class accuracy, confusion matrix.
func formatReport(_ r: EvalReport, classes: [String]) -> String {
    var lines: [String] = []
    lines.append("split \(r.split): \(r.n) images")
    lines.append("accuracy (perception branch): \(percent(r.accuracy))")
    lines.append("accuracy (attention branch):  \(percent(r.attentionBranchAccuracy))")
    if let a = r.attention {
        if let v = a.massInMask { lines.append("attention mass in mask: \(String(format: "%.3f", v))") }
        if let v = a.pointingGame { lines.append("pointing game:          \(percent(v))") }
        if let v = a.iou { lines.append("IoU (M ≥ 0.5 vs mask):  \(String(format: "%.3f", v))") }
        if let v = a.decoyMass { lines.append("decoy mass:             \(String(format: "%.3f", v))") }
    }
    if let f = r.faithfulness {
        lines.append("faithfulness (\(f.n) images, \(f.steps) steps, removed pixels = the normalisation mean):")
        lines.append("  method      deletion AUC (lower is better)  insertion AUC (higher is better)")
        for method in ExplanationMethod.allCases.map(\.rawValue) {
            guard let s = f.methods[method] else { continue }
            lines.append("  " + pad(method, 11) + " " + pad(String(format: "%.3f", s.deletionAUC), 31) + " " + String(format: "%.3f", s.insertionAUC))
        }
    }
    let width = max(8, (classes.map(\.count).max() ?? 0) + 1)
    lines.append("")
    lines.append(pad("class", width) + " accuracy")
    for name in classes {
        lines.append(pad(name, width) + " " + (r.perClassAccuracy[name].map(percent) ?? "-"))
    }
    lines.append("")
    lines.append("confusion (rows: true, columns: predicted)")
    lines.append(pad("", width) + classes.map { pad(String($0.prefix(6)), 7) }.joined())
    for (i, row) in r.confusion.enumerated() where i < classes.count {
        lines.append(pad(classes[i], width) + row.map { pad(String($0), 7) }.joined())
    }
    return lines.joined(separator: "\n")
}
