import ArgumentParser
import ABN
import ABNData
import HITL

/// `--threads`, shared by every command that computes.
struct ComputeOptions: ParsableArguments {
    @Option(name: .long, help: "Compute threads (1–256).")
    var threads: Int = 2

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
    }

    /// Sets the engine's thread count; call first thing in run().
    func apply() { setComputeThreads(threads) }
}

// The choices the commands take, parsed by their raw values; a bad value gets ArgumentParser's
// usage error, which lists the valid ones.
extension AttentionMechanism: ExpressibleByArgument {}
extension CollectSelection: ExpressibleByArgument {}
extension ShortcutKind: ExpressibleByArgument {}

/// Fine-tuning trains the attention and perception branches, or the attention branch alone; `all`
/// (the feature extractor too) is not offered.
extension TrainableBranches: ExpressibleByArgument {
    public init?(argument: String) {
        guard let b = TrainableBranches(rawValue: argument), b != .all else { return nil }
        self = b
    }

    public static var allValueStrings: [String] { allCases.filter { $0 != .all }.map(\.rawValue) }
}
