import ABNData

/// Counterexamples from edited maps: keep what the annotator marked as evidence, replace the rest with
/// other training images' non-evidence pixels, keep the label and the target map. A cue outside the
/// evidence (a corner patch, a background colour, a watermark) then no longer predicts the label, so the
/// perception branch cannot keep using it through features the map lets pass. Pure: CHW float images
/// (already normalised model inputs) and row-major maps; the construction is specified in
/// docs/finetuning.md.
public enum Counterexamples {
    /// Evidence: the upsampled map at or above this fraction of its own maximum.
    public static let evidenceFraction: Float = 0.5
    /// An erased cell: original − edited at least this much (maps are in [0, 1]).
    public static let eraseThreshold: Float = 0.25
    /// An edit counts as erase-only when no cell rose above the original by more than this.
    public static let raiseTolerance: Float = 0.05
    /// Donors tried in turn to fill the replaced pixels before the rest gets their mean colour.
    public static let maxDonors = 4

    /// Dilation radius in pixels at an input of height × width: one pixel per 32 of the shorter side,
    /// at least one (1 px at 32², 7 px at 224²).
    public static func dilationRadius(height: Int, width: Int) -> Int { max(1, min(height, width) / 32) }

    /// How a target was edited, which decides what its counterexamples replace.
    public enum Style: Equatable, Sendable {
        /// The map marks the evidence (painted, imported or accepted): everything outside it is replaced.
        case evidence
        /// The annotator only lowered the map somewhere and left the rest as the model had it: only what
        /// was erased is replaced.
        case eraseOnly
    }

    public static func style(original: [Float], edited: [Float]) -> Style {
        precondition(original.count == edited.count)
        var erased = false
        for (o, e) in zip(original, edited) {
            if e - o > raiseTolerance { return .evidence }
            if o - e >= eraseThreshold { erased = true }
        }
        return erased ? .eraseOnly : .evidence
    }

    /// The pixels a counterexample replaces, at input resolution (row-major height × width, true =
    /// replace). Maps are mapHeight × mapWidth, brought to the input by bilinear upsampling (half-pixel
    /// centres), thresholded, then dilated by `dilation` pixels (default `dilationRadius`; a square neighbourhood). Evidence style:
    /// the complement of the dilated evidence; erase-only: the dilated erased region. An all-zero map
    /// has no evidence, so nothing can be kept: the result replaces everything (callers skip such targets).
    public static func replacedRegion(original: [Float], edited: [Float], mapHeight: Int, mapWidth: Int,
                                      height: Int, width: Int, dilation: Int? = nil) -> [Bool] {
        let radius = dilation ?? dilationRadius(height: height, width: width)
        switch style(original: original, edited: edited) {
        case .evidence:
            let up = MapResampling.upsampleBilinear(edited, height: mapHeight, width: mapWidth, toHeight: height, toWidth: width)
            let peak = up.max() ?? 0
            guard peak > 0 else { return [Bool](repeating: true, count: height * width) }
            let evidence = dilate(up.map { $0 >= evidenceFraction * peak }, height: height, width: width, radius: radius)
            return evidence.map { !$0 }
        case .eraseOnly:
            let erased = zip(original, edited).map { max(0, $0 - $1) }
            let up = MapResampling.upsampleBilinear(erased, height: mapHeight, width: mapWidth, toHeight: height, toWidth: width)
            return dilate(up.map { $0 >= eraseThreshold }, height: height, width: width, radius: radius)
        }
    }

    /// Square dilation: a pixel is set when any pixel within `radius` (Chebyshev distance) is set.
    public static func dilate(_ region: [Bool], height: Int, width: Int, radius: Int) -> [Bool] {
        precondition(region.count == height * width)
        guard radius > 0 else { return region }
        // Separable: rows, then columns.
        var rows = [Bool](repeating: false, count: region.count)
        for y in 0..<height {
            for x in 0..<width where region[y * width + x] {
                for xx in max(0, x - radius)...min(width - 1, x + radius) { rows[y * width + xx] = true }
            }
        }
        var out = [Bool](repeating: false, count: region.count)
        for y in 0..<height {
            for x in 0..<width where rows[y * width + x] {
                for yy in max(0, y - radius)...min(height - 1, y + radius) { out[yy * width + x] = true }
            }
        }
        return out
    }

    /// A donor: another training image and the pixels it may give (its own replaced region, so its
    /// evidence — its object — never enters the counterexample).
    public struct Donor {
        public var image: [Float]
        public var usable: [Bool]
        public init(image: [Float], usable: [Bool]) {
            self.image = image
            self.usable = usable
        }
    }

    /// Builds one counterexample of `image` (CHW, channels × plane): pixels outside `replace` are the
    /// image's own; each replaced pixel comes from the first donor (in order) that may give it; replaced
    /// pixels no donor covers get the per-channel mean of the donor pixels used (or, when none was used,
    /// of all the donors' usable pixels; with no usable pixel at all they keep the image's own).
    public static func compose(image: [Float], channels: Int, replace: [Bool], donors: [Donor]) -> [Float] {
        let plane = replace.count
        precondition(image.count == channels * plane && donors.allSatisfy { $0.image.count == image.count && $0.usable.count == plane })
        var out = image
        var filled = [Bool](repeating: false, count: plane)
        var sums = [Double](repeating: 0, count: channels), used = 0
        for donor in donors {
            for p in 0..<plane where replace[p] && !filled[p] && donor.usable[p] {
                for c in 0..<channels {
                    out[c * plane + p] = donor.image[c * plane + p]
                    sums[c] += Double(donor.image[c * plane + p])
                }
                filled[p] = true
                used += 1
            }
        }
        if used == 0 {
            for donor in donors {
                for p in 0..<plane where donor.usable[p] {
                    for c in 0..<channels { sums[c] += Double(donor.image[c * plane + p]) }
                    used += 1
                }
            }
        }
        guard used > 0 else { return out }
        let means = sums.map { Float($0 / Double(used)) }
        for p in 0..<plane where replace[p] && !filled[p] {
            for c in 0..<channels { out[c * plane + p] = means[c] }
        }
        return out
    }
}
