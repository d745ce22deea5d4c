import XCTest
@testable import ABN

/// NIST FIPS 180-4 / CAVP example vectors, streaming at awkward split points, and a file hashed
/// in chunks against coreutils `sha256sum`.
final class SHA256Tests: XCTestCase {
    static let vectors: [([UInt8], String)] = [
        ([], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8),
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]

    func testNISTVectors() {
        for (message, digest) in Self.vectors { XCTAssertEqual(SHA256.hex(of: message), digest) }
    }

    func testOneMillionA() {
        XCTAssertEqual(SHA256.hex(of: [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// The same digests when the message arrives in pieces that straddle block boundaries.
    func testStreamingSplits() {
        for (message, digest) in Self.vectors {
            for split in [1, 3, 55, 56, 63, 64, 65] {
                var c = SHA256.Context()
                var i = 0
                while i < message.count { c.update(Array(message[i..<min(i + split, message.count)])); i += split }
                c.update([])
                XCTAssertEqual(c.finalize().map { String(format: "%02x", $0) }.joined(), digest, "split \(split)")
            }
        }
    }

    func testFileInChunksMatchesSha256sum() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/io/reference", withExtension: "safetensors"))
        // `sha256sum Tests/ABNTests/Fixtures/io/reference.safetensors` (GNU coreutils 9.1)
        let expected = "dcb53fd1c50eab3895b6a969962384324ecf1d08615c8c106adeba37106f3d4e"
        for chunk in [1, 7, 64, 100, 1 << 20] { XCTAssertEqual(try SHA256.hex(ofFileAt: url, chunkSize: chunk), expected, "chunk \(chunk)") }
        XCTAssertEqual(try ModelFile.sha256(of: url), expected)
        XCTAssertEqual(SHA256.hex(of: [UInt8](try Data(contentsOf: url))), expected)
    }

    func testUnreadableFilesAreNamed() throws {
        let dir = try ioTempDirectory("abn-sha")
        let absent = dir.appendingPathComponent("absent.safetensors")
        XCTAssertThrowsError(try ModelFile.sha256(of: absent)) { XCTAssertEqual("\($0)", "\(absent.path): cannot read: No such file or directory") }
        XCTAssertThrowsError(try ModelFile.sha256(of: dir)) { XCTAssertEqual("\($0)", "\(dir.path): cannot read: Is a directory") }
    }
}
