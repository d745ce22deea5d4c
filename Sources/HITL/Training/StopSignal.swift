import Foundation

/// Turns the first Ctrl-C (SIGINT) or SIGTERM into a polite request to stop after the current
/// batch; a second one ends the process at once, as a user pressing Ctrl-C twice expects.
public enum StopSignal {
    nonisolated(unsafe) private static var requested: Int32 = 0

    public static var isRequested: Bool { requested != 0 }

    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { sig in
            if StopSignal.requested != 0 {
                signal(sig, SIG_DFL)
                raise(sig)
            }
            StopSignal.requested = 1
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }

    /// Back to the default handlers (e.g. before handing the terminal to the review UI).
    public static func uninstall() {
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        requested = 0
    }

    /// For tests: pretend a stop was requested.
    public static func simulate() { requested = 1 }
    public static func reset() { requested = 0 }
}
