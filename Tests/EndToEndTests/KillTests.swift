import Foundation
import XCTest
@testable import ABN

/// SIGKILL at random points of the commands that write (issue: reliability, item 4). Each command is
/// first run whole to learn how long it takes and what it leaves; then it is killed at random moments
/// across that time, and after every kill the session must be readable and consistent (its rows all
/// there or not there at all), the input model unchanged, and the output either absent or complete.
final class KillTests: XCTestCase {
    /// Seeded, so a failure names delays that can be replayed.
    private var random = InitRandom(seed: 20261205)
    private let kills = 6

    func testKilledExportLeavesNoExportOrTheWholeOne() throws {
        let dir = try session(importMasks: true)
        try CommandRunner.succeed(["export", "--session", "s", "--out", "reference"], cwd: dir)
        let reference = try tree(dir.appendingPathComponent("reference"))
        XCTAssertTrue(reference.keys.contains("manifest.json"))
        let seconds = try duration(["export", "--session", "s", "--out", "timing"], cwd: dir)
        let before = try visibleNames(dir)
        for i in 0..<kills {
            let delay = random.unit() * seconds * 1.2
            try killed(["export", "--session", "s", "--out", "audit"], cwd: dir, after: delay)
            let audit = dir.appendingPathComponent("audit")
            if FileManager.default.fileExists(atPath: audit.path) {
                XCTAssertEqual(try tree(audit), reference, "kill \(i) after \(delay) s left a partial export")
            }
            XCTAssertEqual(try visibleNames(dir).filter { $0 != "audit" }, before, "kill \(i) after \(delay) s left something visible")
        }
        // The next export completes and clears every hidden leftover of the killed ones.
        try CommandRunner.succeed(["export", "--session", "s", "--out", "audit"], cwd: dir)
        XCTAssertEqual(try tree(dir.appendingPathComponent("audit")), reference)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".audit") }, [])
    }

    func testKilledCollectLeavesAReadableSessionWithAllOrNoneOfItsSamples() throws {
        let dir = try dataAndModel()
        let model = try Data(contentsOf: dir.appendingPathComponent("m.safetensors"))
        let args = ["collect", "--model", "m.safetensors", "--data", "data", "--session", "k", "--select", "all", "--limit", "12"]
        let seconds = try duration(args.map { $0 == "k" ? "timing" : $0 }, cwd: dir)
        for i in 0..<kills {
            try? FileManager.default.removeItem(at: dir.appendingPathComponent("k"))
            let delay = random.unit() * seconds * 1.2
            try killed(args, cwd: dir, after: delay)
            if FileManager.default.fileExists(atPath: dir.appendingPathComponent("k/session.sqlite").path) {
                let count = sqliteQuery(dir.appendingPathComponent("k"), "SELECT count(*) FROM samples")
                XCTAssertTrue(count == "0" || count == "12", "kill \(i) after \(delay) s: \(count) samples")
            }
            // The killed run's session is taken up by the next one, which completes it.
            try CommandRunner.succeed(args, cwd: dir)
            XCTAssertEqual(sqliteQuery(dir.appendingPathComponent("k"), "SELECT count(*) FROM samples"), "12")
        }
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("m.safetensors")), model, "the input model changed")
    }

    func testKilledImportLeavesAllOrNoneOfItsEdits() throws {
        let dir = try session(importMasks: false)
        let args = ["import-maps", "--session", "s", "--masks", "data/masks"]
        let copy = try copySession(dir, as: "timing")
        let seconds = try duration(["import-maps", "--session", copy, "--masks", "data/masks"], cwd: dir)
        var imported = false
        for i in 0..<kills where !imported {
            let delay = random.unit() * seconds * 1.2
            try killed(args, cwd: dir, after: delay)
            let count = sqliteQuery(dir.appendingPathComponent("s"), "SELECT count(*) FROM edits")
            XCTAssertTrue(count == "0" || count == "12", "kill \(i) after \(delay) s: \(count) edits")
            imported = count == "12"
        }
        if !imported { try CommandRunner.succeed(args, cwd: dir) }
        XCTAssertEqual(sqliteQuery(dir.appendingPathComponent("s"), "SELECT count(*) FROM edits"), "12")
    }

    func testKilledFinetuneLeavesNoModelOrTheWholeOneAndTheInputUnchanged() throws {
        let dir = try session(importMasks: true)
        let model = try Data(contentsOf: dir.appendingPathComponent("m.safetensors"))
        let args = ["finetune", "--session", "s", "--out", "ft.safetensors", "--epochs", "2", "--seed", "3", "--threads", "1"]
        let seconds = try duration(args.map { $0 == "ft.safetensors" ? "reference.safetensors" : $0 }, cwd: dir)
        let reference = try Data(contentsOf: dir.appendingPathComponent("reference.safetensors"))
        for i in 0..<kills {
            let out = dir.appendingPathComponent("ft.safetensors")
            try? FileManager.default.removeItem(at: out)
            let delay = random.unit() * seconds * 1.2
            try killed(args, cwd: dir, after: delay)
            if FileManager.default.fileExists(atPath: out.path) {
                XCTAssertEqual(try Data(contentsOf: out), reference, "kill \(i) after \(delay) s left a partial model")
            }
            XCTAssertEqual(sqliteQuery(dir.appendingPathComponent("s"), "PRAGMA integrity_check"), "ok")
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("m.safetensors")), model, "the input model changed")
            // Not even a hidden partial file: the model is written into an unnamed file first.
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".ft.safetensors") }, [],
                           "kill \(i) after \(delay) s")
        }
    }

    // MARK: - Helpers

    private func dataAndModel(_ name: String = #function) throws -> URL {
        let dir = try CommandRunner.temporaryDirectory(name)
        try CommandRunner.succeed(["synth", "--out", "data", "--train", "24", "--test", "8"], cwd: dir)
        try CommandRunner.succeed(["train", "--data", "data", "--out", "m.safetensors", "--epochs", "1", "--batch-size", "8"], cwd: dir)
        return dir
    }

    private func session(importMasks: Bool, _ name: String = #function) throws -> URL {
        let dir = try dataAndModel(name)
        try CommandRunner.succeed(["collect", "--model", "m.safetensors", "--data", "data", "--session", "s", "--select", "all", "--limit", "12"], cwd: dir)
        if importMasks { try CommandRunner.succeed(["import-maps", "--session", "s", "--masks", "data/masks"], cwd: dir) }
        return dir
    }

    private func copySession(_ dir: URL, as name: String) throws -> String {
        try FileManager.default.copyItem(at: dir.appendingPathComponent("s"), to: dir.appendingPathComponent(name))
        return name
    }

    /// Seconds a whole run takes (it must succeed).
    private func duration(_ args: [String], cwd: URL) throws -> Double {
        let start = Date()
        try CommandRunner.succeed(args, cwd: cwd)
        return Date().timeIntervalSince(start)
    }

    private func killed(_ args: [String], cwd: URL, after seconds: Double) throws {
        let p = Process()
        p.executableURL = CommandRunner.executable
        p.arguments = args
        p.currentDirectoryURL = cwd
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        usleep(UInt32(seconds * 1_000_000))
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
    }

    /// Relative path → bytes of every file under a folder.
    private func tree(_ root: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for case let path as String in FileManager.default.enumerator(atPath: root.path) ?? FileManager.DirectoryEnumerator() {
            var isDir: ObjCBool = false
            let url = root.appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue {
                files[path] = try Data(contentsOf: url)
            }
        }
        return files
    }

    private func visibleNames(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !$0.hasPrefix(".") }.sorted()
    }
}
