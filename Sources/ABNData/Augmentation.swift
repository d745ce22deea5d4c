// Training-time augmentation as torchvision's CIFAR recipe does it:
// RandomCrop(size, padding) → RandomHorizontalFlip(p) → ToTensor → Normalize.
// Padding is zeros in [0, 1] space, so after normalisation a padded pixel is −mean/std.

public struct Augmentation: Sendable, Equatable {
    /// Zero padding on every side before the crop (pixels).
    public var padding: Int
    /// Crop at a random offset in the padded image; false crops the centre (no shift).
    public var randomCrop: Bool
    /// Probability of a left–right mirror.
    public var horizontalFlipProbability: Double

    public init(padding: Int, randomCrop: Bool, horizontalFlipProbability: Double) {
        self.padding = max(0, padding)
        self.randomCrop = randomCrop
        self.horizontalFlipProbability = horizontalFlipProbability
    }

    public static let none = Augmentation(padding: 0, randomCrop: false, horizontalFlipProbability: 0)
    /// 4 px zero padding, random crop back to the input size, horizontal flip with p = 0.5.
    public static let cifar = Augmentation(padding: 4, randomCrop: true, horizontalFlipProbability: 0.5)

    public var isIdentity: Bool { !(randomCrop && padding > 0) && horizontalFlipProbability <= 0 }

    /// The random choices for one sample.
    public struct Draw: Sendable, Equatable {
        /// Top-left corner of the crop in the padded image, 0...2·padding.
        public var left: Int
        public var top: Int
        public var flip: Bool
        public init(left: Int, top: Int, flip: Bool) {
            self.left = left
            self.top = top
            self.flip = flip
        }
    }

    /// Draws crop offsets (top first, as torchvision does) and the flip.
    public func draw(using rng: inout SplitMix64) -> Draw {
        var top = padding, left = padding
        if randomCrop && padding > 0 {
            top = rng.nextInt(below: 2 * padding + 1)
            left = rng.nextInt(below: 2 * padding + 1)
        }
        let flip = horizontalFlipProbability > 0 && rng.nextDouble() < horizontalFlipProbability
        return Draw(left: left, top: top, flip: flip)
    }

    /// The draw for one sample of one epoch: a function of (seed, epoch, sample index) only,
    /// so it does not depend on batch size, order or which thread prepares it.
    public func draw(seed: UInt64, epoch: Int, sample: Int) -> Draw {
        var rng = SplitMix64(seed: SplitMix64.derive(seed, 0x4155_474D /* "AUGM" */, UInt64(bitPattern: Int64(epoch)),
                                                     UInt64(bitPattern: Int64(sample))))
        return draw(using: &rng)
    }

    /// Applies a draw to a CHW tensor with values in [0, 1] and normalises it, writing into
    /// `output` (C·H·W floats). With no normalisation pass mean 0 and std 1.
    public func apply(_ draw: Draw, to input: UnsafeBufferPointer<Float>, channels: Int, height: Int, width: Int,
                      mean: [Float], std: [Float], into output: UnsafeMutableBufferPointer<Float>) {
        let plane = height * width
        for c in 0..<channels {
            let m = mean[c], s = std[c]
            let padded = (0 - m) / s   // a zero-padded pixel after normalisation
            let base = c * plane
            for y in 0..<height {
                // Output row y is padded row y + top, i.e. source row y + top − padding.
                let sy = y + draw.top - padding
                let row = base + y * width
                if sy < 0 || sy >= height {
                    for x in 0..<width { output[row + x] = padded }
                    continue
                }
                let srcRow = base + sy * width
                for x in 0..<width {
                    // Crop then flip: output x reads cropped column width−1−x when flipped.
                    let cx = draw.flip ? width - 1 - x : x
                    let sx = cx + draw.left - padding
                    output[row + x] = (sx < 0 || sx >= width) ? padded : (input[srcRow + sx] - m) / s
                }
            }
        }
    }

    /// Convenience: returns the augmented, normalised tensor.
    public func apply(_ draw: Draw, to input: [Float], channels: Int, height: Int, width: Int,
                      mean: [Float], std: [Float]) -> [Float] {
        precondition(input.count == channels * height * width && mean.count >= channels && std.count >= channels)
        var out = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { i in
            out.withUnsafeMutableBufferPointer { o in
                apply(draw, to: i, channels: channels, height: height, width: width, mean: mean, std: std, into: o)
            }
        }
        return out
    }
}
