#!/usr/bin/env python3
"""Writes Tests/HITLTests/Fixtures/session-v1/session.sqlite: a session as abn-hitl's schema v1
wrote it (before the v2 prediction columns), frozen so the migration test opens a real old file
rather than one made by today's migrator. The SQL below is v1 as released; do not update it.

    python3 tools/make_session_v1_fixture.py
"""
import os, sqlite3, struct, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
out = os.path.join(root, "Tests/HITLTests/Fixtures/session-v1/session.sqlite")
os.makedirs(os.path.dirname(out), exist_ok=True)
if os.path.exists(out):
    os.remove(out)

def floats(xs):  # FloatBlob: little-endian Float32
    return struct.pack("<%df" % len(xs), *xs)

db = sqlite3.connect(out)
db.executescript("""
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
INSERT INTO grdb_migrations VALUES ('v1');
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
for t in ["meta", "samples", "edits", "accepts", "model_changes", "runs"]:
    db.executescript(f"""
CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} BEGIN SELECT RAISE(ABORT, 'append-only: {t} rows are never changed'); END;
CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} BEGIN SELECT RAISE(ABORT, 'append-only: {t} rows are never deleted'); END;
""")
meta = [("model_path", "/models/m.safetensors"), ("model_sha256", "ab" * 32), ("data_root", "/data/shapes"),
        ("split", "train"), ("classes", '["circle","cross"]'), ("map_size", "2x2"), ("input", "3x4x4"),
        ("created_at", "2026-11-20T10:00:00.000Z")]
db.executemany("INSERT INTO meta VALUES (?, ?)", meta)
db.executemany("INSERT INTO samples (relative_path, label, probabilities, attention_probabilities, original_map, collected_at) VALUES (?, ?, ?, ?, ?, ?)", [
    ("cross/00001.png", 1, floats([0.7, 0.3]), floats([0.4, 0.6]), floats([0.9, 0.1, 0.0, 0.2]), "2026-11-20T10:00:01.000Z"),
    ("circle/00002.png", 0, floats([0.2, 0.8]), floats([0.55, 0.45]), floats([0.0, 0.5, 1.0, 0.25]), "2026-11-20T10:00:01.000Z"),
])
db.execute("INSERT INTO edits (sample_id, map, annotator, created_at, source, whatif_probabilities) VALUES (1, ?, 'ann', '2026-11-20T10:05:00.000Z', 'review', ?)",
           (floats([0.0, 0.0, 1.0, 1.0]), floats([0.25, 0.75])))
db.execute("INSERT INTO accepts (sample_id, annotator, created_at) VALUES (2, 'ann', '2026-11-20T10:06:00.000Z')")
db.execute("INSERT INTO runs (kind, created_at, parameters, results) VALUES ('finetune', '2026-11-20T11:00:00.000Z', '{\"gamma\":1}', '{}')")
db.commit()
db.close()
print("wrote", out, file=sys.stderr)
