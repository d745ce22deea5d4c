import ABN
import Foundation

/// g(x) of fine-tuning inputs that do not change from epoch to epoch, computed once and reused.
/// Only valid with the feature extractor frozen: its BatchNorms then use their running statistics,
/// so g(x) is a pure function of x (and the features-based step is the input-based step).
/// Up to `budget` bytes of features are kept; inputs beyond it are run through the extractor
/// every time, as without the cache.
final class FeatureCache {
    /// 2 GiB: 2,700 samples of ResNet-50 at 224² (1024 × 14 × 14 floats each), 130,000 at 32².
    static let defaultBudget = 2 << 30

    /// `ABN_FEATURE_CACHE` = the budget in MiB (0 turns the cache off, e.g. to time the uncached path);
    /// unset: `defaultBudget`.
    static func budgetFromEnvironment() throws -> Int {
        try budget(fromEnvironmentValue: ProcessInfo.processInfo.environment["ABN_FEATURE_CACHE"])
    }

    /// The budget in bytes for a value of ABN_FEATURE_CACHE; anything but a whole number of MiB from 0
    /// to 2^40 is an error rather than a silent default.
    static func budget(fromEnvironmentValue value: String?) throws -> Int {
        guard let value else { return defaultBudget }
        guard let mib = Int(value.trimmingCharacters(in: .whitespaces)), (0...(1 << 40)).contains(mib) else {
            throw FinetuneError("ABN_FEATURE_CACHE must be the feature cache's budget in MiB (0 turns it off), not '\(value)'")
        }
        return mib << 20
    }

    let budget: Int
    /// Per input: its g(x), and the size of the batch it was computed in.
    private var stored: [String: (batch: Int, features: [Float])] = [:]
    private(set) var bytes = 0
    /// Inputs whose g(x) came from the cache, and inputs `features` ran through the extractor.
    private(set) var served = 0
    private(set) var computed = 0

    init(budget: Int) { self.budget = budget }

    /// g(x) [N, C', h, w] of the batch `inputs` [N, C, H, W], `keys[i]` naming the input that never
    /// changes behind row i (nil: one that is never the same twice, such as a fresh counterexample).
    /// From the cache only when every row is stored from a batch of the same size N; otherwise the
    /// extractor runs on the whole batch, exactly as the step from the inputs would, and the rows not
    /// yet stored (or stored from a smaller batch) are kept while the budget lasts. All or nothing, and
    /// by batch size, because the extractor's kernels depend on the batch (Winograd only with enough
    /// tiles for every thread): g(x) of one sample is bit for bit the same in any batch of the same
    /// size, not across sizes, and computing only the missing rows would be a smaller batch.
    func features(of inputs: Tensor, keys: [String?], model: ABNModel) throws -> Tensor {
        let n = inputs.shape[0]
        precondition(keys.count == n, "one key per input")
        let hits = keys.compactMap { key in key.flatMap { stored[$0] }.flatMap { $0.batch == n ? $0.features : nil } }
        if hits.count == n {
            served += n
            return Tensor(shape: [n] + model.featureShape, data: Array(hits.joined()))
        }
        let f = try model.extractFeatures(inputs)
        computed += n
        let size = f.data.count / n
        for (i, key) in keys.enumerated() {
            // A version from a larger batch wins: the last, smaller batch of an epoch would otherwise
            // leave its samples stored at a size that no later full batch matches.
            guard let key else { continue }
            let old = stored[key]
            guard (old?.batch ?? 0) < n, old != nil || bytes + 4 * size <= budget else { continue }
            if old == nil { bytes += 4 * size }
            stored[key] = (n, Array(f.data[(i * size)..<((i + 1) * size)]))
        }
        return f
    }
}
