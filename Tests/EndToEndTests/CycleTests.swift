import Foundation
import XCTest

/// The human-in-the-loop commands through the real executable, with relative paths as a user
/// types them: collect (twice: nothing added twice), import-maps, finetune, export (byte-identical).
final class CycleTests: XCTestCase {
    func testCollectImportFinetuneExport() throws {
        let dir = try CommandRunner.temporaryDirectory()
        func run(_ args: [String]) throws -> CommandResult { try CommandRunner.succeed(args, cwd: dir) }
        _ = try run(["synth", "--out", "data", "--train", "160", "--test", "40", "--seed", "2"])
        _ = try run(["train", "--data", "data", "--out", "m.safetensors", "--epochs", "1", "--batch-size", "32"])
        let first = try run(["collect", "--model", "m.safetensors", "--data", "data", "--session", "s", "--select", "all", "--limit", "24"])
        XCTAssertTrue(first.stderr.contains("added 24 new"), first.stderr)
        let second = try run(["collect", "--model", "./m.safetensors", "--data", "./data", "--session", "s", "--select", "all", "--limit", "24"])
        XCTAssertTrue(second.stderr.contains("added 0 new"), second.stderr)
        let imported = try run(["import-maps", "--session", "s", "--masks", "data/masks/train"])
        XCTAssertTrue(imported.stderr.contains("imported 24 maps"), imported.stderr)
        let tuned = try run(["finetune", "--session", "s", "--out", "ft.safetensors", "--epochs", "1"])
        XCTAssertTrue(tuned.stdout.contains("decoy mass"), tuned.stdout)
        // In bf16 (the trained layers only): where the CPU has AVX512_BF16 it runs, says so and writes a model;
        // elsewhere one line naming what is missing, a non-zero exit and no model.
        let bf16 = try CommandRunner.run(["finetune", "--session", "s", "--out", "ft-bf16.safetensors", "--epochs", "1", "--precision", "bf16"], cwd: dir)
        let bf16Model = dir.appendingPathComponent("ft-bf16.safetensors").path
        if CommandRunner.bf16CPU() {
            XCTAssertEqual(bf16.status, 0, bf16.stderr)
            XCTAssertTrue(bf16.stderr.contains("in bf16 on"), bf16.stderr)
            XCTAssertTrue(FileManager.default.fileExists(atPath: bf16Model))
            // The session records the run's arithmetic with its parameters (the fp32 run's too).
            let recorded = sqliteQuery(dir.appendingPathComponent("s"), "SELECT json_extract(parameters, '$.options.precision') FROM runs WHERE kind = 'finetune' ORDER BY id")
            XCTAssertEqual(recorded, "fp32\nbf16")
        } else {
            assertCleanFailure(bf16, mentions: "AVX512_BF16")
            XCTAssertFalse(FileManager.default.fileExists(atPath: bf16Model))
        }
        // A different model is refused unless allowed.
        let other = try CommandRunner.run(["import-maps", "--session", "s", "--masks", "data/masks/train", "--model", "ft.safetensors"], cwd: dir)
        assertCleanFailure(other, mentions: "differs from the one this session was collected with")
        _ = try run(["export", "--session", "s", "--out", "e1"])
        _ = try run(["export", "--session", "s", "--out", "e2"])
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("e1").path).sorted()
        XCTAssertEqual(files.filter { $0.hasSuffix(".png") }.count, 24 * 5)
        XCTAssertTrue(files.contains("edits.csv") && files.contains("manifest.json"))
        for f in files {
            XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("e1/" + f)), try Data(contentsOf: dir.appendingPathComponent("e2/" + f)), f)
        }
        let csv = try String(contentsOf: dir.appendingPathComponent("e1/edits.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 24)
        // A session that does not exist, and one that is not SQLite.
        assertCleanFailure(try CommandRunner.run(["export", "--session", "nope", "--out", "x"], cwd: dir), mentions: "nope: no such session")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("bad"), withIntermediateDirectories: true)
        try Data(repeating: 7, count: 2048).write(to: dir.appendingPathComponent("bad/session.sqlite"))
        assertCleanFailure(try CommandRunner.run(["review", "bad"], cwd: dir), mentions: "not a session database")
    }
}
