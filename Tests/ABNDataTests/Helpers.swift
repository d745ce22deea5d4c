import Foundation
import XCTest
@testable import ABNData

/// A fresh folder under the system temp dir, removed when the test ends.
func makeTempDir(_ test: XCTestCase, _ name: String = #function) -> URL {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("abndata-\(safe)-\(UInt32.random(in: 0...UInt32.max))")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

func bytes(base64: String) -> [UInt8] { [UInt8](Data(base64Encoded: base64)!) }

func write(_ bytes: [UInt8], _ url: URL) {
    try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try! Data(bytes).write(to: url)
}

/// A solid or patterned test image written as PNG through the module's encoder.
func writeImage(_ url: URL, width: Int = 8, height: Int = 8, channels: Int = 3, value: (Int, Int, Int) -> UInt8 = { _, _, _ in 128 }) {
    var image = Image(width: width, height: height, channels: channels)
    for y in 0..<height { for x in 0..<width { for c in 0..<channels { image[x, y, c] = value(x, y, c) } } }
    try! FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try! ImageIO.writePNG(image, to: url)
}

/// Asserts that `body` throws a DataError whose path is `path` and whose problem contains `fragment`.
func assertDataError(_ body: @autoclosure () throws -> Any, path: String, contains fragment: String,
                     file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error containing '\(fragment)'", file: file, line: line)
    } catch let error as DataError {
        XCTAssertEqual(error.path, path, "\(error)", file: file, line: line)
        XCTAssertTrue(error.problem.contains(fragment), "'\(error.problem)' lacks '\(fragment)'", file: file, line: line)
        XCTAssertFalse(error.description.contains("\n"), "error must be one line", file: file, line: line)
        XCTAssertEqual(error.description, "\(path): \(error.problem)", file: file, line: line)
    } catch {
        XCTFail("expected DataError, got \(error)", file: file, line: line)
    }
}
