import ABNData

/// Fine-tuning augmentation that keeps an input and its target map aligned: a left–right mirror and a
/// shift by whole map cells (so the map moves exactly with the image), the uncovered border filled with
/// black in the image (torchvision's zero padding, after normalisation) and 0 in the map. The shift is up
/// to an eighth of the input, rounded to cells (±2 cells = ±4 px at 32² with a 16² map, as the official
/// CIFAR training's 4-px crop; ±2 cells = ±32 px at 224² with a 14² map). Pure; CHW inputs, row-major maps.
public struct TargetAugmentation: Sendable, Equatable {
    public let channels: Int, height: Int, width: Int
    public let mapHeight: Int, mapWidth: Int
    /// The normalised value of a black pixel, per channel.
    public let padding: [Float]
    public let maxShiftCells: Int

    public init(preprocessing p: Preprocessing, mapHeight: Int, mapWidth: Int) {
        channels = p.channels
        height = p.height
        width = p.width
        self.mapHeight = mapHeight
        self.mapWidth = mapWidth
        padding = (0..<p.channels).map { (0 - p.mean[$0]) / p.std[$0] }
        let cell = Double(p.height) / Double(mapHeight)
        maxShiftCells = max(1, Int((Double(p.height) / 8 / cell).rounded()))
    }

    public struct Draw: Sendable, Equatable {
        /// Shift right and down, in map cells.
        public var dx: Int, dy: Int
        public var flip: Bool
        public init(dx: Int, dy: Int, flip: Bool) {
            self.dx = dx
            self.dy = dy
            self.flip = flip
        }
    }

    public func draw(using rng: inout SplitMix64) -> Draw {
        let s = maxShiftCells
        return Draw(dx: rng.nextInt(in: -s...s), dy: rng.nextInt(in: -s...s), flip: rng.nextDouble() < 0.5)
    }

    /// Output (x, y) reads the source at (x − shift) mirrored when flipped; outside the source it is `fill`.
    private static func remap(_ source: [Float], planes: Int, height: Int, width: Int, shiftX: Int, shiftY: Int, flip: Bool,
                              fill: (Int) -> Float) -> [Float] {
        let plane = height * width
        var out = [Float](repeating: 0, count: source.count)
        for c in 0..<planes {
            for y in 0..<height {
                let sy = y - shiftY
                for x in 0..<width {
                    let ux = x - shiftX
                    let sx = flip ? width - 1 - ux : ux
                    out[c * plane + y * width + x] = sy < 0 || sy >= height || ux < 0 || ux >= width
                        ? fill(c) : source[c * plane + sy * width + sx]
                }
            }
        }
        return out
    }

    private func pixels(_ cells: Int, _ size: Int, _ mapSize: Int) -> Int {
        Int((Double(cells) * Double(size) / Double(mapSize)).rounded())
    }

    public func apply(_ d: Draw, image: [Float]) -> [Float] {
        precondition(image.count == channels * height * width)
        return Self.remap(image, planes: channels, height: height, width: width, shiftX: pixels(d.dx, width, mapWidth),
                          shiftY: pixels(d.dy, height, mapHeight), flip: d.flip, fill: { padding[$0] })
    }

    public func apply(_ d: Draw, map: [Float]) -> [Float] {
        precondition(map.count == mapHeight * mapWidth)
        return Self.remap(map, planes: 1, height: mapHeight, width: mapWidth, shiftX: d.dx, shiftY: d.dy, flip: d.flip, fill: { _ in 0 })
    }
}
