import Foundation

/// How an image becomes a model input: channel count, input size, and per-channel normalisation
/// (x − mean) / std applied to values scaled to [0, 1].
public struct Preprocessing: Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var mean: [Float]
    public var std: [Float]

    public init(channels: Int, height: Int, width: Int, mean: [Float], std: [Float]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.mean = mean
        self.std = std
    }

    /// The official CIFAR normalisation at 3×32×32.
    public static let cifar = Preprocessing(channels: 3, height: 32, width: 32,
                                            mean: [0.4914, 0.4822, 0.4465], std: [0.2023, 0.1994, 0.2010])

    /// Checks the numbers make sense before any image is touched.
    public func validate() throws {
        let name = "<preprocessing>"
        guard channels == 1 || channels == 3 else { throw DataError(path: name, problem: "channels must be 1 or 3, not \(channels)") }
        guard height > 0, width > 0, height * width <= 100_000_000 else {
            throw DataError(path: name, problem: "input size \(height)x\(width) is not usable")
        }
        guard mean.count == channels, std.count == channels else {
            throw DataError(path: name, problem: "mean and std need \(channels) values each (got \(mean.count) and \(std.count))")
        }
        guard mean.allSatisfy({ $0.isFinite }), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw DataError(path: name, problem: "mean must be finite and std positive (got mean \(mean), std \(std))")
        }
    }
}

/// Reads an image file and returns the model input: CHW floats, converted to the channel count,
/// scaled to [0, 1], resized bilinearly (half-pixel centres, no antialias; resizing happens on the
/// [0, 1] floats, so nothing is rounded to 8 bits in between), then normalised.
public func loadInput(_ url: URL, _ p: Preprocessing) throws -> [Float] {
    try p.validate()
    let image = try ImageIO.decode(fileAt: url)
    var x = unitTensor(image.converted(toChannels: p.channels), height: p.height, width: p.width)
    normalise(&x, p)
    return x
}

/// Reads a mask as one channel of floats in [0, 1] (white = 1; colour masks through luma, alpha
/// ignored), resized bilinearly to height×width. Row-major H×W.
public func loadMask(_ url: URL, height: Int, width: Int) throws -> [Float] {
    guard height > 0, width > 0 else { throw DataError(path: url.path, problem: "mask size \(height)x\(width) is not usable") }
    let image = try ImageIO.decode(fileAt: url)
    return unitTensor(image.converted(toChannels: 1), height: height, width: width)
}

/// Per-channel mean and population standard deviation of a split, over every pixel of every
/// image after conversion and resizing to the input size, in [0, 1] (before normalisation).
public func channelStatistics(_ folder: ImageFolder, channels: Int, height: Int, width: Int) throws -> (mean: [Float], std: [Float]) {
    guard channels == 1 || channels == 3 else { throw DataError(path: folder.root.path, problem: "channels must be 1 or 3") }
    guard !folder.samples.isEmpty else { throw DataError(path: folder.splitURL.path, problem: "no images to measure") }
    var sum = [Double](repeating: 0, count: channels)
    var squares = sum
    let plane = height * width
    for sample in folder.samples {
        let image = try ImageIO.decode(fileAt: sample.imageURL)
        let x = unitTensor(image.converted(toChannels: channels), height: height, width: width)
        for c in 0..<channels {
            var s = 0.0, q = 0.0
            for i in c * plane..<(c + 1) * plane {
                let v = Double(x[i])
                s += v
                q += v * v
            }
            sum[c] += s
            squares[c] += q
        }
    }
    let count = Double(folder.samples.count * plane)
    let mean = sum.map { $0 / count }
    let std = (0..<channels).map { c in (max(0, squares[c] / count - mean[c] * mean[c])).squareRoot() }
    return (mean.map { Float($0) }, std.map { Float($0) })
}

/// CHW floats in [0, 1] at the given size.
func unitTensor(_ image: Image, height: Int, width: Int) -> [Float] {
    if image.width == width && image.height == height { return image.planarFloats() }
    return image.resizedBilinearFloats(width: width, height: height)
}

func normalise(_ x: inout [Float], _ p: Preprocessing) {
    let plane = p.height * p.width
    for c in 0..<p.channels {
        let m = p.mean[c], s = p.std[c]
        for i in c * plane..<(c + 1) * plane { x[i] = (x[i] - m) / s }
    }
}
