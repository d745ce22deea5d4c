import Foundation
import XCTest
@testable import ABNData

/// Decoding against files written by other tools: a hand-rolled PNG encoder whose pixels follow
/// formulas (recomputed here), and Pillow for JPEG (its decoded pixels stored with the file).
final class CodecTests: XCTestCase {
    let w = Fixtures.pngSize.width, h = Fixtures.pngSize.height

    // The fixture formulas (see tools/make_abndata_fixtures.py).
    func v8(_ x: Int, _ y: Int, _ c: Int) -> UInt8 { UInt8((x * 40 + y * 70 + c * 25 + 3) % 256) }
    func v16(_ x: Int, _ y: Int, _ c: Int) -> Int { (x * 9000 + y * 17000 + c * 5000 + 1234) % 65536 }
    /// 16 → 8 bits by rounding v·255/65535 to nearest.
    func scaled(_ v: Int) -> UInt8 { UInt8((v * 255 + 32767) / 65535) }

    func decodeFixture(_ name: String) throws -> Image {
        try ImageIO.decode(data: bytes(base64: Fixtures.png[name]!), name: name)
    }

    func testEightBitPNGsOfEveryColourType() throws {
        for (name, channels) in [("gray8", 1), ("grayAlpha8", 2), ("rgb8", 3), ("rgba8", 4)] {
            let image = try decodeFixture(name)
            XCTAssertEqual([image.width, image.height, image.channels], [w, h, channels], name)
            for y in 0..<h { for x in 0..<w { for c in 0..<channels {
                XCTAssertEqual(image[x, y, c], v8(x, y, c), "\(name) at \(x),\(y),\(c)")
            } } }
        }
    }

    func testSixteenBitPNGsAreScaledNotGammaCorrected() throws {
        for (name, channels) in [("gray16", 1), ("grayAlpha16", 2), ("rgb16", 3), ("rgba16", 4)] {
            let image = try decodeFixture(name)
            XCTAssertEqual(image.channels, channels, name)
            for y in 0..<h { for x in 0..<w { for c in 0..<channels {
                let expected = Int(scaled(v16(x, y, c)))
                XCTAssertLessThanOrEqual(abs(Int(image[x, y, c]) - expected), 0, "\(name) at \(x),\(y),\(c): 16-bit \(v16(x, y, c))")
            } } }
        }
        // Hand-worked: pixel (0,0) channel 0 of rgb16 is 1234; 1234·255/65535 = 4.80 → 5.
        XCTAssertEqual(try decodeFixture("rgb16")[0, 0, 0], 5)
    }

    func testLowBitDepthAndPalettePNGs() throws {
        let gray2 = try decodeFixture("gray2")
        XCTAssertEqual(gray2.channels, 1)
        for y in 0..<h { for x in 0..<w { XCTAssertEqual(gray2[x, y, 0], UInt8(((x + y) % 4) * 85)) } }

        let palette = try decodeFixture("palette")
        XCTAssertEqual(palette.channels, 3)
        for y in 0..<h { for x in 0..<w {
            let entry = Fixtures.palette[(x + 2 * y) % 4]
            XCTAssertEqual((0..<3).map { palette[x, y, $0] }, entry)
        } }

        let withAlpha = try decodeFixture("paletteAlpha")
        XCTAssertEqual(withAlpha.channels, 4)
        let alphas: [UInt8] = [0, 128, 255, 255]   // tRNS covers the first three entries
        for y in 0..<h { for x in 0..<w {
            let index = (x + 2 * y) % 4
            XCTAssertEqual(withAlpha[x, y, 3], alphas[index])
            if alphas[index] > 0 {   // colour under alpha 0 is not meaningful
                XCTAssertEqual((0..<3).map { withAlpha[x, y, $0] }, Fixtures.palette[index])
            }
        } }
    }

    func testJPEGsMatchPillow() throws {
        for name in ["baseline", "progressive", "grayscale", "cmyk"] {
            let f = Fixtures.jpeg[name]!
            let image = try ImageIO.decode(data: bytes(base64: f.file), name: name)
            XCTAssertEqual([image.width, image.height, image.channels], [f.width, f.height, f.channels], name)
            let expected = bytes(base64: f.pixels)
            let worst = zip(image.pixels, expected).map { abs(Int($0) - Int($1)) }.max()!
            // Same IDCT (islow) and upsampling as Pillow's libjpeg-turbo; CMYK→RGB rounds differently.
            XCTAssertLessThanOrEqual(worst, name == "cmyk" ? 2 : 0, name)
        }
    }

    func testInfoReadsHeaderOnly() throws {
        let f = Fixtures.jpeg["progressive"]!
        let info = try ImageIO.info(data: bytes(base64: f.file), name: "p.jpg")
        XCTAssertEqual(info, ImageInfo(format: .jpeg, width: 24, height: 16, channels: 3))
        let png = try ImageIO.info(data: bytes(base64: Fixtures.png["paletteAlpha"]!), name: "p.png")
        XCTAssertEqual(png, ImageInfo(format: .png, width: 5, height: 3, channels: 4))
    }

    func testPNGRoundTripAndHeaderOfWrittenFile() throws {
        let dir = makeTempDir(self)
        for channels in [1, 3, 4] {
            var image = Image(width: 7, height: 4, channels: channels)
            for i in image.pixels.indices { image.pixels[i] = UInt8((i * 37) % 256) }
            let url = dir.appendingPathComponent("out\(channels).png")
            try ImageIO.writePNG(image, to: url)
            let raw = [UInt8](try Data(contentsOf: url))
            XCTAssertEqual(Array(raw[0..<8]), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            // IHDR: width, height (big-endian) at 16..<24, bit depth 8, colour type 0 / 2 / 6.
            XCTAssertEqual(Array(raw[16..<26]), [0, 0, 0, 7, 0, 0, 0, 4, 8, [1: 0, 3: 2, 4: 6][channels]!])
            XCTAssertEqual(try ImageIO.decode(fileAt: url), image)
        }
        // No temporary files left behind by the atomic write.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["out1.png", "out3.png", "out4.png"])
        assertDataError(try ImageIO.encodePNG(Image(width: 2, height: 2, channels: 2)), path: "<png encoder>", contains: "1, 3 or 4")
        let ga = dir.appendingPathComponent("ga.png")
        assertDataError(try ImageIO.writePNG(Image(width: 2, height: 2, channels: 2), to: ga), path: ga.path, contains: "1, 3 or 4")
        let nowhere = dir.appendingPathComponent("missing/x.png")
        assertDataError(try ImageIO.writePNG(Image(width: 2, height: 2, channels: 1), to: nowhere), path: nowhere.path,
                        contains: "cannot write file (no such file)")
    }

    func testOversizedImagesAreRefusedFromTheHeader() throws {
        // A PNG whose header claims 30000×30000 but whose IDAT holds 4 bytes: refusing it with
        // "over the limit" (not "truncated") shows the check happens before decoding.
        var ihdr: [UInt8] = [0x49, 0x48, 0x44, 0x52, 0, 0, 0x75, 0x30, 0, 0, 0x75, 0x30, 8, 2, 0, 0, 0]
        let crc = crc32(ihdr)
        ihdr = [0, 0, 0, 13] + ihdr + [UInt8(crc >> 24), UInt8(crc >> 16 & 255), UInt8(crc >> 8 & 255), UInt8(crc & 255)]
        let idatBody: [UInt8] = [0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60]
        let idatCRC = crc32(idatBody)
        let idat = [0, 0, 0, 4] + idatBody + [UInt8(idatCRC >> 24), UInt8(idatCRC >> 16 & 255), UInt8(idatCRC >> 8 & 255), UInt8(idatCRC & 255)]
        let iend: [UInt8] = [0, 0, 0, 0, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
        let fake = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + ihdr + idat + iend
        assertDataError(try ImageIO.decode(data: fake, name: "huge.png"), path: "huge.png", contains: "over the limit of 50000000 pixels")
        // A real small JPEG with a small limit.
        let jpeg = bytes(base64: Fixtures.jpeg["baseline"]!.file)
        assertDataError(try ImageIO.decode(data: jpeg, name: "a.jpg", maxPixels: 100), path: "a.jpg", contains: "24x16 (384 pixels), over the limit of 100")
        XCTAssertNoThrow(try ImageIO.decode(data: jpeg, name: "a.jpg", maxPixels: 384))
    }

    func testMalformedFilesGiveOneLineErrors() throws {
        let dir = makeTempDir(self)
        let png = bytes(base64: Fixtures.png["rgb8"]!)
        let jpeg = bytes(base64: Fixtures.jpeg["baseline"]!.file)
        let progressive = bytes(base64: Fixtures.jpeg["progressive"]!.file)
        let cases: [(String, [UInt8], String)] = [
            ("empty.png", [], "empty file (0 bytes)"),
            ("text.png", Array("hello, world".utf8), "not a PNG or JPEG image (file starts with bytes 68 65 6c 6c"),
            ("short.png", Array(png.prefix(40)), "truncated or corrupt PNG data"),
            ("cut.png", Array(png.prefix(png.count - 20)), "truncated or corrupt PNG data"),
            ("signature-only.png", Array(png.prefix(8)), "truncated or corrupt PNG data"),
            ("cut.jpg", Array(jpeg.prefix(jpeg.count / 2)), "truncated JPEG data"),
            ("cut-late.jpg", Array(jpeg.prefix(jpeg.count - 40)), "truncated JPEG data"),
            ("cut-progressive.jpg", Array(progressive.prefix(progressive.count / 2)), "truncated JPEG data"),
            ("header-only.jpg", Array(jpeg.prefix(3)), "truncated JPEG data"),
            ("garbage-after-soi.jpg", [0xFF, 0xD8, 0xFF] + [UInt8](repeating: 0x41, count: 200), "invalid JPEG data"),
        ]
        for (name, data, fragment) in cases {
            let url = dir.appendingPathComponent(name)
            write(data, url)
            assertDataError(try ImageIO.decode(fileAt: url), path: url.path, contains: fragment)
        }
        // A corrupted PNG data stream (bytes flipped inside IDAT, CRC now wrong).
        var flipped = png
        for i in 45..<55 { flipped[i] ^= 0x5A }
        let url = dir.appendingPathComponent("flipped.png")
        write(flipped, url)
        assertDataError(try ImageIO.decode(fileAt: url), path: url.path, contains: "PNG")
        // Missing file and a folder named like an image.
        assertDataError(try ImageIO.decode(fileAt: dir.appendingPathComponent("none.png")),
                        path: dir.appendingPathComponent("none.png").path, contains: "no such file")
        let folder = dir.appendingPathComponent("folder.png")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        assertDataError(try ImageIO.decode(fileAt: folder), path: folder.path, contains: "is a directory")
    }

    func testFormatComesFromContentNotExtension() throws {
        let dir = makeTempDir(self)
        let f = Fixtures.jpeg["baseline"]!
        let url = dir.appendingPathComponent("really-a-jpeg.png")
        write(bytes(base64: f.file), url)
        let image = try ImageIO.decode(fileAt: url)
        XCTAssertEqual(image.pixels, bytes(base64: f.pixels))
        let png = dir.appendingPathComponent("really-a-png.JPG")
        write(bytes(base64: Fixtures.png["gray8"]!), png)
        XCTAssertEqual(try ImageIO.decode(fileAt: png)[1, 2, 0], v8(1, 2, 0))
    }

    func testUnreadableFile() throws {
        let dir = makeTempDir(self)
        let url = dir.appendingPathComponent("locked.png")
        write(bytes(base64: Fixtures.png["rgb8"]!), url)
        chmod(url.path, 0)
        defer { chmod(url.path, 0o644) }
        // Root reads anything; as root, check files as `nobody` on this thread (setfsuid is per
        // thread and drops the file-permission capabilities until it is set back).
        let previous = getuid() == 0 ? setFileSystemUser(65534) : nil
        defer { if let previous { _ = setFileSystemUser(previous) } }
        let probe = open(url.path, O_RDONLY)
        XCTAssertEqual(probe, -1, "the file must be unreadable for this test")
        if probe >= 0 { close(probe) }
        assertDataError(try ImageIO.decode(fileAt: url), path: url.path, contains: "permission denied")
    }

    /// setfsuid(2), which Swift's Glibc module does not import; returns the previous fsuid.
    private func setFileSystemUser(_ uid: UInt32) -> UInt32 {
        typealias SetFSUID = @convention(c) (UInt32) -> Int32
        let setfsuid = unsafeBitCast(dlsym(nil, "setfsuid"), to: SetFSUID.self)
        return UInt32(setfsuid(uid))
    }

    func testDanglingSymlink() throws {
        let dir = makeTempDir(self)
        let link = dir.appendingPathComponent("gone.png")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: dir.appendingPathComponent("missing").path)
        assertDataError(try ImageIO.decode(fileAt: link), path: link.path, contains: "no such file")
    }
}

/// CRC-32 (the PNG/zlib polynomial), bitwise; for hand-made test chunks.
func crc32(_ data: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in data {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
    }
    return ~crc
}

/// Damaged files must come back as errors (or, where the damage is harmless, as images), never
/// as a crash: flip, drop and insert bytes at seeded positions in every fixture.
final class MutationTests: XCTestCase {
    func testMutatedFilesNeverCrash() {
        var originals = Fixtures.png.sorted { $0.key < $1.key }.map { bytes(base64: $0.value) }
        originals += Fixtures.jpeg.sorted { $0.key < $1.key }.map { bytes(base64: $0.value.file) }
        var rng = SplitMix64(seed: 2024)
        var errors = 0, decoded = 0
        for original in originals {
            for _ in 0..<60 {
                var data = original
                for _ in 0..<(1 + rng.nextInt(below: 4)) {
                    let at = rng.nextInt(below: data.count)
                    switch rng.nextInt(below: 3) {
                    case 0: data[at] ^= UInt8(1 + rng.nextInt(below: 255))
                    case 1: data.removeSubrange(at..<min(data.count, at + 1 + rng.nextInt(below: 16)))
                    default: data.insert(contentsOf: (0..<(1 + rng.nextInt(below: 8))).map { _ in UInt8(rng.nextInt(below: 256)) }, at: at)
                    }
                    if data.isEmpty { data = [0] }
                }
                do {
                    let image = try ImageIO.decode(data: data, name: "m", maxPixels: 1 << 20)
                    XCTAssertEqual(image.pixels.count, image.width * image.height * image.channels)
                    decoded += 1
                } catch let error as DataError {
                    XCTAssertEqual(error.path, "m")
                    XCTAssertFalse(error.problem.isEmpty)
                    errors += 1
                } catch {
                    XCTFail("unexpected error type \(error)")
                }
            }
        }
        XCTAssertGreaterThan(errors, 100)   // most damage is detected
    }
}
