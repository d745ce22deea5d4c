import ArgumentParser
import ABN
import HITL
import ReviewUI
import Foundation

struct Review: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Review a session in the terminal: paint and erase attention while the prediction under the edit updates live.",
        discussion: """
        The review opens at the first untouched sample (not edited, accepted, flagged or excluded). Keys (the ? \
        help lists them too): \(keyBindingsSummary). Undo and redo take back mark changes too, in order with strokes. \
        Mouse: left drag applies the tool, right drag the other one, wheel changes the radius. Every stroke is \
        saved to the session before the next key is read. Several annotators may review one session at once: \
        before changing a sample, review checks whether someone else has stored work on it since, and if so \
        continues on their map and says who and when.
        """)

    @Argument(help: "Session directory.")
    var session: String

    @Option(name: .long, help: ArgumentHelp("Annotator name recorded with each edit and mark (default: your login name, from the password database, else $USER or $LOGNAME). Others reviewing the same session at the same time see it when they meet your work."))
    var annotator: String = loginName()

    @Option(name: .long, help: "Model for the live prediction (default: the session's model).")
    var model: String?

    @Option(name: .long, help: ArgumentHelp("Class activation map the c key shows: cam, gradcam or gradcam++ (as explain --method).",
                                            valueName: "method"))
    var cam = ClassMapMethod(.gradcam)

    @Option(name: .long, help: ArgumentHelp("Colours: auto (24-bit when COLORTERM is truecolor/24bit or terminfo has RGB, else what terminfo offers), truecolor, 256, 16 or none (shading glyphs). NO_COLOR leaves the chrome uncoloured; the canvas keeps its colours.",
                                            valueName: "mode"))
    var color: ColorMode = .auto

    @Option(name: .long, help: ArgumentHelp("Canvas drawing: auto (kitty's graphics protocol when the terminal answers its query; never under tmux or screen, nor without 24-bit colour), kitty (images without asking) or none (half blocks).",
                                            valueName: "mode"))
    var graphics: GraphicsMode = .auto

    @Flag(name: .long, help: "a accepts and stays on the sample (default: it moves on to the next one in the list).")
    var noAdvance = false

    @Flag(name: .long, help: "Accept a model other than the session's, and record the change.")
    var allowModelChange = false

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        if let conflict = graphics.conflict(with: color) { throw ValidationError(conflict) }
    }

    func run() throws {
        try reportingErrors {
            compute.apply()
            let s = try Session.open(URL(fileURLWithPath: session))
            let loaded = try loadSessionModel(s, override: model, allowChange: allowModelChange)
            let backend = try SessionReviewBackend(session: s, model: loaded, annotator: annotator, classMapMethod: cam.method)
            guard !backend.samples.isEmpty else { throw CommandError("\(session): the session has no samples (collect some first)") }
            Session.lockNotice = nil  // stderr would scribble over the screen; the save indicator shows the wait
            let final = try ReviewApp.run(backend: backend, annotator: annotator, advanceOnAccept: !noAdvance, colorMode: color, graphicsMode: graphics,
                                          environment: ProcessInfo.processInfo.environment)
            if let report = final.unsavedReport { throw CommandError("\(session): \(report)") }
        }
    }
}

/// `review --color`: auto, truecolor, 256, 16 or none; anything else is a usage error listing them.
extension ColorMode: ExpressibleByArgument {}

/// `review --graphics`: auto, kitty or none.
extension GraphicsMode: ExpressibleByArgument {}
