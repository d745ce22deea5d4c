import Dispatch
import Foundation

/// A procedurally generated dataset with a planted shortcut, for showing that a model leans on a
/// spurious cue and that editing its attention helps.
///
/// Every image is 32×32 RGB. The class is the SHAPE of one object (circle, cross, square,
/// triangle), 12–20 px across, at a random place and rotation, in a muted grey at least 70 levels
/// from the background's, over a textured noise background: a model trained without the shortcut
/// learns the shapes (77% test accuracy after 6 epochs on 2000 images). The shortcut is a flat
/// 6×6 patch of a saturated palette colour in one of the four corners (chosen at random, 2 px in
/// from both edges); backgrounds and objects are muted, so the patch is easy to see. In train its
/// colour is the class's palette colour for 90% of images and a uniformly random palette colour
/// for the other 10% (`trainAgreement` changes the 90%; 0 gives a shortcut-free control); in test it is always uniformly random, so it carries no information there.
///
///     ROOT/{train,test}/<class>/NNNNN.png             the images
///     ROOT/masks/{train,test}/<class>/NNNNN.png       white = object pixels (coverage ≥ 50%)
///     ROOT/decoys/{train,test}/<class>/NNNNN.png      white = the patch
///
/// Image i of a split has class i mod 4 (balanced). Each image is drawn from its own generator,
/// seeded from (seed, split, i), so the same seed gives byte-identical files in any thread order.
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

    public struct Rendered: Sendable {
        public var image: Image
        public var mask: Image
        public var decoy: Image
        public var label: Int
    }

    /// Writes the dataset as PNG files. The folder must not exist yet or be empty.
    public static func generate(at root: URL, train: Int = 4000, test: Int = 1000, seed: UInt64 = 0,
                                trainAgreement: Double = trainPatchAgreement) throws {
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
            let r = render(split: split, index: index, seed: seed, trainAgreement: trainAgreement)
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
        let readme = """
            Shortcut dataset made by abn-hitl (seed \(seed), \(train) train, \(test) test images, 32x32 RGB).
            The class is the shape of the object; masks/ marks the object. A \(patchSize)x\(patchSize) corner patch (decoys/)
            has the class colour in \(Int((trainAgreement * 100).rounded()))% of train images and a random colour in test.
            Palette: \(zip(classNames, palette).map { "\($0)=(\($1.0),\($1.1),\($1.2))" }.joined(separator: " "))

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
    public static func render(split: String, index: Int, seed: UInt64, trainAgreement: Double = trainPatchAgreement) -> Rendered {
        let isTrain = split == "train"
        var rng = SplitMix64(seed: SplitMix64.derive(seed, isTrain ? 1 : 2, UInt64(index)))
        let n = size
        let label = index % classNames.count

        // Background: a muted base colour (a grey level with a slight tint), a coarse noise field
        // (5×5 control points, bilinear in between; mostly brightness, a little colour) and fine
        // per-pixel noise. Muted, so that the saturated patch stands out and is easy to learn.
        let level = 60 + rng.nextInt(below: 131)
        let base = (0..<3).map { _ in Float(level + rng.nextInt(in: -20...20)) }
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
        let corner = rng.nextInt(below: 4)
        let px = corner % 2 == 0 ? patchInset : n - patchInset - patchSize
        let py = corner / 2 == 0 ? patchInset : n - patchInset - patchSize

        // The object: size, rotation, and a centre whose bounding circle stays inside the image
        // and away from the patch.
        let extent = 12 + Float(rng.nextInt(below: 9))           // 12...20 px across
        let angle = Float(rng.nextDouble() * 2 * Double.pi)
        let reach = extent / 2 * (label == 0 ? 1 : 1.42)          // circle, or a corner of the others
        var cx: Float = 16, cy: Float = 16
        for _ in 0..<64 {
            let lo = reach + 0.5, hi = Float(n) - reach - 0.5
            cx = lo + Float(rng.nextDouble()) * max(0, hi - lo)
            cy = lo + Float(rng.nextDouble()) * max(0, hi - lo)
            let nearX = max(Float(px) - 1, min(cx, Float(px + patchSize) + 1))
            let nearY = max(Float(py) - 1, min(cy, Float(py + patchSize) + 1))
            if (cx - nearX) * (cx - nearX) + (cy - nearY) * (cy - nearY) > reach * reach { break }
        }
        // Colour: muted like the background but at least 60 grey levels away from its base, so the
        // shape is always learnable; only the patch is saturated.
        var colour = [Float](repeating: 0, count: 3)
        var grey = level
        while abs(grey - level) < 70 { grey = 20 + rng.nextInt(below: 216) }
        for c in 0..<3 { colour[c] = Float(grey + rng.nextInt(in: -30...30)) }

        // Rasterise with 4×4 supersampling: coverage blends the edge; the mask is coverage ≥ 1/2.
        var mask = Image(width: n, height: n, channels: 1)
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
                let a = Float(hits) / 16
                let shade = Float(rng.nextInt(in: -8...8))
                for c in 0..<3 {
                    let i = (y * n + x) * 3 + c
                    canvas[i] = (1 - a) * canvas[i] + a * (colour[c] + shade)
                }
                if hits >= 8 { mask[x, y, 0] = 255 }
            }
        }

        // The shortcut patch, flat colour, drawn last.
        let patchClass: Int
        if isTrain && rng.nextDouble() < trainAgreement {
            patchClass = label
        } else {
            patchClass = rng.nextInt(below: classNames.count)
        }
        let pc = palette[patchClass]
        var decoy = Image(width: n, height: n, channels: 1)
        for y in py..<py + patchSize {
            for x in px..<px + patchSize {
                canvas[(y * n + x) * 3] = Float(pc.0)
                canvas[(y * n + x) * 3 + 1] = Float(pc.1)
                canvas[(y * n + x) * 3 + 2] = Float(pc.2)
                decoy[x, y, 0] = 255
                mask[x, y, 0] = 0   // the patch hides whatever it covers
            }
        }

        let pixels = canvas.map { UInt8(max(0, min(255, $0.rounded()))) }
        return Rendered(image: Image(width: n, height: n, channels: 3, pixels: pixels), mask: mask, decoy: decoy, label: label)
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
