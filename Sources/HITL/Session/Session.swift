import ABN
import Foundation
import GRDB

/// A review session: a directory with session.sqlite (SQLite in WAL mode through GRDB). Samples,
/// edits, marks (accept, flag, exclude), model changes and fine-tuning runs are append-only rows: triggers refuse
/// UPDATE and DELETE, so history can always be audited. Every read and write is one transaction,
/// so a killed process leaves the file as it was before or after a whole write.
public final class Session {
    public let directory: URL
    public var databaseURL: URL { directory.appendingPathComponent("session.sqlite") }
    private let db: any DatabaseWriter
    public private(set) var info: SessionInfo
    /// The schema the file has: `SessionSchema.version`, or 2 for a schema-2 session opened
    /// read-only (it cannot be migrated; its accepts rows are read as accept marks).
    public private(set) var schemaVersion = SessionSchema.version

    /// Opens an existing session (every command but collect); `directory` names it in every error.
    /// `readOnly` (export) also opens a session whose directory or file is not writable.
    public static func open(_ directory: URL, readOnly: Bool = false) throws -> Session {
        let path = directory.path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw SessionError(path, "no such session (create one with `abn-hitl collect`)")
        }
        guard isDir.boolValue else { throw SessionError(path, "not a session directory (it is a file)") }
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("session.sqlite").path) else {
            throw SessionError(path, "not a session: session.sqlite is missing")
        }
        return try Session(directory: directory, create: nil, readOnly: readOnly)
    }

    /// Opens the session at `directory`, creating it with `info` when it does not exist yet.
    public static func openOrCreate(_ directory: URL, info: SessionInfo) throws -> Session {
        let path = directory.path
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw SessionError(path, "not a session directory (it is a file)") }
        } else {
            do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
                throw SessionError(path, "cannot create the session directory: \((error as NSError).localizedDescription)")
            }
        }
        try createAtomically(directory.appendingPathComponent("session.sqlite"), info: info)
        return try Session(directory: directory, create: info)
    }

    /// SQLite in WAL mode writes -wal and -shm files next to the database: the directory must be
    /// writable even to read. Checked with the effective user, as the kernel will.
    private static func readOnlyRefusal(_ directory: URL) -> SessionError? {
        let file = directory.appendingPathComponent("session.sqlite")
        let unwritable = [(directory.path, "the session directory"), (file.path, "session.sqlite")]
            .first { FileManager.default.fileExists(atPath: $0.0) && faccessat(AT_FDCWD, $0.0, W_OK, AT_EACCESS) != 0 }
        guard let (path, what) = unwritable else { return nil }
        return SessionError(path, "read-only: \(what) is not writable, and a session records every step (export can still read it)")
    }

    /// A new session file appears whole: schema and info are written into a hidden file beside it,
    /// which is then linked into place, so a process killed while creating a session leaves no
    /// half-made session.sqlite (at most the hidden file, removed by the next create once its process
    /// is gone). If another process created the session meanwhile, its file is kept and this one dropped.
    private static func createAtomically(_ file: URL, info: SessionInfo) throws {
        guard !FileManager.default.fileExists(atPath: file.path) else { return }
        let dir = file.deletingLastPathComponent()
        if let refusal = readOnlyRefusal(dir) { throw refusal }
        StaleLeftovers.remove(in: dir, prefix: ".session.sqlite.", suffix: ".new")
        let temp = dir.appendingPathComponent(".session.sqlite.\(getpid()).new")
        defer { for suffix in ["", "-journal"] { unlink(temp.path + suffix) } }
        do {
            try validate(info, path: file.path)
            let queue = try DatabaseQueue(path: temp.path)
            try SessionSchema.migrator.migrate(queue)
            try queue.write { d in try writeInfo(info, d) }
            try queue.close()
        } catch let e as SessionError {
            throw e
        } catch {
            throw SessionError(file.path, describe(error))
        }
        // link(2), unlike rename, never replaces a session another process has just created.
        if link(temp.path, file.path) != 0 && errno != EEXIST {
            throw SessionError(file.path, "cannot create the session file: \(String(cString: strerror(errno)))")
        }
        AtomicFile.syncDirectory(dir)
    }

    private init(directory: URL, create: SessionInfo?, readOnly: Bool = false) throws {
        self.directory = directory
        let file = directory.appendingPathComponent("session.sqlite")
        let unwritable = Session.readOnlyRefusal(directory)
        if let unwritable, !readOnly { throw unwritable }
        var config = Configuration()
        config.readonly = readOnly
        // Another process writing (a second collect, import-maps beside review) holds the lock for
        // milliseconds to seconds: wait for it, say so once after a while, give up only much later.
        let path = file.path
        config.busyMode = .callback { tries in
            let waited = Double(tries) * Session.lockPollInterval
            if tries == Int(Session.lockNoticeAfter / Session.lockPollInterval) {
                Session.lockNotice?("\(path): waiting for another abn-hitl process that is writing to this session")
            }
            guard waited < Session.lockTimeout else { return false }
            Thread.sleep(forTimeInterval: Session.lockPollInterval)
            return true
        }
        config.foreignKeysEnabled = true
        do {
            if readOnly, unwritable != nil {
                // WAL needs a writable -shm beside the file to read. With no -wal left (the session was
                // closed cleanly) a session nobody here can write may be read as immutable; with one,
                // its rows are only there, and SQLite reads it read-only through the existing -shm
                // (URI names: Debian's libsqlite3 is built with them).
                let escaped = file.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? file.path
                let wal = (try? FileManager.default.attributesOfItem(atPath: file.path + "-wal")[.size] as? Int) ?? nil
                db = try DatabaseQueue(path: "file:\(escaped)?" + ((wal ?? 0) > 0 ? "mode=ro" : "immutable=1"), configuration: config)
            } else {
                db = try DatabasePool(path: file.path, configuration: config)
            }
        } catch {
            throw SessionError(file.path, Session.describe(error))
        }
        do {
            // Judge the file before writing anything to it: a newer schema or another program's
            // database is refused untouched; an up-to-date session is opened without a write.
            switch try db.read(SessionSchema.state) {
            case .foreign:
                throw SessionError(file.path, "not a session database (an SQLite file of another program)")
            case .newer(let v):
                throw SessionError(file.path, "written by a newer abn-hitl (schema \(v); this one knows up to \(SessionSchema.version)); upgrade abn-hitl to open it")
            case .needsMigration(recorded: 2) where readOnly:
                schemaVersion = 2
            case .empty, .needsMigration:
                guard !readOnly else {
                    throw SessionError(file.path, "cannot read this session without writing: it is empty or has an older schema (open it once with review or collect to migrate it)")
                }
                try SessionSchema.migrator.migrate(db)
            case .current:
                break
            }
            let hasMeta = try db.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM meta") ?? 0 } > 0
            if let create, !hasMeta {
                try Session.validate(create, path: file.path)
                try db.write { d in try Session.writeInfo(create, d) }
            }
            info = try db.read { try Session.readInfo($0, path: file.path) }
        } catch let e as SessionError {
            throw e
        } catch {
            throw SessionError(file.path, Session.describe(error))
        }
    }

    /// How long a write waits for another process's lock before failing (tests shorten it).
    nonisolated(unsafe) public static var lockTimeout: TimeInterval = 600
    /// After this long waiting, `lockNotice` is told once per wait.
    public static let lockNoticeAfter: TimeInterval = 2
    static let lockPollInterval: TimeInterval = 0.02
    /// Where "waiting for the lock" goes: the commands print it on stderr; nil (the UI) says nothing.
    nonisolated(unsafe) public static var lockNotice: (@Sendable (String) -> Void)?

    /// Turns SQLite's errors into the problem a user can act on.
    static func describe(_ error: Error) -> String {
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT: return "not a session database (file is corrupt or not SQLite)"
            case .SQLITE_BUSY, .SQLITE_LOCKED: return "locked by another abn-hitl process writing to it (waited \(Int(lockTimeout)) s; try again when it has finished)"
            case .SQLITE_READONLY: return "read-only: cannot record anything here"
            case .SQLITE_CANTOPEN: return "cannot open the session database (missing directory or permissions)"
            case .SQLITE_FULL: return "disk full"
            case .SQLITE_CONSTRAINT: return "refused by the session database: \(e.message ?? "constraint failed")"
            default: return "SQLite error: \(e.message ?? "\(e.resultCode)")"
            }
        }
        return (error as NSError).localizedDescription.replacingOccurrences(of: "\n", with: " ")
    }

    private static func validate(_ info: SessionInfo, path: String) throws {
        guard !info.classes.isEmpty, info.mapHeight > 0, info.mapWidth > 0, info.inputChannels > 0,
              info.inputHeight > 0, info.inputWidth > 0 else {
            throw SessionError(path, "a session needs classes, a map size and an input size")
        }
    }

    private static func writeInfo(_ info: SessionInfo, _ d: Database) throws {
        let classes = String(decoding: try JSONEncoder().encode(info.classes), as: UTF8.self)
        let pairs: [(String, String)] = [
            ("model_path", info.modelPath), ("model_sha256", info.modelSHA256), ("data_root", info.dataRoot),
            ("split", info.split), ("classes", classes), ("map_size", "\(info.mapHeight)x\(info.mapWidth)"),
            ("input", "\(info.inputChannels)x\(info.inputHeight)x\(info.inputWidth)"), ("created_at", utcNow()),
        ]
        for (k, v) in pairs { try d.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?)", arguments: [k, v]) }
    }

    private static func readInfo(_ d: Database, path: String) throws -> SessionInfo {
        var meta: [String: String] = [:]
        for row in try Row.fetchAll(d, sql: "SELECT key, value FROM meta") { meta[try row.checked("key", path)] = try row.checked("value", path) }
        func value(_ k: String) throws -> String {
            guard let v = meta[k] else { throw SessionError(path, "session metadata '\(k)' is missing") }
            return v
        }
        guard let classes = try? JSONDecoder().decode([String].self, from: Data(try value("classes").utf8)) else {
            throw SessionError(path, "session metadata 'classes' is not a JSON array of names")
        }
        let map = try value("map_size").split(separator: "x").compactMap { Int($0) }
        let input = try value("input").split(separator: "x").compactMap { Int($0) }
        guard map.count == 2, input.count == 3, !classes.isEmpty, (map + input).allSatisfy({ $0 > 0 }) else {
            throw SessionError(path, "session metadata is malformed (map_size, input or classes)")
        }
        var info = SessionInfo(modelPath: try value("model_path"), modelSHA256: try value("model_sha256"),
                               dataRoot: try value("data_root"), split: try value("split"), classes: classes,
                               mapHeight: map[0], mapWidth: map[1], inputChannels: input[0], inputHeight: input[1], inputWidth: input[2])
        // A recorded model change supersedes the collected model.
        if let row = try Row.fetchOne(d, sql: "SELECT model_path, model_sha256 FROM model_changes ORDER BY id DESC LIMIT 1") {
            info.modelPath = try row.checked("model_path", path)
            info.modelSHA256 = try row.checked("model_sha256", path)
        }
        return info
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.write(body) } catch let e as SessionError { throw e } catch {
            throw SessionError(databaseURL.path, Session.describe(error))
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try db.read(body) } catch let e as SessionError { throw e } catch {
            throw SessionError(databaseURL.path, Session.describe(error))
        }
    }

    /// A blob of `count` Float32 values, each finite and in [0, 1] (maps and probabilities both are);
    /// anything else is a damaged row, reported by where it sits rather than trusted: a hand-edited or
    /// corrupted file must not crash export or the UI with an out-of-range index or a NaN that reaches
    /// an integer conversion.
    private func unitFloats(_ data: Data?, _ what: String, count: Int) throws -> [Float] {
        guard let data, let v = FloatBlob.decode(data), v.count == count else {
            throw SessionError(databaseURL.path, "damaged \(what) (expected \(count) little-endian Float32 values)")
        }
        if let i = v.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw SessionError(databaseURL.path, "damaged \(what): value \(v[i]) at index \(i) is not a finite number in [0, 1]")
        }
        return v
    }

    // MARK: - Model

    /// Refuses a model other than the session's unless `allowChange`; then records the change.
    public func checkModel(path: String, sha256: String, allowChange: Bool) throws {
        guard sha256 != info.modelSHA256 else { return }
        guard allowChange else {
            throw SessionError(directory.path, "model \(path) (SHA-256 \(sha256.prefix(12))…) differs from the one this session was collected with (\(info.modelPath), \(info.modelSHA256.prefix(12))…); pass --allow-model-change to use it anyway")
        }
        try write { d in
            try d.execute(sql: "INSERT INTO model_changes (model_path, model_sha256, created_at) VALUES (?, ?, ?)",
                          arguments: [path, sha256, utcNow()])
        }
        info.modelPath = path
        info.modelSHA256 = sha256
    }

    public func modelChanges() throws -> [ModelChangeRecord] {
        let path = databaseURL.path
        return try read { d in
            try Row.fetchAll(d, sql: "SELECT * FROM model_changes ORDER BY id").map {
                ModelChangeRecord(id: try $0.checked("id", path), modelPath: try $0.checked("model_path", path),
                                  modelSHA256: try $0.checked("model_sha256", path), createdAt: try $0.checked("created_at", path))
            }
        }
    }

    // MARK: - Samples

    /// Adds samples whose relative path is not in the session yet (one transaction); returns how
    /// many were added. A malformed sample refuses the whole batch.
    @discardableResult
    public func addSamples(_ samples: [NewSample]) throws -> Int {
        let k = info.classes.count
        for s in samples {
            guard (0..<k).contains(s.label), s.probabilities.count == k, s.attentionProbabilities.count == k,
                  (s.probabilities + s.attentionProbabilities).allSatisfy(\.isFinite) else {
                throw SessionError(directory.path, "sample \(s.relativePath): needs a label in 0..<\(k) and \(k) finite probabilities per branch")
            }
            try checkMap(s.originalMap, what: "the original map of \(s.relativePath)")
        }
        return try write { d in
            var added = 0
            let now = utcNow()
            for s in samples {
                try d.execute(sql: """
                    INSERT OR IGNORE INTO samples (relative_path, label, probabilities, attention_probabilities, original_map,
                                                   collected_at, predicted, attention_predicted)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [s.relativePath, s.label, FloatBlob.encode(s.probabilities),
                                     FloatBlob.encode(s.attentionProbabilities), FloatBlob.encode(s.originalMap), now,
                                     argmax(s.probabilities), argmax(s.attentionProbabilities)])
                added += d.changesCount
            }
            return added
        }
    }

    /// Every sample in collection order with its current map (the newest edit) and marks.
    public func samples() throws -> [SessionSample] {
        // One transaction: the maps and the marks of the same moment.
        let (rows, markRows) = try read { d in
            (try Row.fetchAll(d, sql: """
                SELECT s.id, s.relative_path, s.label, s.probabilities, s.attention_probabilities, s.original_map,
                       (SELECT map FROM edits e WHERE e.sample_id = s.id ORDER BY e.id DESC LIMIT 1) AS current_map,
                       (SELECT id FROM edits e WHERE e.sample_id = s.id ORDER BY e.id DESC LIMIT 1) AS current_edit_id,
                       (SELECT COUNT(*) FROM edits e WHERE e.sample_id = s.id) AS edit_count
                FROM samples s ORDER BY s.id
                """), try currentMarkRows(d))
        }
        var marks: [Int64: SampleMarks] = [:]
        for r in try markRows.map(markRecord) {
            marks[r.sampleID] = (marks[r.sampleID] ?? SampleMarks()).setting(r.kind, r.value, note: r.note)
        }
        let k = info.classes.count, plane = info.mapHeight * info.mapWidth, path = databaseURL.path
        return try rows.map { r in
            let id: Int64 = try r.checked("id", path)
            let label: Int = try r.checked("label", path)
            guard (0..<k).contains(label) else { throw SessionError(path, "damaged label \(label) in samples row \(id)") }
            let original = try unitFloats(try r.checked("original_map", path), "original_map of sample \(id)", count: plane)
            let current: Data? = try r.checked("current_map", path)
            let currentEdit: Int64? = try r.checked("current_edit_id", path)
            return SessionSample(id: id, relativePath: try r.checked("relative_path", path), label: label,
                                 probabilities: try unitFloats(try r.checked("probabilities", path), "probabilities of sample \(id)", count: k),
                                 attentionProbabilities: try unitFloats(try r.checked("attention_probabilities", path), "attention_probabilities of sample \(id)", count: k),
                                 originalMap: original,
                                 currentMap: try current.map { try unitFloats($0, "map of edit \(currentEdit ?? -1) (sample \(id))", count: plane) } ?? original,
                                 editCount: try r.checked("edit_count", path), marks: marks[id] ?? SampleMarks())
        }
    }

    // MARK: - Edits

    /// Appends an edit; durable (committed) when this returns. Returns its row id.
    @discardableResult
    public func appendEdit(sampleID: Int64, map: [Float], annotator: String, source: String, whatIf: [Float]) throws -> Int64 {
        try appendEdits([NewEdit(sampleID: sampleID, map: map, annotator: annotator, source: source, whatIfProbabilities: whatIf)])[0]
    }

    /// Appends edits in one transaction: all of them or none. Returns their row ids.
    @discardableResult
    public func appendEdits(_ edits: [NewEdit]) throws -> [Int64] {
        let k = info.classes.count
        for e in edits {
            try checkMap(e.map, what: "an edited map")
            guard e.whatIfProbabilities.count == k, e.whatIfProbabilities.allSatisfy(\.isFinite) else {
                throw SessionError(directory.path, "an edit needs \(k) finite what-if probabilities, got \(e.whatIfProbabilities.count)")
            }
            guard !e.annotator.isEmpty, !e.source.isEmpty else {
                throw SessionError(directory.path, "an edit needs an annotator name and a source")
            }
        }
        return try write { d in
            let now = utcNow()
            return try edits.map { (e) throws -> Int64 in
                guard try Bool.fetchOne(d, sql: "SELECT 1 FROM samples WHERE id = ?", arguments: [e.sampleID]) != nil else {
                    throw SessionError(directory.path, "no sample \(e.sampleID) in this session")
                }
                try d.execute(sql: """
                    INSERT INTO edits (sample_id, map, annotator, created_at, source, whatif_probabilities, whatif_predicted)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [e.sampleID, FloatBlob.encode(e.map), e.annotator, now, e.source,
                                     FloatBlob.encode(e.whatIfProbabilities), argmax(e.whatIfProbabilities)])
                return d.lastInsertedRowID
            }
        }
    }

    private func checkMap(_ map: [Float], what: String) throws {
        let (h, w) = (info.mapHeight, info.mapWidth)
        guard map.count == h * w else {
            throw SessionError(directory.path, "\(what) must have \(h)×\(w) values, got \(map.count)")
        }
        guard map.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
            throw SessionError(directory.path, "\(what) has values outside [0, 1] (or NaN)")
        }
    }

    /// The whole edit history in the order it was made.
    public func edits() throws -> [EditRecord] {
        let rows = try read { try Row.fetchAll($0, sql: "SELECT * FROM edits ORDER BY id") }
        let path = databaseURL.path
        return try rows.map { r in
            let id: Int64 = try r.checked("id", path), sample: Int64 = try r.checked("sample_id", path)
            return EditRecord(id: id, sampleID: sample, map: try unitFloats(try r.checked("map", path), "map of edit \(id) (sample \(sample))", count: info.mapHeight * info.mapWidth),
                              annotator: try r.checked("annotator", path), createdAt: try r.checked("created_at", path),
                              source: try r.checked("source", path),
                              whatIfProbabilities: try unitFloats(try r.checked("whatif_probabilities", path), "whatif_probabilities of edit \(id) (sample \(sample))", count: info.classes.count))
        }
    }

    // MARK: - Marks

    /// Sets (value true) or clears a sample's accept, flag or exclude mark: one new marks row,
    /// durable when this returns. `note` goes with a flag being set. Returns the row id.
    @discardableResult
    public func setMark(sampleID: Int64, kind: MarkKind, value: Bool, note: String? = nil, annotator: String,
                        source: MarkSource = .toggle) throws -> Int64 {
        guard !annotator.isEmpty else { throw SessionError(directory.path, "a mark needs an annotator name") }
        let note = kind == .flag && value ? note.flatMap { $0.isEmpty ? nil : $0 } : nil
        return try write { d in
            guard try Bool.fetchOne(d, sql: "SELECT 1 FROM samples WHERE id = ?", arguments: [sampleID]) != nil else {
                throw SessionError(directory.path, "no sample \(sampleID) in this session")
            }
            try d.execute(sql: """
                INSERT INTO marks (sample_id, kind, value, note, annotator, created_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [sampleID, kind.rawValue, value ? 1 : 0, note, annotator, utcNow(), source.rawValue])
            return d.lastInsertedRowID
        }
    }

    /// Marks a sample's map as right as it is (its original map becomes its fine-tuning target).
    public func accept(sampleID: Int64, annotator: String) throws {
        try setMark(sampleID: sampleID, kind: .accept, value: true, annotator: annotator)
    }

    /// The marks rows as a reader sees them: the marks table, or in a schema-2 file read read-only,
    /// its accepts rows as accept marks set (as migration v3 would copy them).
    private var marksTable: String {
        schemaVersion >= 3 ? "marks"
            : "(SELECT id, sample_id, 'accept' AS kind, 1 AS value, NULL AS note, annotator, created_at, 'migrated' AS source FROM accepts)"
    }

    /// One marks row, checked: an unknown kind or a value other than 0/1 is a damaged row.
    private func markRecord(_ r: Row) throws -> MarkRecord {
        let path = databaseURL.path
        let id: Int64 = try r.checked("id", path)
        let kindText: String = try r.checked("kind", path), value: Int64 = try r.checked("value", path)
        guard let kind = MarkKind(rawValue: kindText) else {
            throw SessionError(path, "damaged marks row \(id): unknown kind '\(kindText)' (accept, flag or exclude)")
        }
        guard value == 0 || value == 1 else { throw SessionError(path, "damaged marks row \(id): value \(value) is neither 1 (set) nor 0 (cleared)") }
        return MarkRecord(id: id, sampleID: try r.checked("sample_id", path), kind: kind, value: value == 1,
                          note: try r.checked("note", path), annotator: try r.checked("annotator", path),
                          createdAt: try r.checked("created_at", path), source: try r.checked("source", path))
    }

    /// The whole marks history in the order it was made.
    public func marks() throws -> [MarkRecord] {
        try read { try Row.fetchAll($0, sql: "SELECT * FROM \(marksTable) ORDER BY id") }.map(markRecord)
    }

    /// The rows holding each sample's current marks: its newest row of each kind.
    private func currentMarkRows(_ d: Database) throws -> [Row] {
        try Row.fetchAll(d, sql: "SELECT m.* FROM \(marksTable) m WHERE m.id IN (SELECT MAX(id) FROM \(marksTable) GROUP BY sample_id, kind) ORDER BY m.id")
    }

    /// The ids of the newest edit and marks rows in the whole session (0 when there are none).
    public func newestRowIDs() throws -> (edit: Int64, mark: Int64) {
        try read { d in
            (try Int64.fetchOne(d, sql: "SELECT MAX(id) FROM edits") ?? 0, try Int64.fetchOne(d, sql: "SELECT MAX(id) FROM \(marksTable)") ?? 0)
        }
    }

    /// The newest edit and marks rows of a sample: review compares their ids with what it loaded to
    /// notice another annotator's (or process's) work.
    public func latestActivity(sampleID: Int64) throws -> SampleActivity {
        let path = databaseURL.path
        func activity(_ d: Database, _ table: String) throws -> ActivityRecord? {
            try Row.fetchOne(d, sql: "SELECT id, annotator, created_at FROM \(table) WHERE sample_id = ? ORDER BY id DESC LIMIT 1",
                             arguments: [sampleID]).map {
                ActivityRecord(id: try $0.checked("id", path), annotator: try $0.checked("annotator", path), createdAt: try $0.checked("created_at", path))
            }
        }
        return try read { d in SampleActivity(edit: try activity(d, "edits"), mark: try activity(d, marksTable)) }
    }

    // MARK: - Runs

    /// Records a fine-tuning (or other) run with its parameters and results as JSON text.
    public func recordRun(kind: String, parameters: String, results: String) throws {
        try write { d in
            try d.execute(sql: "INSERT INTO runs (kind, created_at, parameters, results) VALUES (?, ?, ?, ?)",
                          arguments: [kind, utcNow(), parameters, results])
        }
    }

    public func runs() throws -> [RunRecord] {
        let path = databaseURL.path
        return try read { d in
            try Row.fetchAll(d, sql: "SELECT * FROM runs ORDER BY id").map {
                RunRecord(id: try $0.checked("id", path), kind: try $0.checked("kind", path), createdAt: try $0.checked("created_at", path),
                          parameters: try $0.checked("parameters", path), results: try $0.checked("results", path))
            }
        }
    }
}
