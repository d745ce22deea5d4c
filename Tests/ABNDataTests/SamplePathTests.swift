import ABNData
import Foundation
import XCTest

/// Sample paths from a session stay inside the split folder: by name and through symbolic links.
final class SamplePathTests: XCTestCase {
    func testPathsAndLinksThatLeaveTheFolderAreRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("samplepath-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let split = dir.appendingPathComponent("data/train"), outside = dir.appendingPathComponent("secret")
        let fm = FileManager.default
        try fm.createDirectory(at: split.appendingPathComponent("cat"), withIntermediateDirectories: true)
        try fm.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data([1]).write(to: split.appendingPathComponent("cat/a.png"))
        try Data([2]).write(to: outside.appendingPathComponent("b.png"))
        try fm.createSymbolicLink(atPath: split.appendingPathComponent("cat/out.png").path, withDestinationPath: outside.appendingPathComponent("b.png").path)
        try fm.createSymbolicLink(atPath: split.appendingPathComponent("dog").path, withDestinationPath: outside.path)
        try fm.createSymbolicLink(atPath: split.appendingPathComponent("cat/in.png").path, withDestinationPath: "a.png")

        XCTAssertEqual(try SamplePath.resolve("cat/a.png", under: split).path, split.path + "/cat/a.png")
        XCTAssertEqual(try SamplePath.resolve("cat/in.png", under: split).path, split.path + "/cat/in.png")  // a link that stays inside
        // The split folder reached through a link is still the same folder.
        let linkedData = dir.appendingPathComponent("linked")
        try fm.createSymbolicLink(atPath: linkedData.path, withDestinationPath: dir.appendingPathComponent("data").path)
        XCTAssertNoThrow(try SamplePath.resolve("cat/a.png", under: linkedData.appendingPathComponent("train")))

        for name in ["../../secret/b.png", "cat/../../secret/b.png", "/etc/passwd", "", "cat//a.png", "cat/a.png\0x"] {
            XCTAssertThrowsError(try SamplePath.resolve(name, under: split), name) { e in
                XCTAssertTrue("\(e)".contains("is not a relative path inside this folder; refused"), "\(e)")
            }
        }
        for name in ["cat/out.png", "dog/b.png"] {
            XCTAssertThrowsError(try SamplePath.resolve(name, under: split), name) { e in
                XCTAssertTrue("\(e)".contains("a symbolic link leads outside the dataset folder") && "\(e)".contains(outside.path), "\(e)")
            }
        }
    }
}
