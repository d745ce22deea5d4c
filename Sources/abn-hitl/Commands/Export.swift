import ArgumentParser
import HITL
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export the edited maps with their history for audits (PNGs, edits.csv, manifest.json).",
        discussion: """
        For each edited or accepted sample: the image, the original and edited maps (jet), a blend over the image \
        and a difference (red: attention added, blue: removed). edits.csv lists every edit ever made; \
        manifest.json records provenance (annotators, times, model SHA-256, dataset, predictions before and under \
        the edit). The same session gives byte-identical output.
        """)

    @Option(name: .long, help: "Session directory.")
    var session: String

    @Option(name: .long, help: "Output directory: new, empty, or an earlier export (replaced as a whole, so a kill leaves the old export or the complete new one).")
    var out: String

    func run() throws {
        try reportingErrors {
            let s = try Session.open(URL(fileURLWithPath: session), readOnly: true)
            let summary = try export(session: s, to: URL(fileURLWithPath: out))
            note("exported \(summary.samples) samples and \(summary.edits) edits to \(out)")
        }
    }
}
