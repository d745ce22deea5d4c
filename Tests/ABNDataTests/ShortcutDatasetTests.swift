import Foundation
import XCTest
@testable import ABNData

final class ShortcutDatasetTests: XCTestCase {
    func allFiles(_ root: URL) -> [String: Data] {
        var out: [String: Data] = [:]
        let e = FileManager.default.enumerator(atPath: root.path)!
        while let relative = e.nextObject() as? String {
            let url = root.appendingPathComponent(relative)
            if kindOfItem(url.path) == .file { out[relative] = try? Data(contentsOf: url) }
        }
        return out
    }

    func testSameSeedSameBytesAndTheLayoutLoads() throws {
        let base = makeTempDir(self)
        let a = base.appendingPathComponent("a"), b = base.appendingPathComponent("b"), c = base.appendingPathComponent("c")
        try ShortcutDataset.generate(at: a, train: 12, test: 5, seed: 42)
        try ShortcutDataset.generate(at: b, train: 12, test: 5, seed: 42)
        try ShortcutDataset.generate(at: c, train: 12, test: 5, seed: 43)
        let fa = allFiles(a), fb = allFiles(b), fc = allFiles(c)
        XCTAssertEqual(fa.count, 3 * 17 + 1)   // image, mask, decoy per sample, and README.txt
        XCTAssertEqual(fa, fb)
        XCTAssertNotEqual(fa["train/circle/00000.png"], fc["train/circle/00000.png"])

        let train = try ImageFolder(root: a, split: "train")
        XCTAssertEqual(train.classes, ShortcutDataset.classNames)
        XCTAssertEqual(train.samples.count, 12)
        XCTAssertTrue(train.samples.allSatisfy { $0.maskURL != nil && $0.decoyURL != nil })
        XCTAssertEqual(train.commonShape, ImageShape(channels: 3, height: 32, width: 32))
        XCTAssertEqual(train.samples.filter { $0.label == 1 }.map { $0.relativePath }, ["cross/00001.png", "cross/00005.png", "cross/00009.png"])
        XCTAssertEqual(try ImageFolder(root: a, split: "test").samples.count, 5)

        // The files hold exactly what render() draws.
        let r = ShortcutDataset.render(split: "test", index: 3, seed: 42)
        XCTAssertEqual(try ImageIO.decode(fileAt: a.appendingPathComponent("test/triangle/00003.png")), r.image)
        XCTAssertEqual(try ImageIO.decode(fileAt: a.appendingPathComponent("masks/test/triangle/00003.png")), r.mask)

        assertDataError(try ShortcutDataset.generate(at: a, train: 1, test: 1), path: a.path, contains: "not empty")
        assertDataError(try ShortcutDataset.generate(at: base.appendingPathComponent("d"), train: 0, test: 0),
                        path: base.appendingPathComponent("d").path, contains: "positive number")
    }

    /// The patch: 6×6, 2 px in from a corner, in a palette colour; agreeing with the class in
    /// ~92.5% of train images (90% + 10%·¼) and ~25% of test images. The object mask keeps clear of it.
    func testShortcutStatisticsAndMasks() {
        let s = ShortcutDataset.patchSize
        XCTAssertEqual(s, 6)
        var agree = ["train": 0, "test": 0]
        let counts = ["train": 600, "test": 400]
        var areas = [[Int]](repeating: [], count: 4)
        for (split, count) in counts {
            for i in 0..<count {
                let r = ShortcutDataset.render(split: split, index: i, seed: 5)
                XCTAssertEqual(r.label, i % 4)
                let patch = (0..<32 * 32).filter { r.decoy.pixels[$0] == 255 }
                XCTAssertEqual(patch.count, s * s)
                XCTAssertEqual(r.decoy.pixels.filter { $0 != 0 && $0 != 255 }.count, 0)
                let x0 = patch[0] % 32, y0 = patch[0] / 32
                XCTAssertTrue([2, 24].contains(x0) && [2, 24].contains(y0), "patch at \(x0),\(y0)")
                XCTAssertEqual(patch.last!, (y0 + s - 1) * 32 + x0 + s - 1)
                let colour = (0..<3).map { r.image[x0 + 1, y0 + 2, $0] }
                let k = ShortcutDataset.palette.firstIndex { [$0.0, $0.1, $0.2] == colour }
                XCTAssertNotNil(k, "patch colour \(colour) not in palette")
                if k == r.label { agree[split]! += 1 }
                let object = (0..<32 * 32).filter { r.mask.pixels[$0] == 255 }
                XCTAssertTrue(Set(object).isDisjoint(with: patch))
                if split == "train" { areas[r.label].append(object.count) }
            }
        }
        let trainRate = Double(agree["train"]!) / 600, testRate = Double(agree["test"]!) / 400
        XCTAssertTrue((0.88...0.97).contains(trainRate), "train agreement \(trainRate)")
        XCTAssertTrue((0.17...0.33).contains(testRate), "test agreement \(testRate)")
        // Objects 12–20 px across: areas from a thin 12 px cross (~45 px) to a 20 px disc (~314 px).
        for (label, a) in areas.enumerated() {
            XCTAssertGreaterThan(a.min()!, 30, ShortcutDataset.classNames[label])
            XCTAssertLessThan(a.max()!, 400, ShortcutDataset.classNames[label])
        }
        // The shapes have their own areas: a disc of diameter d covers ~0.785·d², a plus sign ~0.56·d².
        let mean = areas.map { Double($0.reduce(0, +)) / Double($0.count) }
        XCTAssertGreaterThan(mean[0], mean[1] * 1.2, "circle vs cross \(mean)")
    }

    /// --shortcut 0, the control: the patch agrees with the class only by chance in train too.
    func testAgreementZeroRemovesTheShortcut() throws {
        var agree = 0
        for i in 0..<400 {
            let r = ShortcutDataset.render(split: "train", index: i, seed: 9, trainAgreement: 0)
            let patch = (0..<32 * 32).first { r.decoy.pixels[$0] == 255 }!
            let colour = (0..<3).map { r.image[patch % 32 + 1, patch / 32 + 1, $0] }
            if let k = ShortcutDataset.palette.firstIndex(where: { [$0.0, $0.1, $0.2] == colour }), k == r.label { agree += 1 }
        }
        XCTAssertTrue((0.17...0.33).contains(Double(agree) / 400), "agreement \(agree)/400")
        let base = makeTempDir(self)
        XCTAssertThrowsError(try ShortcutDataset.generate(at: base.appendingPathComponent("x"), train: 4, test: 4, trainAgreement: 1.5))
    }

    // MARK: Shortcut kinds

    /// Every kind: the same arguments give the same bytes, the files hold what render() draws, and
    /// README.txt names the kind's cue.
    func testEveryKindIsDeterministic() throws {
        let base = makeTempDir(self)
        var images: [ShortcutKind: Data] = [:]
        for kind in ShortcutKind.allCases {
            let a = base.appendingPathComponent("\(kind)-a"), b = base.appendingPathComponent("\(kind)-b")
            try ShortcutDataset.generate(at: a, train: 8, test: 4, seed: 7, kind: kind)
            try ShortcutDataset.generate(at: b, train: 8, test: 4, seed: 7, kind: kind)
            let fa = allFiles(a)
            XCTAssertEqual(fa.count, 3 * 12 + 1, "\(kind)")
            XCTAssertEqual(fa, allFiles(b), "\(kind)")
            images[kind] = fa["train/square/00002.png"]
            let r = ShortcutDataset.render(split: "train", index: 2, seed: 7, kind: kind)
            XCTAssertEqual(try ImageIO.decode(fileAt: a.appendingPathComponent("train/square/00002.png")), r.image, "\(kind)")
            XCTAssertEqual(try ImageIO.decode(fileAt: a.appendingPathComponent("masks/train/square/00002.png")), r.mask, "\(kind)")
            XCTAssertEqual(try ImageIO.decode(fileAt: a.appendingPathComponent("decoys/train/square/00002.png")), r.decoy, "\(kind)")
            for i in 0..<8 {
                let x = ShortcutDataset.render(split: "train", index: i, seed: 7, trainAgreement: 0.3, kind: kind)
                let y = ShortcutDataset.render(split: "train", index: i, seed: 7, trainAgreement: 0.3, kind: kind)
                XCTAssertEqual([x.image, x.mask, x.decoy], [y.image, y.mask, y.decoy])
                XCTAssertEqual(x.cueClass, y.cueClass)
            }
            let readme = try String(contentsOf: a.appendingPathComponent("README.txt"), encoding: .utf8)
            XCTAssertTrue(readme.contains(["patch": "corner patch", "background": "background (decoys/", "stamp": "5x5 stamp at a random place"][kind.rawValue]!), readme)
        }
        XCTAssertEqual(Set(images.values).count, 3, "the kinds draw different images")
        XCTAssertEqual(ShortcutKind.allCases.map(\.rawValue), ["patch", "background", "stamp"])
    }

    /// The cue class, for every kind: the label for ~92.5% of train images at agreement 0.9 (90% +
    /// 10%·¼), ~25% of test images, and ~25% of train images at agreement 0 (the control). For the
    /// patch it is the patch's palette colour.
    func testEveryKindsCueAgreesWithTheLabelAsAsked() {
        for kind in ShortcutKind.allCases {
            func rate(_ split: String, _ agreement: Double) -> Double {
                var agree = 0
                for i in 0..<400 {
                    let r = ShortcutDataset.render(split: split, index: i, seed: 21, trainAgreement: agreement, kind: kind)
                    XCTAssertTrue((0..<4).contains(r.cueClass))
                    if r.cueClass == r.label { agree += 1 }
                    if kind == .patch {
                        let patch = (0..<32 * 32).first { r.decoy.pixels[$0] == 255 }!
                        let colour = (0..<3).map { r.image[patch % 32 + 1, patch / 32 + 1, $0] }
                        let p = ShortcutDataset.palette[r.cueClass]
                        XCTAssertEqual(colour, [p.0, p.1, p.2])
                    }
                }
                return Double(agree) / 400
            }
            let train = rate("train", 0.9), test = rate("test", 0.9), control = rate("train", 0), controlTest = rate("test", 0)
            XCTAssertTrue((0.85...0.95).contains(train), "\(kind) train \(train)")
            XCTAssertTrue((0.17...0.33).contains(test), "\(kind) test \(test)")
            XCTAssertTrue((0.17...0.33).contains(control), "\(kind) control \(control)")
            XCTAssertTrue((0.17...0.33).contains(controlTest), "\(kind) control test \(controlTest)")
        }
    }

    /// Background: the decoy is exactly the complement of the object mask; against the same image
    /// drawn without the cue, every background pixel moved by the tint (palette colour minus its
    /// mean, × backgroundTint: the grey level is kept), fully covered object pixels did not move,
    /// and the tint's direction names the cue class.
    func testBackgroundKindTintsTheBackgroundAndItsDecoyIsEverythingButTheObject() {
        let t = ShortcutDataset.backgroundTint
        var named = 0, checked = 0, interior = 0
        for i in 0..<200 {
            let split = i % 2 == 0 ? "train" : "test"
            let r = ShortcutDataset.render(split: split, index: i, seed: 3, kind: .background)
            let clean = ShortcutDataset.render(split: split, index: i, seed: 3, trainAgreement: 0.9, kind: .background, drawCue: false)
            XCTAssertEqual(r.cueClass, clean.cueClass)
            XCTAssertEqual(r.mask, clean.mask)
            XCTAssertEqual(r.decoy.pixels, r.mask.pixels.map { $0 == 0 ? 255 : 0 }, "decoy = NOT mask, index \(i)")
            XCTAssertGreaterThan(r.mask.pixels.filter { $0 == 255 }.count, 30)
            let p = ShortcutDataset.palette[r.cueClass]
            let hue = [Float(p.0), Float(p.1), Float(p.2)], mean = hue.reduce(0, +) / 3
            let shift = hue.map { t * ($0 - mean) }
            XCTAssertEqual(shift.reduce(0, +), 0, accuracy: 1e-3)
            // Mask pixels within 2 px (Chebyshev) of (x, y): none means the object does not reach it
            // (its antialiased edge lies within 1 px of the mask), all means it is fully covered.
            func near(_ x: Int, _ y: Int) -> (mask: Int, all: Int) {
                var m = 0, all = 0
                for v in max(0, y - 2)...min(31, y + 2) { for u in max(0, x - 2)...min(31, x + 2) { all += 1; if r.mask[u, v, 0] == 255 { m += 1 } } }
                return (m, all)
            }
            var offsets = [Float](repeating: 0, count: 3), count = 0
            for y in 0..<32 {
                for x in 0..<32 {
                    let inObject = r.mask[x, y, 0] == 255, (m, all) = near(x, y)
                    for c in 0..<3 {
                        let a = Float(r.image[x, y, c]), b = Float(clean.image[x, y, c])
                        if m == 0 {
                            // Unless clamped at 0 or 255, the tint is the whole difference (±1 for rounding).
                            let expected = b + shift[c]
                            if expected > 1 && expected < 254 && b > 0 && b < 255 {
                                XCTAssertEqual(a, expected, accuracy: 1.01, "index \(i) (\(x),\(y)) channel \(c)")
                                checked += 1
                            }
                        } else if m == all {
                            XCTAssertEqual(a, b, "index \(i) (\(x),\(y)): inside the object nothing moves")
                            interior += 1
                        }
                        if !inObject { offsets[c] += a - b }
                    }
                    if !inObject { count += 1 }
                }
            }
            // The mean shift over the background points at the cue's palette colour, not another one.
            let m = offsets.map { $0 / Float(count) }
            let nearest = (0..<4).min { k, l in
                func d(_ k: Int) -> Float {
                    let q = ShortcutDataset.palette[k], h = [Float(q.0), Float(q.1), Float(q.2)], hm = h.reduce(0, +) / 3
                    return (0..<3).map { (m[$0] - t * (h[$0] - hm)) * (m[$0] - t * (h[$0] - hm)) }.reduce(0, +)
                }
                return d(k) < d(l)
            }!
            if nearest == r.cueClass { named += 1 }
        }
        XCTAssertGreaterThan(checked, 200 * 500)
        XCTAssertGreaterThan(interior, 200 * 20)
        XCTAssertGreaterThanOrEqual(named, 195, "tint names the cue class")
        // The shift is large: at least 20 levels in some channel for every class.
        for p in ShortcutDataset.palette {
            let hue = [Float(p.0), Float(p.1), Float(p.2)], mean = hue.reduce(0, +) / 3
            XCTAssertGreaterThan(hue.map { abs(t * ($0 - mean)) }.max()!, 20)
        }
    }

    /// Stamp: the decoy is the stamp's 5×5 box, at one place inside the image (≥ stampInset from the
    /// edges), clear of the object by at least a pixel; against the same image drawn without the
    /// stamp, the cue class's glyph pixels moved `stampBlend` (1: all) of the way to white, the box's
    /// other pixels as far toward black, and nothing else moved.
    func testStampKindDrawsTheGlyphClearOfTheObject() {
        let s = ShortcutDataset.stampSize, inset = ShortcutDataset.stampInset, blend = ShortcutDataset.stampBlend
        XCTAssertEqual(s, 5)
        XCTAssertEqual(blend, 1)
        let glyphs = ShortcutDataset.stampGlyphs.map { rows in
            Set(rows.enumerated().flatMap { y, row in row.enumerated().compactMap { x, ch in ch == "X" ? y * s + x : nil } })
        }
        XCTAssertEqual(glyphs.map(\.count), [13, 15, 15, 25])
        // Four different glyphs, still different when mirrored (training flips images).
        let mirrored = glyphs.map { Set($0.map { ($0 / s) * s + (s - 1 - $0 % s) }) }
        for k in 0..<4 { for l in 0..<4 where k != l { XCTAssertNotEqual(glyphs[k], glyphs[l]); XCTAssertNotEqual(mirrored[k], glyphs[l]) } }
        var positions = Set<Int>()
        for i in 0..<300 {
            let split = i % 3 == 0 ? "test" : "train"
            let r = ShortcutDataset.render(split: split, index: i, seed: 8, kind: .stamp)
            let clean = ShortcutDataset.render(split: split, index: i, seed: 8, trainAgreement: 0.9, kind: .stamp, drawCue: false)
            XCTAssertEqual(r.decoy, clean.decoy)
            XCTAssertEqual(r.mask, clean.mask)
            XCTAssertEqual(r.cueClass, clean.cueClass)
            let decoy = (0..<32 * 32).filter { r.decoy.pixels[$0] == 255 }
            XCTAssertEqual(r.decoy.pixels.filter { $0 != 0 && $0 != 255 }.count, 0)
            XCTAssertEqual(decoy.count, s * s, "index \(i)")
            let sx = decoy[0] % 32, sy = decoy[0] / 32
            XCTAssertEqual(decoy.last!, (sy + s - 1) * 32 + sx + s - 1, "index \(i): the decoy is a 5×5 box")
            XCTAssertTrue(sx >= inset && sy >= inset && sx + s <= 32 - inset && sy + s <= 32 - inset, "box at \(sx),\(sy)")
            positions.insert(sy * 32 + sx)
            // Clear of the object: no mask pixel in the box grown by 1 px.
            for y in max(0, sy - 1)...min(31, sy + s) {
                for x in max(0, sx - 1)...min(31, sx + s) { XCTAssertEqual(r.mask[x, y, 0], 0, "index \(i) (\(x),\(y))") }
            }
            // The pixels: the glyph toward white, the rest of the box toward black, all else untouched.
            let glyph = glyphs[r.cueClass]
            for y in 0..<32 {
                for x in 0..<32 {
                    let inGlyph = (sx..<sx + s).contains(x) && (sy..<sy + s).contains(y) && glyph.contains((y - sy) * s + x - sx)
                    for c in 0..<3 {
                        let a = Float(r.image[x, y, c]), b = Float(clean.image[x, y, c])
                        guard r.decoy[x, y, 0] == 255 else { XCTAssertEqual(a, b); continue }
                        let expected = (1 - blend) * b + blend * (inGlyph ? 255 : 0)
                        XCTAssertEqual(a, expected, accuracy: 0.6, "index \(i) (\(x),\(y)) channel \(c): from \(b)")
                    }
                }
            }
            // Whatever the background: glyph pixels at least 0.8·255, the box's others at most 0.2·255
            // (exactly 255 and 0 at blend 1).
            for dy in 0..<s {
                for dx in 0..<s {
                    for c in 0..<3 {
                        let v = r.image[sx + dx, sy + dy, c]
                        if glyph.contains(dy * s + dx) { XCTAssertGreaterThanOrEqual(v, 204) } else { XCTAssertLessThanOrEqual(v, 51) }
                    }
                }
            }
        }
        XCTAssertGreaterThan(positions.count, 100, "random positions")
    }
}
