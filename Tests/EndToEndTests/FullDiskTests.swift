import Foundation
import XCTest

/// A full disk (a small tmpfs, filled up) under the outputs of collect, import-maps, finetune and
/// export (issue: reliability, item 4): one line and exit 1, nothing half-written left visible, and
/// whatever was there before (the session's rows, the input model) still whole.
/// Mounting needs root (tools/test.sh and CI run as root); without it the tests fail and say so.
final class FullDiskTests: XCTestCase {
    private var mounts: [URL] = []

    override func tearDown() {
        for m in mounts { _ = shell("/bin/umount", [m.path]) }
        mounts = []
    }

    func testExportOntoAFullDiskFailsWithOneLineAndLeavesNothing() throws {
        let dir = try session()
        let disk = try fullDisk(in: dir, leaving: 16 * 1024)
        let r = try CommandRunner.run(["export", "--session", "s", "--out", disk.appendingPathComponent("audit").path], cwd: dir)
        assertCleanFailure(r, mentions: "No space left on device")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk.path), ["filler"], "nothing half-written on the disk")
    }

    func testFinetuneOntoAFullDiskFailsWithOneLineAndWritesNoModel() throws {
        let dir = try session()
        let disk = try fullDisk(in: dir, leaving: 16 * 1024)
        let model = try Data(contentsOf: dir.appendingPathComponent("m.safetensors"))
        let r = try CommandRunner.run(["finetune", "--session", "s", "--out", disk.appendingPathComponent("ft.safetensors").path,
                                       "--epochs", "1"], cwd: dir)
        assertCleanFailure(r, mentions: "No space left on device")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk.path), ["filler"], "no partial model file")
        XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("m.safetensors")), model)
    }

    func testCollectAndImportIntoASessionOnAFullDiskFailWithOneLineAndKeepTheRows() throws {
        let dir = try session(importMasks: false)
        // The session (8 of the 16 training images, no edit) moves onto the disk, which then fills up.
        let disk = try fullDisk(in: dir, leaving: nil)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("s"), to: disk.appendingPathComponent("s"))
        try fill(disk, leaving: 0)
        let session = disk.appendingPathComponent("s")
        let collect = try CommandRunner.run(["collect", "--model", "m.safetensors", "--data", "data", "--session", session.path,
                                             "--select", "all"], cwd: dir)
        assertCleanFailure(collect, mentions: session.path)
        let importing = try CommandRunner.run(["import-maps", "--session", session.path, "--masks", "data/masks"], cwd: dir)
        assertCleanFailure(importing, mentions: session.path)
        // With space again the session reads back whole: its 8 samples, no edit, and then both succeed.
        try FileManager.default.removeItem(at: disk.appendingPathComponent("filler"))
        XCTAssertEqual(sqliteQuery(session, "PRAGMA integrity_check"), "ok")
        XCTAssertEqual(sqliteQuery(session, "SELECT count(*) FROM samples"), "8")
        XCTAssertEqual(sqliteQuery(session, "SELECT count(*) FROM edits"), "0")
        try CommandRunner.succeed(["collect", "--model", "m.safetensors", "--data", "data", "--session", session.path, "--select", "all"], cwd: dir)
        try CommandRunner.succeed(["import-maps", "--session", session.path, "--masks", "data/masks"], cwd: dir)
        XCTAssertEqual(sqliteQuery(session, "SELECT count(*) FROM edits"), "16")
    }

    // MARK: - Helpers

    private func session(importMasks: Bool = true, _ name: String = #function) throws -> URL {
        let dir = try CommandRunner.temporaryDirectory(name)
        try CommandRunner.succeed(["synth", "--out", "data", "--train", "16", "--test", "8"], cwd: dir)
        try CommandRunner.succeed(["train", "--data", "data", "--out", "m.safetensors", "--epochs", "1", "--batch-size", "8"], cwd: dir)
        try CommandRunner.succeed(["collect", "--model", "m.safetensors", "--data", "data", "--session", "s", "--select", "all", "--limit", "8"], cwd: dir)
        if importMasks { try CommandRunner.succeed(["import-maps", "--session", "s", "--masks", "data/masks"], cwd: dir) }
        return dir
    }

    /// A 2 MiB tmpfs in `dir`, filled until `leaving` bytes are free (nil: left empty).
    private func fullDisk(in dir: URL, leaving: Int?) throws -> URL {
        // No skip: a full-disk promise untested is not kept. tools/setup.sh and CI run as root.
        guard getuid() == 0 else { throw FullDiskSetupError("mounting a tmpfs needs root: run the tests as root, as tools/test.sh and CI do") }
        let disk = dir.appendingPathComponent("disk-\(mounts.count)")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        guard shell("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", disk.path]) == 0 else {
            throw FullDiskSetupError("mount -t tmpfs \(disk.path) was refused")
        }
        mounts.append(disk)
        if let leaving { try fill(disk, leaving: leaving) }
        return disk
    }

    /// Writes a filler file until at most `leaving` bytes remain free.
    private func fill(_ disk: URL, leaving: Int) throws {
        var st = statvfs()
        XCTAssertEqual(statvfs(disk.path, &st), 0)
        let free = Int(st.f_bavail) * Int(st.f_frsize)
        let fd = open(disk.appendingPathComponent("filler").path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(fd) }
        let chunk = [UInt8](repeating: 0, count: 4096)
        var written = 0
        while written < free - leaving {
            let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress!, min(4096, free - leaving - written)) }
            if n <= 0 { break }
            written += n
        }
    }

    @discardableResult
    private func shell(_ tool: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        do { try p.run() } catch { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }
}

struct FullDiskSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
