import ArgumentParser
import ABN
import ABNData
import HITL
import Foundation

struct Collect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store the samples a model gets wrong (or all) in a review session, with both branches' outputs and the attention map.",
        discussion: """
        Runs the model over the split in evaluation mode. By default the misclassified samples, most confident \
        mistakes first. A model that is right for the wrong reason makes few mistakes on its training data: \
        --select all also takes the correctly classified ones. Running it again adds nothing twice. A session \
        refuses a different model (by SHA-256) unless --allow-model-change is given, which is then recorded.
        """)

    @OptionGroup var input: ModelAndDataOptions

    @Option(name: .long, help: "Session directory (created if missing), e.g. sessions/run1.")
    var session: String

    @Option(name: .long, help: "Split to collect from.")
    var split: String = "train"

    @Option(name: .long, help: "misclassified or all.")
    var select: CollectSelection = .misclassified

    @Option(name: .long, help: "Keep at most N samples (the first in the order above).")
    var limit: Int?

    @Flag(name: .long, help: "Accept a model other than the one the session was collected with, and record the change.")
    var allowModelChange = false

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var precision: PrecisionOptions

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            compute.apply()
            try precision.apply()
            let (loaded, folder) = try input.load(split: split)
            let summary = try collect(model: loaded, folder: folder, session: URL(fileURLWithPath: session),
                                      selection: select, limit: limit,
                                      allowModelChange: allowModelChange,
                                      progress: ProgressPrinter().handler)
            if folder.skippedCount > 0 { note("skipped \(folder.skippedCount) bad files (listed above)") }
            note("scanned \(summary.scanned) images (accuracy \(percent(summary.accuracy))); selected \(summary.selected), added \(summary.added) new to \(session)")
        }
    }
}
