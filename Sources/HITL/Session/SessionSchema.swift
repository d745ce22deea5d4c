import GRDB

/// The versioned schema of session.sqlite (docs/formats.md). Migrations only ever add:
/// a session written by an older abn-hitl opens in a newer one; a newer one's file is refused.
enum SessionSchema {
    /// The newest schema version this tool writes and reads (one per migration).
    static let version = 3
    static let migrationIDs = ["v1", "v2", "v3"]

    /// Tables whose rows are history: triggers refuse UPDATE and DELETE on each (v1's tables; v3
    /// adds the same triggers to marks).
    static let appendOnlyTables = ["meta", "samples", "edits", "accepts", "model_changes", "runs"]

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { d in
            try d.execute(sql: """
                CREATE TABLE schema_version (version INTEGER NOT NULL);
                INSERT INTO schema_version VALUES (1);
                CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                CREATE TABLE samples (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    relative_path TEXT NOT NULL UNIQUE,
                    label INTEGER NOT NULL,
                    probabilities BLOB NOT NULL,
                    attention_probabilities BLOB NOT NULL,
                    original_map BLOB NOT NULL,
                    collected_at TEXT NOT NULL);
                CREATE TABLE edits (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    sample_id INTEGER NOT NULL REFERENCES samples(id),
                    map BLOB NOT NULL,
                    annotator TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    source TEXT NOT NULL,
                    whatif_probabilities BLOB NOT NULL);
                CREATE INDEX edits_by_sample ON edits(sample_id, id);
                CREATE TABLE accepts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    sample_id INTEGER NOT NULL REFERENCES samples(id),
                    annotator TEXT NOT NULL,
                    created_at TEXT NOT NULL);
                CREATE TABLE model_changes (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    model_path TEXT NOT NULL,
                    model_sha256 TEXT NOT NULL,
                    created_at TEXT NOT NULL);
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    parameters TEXT NOT NULL,
                    results TEXT NOT NULL);
                """)
            for table in appendOnlyTables { try appendOnly(table, d) }
        }
        // v2: the predictions as class indices next to the probabilities, so an auditor can query them
        // in SQL. NULL in rows written by v1 (rows are never updated); readers fall back to the argmax.
        m.registerMigration("v2") { d in
            try d.execute(sql: """
                ALTER TABLE samples ADD COLUMN predicted INTEGER;
                ALTER TABLE samples ADD COLUMN attention_predicted INTEGER;
                ALTER TABLE edits ADD COLUMN whatif_predicted INTEGER;
                INSERT INTO schema_version VALUES (2);
                """)
        }
        // v3: accept, flag and exclude marks in one history that can also clear them (value 0); a
        // sample's mark of a kind is its newest row of that kind. The accepts rows are copied in as
        // accept marks (source 'migrated'); the accepts table stays, unwritten from here on.
        m.registerMigration("v3") { d in
            try d.execute(sql: """
                CREATE TABLE marks (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    sample_id INTEGER NOT NULL REFERENCES samples(id),
                    kind TEXT NOT NULL,
                    value INTEGER NOT NULL,
                    note TEXT,
                    annotator TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    source TEXT NOT NULL);
                CREATE INDEX marks_by_sample ON marks(sample_id, kind, id);
                INSERT INTO marks (sample_id, kind, value, note, annotator, created_at, source)
                    SELECT sample_id, 'accept', 1, NULL, annotator, created_at, 'migrated' FROM accepts ORDER BY id;
                INSERT INTO schema_version VALUES (3);
                """)
            try appendOnly("marks", d)
        }
        return m
    }

    private static func appendOnly(_ table: String, _ d: Database) throws {
        try d.execute(sql: """
            CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table) BEGIN SELECT RAISE(ABORT, 'append-only: \(table) rows are never changed'); END;
            CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table) BEGIN SELECT RAISE(ABORT, 'append-only: \(table) rows are never deleted'); END;
            """)
    }

    /// The schema version recorded in a file (0 for a new, empty file).
    static func recordedVersion(_ d: Database) throws -> Int {
        guard try d.tableExists("schema_version") else { return 0 }
        return try Int.fetchOne(d, sql: "SELECT MAX(version) FROM schema_version") ?? 0
    }

    /// What an existing file is, judged before anything is written to it.
    enum State: Equatable {
        case empty, current
        /// An older schema; `recorded` is its version (a read-only reader can read version 2 as it is).
        case needsMigration(recorded: Int)
        case newer(Int)
        case foreign
    }

    static func state(_ d: Database) throws -> State {
        let tables = try String.fetchAll(d, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        if tables.isEmpty { return .empty }
        // Another program's SQLite file: never add our tables to it.
        guard tables.contains("grdb_migrations"), tables.contains("schema_version") else { return .foreign }
        let recorded = try recordedVersion(d)
        let m = migrator
        if try recorded > version || m.hasBeenSuperseded(d) { return .newer(max(recorded, version + 1)) }
        return try m.hasCompletedMigrations(d) ? .current : .needsMigration(recorded: recorded)
    }
}
