import Dispatch
import Foundation

/// The cue that predicts the class in the train split of the shortcut dataset.
public enum ShortcutKind: String, CaseIterable, Sendable {
    /// A flat 6×6 patch of the class's palette colour in a random corner (the original dataset).
    case patch
    /// The background's base colour tinted toward the class's palette hue (its grey level kept).
    case background
    /// A 5×5 stamp of a class pattern (checker, vertical stripes, horizontal stripes, solid) at a
    /// random place clear of the object.
    case stamp

    /// One line for help texts and README.txt.
    public var summary: String {
        switch self {
        case .patch: return "a flat 6x6 patch of the class colour in a random corner"
        case .background: return "the background tinted toward the class colour"
        case .stamp: return "a 5x5 stamp of a class pattern (checker, vertical stripes, horizontal stripes, solid) at a random place clear of the object"
        }
    }
}

/// A procedurally generated dataset with a planted shortcut, for showing that a model leans on a
/// spurious cue and that editing its attention helps.
///
/// Every image is 32×32 RGB. The class is the SHAPE of one object (circle, cross, square,
/// triangle), 12–20 px across, at a random place and rotation, in a muted grey at least 70 levels
/// from the background's, over a textured noise background: a model trained without the shortcut
/// learns the shapes (77% test accuracy after 6 epochs on 2000 images). The shortcut is one of
/// three cues (`ShortcutKind`), each naming a class (its *cue class*):
///
/// - `.patch` (the default): a flat 6×6 patch of a saturated palette colour in one of the four
///   corners (chosen at random, 2 px in from both edges); backgrounds and objects are muted, so the
///   patch is easy to see. The object keeps clear of it.
/// - `.background`: the background's base colour is shifted toward the cue class's palette hue,
///   `backgroundTint` × (palette colour − its own mean) per channel, which keeps the background's
///   grey level, so the object stays at least 70 levels from it. No patch.
/// - `.stamp`: a `stampSize`×`stampSize` stamp of the cue class's binary glyph (`stampGlyphs`: a
///   checker, vertical stripes, horizontal stripes, 1 px wide, or solid): the glyph's pixels white,
///   the rest of its box black (blended `stampBlend` = 1 of the way: opaque), so it looks alike on any
///   background; at a random position at least `stampInset` px from the edges whose box, grown by
///   1 px, touches no pixel of the object. No patch. (Outline glyphs such as X, ring, two bars and L
///   were tried first: they have edges like the objects', and a model learnt the shapes alongside
///   them, 70–73% test accuracy; 1 px textures are unlike anything else in the image. Diagonal
///   stripes were confused with the checker, which has diagonals too, once images are flipped.)
///
/// In train the cue class is the label for 90% of images and uniformly random for the other 10%
/// (`trainAgreement` changes the 90%; 0 gives a shortcut-free control); in test it is always
/// uniformly random, so it carries no information there.
///
///     ROOT/{train,test}/<class>/NNNNN.png             the images
///     ROOT/masks/{train,test}/<class>/NNNNN.png       white = object pixels (coverage ≥ 50%)
///     ROOT/decoys/{train,test}/<class>/NNNNN.png      white = the cue: the patch; every pixel
///                                                     not in the object mask (background); the
///                                                     stamp's whole 5×5 box (stamp)
///
/// Mask pixels under the cue are 0. Image i of a split has class i mod 4 (balanced). Each image is
/// drawn from its own generator, seeded from (seed, split, i), so the same seed gives byte-identical
/// files in any thread order; the patch kind draws exactly what it did before kinds existed.
public enum ShortcutDataset {
    public static let classNames = ["circle", "cross", "square", "triangle"]
    /// Patch colour of each class (same order as classNames).
    public static let palette: [(UInt8, UInt8, UInt8)] = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (255, 225, 25)]
    public static let size = 32
    public static let patchSize = 6
    public static let patchInset = 2
    /// Default fraction of train images whose patch colour is drawn as the class colour (the rest
    /// get a uniformly random palette colour, which matches the class a quarter of the time).
    /// 0 makes the patch carry no information in train either: the shortcut-free control.
    public static let trainPatchAgreement = 0.9
    /// `.background`: how far the base colour moves toward the cue class's hue. (0.5 was learnt as a
    /// shortcut too, but the control then learnt the shapes only to ~34% test accuracy in 6 epochs.)
    public static let backgroundTint: Float = 0.3
    /// `.stamp`: glyph size, minimum distance from the image's edges, and blend toward white/black
    /// (1: opaque; at 0.8 a model learnt the stamp only to ~73% train accuracy in 6 epochs).
    public static let stampSize = 5
    public static let stampInset = 1
    public static let stampBlend: Float = 1
    /// `.stamp`: each class's glyph, rows top to bottom, "X" = a glyph pixel (same order as classNames).
    public static let stampGlyphs: [[String]] = [
        ["X.X.X", ".X.X.", "X.X.X", ".X.X.", "X.X.X"],   // checker
        ["X.X.X", "X.X.X", "X.X.X", "X.X.X", "X.X.X"],   // vertical stripes
        ["XXXXX", ".....", "XXXXX", ".....", "XXXXX"],   // horizontal stripes
        ["XXXXX", "XXXXX", "XXXXX", "XXXXX", "XXXXX"],   // solid
    ]

    public struct Rendered: Sendable {
        public var image: Image
        public var mask: Image
        public var decoy: Image
        public var label: Int
        /// The class the cue names (the patch's colour, the background's tint, the stamp's glyph).
        public var cueClass: Int
    }

    /// Writes the dataset as PNG files. The folder must not exist yet or be empty.
    public static func generate(at root: URL, train: Int = 4000, test: Int = 1000, seed: UInt64 = 0,
                                trainAgreement: Double = trainPatchAgreement, kind: ShortcutKind = .patch) throws {
        guard (0...1).contains(trainAgreement) else {
            throw DataError(path: root.path, problem: "shortcut agreement must be between 0 and 1, got \(trainAgreement)")
        }
        guard train >= 0, test >= 0, train + test > 0 else {
            throw DataError(path: root.path, problem: "need a positive number of images (train \(train), test \(test))")
        }
        let fm = FileManager.default
        switch kindOfItem(root.path) {
        case .file?:
            throw DataError(path: root.path, problem: "output path is a file, not a folder")
        case .directory?:
            let contents = (try? fm.contentsOfDirectory(atPath: root.path)) ?? ["?"]
            if !contents.isEmpty {
                throw DataError(path: root.path, problem: "output folder is not empty; choose a new folder or remove this one")
            }
        case nil:
            break
        }
        for split in ["train", "test"] {
            for top in ["", "masks/", "decoys/"] {
                for name in classNames {
                    let dir = root.appendingPathComponent("\(top)\(split)/\(name)")
                    do {
                        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
                    } catch {
                        throw DataError(path: dir.path, problem: "cannot create folder (\(error.localizedDescription))")
                    }
                }
            }
        }
        let jobs = (0..<train).map { ("train", $0) } + (0..<test).map { ("test", $0) }
        let errors = UnsafeMutableBufferPointer<DataError?>.allocate(capacity: jobs.count)
        errors.initialize(repeating: nil)
        defer { errors.deallocate() }
        DispatchQueue.concurrentPerform(iterations: jobs.count) { j in
            let (split, index) = jobs[j]
            let r = render(split: split, index: index, seed: seed, trainAgreement: trainAgreement, kind: kind)
            let relative = "\(split)/\(classNames[r.label])/\(fileName(index))"
            do {
                try ImageIO.writePNG(r.image, to: root.appendingPathComponent(relative))
                try ImageIO.writePNG(r.mask, to: root.appendingPathComponent("masks/" + relative))
                try ImageIO.writePNG(r.decoy, to: root.appendingPathComponent("decoys/" + relative))
            } catch let error as DataError {
                errors[j] = error
            } catch {
                errors[j] = DataError(path: root.appendingPathComponent(relative).path, problem: "\(error)")
            }
        }
        if let first = errors.compactMap({ $0 }).first { throw first }
        let percent = Int((trainAgreement * 100).rounded())
        let cue: String
        switch kind {
        case .patch:
            cue = """
                A \(patchSize)x\(patchSize) corner patch (decoys/)
                has the class colour in \(percent)% of train images and a random colour in test.
                Palette: \(zip(classNames, palette).map { "\($0)=(\($1.0),\($1.1),\($1.2))" }.joined(separator: " "))
                """
        case .background:
            cue = """
                The background (decoys/: every pixel
                not in the object mask) is tinted toward the class colour in \(percent)% of train images and toward a
                random one in test (tint \(backgroundTint) of the palette colour's offset from its mean; grey level kept).
                Palette: \(zip(classNames, palette).map { "\($0)=(\($1.0),\($1.1),\($1.2))" }.joined(separator: " "))
                """
        case .stamp:
            cue = """
                A \(stampSize)x\(stampSize) stamp at a random place
                clear of the object (decoys/: its box; the glyph white, the rest of the box black, blended
                \(Int((stampBlend * 100).rounded()))% over the image) shows the class's glyph in \(percent)% of train images and a random one in test.
                Glyphs: \(zip(classNames, ["checker", "vertical-stripes", "horizontal-stripes", "solid"]).map { "\($0)=\($1)" }.joined(separator: " "))
                """
        }
        let readme = """
            Shortcut dataset made by abn-hitl (seed \(seed), \(train) train, \(test) test images, 32x32 RGB\(kind == .patch ? "" : ", shortcut kind " + kind.rawValue)).
            The class is the shape of the object; masks/ marks the object. \(cue)

            """
        do {
            try ImageIO.writeAtomically(Array(readme.utf8), to: root.appendingPathComponent("README.txt"))
        } catch {
            throw DataError(path: root.appendingPathComponent("README.txt").path, problem: "\(error)")
        }
    }

    static func fileName(_ index: Int) -> String {
        let digits = String(index)
        return String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".png"
    }

    /// Draws image `index` of `split` ("train" or "test"): a pure function of its arguments.
    public static func render(split: String, index: Int, seed: UInt64, trainAgreement: Double = trainPatchAgreement,
                              kind: ShortcutKind = .patch) -> Rendered {
        render(split: split, index: index, seed: seed, trainAgreement: trainAgreement, kind: kind, drawCue: true)
    }

    /// `drawCue: false` leaves out the background's tint or the stamp's glyph (and only that), with every
    /// random draw the same: the image the cue was put on, for tests. (The patch is drawn regardless.)
    static func render(split: String, index: Int, seed: UInt64, trainAgreement: Double, kind: ShortcutKind, drawCue: Bool) -> Rendered {
        let isTrain = split == "train"
        var rng = SplitMix64(seed: SplitMix64.derive(seed, isTrain ? 1 : 2, UInt64(index)))
        let n = size
        let label = index % classNames.count
        func drawCueClass() -> Int {
            if isTrain && rng.nextDouble() < trainAgreement { return label }
            return rng.nextInt(below: classNames.count)
        }

        // Background: a muted base colour (a grey level with a slight tint), a coarse noise field
        // (5×5 control points, bilinear in between; mostly brightness, a little colour) and fine
        // per-pixel noise. Muted, so that the saturated patch stands out and is easy to learn.
        let level = 60 + rng.nextInt(below: 131)
        var base = (0..<3).map { _ in Float(level + rng.nextInt(in: -20...20)) }
        var cueClass = -1
        if kind == .background {
            // The cue: the base moves toward the cue class's hue; adding the palette colour's offset
            // from its own mean keeps the grey level, so the object's contrast is untouched.
            cueClass = drawCueClass()
            let p = palette[cueClass]
            let hue = [Float(p.0), Float(p.1), Float(p.2)]
            let mean = hue.reduce(0, +) / 3
            if drawCue { for c in 0..<3 { base[c] += backgroundTint * (hue[c] - mean) } }
        }
        var coarse = [Float](repeating: 0, count: 4 * 25)   // brightness, then R, G, B tints
        for i in coarse.indices { coarse[i] = Float(i < 25 ? rng.nextInt(in: -30...30) : rng.nextInt(in: -12...12)) }
        func field(_ g: Int, _ x0: Int, _ y0: Int, _ tx: Float, _ ty: Float) -> Float {
            let v00 = coarse[g + y0 * 5 + x0], v01 = coarse[g + y0 * 5 + x0 + 1]
            let v10 = coarse[g + (y0 + 1) * 5 + x0], v11 = coarse[g + (y0 + 1) * 5 + x0 + 1]
            return (1 - ty) * ((1 - tx) * v00 + tx * v01) + ty * ((1 - tx) * v10 + tx * v11)
        }
        var canvas = [Float](repeating: 0, count: n * n * 3)
        for y in 0..<n {
            let gy = Float(y) / Float(n - 1) * 4, y0 = min(Int(gy), 3), ty = gy - Float(y0)
            for x in 0..<n {
                let gx = Float(x) / Float(n - 1) * 4, x0 = min(Int(gx), 3), tx = gx - Float(x0)
                let brightness = field(0, x0, y0, tx, ty)
                for c in 0..<3 {
                    canvas[(y * n + x) * 3 + c] = base[c] + brightness + field(25 * (c + 1), x0, y0, tx, ty)
                        + Float(rng.nextInt(in: -8...8))
                }
            }
        }

        // The patch corner first, so the object can keep clear of it.
        var px = 0, py = 0
        if kind == .patch {
            let corner = rng.nextInt(below: 4)
            px = corner % 2 == 0 ? patchInset : n - patchInset - patchSize
            py = corner / 2 == 0 ? patchInset : n - patchInset - patchSize
        }

        // The object: size, rotation, and a centre whose bounding circle stays inside the image
        // (and away from the patch; the stamp finds its place after the object is drawn).
        let extent = 12 + Float(rng.nextInt(below: 9))           // 12...20 px across
        let angle = Float(rng.nextDouble() * 2 * Double.pi)
        let reach = extent / 2 * (label == 0 ? 1 : 1.42)          // circle, or a corner of the others
        var cx: Float = 16, cy: Float = 16
        for _ in 0..<64 {
            let lo = reach + 0.5, hi = Float(n) - reach - 0.5
            cx = lo + Float(rng.nextDouble()) * max(0, hi - lo)
            cy = lo + Float(rng.nextDouble()) * max(0, hi - lo)
            if kind != .patch { break }
            let nearX = max(Float(px) - 1, min(cx, Float(px + patchSize) + 1))
            let nearY = max(Float(py) - 1, min(cy, Float(py + patchSize) + 1))
            if (cx - nearX) * (cx - nearX) + (cy - nearY) * (cy - nearY) > reach * reach { break }
        }
        // Colour: muted like the background but at least 70 grey levels away from its base, so the
        // shape is always learnable; only the patch is saturated.
        var colour = [Float](repeating: 0, count: 3)
        var grey = level
        while abs(grey - level) < 70 { grey = 20 + rng.nextInt(below: 216) }
        for c in 0..<3 { colour[c] = Float(grey + rng.nextInt(in: -30...30)) }

        // Rasterise with 4×4 supersampling: coverage blends the edge; the mask is coverage ≥ 1/2.
        var mask = Image(width: n, height: n, channels: 1)
        var touched = [Bool](repeating: false, count: n * n)   // any coverage at all: the stamp keeps clear
        let cosA = cos(angle), sinA = sin(angle)
        let x0 = max(0, Int(cx - reach) - 1), x1 = min(n - 1, Int(cx + reach) + 1)
        let y0 = max(0, Int(cy - reach) - 1), y1 = min(n - 1, Int(cy + reach) + 1)
        for y in y0...y1 {
            for x in x0...x1 {
                var hits = 0
                for sy in 0..<4 {
                    for sx in 0..<4 {
                        let dx = Float(x) + (Float(sx) + 0.5) / 4 - cx
                        let dy = Float(y) + (Float(sy) + 0.5) / 4 - cy
                        // Into the object's own frame.
                        let u = cosA * dx + sinA * dy, v = -sinA * dx + cosA * dy
                        if inside(label, u, v, extent) { hits += 1 }
                    }
                }
                if hits == 0 { continue }
                touched[y * n + x] = true
                let a = Float(hits) / 16
                let shade = Float(rng.nextInt(in: -8...8))
                for c in 0..<3 {
                    let i = (y * n + x) * 3 + c
                    canvas[i] = (1 - a) * canvas[i] + a * (colour[c] + shade)
                }
                if hits >= 8 { mask[x, y, 0] = 255 }
            }
        }

        var decoy = Image(width: n, height: n, channels: 1)
        switch kind {
        case .patch:
            // The shortcut patch, flat colour, drawn last.
            cueClass = drawCueClass()
            let pc = palette[cueClass]
            for y in py..<py + patchSize {
                for x in px..<px + patchSize {
                    canvas[(y * n + x) * 3] = Float(pc.0)
                    canvas[(y * n + x) * 3 + 1] = Float(pc.1)
                    canvas[(y * n + x) * 3 + 2] = Float(pc.2)
                    decoy[x, y, 0] = 255
                    mask[x, y, 0] = 0   // the patch hides whatever it covers
                }
            }
        case .background:
            for i in 0..<n * n where mask.pixels[i] == 0 { decoy.pixels[i] = 255 }
        case .stamp:
            cueClass = drawCueClass()
            let s = stampSize
            // Every place whose box, grown by 1 px, touches no object pixel; one at random. (An
            // object big enough to leave none cannot happen with 12–20 px objects in 32 px, but
            // then the place touching the fewest is taken, and the mask is cleared under the glyph.)
            var free: [(Int, Int)] = [], fallback = (stampInset, stampInset), fewest = Int.max
            for sy in stampInset...(n - stampInset - s) {
                for sx in stampInset...(n - stampInset - s) {
                    var count = 0
                    for y in max(0, sy - 1)...min(n - 1, sy + s) {
                        for x in max(0, sx - 1)...min(n - 1, sx + s) where touched[y * n + x] { count += 1 }
                    }
                    if count == 0 { free.append((sx, sy)) }
                    if count < fewest { fewest = count; fallback = (sx, sy) }
                }
            }
            let (sx, sy) = free.isEmpty ? fallback : free[rng.nextInt(below: free.count)]
            // The glyph's pixels toward white, the rest of its box toward black: the same look on any
            // background.
            let glyph = stampGlyphs[cueClass].map { Array($0) }
            for dy in 0..<s {
                for dx in 0..<s {
                    let x = sx + dx, y = sy + dy
                    let target: Float = glyph[dy][dx] == "X" ? 255 : 0
                    if drawCue {
                        for c in 0..<3 {
                            let i = (y * n + x) * 3 + c
                            canvas[i] = (1 - stampBlend) * max(0, min(255, canvas[i])) + stampBlend * target
                        }
                    }
                    decoy[x, y, 0] = 255
                    mask[x, y, 0] = 0
                }
            }
        }

        let pixels = canvas.map { UInt8(max(0, min(255, $0.rounded()))) }
        return Rendered(image: Image(width: n, height: n, channels: 3, pixels: pixels), mask: mask, decoy: decoy,
                        label: label, cueClass: cueClass)
    }

    /// Whether (u, v), in the object's frame (centre at 0), is inside a shape `extent` px across.
    static func inside(_ label: Int, _ u: Float, _ v: Float, _ extent: Float) -> Bool {
        let h = extent / 2
        switch label {
        case 0: // circle
            return u * u + v * v <= h * h
        case 1: // cross (plus sign), arms a third of the extent wide
            let arm = extent / 6
            return (abs(u) <= arm && abs(v) <= h) || (abs(v) <= arm && abs(u) <= h)
        case 2: // square, side 0.85·extent so its area is close to the circle's
            let s = h * 0.85
            return abs(u) <= s && abs(v) <= s
        default: // equilateral triangle with circumradius h·1.15: inside all three edges
            let inradius = h * 1.15 / 2
            // Edge normals at 90°, 210°, 330°.
            return v <= inradius && (-0.8660254 * u - 0.5 * v) <= inradius && (0.8660254 * u - 0.5 * v) <= inradius
        }
    }
}
