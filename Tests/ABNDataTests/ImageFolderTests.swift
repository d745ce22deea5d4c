import XCTest
@testable import ABNData

final class ImageFolderTests: XCTestCase {
    /// ROOT/train/{dog,Zebra,cat}/…, masks and decoys for some images, junk files to ignore.
    func makeDataset() -> URL {
        let root = makeTempDir(self)
        for (cls, names) in [("dog", ["1.png", "2.PNG"]), ("cat", ["a.png", "sub/b.png"]), ("Zebra", ["z.jpg"])] {
            for name in names where !name.hasSuffix("jpg") {
                writeImage(root.appendingPathComponent("train/\(cls)/\(name)"), width: 6, height: 4, channels: 3)
            }
        }
        write(bytes(base64: Fixtures.jpeg["grayscale"]!.file), root.appendingPathComponent("train/Zebra/z.jpg"))
        write(Array("notes".utf8), root.appendingPathComponent("train/dog/readme.txt"))
        write([0, 0, 0, 1], root.appendingPathComponent("train/dog/.DS_Store"))
        write(Array("top-level file".utf8), root.appendingPathComponent("train/LICENSE"))
        writeImage(root.appendingPathComponent("masks/train/dog/1.png"), width: 6, height: 4, channels: 1)
        writeImage(root.appendingPathComponent("masks/train/Zebra/z.png"), width: 24, height: 16, channels: 1)
        writeImage(root.appendingPathComponent("decoys/train/cat/sub/b.png"), width: 6, height: 4, channels: 1)
        return root
    }

    func testLayoutClassesMasksAndDecoys() throws {
        let root = makeDataset()
        let folder = try ImageFolder(root: root, split: "train")
        XCTAssertEqual(folder.classes, ["Zebra", "cat", "dog"])   // code-point order, like Python's sorted()
        XCTAssertEqual(folder.samples.map { $0.relativePath }, ["Zebra/z.jpg", "cat/a.png", "cat/sub/b.png", "dog/1.png", "dog/2.PNG"])
        XCTAssertEqual(folder.samples.map { $0.label }, [0, 1, 1, 2, 2])
        XCTAssertEqual(folder.samples[0].maskURL?.lastPathComponent, "z.png")   // jpg image, png mask
        XCTAssertEqual(folder.samples[3].maskURL?.path, root.appendingPathComponent("masks/train/dog/1.png").standardizedFileURL.path)
        XCTAssertNil(folder.samples[4].maskURL)
        XCTAssertEqual(folder.samples[2].decoyURL?.lastPathComponent, "b.png")
        XCTAssertTrue(folder.hasMasks)
        XCTAssertTrue(folder.hasDecoys)
        XCTAssertEqual(folder.warnings, [])
        XCTAssertEqual(folder.skippedCount, 0)
        XCTAssertNil(folder.commonShape)   // 24×16 and 6×4 mixed
        XCTAssertEqual(folder.samples[1].imageURL.path, root.appendingPathComponent("train/cat/a.png").standardizedFileURL.path)

        // Labels from a given class list (e.g. a model's), with a class that has no folder here.
        let given = try ImageFolder(root: root, split: "train", classes: ["cat", "dog", "emu", "Zebra"])
        XCTAssertEqual(given.samples.map { $0.label }, [3, 0, 0, 1, 1])
        assertDataError(try ImageFolder(root: root, split: "train", classes: ["cat", "dog"]),
                        path: root.appendingPathComponent("train/Zebra").standardizedFileURL.path, contains: "not one of the 2 classes")
    }

    func testCommonShape() throws {
        let root = makeTempDir(self)
        writeImage(root.appendingPathComponent("test/a/1.png"), width: 5, height: 3, channels: 1)
        writeImage(root.appendingPathComponent("test/b/1.png"), width: 5, height: 3, channels: 1)
        XCTAssertEqual(try ImageFolder(root: root, split: "test").commonShape, ImageShape(channels: 1, height: 3, width: 5))
        writeImage(root.appendingPathComponent("test/b/2.png"), width: 5, height: 3, channels: 4)
        XCTAssertEqual(try ImageFolder(root: root, split: "test").commonShape, ImageShape(channels: 3, height: 3, width: 5))
        XCTAssertFalse(try ImageFolder(root: root, split: "test").hasMasks)
    }

    func testStructuralProblems() throws {
        let base = makeTempDir(self)
        let missing = base.appendingPathComponent("nope")
        assertDataError(try ImageFolder(root: missing, split: "train"), path: missing.path, contains: "dataset folder does not exist")
        let file = base.appendingPathComponent("file")
        write([1], file)
        assertDataError(try ImageFolder(root: file, split: "train"), path: file.path, contains: "not a folder")

        let root = base.appendingPathComponent("data")
        writeImage(root.appendingPathComponent("test/a/1.png"))
        assertDataError(try ImageFolder(root: root, split: "train"), path: root.appendingPathComponent("train").path,
                        contains: "split folder 'train' is missing")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("train"), withIntermediateDirectories: true)
        assertDataError(try ImageFolder(root: root, split: "train"), path: root.appendingPathComponent("train").path,
                        contains: "no class folders")
        let empty = root.appendingPathComponent("train/empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        write(Array("x".utf8), empty.appendingPathComponent("notes.txt"))
        assertDataError(try ImageFolder(root: root, split: "train"), path: empty.path, contains: "class folder has no images")
        writeImage(root.appendingPathComponent("train/full/1.png"))
        let skipped = try ImageFolder(root: root, split: "train", skipBad: true)
        XCTAssertEqual(skipped.classes, ["empty", "full"])   // kept, so labels match other splits
        XCTAssertEqual(skipped.samples.map { $0.label }, [1])
        XCTAssertEqual(skipped.skippedCount, 1)
        XCTAssertEqual(skipped.warnings, ["\(empty.path): class folder has no images (.png, .jpg, .jpeg)"])
    }

    func testBadFilesFailOrAreSkipped() throws {
        let root = makeTempDir(self).standardizedFileURL
        let good = bytes(base64: Fixtures.png["rgb8"]!)
        let jpeg = bytes(base64: Fixtures.jpeg["baseline"]!.file)
        write(good, root.appendingPathComponent("train/a/0-good.png"))
        write(good, root.appendingPathComponent("train/b/0-good.png"))
        let bad: [(String, [UInt8]?, String)] = [
            ("train/a/1-empty.png", [], "empty file (0 bytes)"),
            ("train/a/2-truncated.png", Array(good.prefix(good.count - 16)), "truncated or corrupt PNG data"),
            ("train/a/3-text.jpg", Array("GIF89a....".utf8), "not a PNG or JPEG image"),
            ("train/b/4-truncated.jpg", Array(jpeg.prefix(jpeg.count - 60)), "truncated JPEG data"),
            ("train/b/5-dangling.png", nil, "cannot read file (no such file)"),
        ]
        for (path, data, _) in bad {
            let url = root.appendingPathComponent(path)
            if let data { write(data, url) } else {
                try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: "/nonexistent/x.png")
            }
        }
        // The first bad file in sorted order is the one reported.
        assertDataError(try ImageFolder(root: root, split: "train"), path: root.appendingPathComponent(bad[0].0).path, contains: bad[0].2)

        let folder = try ImageFolder(root: root, split: "train", skipBad: true)
        XCTAssertEqual(folder.samples.map { $0.relativePath }, ["a/0-good.png", "b/0-good.png"])
        XCTAssertEqual(folder.skippedCount, bad.count)
        for ((path, _, fragment), warning) in zip(bad, folder.warnings) {
            XCTAssertTrue(warning.hasPrefix(root.appendingPathComponent(path).path + ": "), warning)
            XCTAssertTrue(warning.contains(fragment), warning)
        }
        // Each bad file alone, strict mode: the error names it.
        for (path, data, fragment) in bad {
            let solo = makeTempDir(self, "solo\(path.count)").standardizedFileURL
            write(good, solo.appendingPathComponent("train/a/0.png"))
            let url = solo.appendingPathComponent(path)
            if let data { write(data, url) } else {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.createSymbolicLink(atPath: url.path, withDestinationPath: "/nonexistent/x.png")
            }
            assertDataError(try ImageFolder(root: solo, split: "train"), path: url.path, contains: fragment)
        }
        // Nothing usable at all is an error even when skipping.
        let none = makeTempDir(self, "none").standardizedFileURL
        write([], none.appendingPathComponent("train/a/x.png"))
        assertDataError(try ImageFolder(root: none, split: "train", skipBad: true),
                        path: none.appendingPathComponent("train").path, contains: "no usable images")
    }

    func testJPEGNamedPNGIsDecodedAndNoted() throws {
        let root = makeTempDir(self).standardizedFileURL
        let url = root.appendingPathComponent("train/a/photo.png")
        write(bytes(base64: Fixtures.jpeg["baseline"]!.file), url)
        let folder = try ImageFolder(root: root, split: "train")
        XCTAssertEqual(folder.samples.count, 1)
        XCTAssertEqual(folder.notes, ["\(url.path): content is JPEG, decoded as such despite the .png extension"])
        XCTAssertEqual(folder.commonShape, ImageShape(channels: 3, height: 16, width: 24))
    }

    func testMaskProblems() throws {
        let root = makeTempDir(self).standardizedFileURL
        writeImage(root.appendingPathComponent("train/a/1.png"), width: 8, height: 8)
        writeImage(root.appendingPathComponent("train/a/2.png"), width: 8, height: 8)
        let orphan = root.appendingPathComponent("masks/train/a/3.png")
        writeImage(orphan, width: 8, height: 8, channels: 1)
        assertDataError(try ImageFolder(root: root, split: "train"), path: orphan.path, contains: "mask has no matching image train/a/3")
        try FileManager.default.removeItem(at: orphan)

        let wrongSize = root.appendingPathComponent("masks/train/a/1.png")
        writeImage(wrongSize, width: 4, height: 8, channels: 1)
        assertDataError(try ImageFolder(root: root, split: "train"), path: wrongSize.path,
                        contains: "mask is 4x8 but its image a/1.png is 8x8")
        let brokenDecoy = root.appendingPathComponent("decoys/train/a/2.png")
        write(Array("zzz".utf8), brokenDecoy)
        let skipped = try ImageFolder(root: root, split: "train", skipBad: true)
        XCTAssertEqual(skipped.samples.count, 2)          // the images themselves are fine
        XCTAssertNil(skipped.samples[0].maskURL)
        XCTAssertNil(skipped.samples[1].decoyURL)
        XCTAssertEqual(skipped.skippedCount, 2)
        XCTAssertTrue(skipped.warnings[1].hasPrefix(brokenDecoy.path + ": not a PNG or JPEG"), skipped.warnings[1])
        XCTAssertFalse(skipped.hasMasks)
    }

    func testHeaderOnlyScanDefersTruncationToLoading() throws {
        let root = makeTempDir(self).standardizedFileURL
        let good = bytes(base64: Fixtures.png["rgb8"]!)
        let cut = root.appendingPathComponent("train/a/cut.png")
        write(Array(good.prefix(good.count - 16)), cut)
        let folder = try ImageFolder(root: root, split: "train", classes: nil, decodeAll: false)
        XCTAssertEqual(folder.samples.count, 1)
        assertDataError(try ImageIO.decode(fileAt: folder.samples[0].imageURL), path: cut.path, contains: "PNG")
    }
}
