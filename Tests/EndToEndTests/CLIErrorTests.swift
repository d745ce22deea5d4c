import Foundation
import XCTest

/// Bad input through the real executable: one line on stderr naming the file, exit 1, no crash,
/// nothing half-written.
final class CLIErrorTests: XCTestCase {
    func testEveryCommandHasHelp() throws {
        // Each command's usage line, and the option that names its main input or output.
        let options = ["synth": "--out <out>", "train": "--data <data>", "eval": "--model <model>", "collect": "--session <session>",
                       "review": "--annotator <annotator>", "import-maps": "--masks <masks>", "finetune": "--session <session>",
                       "export": "--out <out>", "explain": "--model <model>", "bench": "--arch <arch>", "demo": "--auto"]
        for (command, option) in options.sorted(by: { $0.key < $1.key }) {
            let r = try CommandRunner.run([command, "--help"])
            XCTAssertEqual(r.status, 0, command)
            XCTAssertTrue(r.stdout.contains("USAGE: abn-hitl \(command) "), "\(command) --help: \(r.stdout)")
            XCTAssertTrue(r.stdout.contains("\n  \(option)"), "\(command) --help lists \(option): \(r.stdout)")
        }
    }

    func testUnknownOptionIsAUsageError() throws {
        let r = try CommandRunner.run(["eval", "--model", "m", "--data", "d", "--no-such-option"])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.hasPrefix("Error: Unknown option '--no-such-option'\n"), r.stderr)
    }

    /// Choices are typed: a value outside them is a usage error (exit 64) that lists the valid ones,
    /// before any file is read.
    func testChoiceOutsideItsValuesIsAUsageError() throws {
        let cases: [([String], [String])] = [
            (["train", "--data", "d", "--out", "m", "--arch", "resnet21"], ["'resnet21'", "cifar-resnet20", "imagenet-resnet152"]),
            (["train", "--data", "d", "--out", "m", "--attention", "add"], ["'add'", "multiply", "residual"]),
            (["finetune", "--session", "s", "--out", "m", "--branches", "features"], ["'features'", "attention+perception", "all"]),
            (["synth", "--out", "d", "--shortcut-kind", "colour"], ["'colour'", "patch", "background", "stamp"]),
            (["bench", "--arch", "vgg16"], ["'vgg16'", "cifar-resnet110"]),
            (["explain", "--model", "m", "--method", "gradcam,lime", "x.png"], ["'gradcam,lime'", "abn", "gradcam++"]),
            (["explain", "--model", "m", "--colormap", "viridis", "x.png"], ["'viridis'", "jet"]),
            (["review", "s", "--cam", "abn"], ["'abn'", "cam", "gradcam++"]),
            (["review", "s", "--graphics", "sixel"], ["'sixel'", "auto", "kitty", "none"]),
            // Images are colour: forcing them with no colour is a contradiction, said before the session is read.
            (["review", "s", "--graphics", "kitty", "--color", "none"], ["--graphics kitty", "--color none"]),
            (["eval", "--model", "m", "--data", "d", "--faithfulness", "--method", "lime"], ["'lime'", "gradcam"]),
            // Not choices, but usage all the same: eval's --steps and --method only mean something with --faithfulness.
            (["eval", "--model", "m", "--data", "d", "--faithfulness", "--steps", "0"], ["--steps"]),
            (["eval", "--model", "m", "--data", "d", "--method", "cam"], ["--faithfulness"]),
        ]
        for (args, mentions) in cases {
            let r = try CommandRunner.run(args)
            XCTAssertEqual(r.status, 64, "\(args): \(r.stderr)")
            for word in mentions { XCTAssertTrue(r.stderr.contains(word), "\(args) mentions \(word): \(r.stderr)") }
        }
        // Any CIFAR depth 6n+2 and the short forms parse (resnet20 is CIFAR's, resnet18 ImageNet's).
        for arch in ["cifar-resnet8", "resnet20", "resnet18"] {
            let r = try CommandRunner.run(["bench", "--arch", arch, "--help"])
            XCTAssertEqual(r.status, 0, "\(arch): \(r.stderr)")
        }
    }

    func testMissingModelFile() throws {
        let dir = try CommandRunner.temporaryDirectory()
        let missing = dir.appendingPathComponent("absent.safetensors").path
        let r = try CommandRunner.run(["explain", "--model", missing, "x.png"])
        assertCleanFailure(r, mentions: "absent.safetensors")
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }

    func testModelFileThatIsNotAModel() throws {
        let dir = try CommandRunner.temporaryDirectory()
        let junk = dir.appendingPathComponent("junk.safetensors")
        try Data("this is not a safetensors file at all".utf8).write(to: junk)
        let image = dir.appendingPathComponent("x.png")
        try Data([0x89, 0x50]).write(to: image)
        for args in [["explain", "--model", junk.path, image.path], ["eval", "--model", junk.path, "--data", dir.path]] {
            let r = try CommandRunner.run(args)
            assertCleanFailure(r, mentions: "junk.safetensors")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
    }

    func testTruncatedModelFile() throws {
        let dir = try CommandRunner.temporaryDirectory()
        let file = dir.appendingPathComponent("cut.safetensors")
        // A header length far beyond the file's size.
        var bytes: [UInt8] = [0xFF, 0xFF, 0, 0, 0, 0, 0, 0]
        bytes += Array("{\"a\":".utf8)
        try Data(bytes).write(to: file)
        let r = try CommandRunner.run(["explain", "--model", file.path, file.path])
        assertCleanFailure(r, mentions: "cut.safetensors")
    }

    func testTrainOnMissingOrEmptyData() throws {
        let dir = try CommandRunner.temporaryDirectory()
        let out = dir.appendingPathComponent("m.safetensors").path
        var r = try CommandRunner.run(["train", "--data", dir.appendingPathComponent("nope").path, "--out", out])
        assertCleanFailure(r, mentions: "nope")
        r = try CommandRunner.run(["train", "--data", dir.path, "--out", out])
        assertCleanFailure(r, mentions: dir.path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    func testTrainToUnwritableOutput() throws {
        let dir = try CommandRunner.temporaryDirectory()
        let data = dir.appendingPathComponent("data")
        XCTAssertEqual(try CommandRunner.run(["synth", "--out", data.path, "--train", "16", "--test", "8"]).status, 0)
        let out = dir.appendingPathComponent("no/such/dir/m.safetensors").path
        let r = try CommandRunner.run(["train", "--data", data.path, "--out", out, "--epochs", "1"])
        assertCleanFailure(r, mentions: "m.safetensors")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
    }

    /// A learning rate that makes the loss overflow stops training with one line; no model is written.
    func testDivergingTrainingStopsWithoutWritingAModel() throws {
        let dir = try CommandRunner.temporaryDirectory()
        XCTAssertEqual(try CommandRunner.run(["synth", "--out", "data", "--train", "32", "--test", "8"], cwd: dir).status, 0)
        let r = try CommandRunner.run(["train", "--data", "data", "--out", "m.safetensors", "--epochs", "2", "--batch-size", "8", "--lr", "1e8"], cwd: dir)
        assertCleanFailure(r, mentions: "training diverged (loss is not finite at epoch 1")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.safetensors").path))
    }

    /// import-maps --masks takes DATA/masks or DATA/masks/<split>; a folder with no mask for any
    /// sample is exit 1 with one line naming it and the count.
    func testImportMapsMaskLayoutsAndAFolderWithoutMasks() throws {
        let dir = try CommandRunner.temporaryDirectory()
        func run(_ args: [String]) throws -> CommandResult { try CommandRunner.succeed(args, cwd: dir) }
        _ = try run(["synth", "--out", "data", "--train", "16", "--test", "8"])
        _ = try run(["train", "--data", "data", "--out", "m.safetensors", "--epochs", "1", "--batch-size", "8"])
        _ = try run(["collect", "--model", "m.safetensors", "--data", "data", "--session", "s", "--select", "all", "--limit", "8"])
        let wrong = try CommandRunner.run(["import-maps", "--session", "s", "--masks", "data/masks/train/circle"], cwd: dir)
        assertCleanFailure(wrong, mentions: "data/masks/train/circle: no mask found for any of the 8 samples")
        XCTAssertTrue(wrong.stderr.contains("expected <masks>/<class>/<name>.png or <masks>/train/<class>/<name>.png"), wrong.stderr)
        XCTAssertEqual(wrong.stderr.split(separator: "\n").count, 1, wrong.stderr)
        let imported = try run(["import-maps", "--session", "s", "--masks", "data/masks"])
        XCTAssertTrue(imported.stderr.contains("imported 8 maps into s from ") && imported.stderr.contains("data/masks/train\n"), imported.stderr)
        let again = try run(["import-maps", "--session", "s", "--masks", "data/masks/train"])
        XCTAssertTrue(again.stderr.contains("imported 0 maps into s from ") && again.stderr.contains("data/masks/train; 8 already had their mask's map"), again.stderr)
    }

    /// A model with a NaN weight is refused by name when loaded; a session with a NaN in a stored map
    /// makes export stop with one line naming the edit (it used to die with signal 4 converting the
    /// NaN to a pixel), and writes no export.
    func testNaNWeightsAndNaNStoredMapsAreReportedNotTrapped() throws {
        let dir = try smallSession()

        // The model: conv1.weight's first value becomes NaN (its offset from the safetensors header).
        var bytes = try Data(contentsOf: dir.appendingPathComponent("m.safetensors"))
        let headerLength = Int(bytes.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
        let entry = try XCTUnwrap(header["conv1.weight"] as? [String: Any])
        let start = 8 + headerLength + (try XCTUnwrap((entry["data_offsets"] as? [Int])?.first))
        bytes.replaceSubrange(start..<(start + 4), with: [0x00, 0x00, 0xC0, 0x7F])  // a quiet NaN, little-endian
        try bytes.write(to: dir.appendingPathComponent("nan.safetensors"))
        let image = dir.appendingPathComponent("data/test").path
        for args in [["explain", "--model", "nan.safetensors", try firstImage(in: image)], ["eval", "--model", "nan.safetensors", "--data", "data"]] {
            let r = try CommandRunner.run(args, cwd: dir)
            assertCleanFailure(r, mentions: "nan.safetensors")
            XCTAssertTrue(r.stderr.contains("NaN or infinite values in conv1.weight"), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }

        // The session: an edit row whose map holds a NaN, written behind the tool's back.
        let python = """
            import sqlite3, struct, sys
            db = sqlite3.connect(sys.argv[1])
            n = len(db.execute("SELECT original_map FROM samples WHERE id = 1").fetchone()[0]) // 4
            k = len(db.execute("SELECT probabilities FROM samples WHERE id = 1").fetchone()[0]) // 4
            m = struct.pack("<%df" % n, float("nan"), *([0.5] * (n - 1)))
            db.execute("INSERT INTO edits (sample_id, map, annotator, created_at, source, whatif_probabilities) VALUES (1, ?, 'x', 't', 'review', ?)",
                       (m, struct.pack("<%df" % k, *([1.0 / k] * k))))
            db.commit()
            """
        try writeBehindTheToolsBack(python, session: dir.appendingPathComponent("s"))
        let r = try CommandRunner.run(["export", "--session", "s", "--out", "audit"], cwd: dir)
        assertCleanFailure(r, mentions: "damaged map of edit 1 (sample 1): value nan at index 0")
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("audit").path))
    }

    /// A sample path that leaves the dataset (`..`, or a link out of it) is refused by export and
    /// fine-tuning with one line; nothing outside is read and no export is made.
    func testSamplePathsThatLeaveTheDatasetAreRefused() throws {
        let dir = try smallSession()
        try writeBehindTheToolsBack("""
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            r = db.execute("SELECT label, probabilities, attention_probabilities, original_map FROM samples WHERE id = 1").fetchone()
            db.execute("INSERT INTO samples (relative_path, label, probabilities, attention_probabilities, original_map, collected_at) VALUES ('../../m.safetensors', ?, ?, ?, ?, 't')", r)
            db.execute("INSERT INTO marks (sample_id, kind, value, annotator, created_at, source) VALUES ((SELECT MAX(id) FROM samples), 'accept', 1, 'x', 't', 'toggle')")
            db.commit()
            """, session: dir.appendingPathComponent("s"))
        var r = try CommandRunner.run(["export", "--session", "s", "--out", "audit"], cwd: dir)
        assertCleanFailure(r, mentions: "sample path '../../m.safetensors' is not a relative path inside this folder; refused")
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        r = try CommandRunner.run(["finetune", "--session", "s", "--out", "f.safetensors", "--epochs", "1"], cwd: dir)
        assertCleanFailure(r, mentions: "sample path '../../m.safetensors' is not a relative path inside this folder; refused")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("f.safetensors").path))
    }

    /// Two writers on one session: two collects at once keep every row once; import-maps waits for a
    /// lock another process holds for 3 s (saying so after 2 s) instead of failing.
    func testConcurrentWritersWaitAndKeepEveryRow() throws {
        let dir = try smallSession()
        let first = Process(), second = Process()
        for (p, limit) in [(first, "12"), (second, "16")] {
            p.executableURL = CommandRunner.executable
            p.arguments = ["collect", "--model", "m.safetensors", "--data", "data", "--session", "s", "--select", "all", "--limit", limit]
            p.currentDirectoryURL = dir
            p.standardError = FileHandle.nullDevice
            try p.run()
        }
        first.waitUntilExit(); second.waitUntilExit()
        XCTAssertEqual([first.terminationStatus, second.terminationStatus], [0, 0])
        let again = try CommandRunner.run(["collect", "--model", "m.safetensors", "--data", "data", "--session", "s", "--select", "all"], cwd: dir)
        XCTAssertTrue(again.stderr.contains("added 0 new"), "every one of the 16 training images is in the session once: \(again.stderr)")

        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        holder.arguments = ["-c", """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute("BEGIN IMMEDIATE"); print("held", flush=True); time.sleep(3.5); db.execute("ROLLBACK")
            """, dir.appendingPathComponent("s/session.sqlite").path]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        _ = out.fileHandleForReading.availableData  // "held": the lock is taken
        let r = try CommandRunner.run(["import-maps", "--session", "s", "--masks", "data/masks"], cwd: dir)
        holder.waitUntilExit()
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("waiting for another abn-hitl process that is writing to this session"), r.stderr)
        XCTAssertTrue(r.stderr.contains("imported 16 maps"), r.stderr)
    }

    /// synth → train → collect of 4 samples into session "s", in a new folder.
    private func smallSession(_ name: String = #function) throws -> URL {
        let dir = try CommandRunner.temporaryDirectory(name)
        for args in [["synth", "--out", "data", "--train", "16", "--test", "8"],
                     ["train", "--data", "data", "--out", "m.safetensors", "--epochs", "1", "--batch-size", "8"],
                     ["collect", "--model", "m.safetensors", "--data", "data", "--session", "s", "--select", "all", "--limit", "4"]] {
            try CommandRunner.succeed(args, cwd: dir)
        }
        return dir
    }

    /// Runs a Python sqlite3 script on the session's database, as a hand edit or a damaged copy would.
    private func writeBehindTheToolsBack(_ script: String, session: URL) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", script, session.appendingPathComponent("session.sqlite").path]
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "the sqlite3 script failed")
    }

    private func firstImage(in folder: String) throws -> String {
        let files = try XCTUnwrap(FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".png") }.sorted())
        return folder + "/" + (try XCTUnwrap(files.first))
    }
}
