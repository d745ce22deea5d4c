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
    /// Per input: its g(x), and the rows of the extraction that made it.
    private var stored: [String: (rows: Int, features: [Float])] = [:]
    private(set) var bytes = 0
    /// Inputs whose g(x) came from the cache, and inputs `features` ran through the extractor.
    private(set) var served = 0
    private(set) var computed = 0

    init(budget: Int) { self.budget = budget }

    /// g(x) [N, C', h, w] of the batch `inputs` [N, C, H, W] from the frozen extractor, run on `rows`
    /// rows (≥ N): a smaller batch is padded with copies of its last input and the padding's g(x)
    /// dropped. The extractor's kernels depend on the batch size (Winograd only with enough tiles
    /// for every thread), so g(x) of one sample is the same bits in any batch of the same size, not
    /// across sizes; extracting every batch of a run at one size makes a sample's g(x) the same in
    /// every epoch, whichever batch it falls in (the last, smaller batch of an epoch included).
    static func extract(_ inputs: Tensor, rows: Int, model: ABNModel) throws -> Tensor {
        let n = inputs.shape[0]
        guard rows > n, n > 0 else { return try model.extractFeatures(inputs) }
        let size = inputs.data.count / n
        var padded = inputs.data
        padded.reserveCapacity(rows * size)
        for _ in n..<rows { padded += inputs.data[((n - 1) * size)..<(n * size)] }
        let f = try model.extractFeatures(Tensor(shape: [rows] + Array(inputs.shape.dropFirst()), data: padded))
        return Tensor(shape: [n] + Array(f.shape.dropFirst()), data: Array(f.data[0..<(n * f.data.count / rows)]))
    }

    /// `extract(inputs, rows:, model:)`, `keys[i]` naming the input that never changes behind row i (nil:
    /// one that is never the same twice, such as a fresh counterexample). From the cache only when
    /// every row is stored from an extraction of the same `rows`; otherwise the extractor runs on the
    /// whole batch, exactly as without the cache, and the rows not yet stored are kept while the
    /// budget lasts (all or nothing: computing only the missing rows would be another batch size).
    func features(of inputs: Tensor, keys: [String?], rows: Int, model: ABNModel) throws -> Tensor {
        let n = inputs.shape[0]
        precondition(keys.count == n, "one key per input")
        let hits = keys.compactMap { key in key.flatMap { stored[$0] }.flatMap { $0.rows == rows ? $0.features : nil } }
        if hits.count == n {
            served += n
            return Tensor(shape: [n] + model.featureShape, data: Array(hits.joined()))
        }
        let f = try Self.extract(inputs, rows: rows, model: model)
        computed += n
        let size = f.data.count / n
        for (i, key) in keys.enumerated() {
            guard let key, stored[key] == nil, bytes + 4 * size <= budget else { continue }
            bytes += 4 * size
            stored[key] = (rows, Array(f.data[(i * size)..<((i + 1) * size)]))
        }
        return f
    }
}
