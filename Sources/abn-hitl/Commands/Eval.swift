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
        """)

    @OptionGroup var input: ModelAndDataOptions

    @Option(name: .long, help: "Split to evaluate.")
    var split: String = "test"

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    @OptionGroup var compute: ComputeOptions

    func run() throws {
        try reportingErrors {
            compute.apply()
            let (loaded, folder) = try input.load(split: split)
            let report = try evaluate(model: loaded, folder: folder, progress: json ? nil : ProgressPrinter().handler)
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
