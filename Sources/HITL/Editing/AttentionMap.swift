// An attention map at the model's map resolution (e.g. 16×16 for a 32×32 CIFAR image, 14×14 for a
// 224×224 ImageNet image). Editing never changes its resolution: the brush works at image
// resolution and only the per-cell coverage reaches the map (see StrokeCoverage.swift).

public struct AttentionMap: Equatable, Sendable {
    public var height: Int
    public var width: Int
    /// Row-major, `height * width` values in [0, 1] (the raw sigmoid output of the attention branch).
    public var values: [Float]

    public init(height: Int, width: Int, values: [Float]) {
        self.height = height
        self.width = width
        self.values = values
    }

    /// A map filled with one value.
    public init(height: Int, width: Int, fill: Float) {
        self.init(height: max(0, height), width: max(0, width),
                  values: Array(repeating: fill, count: max(0, height) * max(0, width)))
    }

    /// True when the shape is positive and the value count matches it. Operations given an
    /// inconsistent map leave it alone instead of indexing out of range.
    public var isWellFormed: Bool {
        height > 0 && width > 0 && height.multipliedReportingOverflow(by: width).overflow == false
            && values.count == height * width
    }

    /// The value at (row, column), or nil outside the map.
    public func value(row: Int, column: Int) -> Float? {
        guard isWellFormed, row >= 0, row < height, column >= 0, column < width else { return nil }
        return values[row * width + column]
    }

    /// The same map with every value forced into [0, 1]; NaN becomes 0 so that a corrupt value
    /// cannot spread through later blends.
    public func clamped() -> AttentionMap {
        var copy = self
        copy.values = values.map { v in v.isNaN ? 0 : min(1, max(0, v)) }
        return copy
    }
}
