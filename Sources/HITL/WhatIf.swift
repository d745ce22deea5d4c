import ABN
import ABNData
import Foundation

/// Re-runs only the perception branch under an edited map, from cached feature-extractor output
/// g(x), so the review UI can show the model's answer under an edit within milliseconds (ResNet-20-ABN
/// at 32×32: see WhatIfTests for the measurement). The model is used in evaluation mode only.
public final class WhatIf {
    public let model: LoadedModel
    private let splitURL: URL
    /// Most recently used last; bounded because an ImageNet-size g(x) is ~0.8 MB per sample. With g(x)
    /// the map's display scale (1 for sigmoid maps), so an edit of an unbounded map does not rerun the
    /// attention branch on every stroke.
    private var cache: [(path: String, features: Tensor, mapScale: Float)] = []
    public let cacheLimit: Int

    public init(model: LoadedModel, dataRoot: URL, split: String, cacheLimit: Int = 256) {
        self.model = model
        self.splitURL = dataRoot.appendingPathComponent(split)
        self.cacheLimit = max(1, cacheLimit)
    }

    /// For a session's samples (its dataset root and split).
    public convenience init(model: LoadedModel, session: Session) {
        self.init(model: model, dataRoot: URL(fileURLWithPath: session.info.dataRoot), split: session.info.split)
    }

    /// The model input for a collected sample (its image, preprocessed as the model expects).
    public func input(relativePath: String) throws -> Tensor {
        let m = model.metadata
        let url = try SamplePath.resolve(relativePath, under: splitURL)
        return Tensor(shape: [1, m.inputChannels, m.inputHeight, m.inputWidth], data: try loadInput(url, m.preprocessing))
    }

    /// g(x) of a sample, computed once while it stays among the most recently used.
    public func features(relativePath: String) throws -> Tensor {
        try cached(relativePath).features
    }

    /// g(x) and the display scale of M(x) (ABNModel.mapDisplayScale), made together once per sample.
    private func cached(_ relativePath: String) throws -> (features: Tensor, mapScale: Float) {
        if let i = cache.firstIndex(where: { $0.path == relativePath }) {
            let hit = cache.remove(at: i)
            cache.append(hit)
            return (hit.features, hit.mapScale)
        }
        let f = try model.model.extractFeatures(try input(relativePath: relativePath))
        let scale = model.model.mapIsBounded ? 1 : model.model.mapDisplayScale(try model.model.attentionBranch(features: f).map.data)
        if cache.count >= cacheLimit { cache.removeFirst() }
        cache.append((relativePath, f, scale))
        return (f, scale)
    }

    /// Perception-branch softmax probabilities with `map` (row-major, map resolution, in the sessions'
    /// [0, 1] space) in place of M(x). An unbounded map's edit goes back to the model's scale by the
    /// sample's own display scale, max M(x), so the unedited map gives the model's own answer.
    public func probabilities(relativePath: String, map: [Float]) throws -> [Float] {
        let h = model.model.mapHeight, w = model.model.mapWidth
        guard map.count == h * w else {
            throw SessionError(relativePath, "a what-if map must have \(h)×\(w) values, got \(map.count)")
        }
        let (g, scale) = try cached(relativePath)
        let raw = scale == 1 ? map : map.map { $0 * scale }
        let logits = try model.model.perceptionBranch(features: g, map: Tensor(shape: [1, 1, h, w], data: raw))
        return softmax(logits.data)
    }
}
