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
}
