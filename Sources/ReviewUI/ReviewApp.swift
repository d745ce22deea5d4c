// The interactive review: render, flush, read one input, reduce, run its effects, repeat.
import HITL

public enum ReviewApp {
    /// Blocks until the person quits (q, Ctrl-C) or SIGINT/SIGTERM/SIGHUP arrives; every completed
    /// stroke is committed through `backend` before the next input is read. The terminal is restored
    /// (mouse reporting off, endwin) on every exit path, including thrown errors. `advanceOnAccept`:
    /// `a` moves on to the next sample in the list (`review --no-advance` turns it off).
    /// `colorMode` and `environment` (COLORTERM, NO_COLOR) decide the colours (ColorMode.swift);
    /// `graphicsMode`, the colours and `environment` (TMUX, TERM) whether the canvas is drawn as
    /// images with kitty's graphics protocol (GraphicsMode.swift).
    /// Returns the final state, so the caller can report edits that could not be saved.
    @discardableResult
    public static func run(backend: ReviewBackend, annotator: String, advanceOnAccept: Bool = true,
                           colorMode: ColorMode = .auto, graphicsMode: GraphicsMode = .auto,
                           environment: [String: String] = [:]) throws -> ReviewState {
        let terminal = try Terminal(colorMode: colorMode, graphicsMode: graphicsMode, environment: environment)
        defer { terminal.stop() }
        var driver = ReviewDriver(backend: backend, annotator: annotator, advanceOnAccept: advanceOnAccept)
        var size = terminal.size
        var needsDraw = true
        while true {
            if needsDraw {
                // The last frame before quitting needs no images: they are deleted on the way out.
                terminal.draw(renderFrame(driver.state, size: size, colors: terminal.capability, plainChrome: terminal.setup.plainChrome,
                                          images: terminal.showsImages && !driver.state.quitting))
            }
            if driver.state.quitting { return driver.state }
            // The timeout only lets the loop notice signals; an idle screen is not redrawn.
            let events = terminal.read(timeoutMilliseconds: 200)
            needsDraw = !events.isEmpty
            if terminal.signalReceived {
                // Commit a drag in progress, then leave through the normal path.
                driver.send(.quit)
                return driver.state
            }
            for event in events {
                if event == .resize {
                    size = terminal.size
                    terminal.invalidate()
                }
                for action in actions(for: event, in: driver.state, size: size) { driver.send(action) }
            }
        }
    }
}
