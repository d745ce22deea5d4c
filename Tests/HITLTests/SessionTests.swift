import XCTest
import GRDB
@testable import HITL

/// The session store on real SQLite files: append-only history, schema versions, faults with clear
/// one-line errors, and no change to the file when something is refused.
final class SessionTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("abn-session-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    let info = SessionInfo(modelPath: "/m.safetensors", modelSHA256: String(repeating: "a", count: 64), dataRoot: "/data",
                           split: "train", classes: ["x", "y"], mapHeight: 2, mapWidth: 2, inputChannels: 3, inputHeight: 4, inputWidth: 4)

    func sample(_ path: String) -> NewSample {
        NewSample(relativePath: path, label: 1, probabilities: [0.7, 0.3], attentionProbabilities: [0.4, 0.6], originalMap: [0.1, 0.2, 0.3, 0.4])
    }

    func assertOneLine(_ expression: @autoclosure () throws -> Any, mentions parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), file: file, line: line) { error in
            let text = "\(error)"
            for p in parts { XCTAssertTrue(text.contains(p), "'\(text)' should mention '\(p)'", file: file, line: line) }
            XCTAssertFalse(text.contains("\n"), "one line: \(text)", file: file, line: line)
        }
    }

    func count(_ table: String, _ url: URL) throws -> Int {
        try DatabaseQueue(path: url.appendingPathComponent("session.sqlite").path).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)")! }
    }

    func testNullColumnFoundByTheFuzzerIsAnErrorNotATrap() throws {
        // The session harness's first crash (tools/fuzz.sh, 2026-12-05): a model_changes row whose
        // columns are NULL stopped the process in GRDB's Row subscript while the session opened.
        let fixture = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/fuzz-null-model-change/session", withExtension: "sqlite"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-null-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.copyItem(at: fixture, to: dir.appendingPathComponent("session.sqlite"))
        for readOnly in [true, false] {
            XCTAssertThrowsError(try Session.open(dir, readOnly: readOnly)) { error in
                XCTAssertTrue("\(error)".contains("damaged row: column 'model_path'"), "\(error)")
            }
        }
    }

    func testSamplesEditsAndHistory() throws {
        let url = dir.appendingPathComponent("s")
        let s = try Session.openOrCreate(url, info: info)
        XCTAssertEqual(try s.addSamples([sample("y/a.png"), sample("y/b.png")]), 2)
        XCTAssertEqual(try s.addSamples([sample("y/a.png")]), 0, "nothing added twice")
        var samples = try s.samples()
        XCTAssertEqual(samples.map(\.relativePath), ["y/a.png", "y/b.png"])
        XCTAssertEqual(samples[0].predicted, 0)
        XCTAssertEqual(samples[0].attentionPredicted, 1)
        XCTAssertEqual(samples[0].currentMap, [0.1, 0.2, 0.3, 0.4])
        try s.appendEdit(sampleID: samples[0].id, map: [1, 1, 0, 0], annotator: "ann", source: EditSource.stroke.rawValue, whatIf: [0.2, 0.8])
        try s.appendEdit(sampleID: samples[0].id, map: [0.1, 0.2, 0.3, 0.4], annotator: "ann", source: "reset", whatIf: [0.7, 0.3])
        try s.accept(sampleID: samples[1].id, annotator: "ann")
        // Reopened from disk: the newest edit is the current map; the history keeps both.
        let again = try Session.open(url)
        samples = try again.samples()
        XCTAssertEqual(samples[0].currentMap, [0.1, 0.2, 0.3, 0.4])
        XCTAssertEqual(samples[0].editCount, 2)
        XCTAssertTrue(samples[1].accepted && !samples[1].edited)
        let edits = try again.edits()
        XCTAssertEqual(edits.map(\.map), [[1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4]])
        XCTAssertEqual(edits.map(\.source), ["stroke", "reset"])
        XCTAssertEqual(edits[0].whatIfProbabilities, [0.2, 0.8])
        XCTAssertEqual(edits[0].whatIfPredicted, 1)
        // UTC ISO 8601 with milliseconds.
        XCTAssertNotNil(edits[0].createdAt.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#, options: .regularExpression), edits[0].createdAt)
        XCTAssertEqual(again.info, info)
    }

    func testStoredBytesAreLittleEndianFloat32AndPredictionsAreColumns() throws {
        let url = dir.appendingPathComponent("s")
        let s = try Session.openOrCreate(url, info: info)
        try s.addSamples([sample("y/a.png")])
        try s.appendEdit(sampleID: 1, map: [1, 0, 0.5, 0.25], annotator: "a", source: "review", whatIf: [0.25, 0.75])
        let db = try DatabaseQueue(path: url.appendingPathComponent("session.sqlite").path)
        try db.read { d in
            let edit = try Row.fetchOne(d, sql: "SELECT map, whatif_predicted FROM edits")!
            // 1.0 = 0x3F800000, 0.5 = 0x3F000000, 0.25 = 0x3E800000, least significant byte first.
            XCTAssertEqual([UInt8](edit["map"] as Data), [0, 0, 0x80, 0x3F, 0, 0, 0, 0, 0, 0, 0, 0x3F, 0, 0, 0x80, 0x3E])
            XCTAssertEqual(edit["whatif_predicted"] as Int, 1)
            let row = try Row.fetchOne(d, sql: "SELECT predicted, attention_predicted FROM samples")!
            XCTAssertEqual([row["predicted"] as Int, row["attention_predicted"] as Int], [0, 1])
            XCTAssertEqual(try String.fetchOne(d, sql: "PRAGMA journal_mode"), "wal")
            XCTAssertEqual(try Int.fetchOne(d, sql: "SELECT MAX(version) FROM schema_version"), SessionSchema.version)
        }
    }

    func testRowsAreNeverUpdatedOrDeleted() throws {
        let url = dir.appendingPathComponent("s")
        let s = try Session.openOrCreate(url, info: info)
        try s.addSamples([sample("y/a.png")])
        try s.appendEdit(sampleID: 1, map: [0, 0, 0, 0], annotator: "a", source: "review", whatIf: [1, 0])
        try s.accept(sampleID: 1, annotator: "a")
        try s.recordRun(kind: "finetune", parameters: "{}", results: "{}")
        let db = try DatabaseQueue(path: url.appendingPathComponent("session.sqlite").path)
        // No longer written since v3 (marks are), but a migrated session has accepts rows: still guarded.
        try db.write { try $0.execute(sql: "INSERT INTO accepts (sample_id, annotator, created_at) VALUES (1, 'a', 't')") }
        for sql in ["UPDATE edits SET annotator = 'x'", "DELETE FROM edits", "DELETE FROM samples", "UPDATE meta SET value = 'x'",
                    "UPDATE samples SET label = 0", "DELETE FROM accepts", "UPDATE runs SET results = ''", "DELETE FROM runs",
                    "UPDATE marks SET value = 0", "DELETE FROM marks"] {
            XCTAssertThrowsError(try db.write { try $0.execute(sql: sql) }, sql) { XCTAssertTrue("\($0)".contains("append-only"), "\($0)") }
        }
        XCTAssertEqual(try s.edits().map(\.annotator), ["a"])
    }

    /// Marks worked by hand: a sample's mark of a kind is its newest row of that kind; a cleared flag
    /// drops its note; the history keeps every row with its source; the newest edit and mark rows
    /// name who wrote them.
    func testMarksCurrentStateAndHistory() throws {
        let url = dir.appendingPathComponent("s")
        let s = try Session.openOrCreate(url, info: info)
        try s.addSamples([sample("y/a.png"), sample("y/b.png"), sample("y/c.png")])
        XCTAssertEqual(try s.setMark(sampleID: 1, kind: .accept, value: true, annotator: "ann"), 1)
        try s.setMark(sampleID: 2, kind: .flag, value: true, note: "blurry", annotator: "bo")
        try s.setMark(sampleID: 3, kind: .exclude, value: true, note: "dropped: only flags keep notes", annotator: "ann")
        try s.setMark(sampleID: 1, kind: .accept, value: false, annotator: "ann", source: .undo)
        try s.setMark(sampleID: 2, kind: .flag, value: true, note: "fur, not the cat", annotator: "bo", source: .redo)
        try s.setMark(sampleID: 1, kind: .flag, value: true, note: "", annotator: "cy")
        try s.setMark(sampleID: 1, kind: .flag, value: false, note: "ignored", annotator: "cy")
        let samples = try Session.open(url).samples()
        XCTAssertEqual(samples.map(\.marks), [SampleMarks(),
                                              SampleMarks(flagged: true, flagNote: "fur, not the cat"),
                                              SampleMarks(excluded: true)])
        let marks = try s.marks()
        XCTAssertEqual(marks.map(\.id), [1, 2, 3, 4, 5, 6, 7])
        XCTAssertEqual(marks.map(\.sampleID), [1, 2, 3, 1, 2, 1, 1])
        XCTAssertEqual(marks.map(\.kind), [.accept, .flag, .exclude, .accept, .flag, .flag, .flag])
        XCTAssertEqual(marks.map(\.value), [true, true, true, false, true, true, false])
        XCTAssertEqual(marks.map(\.note), [nil, "blurry", nil, nil, "fur, not the cat", nil, nil])
        XCTAssertEqual(marks.map(\.source), ["toggle", "toggle", "toggle", "undo", "redo", "toggle", "toggle"])
        XCTAssertEqual(marks.map(\.annotator), ["ann", "bo", "ann", "ann", "bo", "cy", "cy"])
        XCTAssertEqual(try count("accepts", url), 0, "accepts are marks now")
        // The newest rows of sample 1: mark 7 by cy; no edit yet, then edit 1 by dee.
        XCTAssertEqual(try s.latestActivity(sampleID: 1).mark.map { [String($0.id), $0.annotator] }, ["7", "cy"])
        XCTAssertNil(try s.latestActivity(sampleID: 1).edit)
        XCTAssertEqual(try s.appendEdit(sampleID: 1, map: [0, 0, 0, 0], annotator: "dee", source: "stroke", whatIf: [1, 0]), 1)
        XCTAssertEqual(try s.latestActivity(sampleID: 1).edit?.annotator, "dee")
        XCTAssertNil(try s.latestActivity(sampleID: 2).edit)
        assertOneLine(try s.setMark(sampleID: 99, kind: .flag, value: true, annotator: "a"), mentions: [url.path, "no sample 99"])
        assertOneLine(try s.setMark(sampleID: 1, kind: .flag, value: true, annotator: ""), mentions: ["annotator"])
        XCTAssertEqual(try s.marks().count, 7, "refused marks write nothing")
    }

    /// A marks row of a kind this tool does not know, or a value other than 0/1, is one line naming the row.
    func testDamagedMarkRowsAreNamed() throws {
        let url = dir.appendingPathComponent("s")
        let s = try Session.openOrCreate(url, info: info)
        try s.addSamples([sample("y/a.png")])
        let db = try DatabaseQueue(path: url.appendingPathComponent("session.sqlite").path)
        try db.write { try $0.execute(sql: "INSERT INTO marks (sample_id, kind, value, annotator, created_at, source) VALUES (1, 'star', 1, 'a', 't', 'toggle')") }
        assertOneLine(try s.samples(), mentions: [url.path, "damaged marks row 1: unknown kind 'star'"])
        assertOneLine(try s.marks(), mentions: ["damaged marks row 1: unknown kind 'star'"])
        let other = dir.appendingPathComponent("t")
        let t = try Session.openOrCreate(other, info: info)
        try t.addSamples([sample("y/a.png")])
        try DatabaseQueue(path: other.appendingPathComponent("session.sqlite").path).write {
            try $0.execute(sql: "INSERT INTO marks (sample_id, kind, value, annotator, created_at, source) VALUES (1, 'flag', 2, 'a', 't', 'toggle')")
        }
        for read in [{ _ = try t.marks() }, { _ = try t.samples() }] {
            assertOneLine(try read(), mentions: [other.path, "damaged marks row 1: value 2 is neither 1 (set) nor 0 (cleared)"])
        }
    }

    /// A real schema-2 file (the v1 fixture migrated by the v1 and v2 migrations only, plus a second
    /// accept by cy): read read-only as it is, its accepts rows as accept marks; opened read-write it
    /// is migrated to v3 with each accepts row copied into marks (source 'migrated').
    func testSchema2SessionIsReadReadOnlyAndMigratedReadWrite() throws {
        let url = dir.appendingPathComponent("v2")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        let fixture = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/session-v1/session", withExtension: "sqlite"))
        let path = url.appendingPathComponent("session.sqlite").path
        try FileManager.default.copyItem(atPath: fixture.path, toPath: path)
        do {
            let q = try DatabaseQueue(path: path)
            try SessionSchema.migrator.migrate(q, upTo: "v2")
            try q.write { try $0.execute(sql: "INSERT INTO accepts (sample_id, annotator, created_at) VALUES (1, 'cy', '2026-11-21T08:00:00.000Z')") }
            XCTAssertEqual(try q.read { try Int.fetchOne($0, sql: "SELECT MAX(version) FROM schema_version") }, 2)
            try q.close()
        }
        let expected = [MarkRecord(id: 1, sampleID: 2, kind: .accept, value: true, note: nil, annotator: "ann", createdAt: "2026-11-20T10:06:00.000Z", source: "migrated"),
                        MarkRecord(id: 2, sampleID: 1, kind: .accept, value: true, note: nil, annotator: "cy", createdAt: "2026-11-21T08:00:00.000Z", source: "migrated")]
        // Read-only (export's way in), as an unprivileged user in a directory nobody may write.
        chmod(url.path, 0o555)
        let asRoot = geteuid() == 0
        if asRoot { chmod(dir.path, 0o755); XCTAssertEqual(seteuid(65534), 0) }
        do {
            defer { if asRoot { _ = seteuid(0) }; chmod(url.path, 0o755) }
            let reader = try Session.open(url, readOnly: true)
            XCTAssertEqual(reader.schemaVersion, 2)
            XCTAssertEqual(try reader.samples().map(\.accepted), [true, true])
            XCTAssertEqual(try reader.marks(), expected)
        }
        XCTAssertFalse(try DatabaseQueue(path: path).read { try $0.tableExists("marks") }, "nothing written")
        let migrated = try Session.open(url)
        XCTAssertEqual(migrated.schemaVersion, 3)
        XCTAssertEqual(try migrated.marks(), expected)
        XCTAssertEqual(try migrated.samples().map(\.marks), [SampleMarks(accepted: true), SampleMarks(accepted: true)])
        try migrated.setMark(sampleID: 2, kind: .accept, value: false, annotator: "dee")
        XCTAssertEqual(try migrated.samples().map(\.accepted), [true, false])
        XCTAssertEqual(try count("accepts", url), 2, "new accepts go to marks only")
        XCTAssertEqual(try count("marks", url), 3)
        XCTAssertEqual(try DatabaseQueue(path: path).read { try Int.fetchOne($0, sql: "SELECT MAX(version) FROM schema_version") }, 3)
    }

    func testMalformedInputIsRefusedAndNothingIsWritten() throws {
        let url = dir.appendingPathComponent("s")
        let s = try Session.openOrCreate(url, info: info)
        try s.addSamples([sample("y/a.png")])
        assertOneLine(try s.appendEdit(sampleID: 1, map: [0, 0, 0], annotator: "a", source: "review", whatIf: [1, 0]), mentions: [url.path, "2×2 values, got 3"])
        assertOneLine(try s.appendEdit(sampleID: 1, map: [0, .nan, 0, 0], annotator: "a", source: "review", whatIf: [1, 0]), mentions: ["outside [0, 1]"])
        assertOneLine(try s.appendEdit(sampleID: 1, map: [0, 1.5, 0, 0], annotator: "a", source: "review", whatIf: [1, 0]), mentions: ["outside [0, 1]"])
        assertOneLine(try s.appendEdit(sampleID: 1, map: [0, 0, 0, 0], annotator: "a", source: "review", whatIf: [1]), mentions: ["2 finite what-if"])
        assertOneLine(try s.appendEdit(sampleID: 99, map: [0, 0, 0, 0], annotator: "a", source: "review", whatIf: [1, 0]), mentions: ["no sample 99"])
        assertOneLine(try s.accept(sampleID: 99, annotator: "a"), mentions: ["no sample 99"])
        // A batch with one bad edit (an unknown sample, found inside the transaction) writes none.
        let good = NewEdit(sampleID: 1, map: [0, 0, 0, 0], annotator: "a", source: "import", whatIfProbabilities: [1, 0])
        var bad = good
        bad.sampleID = 42
        assertOneLine(try s.appendEdits([good, bad]), mentions: ["no sample 42"])
        var badSample = sample("y/c.png")
        badSample.label = 2
        assertOneLine(try s.addSamples([sample("y/b.png"), badSample]), mentions: ["y/c.png", "label in 0..<2"])
        XCTAssertEqual(try count("edits", url), 0)
        XCTAssertEqual(try s.samples().map(\.relativePath), ["y/a.png"])
    }

    func testDamagedRowsAreReportedNotTrusted() throws {
        // Rows written behind the tool's back (the triggers only stop changes, not odd inserts).
        let url = dir.appendingPathComponent("s")
        let s = try Session.openOrCreate(url, info: info)
        try s.addSamples([sample("y/a.png")])
        let db = try DatabaseQueue(path: url.appendingPathComponent("session.sqlite").path)
        try db.write { try $0.execute(sql: "INSERT INTO edits (sample_id, map, annotator, created_at, source, whatif_probabilities) VALUES (1, X'0000803F', 'x', 't', 'review', X'')") }
        assertOneLine(try s.samples(), mentions: [url.appendingPathComponent("session.sqlite").path, "damaged map of edit 1 (sample 1)"])
        assertOneLine(try s.edits(), mentions: ["damaged map of edit 1 (sample 1)"])
        let other = dir.appendingPathComponent("t")
        let t = try Session.openOrCreate(other, info: info)
        try DatabaseQueue(path: other.appendingPathComponent("session.sqlite").path).write {
            try $0.execute(sql: "INSERT INTO samples (relative_path, label, probabilities, attention_probabilities, original_map, collected_at) VALUES ('z', 7, X'', X'', X'', 't')")
        }
        assertOneLine(try t.samples(), mentions: ["damaged label 7"])
    }

    /// Values that decode but cannot be a map or a probability (NaN, infinity, outside [0, 1]) are
    /// reported with the sample and edit they sit in, so they never reach export's pixel conversion.
    func testNonFiniteOrOutOfRangeStoredValuesAreReportedWithTheirRow() throws {
        func blob(_ v: [Float]) -> Data { Data(v.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }) }
        let map: [Float] = [0, 0.5, 0, 0], probabilities: [Float] = [0.5, 0.5]
        func damaged(_ v: [Float], _ value: Float) -> [Float] { var d = v; d[1] = value; return d }
        // (column, bad value, what samples() says, what edits() says; nil: that call does not read it)
        let editCases: [(String, Float, String?, String)] = [
            ("map", .nan, "map of edit 1 (sample 1): value nan at index 1", "map of edit 1 (sample 1): value nan at index 1"),
            ("map", .infinity, "map of edit 1 (sample 1): value inf at index 1", "map of edit 1 (sample 1): value inf at index 1"),
            ("map", 1.25, "map of edit 1 (sample 1): value 1.25 at index 1", "map of edit 1 (sample 1): value 1.25 at index 1"),
            ("whatif_probabilities", -0.5, nil, "whatif_probabilities of edit 1 (sample 1): value -0.5 at index 1"),
        ]
        for (n, (column, value, fromSamples, fromEdits)) in editCases.enumerated() {
            let url = dir.appendingPathComponent("e\(n)")
            let s = try Session.openOrCreate(url, info: info)
            try s.addSamples([sample("y/a.png")])
            try DatabaseQueue(path: url.appendingPathComponent("session.sqlite").path).write {
                try $0.execute(sql: "INSERT INTO edits (sample_id, map, annotator, created_at, source, whatif_probabilities) VALUES (1, ?, 'x', 't', 'review', ?)",
                               arguments: [blob(column == "map" ? damaged(map, value) : map), blob(column == "map" ? probabilities : damaged(probabilities, value))])
            }
            if let fromSamples { assertOneLine(try s.samples(), mentions: [url.appendingPathComponent("session.sqlite").path, "damaged \(fromSamples)"]) }
            else { XCTAssertEqual(try s.samples().first?.currentMap, map) }
            assertOneLine(try s.edits(), mentions: ["damaged \(fromEdits)"])
        }
        let sampleCases: [(String, Float, String)] = [
            ("original_map", .nan, "original_map of sample 1: value nan at index 1"),
            ("probabilities", 1.5, "probabilities of sample 1: value 1.5 at index 1"),
            ("attention_probabilities", -.infinity, "attention_probabilities of sample 1: value -inf at index 1"),
        ]
        for (n, (column, value, says)) in sampleCases.enumerated() {
            let url = dir.appendingPathComponent("s\(n)")
            let s = try Session.openOrCreate(url, info: info)
            try DatabaseQueue(path: url.appendingPathComponent("session.sqlite").path).write {
                try $0.execute(sql: "INSERT INTO samples (relative_path, label, probabilities, attention_probabilities, original_map, collected_at) VALUES ('y/a.png', 0, ?, ?, ?, 't')",
                               arguments: [blob(column == "probabilities" ? damaged(probabilities, value) : probabilities),
                                           blob(column == "attention_probabilities" ? damaged(probabilities, value) : probabilities),
                                           blob(column == "original_map" ? damaged(map, value) : map)])
            }
            assertOneLine(try s.samples(), mentions: ["damaged \(says)"])
        }
    }

    func testModelChangeNeedsPermissionAndIsRecorded() throws {
        let url = dir.appendingPathComponent("s")
        let s = try Session.openOrCreate(url, info: info)
        let other = String(repeating: "b", count: 64)
        assertOneLine(try s.checkModel(path: "/n.safetensors", sha256: other, allowChange: false),
                      mentions: ["/n.safetensors", "differs from the one this session was collected with"])
        XCTAssertEqual(try s.modelChanges().count, 0)
        try s.checkModel(path: "/n.safetensors", sha256: other, allowChange: true)
        let reopened = try Session.open(url)
        XCTAssertEqual(reopened.info.modelSHA256, other)
        XCTAssertEqual(try reopened.modelChanges().map(\.modelPath), ["/n.safetensors"])
        try reopened.checkModel(path: "/n.safetensors", sha256: other, allowChange: false)  // now the session's model
    }

    func testMissingNotADirectoryAndCorrupt() throws {
        assertOneLine(try Session.open(dir.appendingPathComponent("absent")), mentions: ["absent: no such session"])
        let file = dir.appendingPathComponent("file")
        try Data("x".utf8).write(to: file)
        assertOneLine(try Session.open(file), mentions: [file.path, "not a session directory"])
        assertOneLine(try Session.openOrCreate(file, info: info), mentions: [file.path, "not a session directory"])
        let empty = dir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        assertOneLine(try Session.open(empty), mentions: ["session.sqlite is missing"])
        let corrupt = dir.appendingPathComponent("corrupt")
        try FileManager.default.createDirectory(at: corrupt, withIntermediateDirectories: true)
        let garbage = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: corrupt.appendingPathComponent("session.sqlite"))
        assertOneLine(try Session.open(corrupt), mentions: [corrupt.appendingPathComponent("session.sqlite").path, "not a session database"])
        assertOneLine(try Session.openOrCreate(corrupt, info: info), mentions: ["not a session database"])
        XCTAssertEqual(try Data(contentsOf: corrupt.appendingPathComponent("session.sqlite")), garbage, "left untouched")
    }

    func testAnotherProgramsSQLiteFileIsNotTouched() throws {
        let foreign = dir.appendingPathComponent("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        let path = foreign.appendingPathComponent("session.sqlite").path
        try DatabaseQueue(path: path).write { try $0.execute(sql: "CREATE TABLE notes (t TEXT)") }
        assertOneLine(try Session.openOrCreate(foreign, info: info), mentions: [path, "another program"])
        let tables = try DatabaseQueue(path: path).read {
            try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        XCTAssertEqual(tables, ["notes"])
    }

    func testNewerSchemaIsRefusedAndOlderIsMigrated() throws {
        // A file from a future abn-hitl: one more migration and schema version.
        let url = dir.appendingPathComponent("newer")
        _ = try Session.openOrCreate(url, info: info)
        let path = url.appendingPathComponent("session.sqlite").path
        try DatabaseQueue(path: path).write { d in
            try d.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99'); INSERT INTO schema_version VALUES (99)")
        }
        assertOneLine(try Session.open(url), mentions: [path, "written by a newer abn-hitl (schema 99", "knows up to \(SessionSchema.version)"])

        // A file written by abn-hitl's schema v1 (no prediction columns), frozen in Fixtures/session-v1
        // (tools/make_session_v1_fixture.py), opens, is migrated, and keeps its rows; v1 rows have no
        // stored predictions, so they are read as the argmax of the stored probabilities.
        let old = dir.appendingPathComponent("old")
        try FileManager.default.createDirectory(at: old, withIntermediateDirectories: true)
        let fixture = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures/session-v1/session", withExtension: "sqlite"))
        let oldPath = old.appendingPathComponent("session.sqlite").path
        try FileManager.default.copyItem(atPath: fixture.path, toPath: oldPath)
        let migrated = try Session.open(old)
        XCTAssertEqual(migrated.info, SessionInfo(modelPath: "/models/m.safetensors", modelSHA256: String(repeating: "ab", count: 32),
                                                  dataRoot: "/data/shapes", split: "train", classes: ["circle", "cross"], mapHeight: 2, mapWidth: 2,
                                                  inputChannels: 3, inputHeight: 4, inputWidth: 4))
        let s = try migrated.samples()
        XCTAssertEqual(s.map(\.relativePath), ["cross/00001.png", "circle/00002.png"])
        XCTAssertEqual(s.map(\.label), [1, 0])
        XCTAssertEqual(s.map(\.predicted), [0, 1], "argmax of [0.7, 0.3] and [0.2, 0.8]")
        XCTAssertEqual(s.map(\.attentionPredicted), [1, 0], "argmax of [0.4, 0.6] and [0.55, 0.45]")
        XCTAssertEqual(s.map(\.edited), [true, false])
        XCTAssertEqual(s.map(\.accepted), [false, true])
        XCTAssertEqual(s[0].currentMap, [0, 0, 1, 1], "the v1 edit")
        XCTAssertEqual(s[1].currentMap, [0, 0.5, 1, 0.25], "no edit: the original map")
        try migrated.appendEdit(sampleID: 1, map: [1, 1, 1, 1], annotator: "a", source: "review", whatIf: [0, 1])
        XCTAssertEqual(try migrated.samples()[0].currentMap, [1, 1, 1, 1])
        let q = try DatabaseQueue(path: oldPath)
        XCTAssertEqual(try q.read { try Int.fetchOne($0, sql: "SELECT MAX(version) FROM schema_version") }, SessionSchema.version)
        XCTAssertEqual(try q.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM runs") }, 1, "the v1 run is kept")
    }

    func testSecondWriterHoldingTheLock() throws {
        // Another connection with its own file lock holds the write lock: a clear error after the
        // wait (shortened here from 600 s), not a hang, and the edit is not half-written; the wait is
        // announced once after 2 s; a lock released in time is waited for.
        let saved = Session.lockTimeout
        Session.lockTimeout = 2.5
        defer { Session.lockTimeout = saved; Session.lockNotice = nil }
        let notices = NoticeLog()
        Session.lockNotice = { notices.append($0) }
        let url = dir.appendingPathComponent("locked")
        let s = try Session.openOrCreate(url, info: info)
        try s.addSamples([sample("y/a.png")])
        let holder = try DatabaseQueue(path: url.appendingPathComponent("session.sqlite").path)
        try holder.inDatabase { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            assertOneLine(try s.appendEdit(sampleID: 1, map: [0, 0, 0, 0], annotator: "a", source: "review", whatIf: [1, 0]),
                          mentions: [url.path, "locked by another abn-hitl process", "waited 2 s"])
            XCTAssertEqual(notices.lines, [url.appendingPathComponent("session.sqlite").path + ": waiting for another abn-hitl process that is writing to this session"])
            // Readers are not blocked by a writer (WAL), and opening an up-to-date session writes nothing.
            XCTAssertEqual(try s.samples().count, 1)
            XCTAssertEqual(try Session.open(url).samples().count, 1)
            try db.execute(sql: "ROLLBACK")
        }
        XCTAssertEqual(try s.edits().count, 0, "nothing half-written")
        // Waiting, not failing at once: the lock is taken again and released only after the edit has
        // started, so the edit goes through only if it waits for the lock (well inside the timeout).
        let held = DispatchSemaphore(value: 0), editing = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            do {
                try holder.inDatabase { db in
                    try db.execute(sql: "BEGIN IMMEDIATE")
                    held.signal()
                    editing.wait()
                    Thread.sleep(forTimeInterval: 0.3)
                    try db.execute(sql: "ROLLBACK")
                }
            } catch {
                XCTFail("holder: \(error)")
                held.signal()
            }
            done.signal()
        }
        held.wait()
        editing.signal()
        try s.appendEdit(sampleID: 1, map: [0, 0, 0, 0], annotator: "a", source: "review", whatIf: [1, 0])
        done.wait()
        XCTAssertEqual(try s.edits().count, 1)
    }

    func testReadOnlySessionDirectory() throws {
        let url = dir.appendingPathComponent("ro")
        do { _ = try Session.openOrCreate(url, info: info).addSamples([sample("y/a.png")]) }  // closed: its -wal checkpointed away
        let fresh = dir.appendingPathComponent("ro-new")
        try FileManager.default.createDirectory(at: fresh, withIntermediateDirectories: true)
        chmod(url.path, 0o555)
        chmod(fresh.path, 0o555)
        defer { chmod(url.path, 0o755); chmod(fresh.path, 0o755) }
        // Root writes anyway: act as an unprivileged user for the checks (the kernel's own permission test).
        let asRoot = geteuid() == 0
        if asRoot {
            chmod(dir.path, 0o755)
            XCTAssertEqual(seteuid(65534), 0)
        }
        defer { if asRoot { _ = seteuid(0) } }
        assertOneLine(try Session.open(url), mentions: [url.path, "read-only", "export can still read it"])
        assertOneLine(try Session.openOrCreate(fresh, info: info), mentions: [fresh.path, "read-only"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh.appendingPathComponent("session.sqlite").path))
        // Export's way in: the rows are there, and a write is refused with one line, not a crash.
        let reader = try Session.open(url, readOnly: true)
        XCTAssertEqual(try reader.samples().map(\.relativePath), ["y/a.png"])
        assertOneLine(try reader.appendEdit(sampleID: 1, map: [0, 0, 0, 0], annotator: "a", source: "review", whatIf: [1, 0]), mentions: ["read-only"])
    }
}

/// Lines given to Session.lockNotice, which SQLite's busy handler calls from the writing thread.
final class NoticeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}
