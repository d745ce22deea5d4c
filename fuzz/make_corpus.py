#!/usr/bin/env python3
"""Writes the seed corpora that are made rather than copied: fuzz/corpus/session/ (small session.sqlite
files with the schema abn-hitl writes, docs/formats.md, with 512-byte pages and 2x2 maps so that each
fits in the harness's input size) and fuzz/corpus/input/ (what a terminal sends during review: keys,
arrows, SGR and X10 mouse drags, a filter typed and erased). Run from the repository root:
python3 fuzz/make_corpus.py"""
import os, sqlite3, struct

OUT = "fuzz/corpus/session"
INPUT_OUT = "fuzz/corpus/input"
TABLES_V1 = """
CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE samples (id INTEGER PRIMARY KEY AUTOINCREMENT, relative_path TEXT NOT NULL UNIQUE,
  label INTEGER NOT NULL, probabilities BLOB NOT NULL, attention_probabilities BLOB NOT NULL,
  original_map BLOB NOT NULL, collected_at TEXT NOT NULL);
CREATE TABLE edits (id INTEGER PRIMARY KEY AUTOINCREMENT, sample_id INTEGER NOT NULL REFERENCES samples(id),
  map BLOB NOT NULL, annotator TEXT NOT NULL, created_at TEXT NOT NULL, source TEXT NOT NULL,
  whatif_probabilities BLOB NOT NULL);
CREATE INDEX edits_by_sample ON edits(sample_id, id);
CREATE TABLE accepts (id INTEGER PRIMARY KEY AUTOINCREMENT, sample_id INTEGER NOT NULL REFERENCES samples(id),
  annotator TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE model_changes (id INTEGER PRIMARY KEY AUTOINCREMENT, model_path TEXT NOT NULL,
  model_sha256 TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, created_at TEXT NOT NULL,
  parameters TEXT NOT NULL, results TEXT NOT NULL);
"""
V2 = """
ALTER TABLE samples ADD COLUMN predicted INTEGER;
ALTER TABLE samples ADD COLUMN attention_predicted INTEGER;
ALTER TABLE edits ADD COLUMN whatif_predicted INTEGER;
"""
V3 = """
CREATE TABLE marks (id INTEGER PRIMARY KEY AUTOINCREMENT, sample_id INTEGER NOT NULL REFERENCES samples(id),
  kind TEXT NOT NULL, value INTEGER NOT NULL, note TEXT, annotator TEXT NOT NULL, created_at TEXT NOT NULL,
  source TEXT NOT NULL);
CREATE INDEX marks_by_sample ON marks(sample_id, kind, id);
INSERT INTO marks (sample_id, kind, value, note, annotator, created_at, source)
  SELECT sample_id, 'accept', 1, NULL, annotator, created_at, 'migrated' FROM accepts ORDER BY id;
"""
NOW = "2026-12-05T12:00:00.000Z"

def floats(*v):
    return struct.pack("<%df" % len(v), *v)

def make(name, version=3, samples=2, edits=1, accepts=1, changes=1, runs=1, wal=False, bad_map=None, marks=()):
    path = os.path.join(OUT, name)
    if os.path.exists(path):
        os.remove(path)
    d = sqlite3.connect(path)
    d.execute("PRAGMA page_size = 512")
    d.executescript(TABLES_V1)
    d.execute("INSERT INTO grdb_migrations VALUES ('v1')")
    d.execute("INSERT INTO schema_version VALUES (1)")
    if version >= 2:
        d.executescript(V2)
        d.execute("INSERT INTO grdb_migrations VALUES ('v2')")
        d.execute("INSERT INTO schema_version VALUES (2)")
    meta = {"model_path": "m.safetensors", "model_sha256": "ab" * 32, "data_root": "data", "split": "train",
            "classes": '["a","b"]', "map_size": "2x2", "input": "3x8x8", "created_at": NOW}
    d.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    cols = "relative_path, label, probabilities, attention_probabilities, original_map, collected_at"
    for i in range(samples):
        values = [f"{'ab'[i % 2]}/{i}.png", i % 2, floats(0.25, 0.75), floats(0.5, 0.5), floats(0.1, 0.2, 0.3, 0.4), NOW]
        if version >= 2:
            d.execute(f"INSERT INTO samples ({cols}, predicted, attention_predicted) VALUES (?,?,?,?,?,?,?,?)", values + [1, 0])
        else:
            d.execute(f"INSERT INTO samples ({cols}) VALUES (?,?,?,?,?,?)", values)
    for i in range(edits):
        m = bad_map if bad_map is not None else floats(1, 0, 0, 0.5)
        extra = ", whatif_predicted" if version >= 2 else ""
        args = [1 + i % max(samples, 1), m, "ann", NOW, "review", floats(0.9, 0.1)] + ([0] if version >= 2 else [])
        d.execute(f"INSERT INTO edits (sample_id, map, annotator, created_at, source, whatif_probabilities{extra}) "
                  f"VALUES ({','.join('?' * len(args))})", args)
    for i in range(accepts):
        d.execute("INSERT INTO accepts (sample_id, annotator, created_at) VALUES (?,?,?)", (1, "ann", NOW))
    if version >= 3:
        d.executescript(V3)
        d.execute("INSERT INTO grdb_migrations VALUES ('v3')")
        d.execute("INSERT INTO schema_version VALUES (3)")
    for sample, kind, value, note, source in marks:
        d.execute("INSERT INTO marks (sample_id, kind, value, note, annotator, created_at, source) VALUES (?,?,?,?,?,?,?)",
                  (sample, kind, value, note, "bo", NOW, source))
    for i in range(changes):
        d.execute("INSERT INTO model_changes (model_path, model_sha256, created_at) VALUES (?,?,?)", ("f.safetensors", "cd" * 32, NOW))
    for i in range(runs):
        d.execute("INSERT INTO runs (kind, created_at, parameters, results) VALUES (?,?,?,?)", ("finetune", NOW, "{}", '{"ok":1}'))
    for t in ["meta", "samples", "edits", "accepts", "model_changes", "runs"] + (["marks"] if version >= 3 else []):
        d.execute(f"CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t} BEGIN SELECT RAISE(ABORT, 'append-only'); END")
        d.execute(f"CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t} BEGIN SELECT RAISE(ABORT, 'append-only'); END")
    d.commit()
    if wal:
        d.execute("PRAGMA journal_mode = WAL")
    d.execute("VACUUM")
    d.close()
    for s in ("-wal", "-shm"):
        if os.path.exists(path + s):
            os.remove(path + s)

def sgr(button, x, y, release=False):
    """An xterm SGR mouse report (1-based cell), as terminals with kmous=\\E[< send it."""
    return b"\x1b[<%d;%d;%d%s" % (button, x + 1, y + 1, b"m" if release else b"M")

def x10(button, x, y):
    """An X10 mouse report (screen's kmous=\\E[M): button and 1-based cell, each plus 32."""
    return b"\x1b[M" + bytes([32 + button, 33 + x, 33 + y])

def input_seed(name, header, body):
    with open(os.path.join(INPUT_OUT, name), "wb") as f:
        f.write(bytes(header) + body)

os.makedirs(OUT, exist_ok=True)
make("current.sqlite")
make("current-wal.sqlite", wal=True)
make("schema-v1.sqlite", version=1)
make("schema-v2.sqlite", version=2)
make("marks.sqlite", marks=[(1, "flag", 1, "tail?", "toggle"), (2, "exclude", 1, None, "toggle"),
                            (1, "accept", 0, None, "undo"), (1, "accept", 1, None, "redo"), (2, "exclude", 0, None, "toggle")])
make("no-rows.sqlite", samples=0, edits=0, accepts=0, changes=0, runs=0)
make("nan-edit.sqlite", bad_map=floats(float("nan"), 0, 0, 0))
make("short-edit.sqlite", bad_map=floats(1, 0))

# Input seeds: header byte 0 = terminal (bit 0: 0 xterm, 1 screen), colours (bits 1-2), failing writes
# (bit 7); bytes 1 and 2 = columns - 1 and rows - 1 (see fuzz/harness/input.swift).
os.makedirs(INPUT_OUT, exist_ok=True)
input_seed("keys.bin", [0, 119, 39], b"jjkk\tlllhh d llll d a n 5 ] [ u \x12 r o c c ? x - + b e p N s F q")
input_seed("arrows.bin", [2, 99, 29], b"\t\x1b[A\x1b[B\x1b[C\x1b[D\x1b[1;2D\x1b[1;2C\x1b[1;2A\x1b[1;2B \x1a\x19")
input_seed("sgr-drag.bin", [0, 119, 39],
           sgr(0, 60, 10) + sgr(32, 62, 11) + sgr(32, 70, 15) + sgr(0, 71, 15, release=True)
           + sgr(2, 65, 12) + sgr(34, 66, 13) + sgr(2, 66, 13, release=True) + sgr(64, 60, 10) + sgr(65, 60, 10)
           + sgr(0, 5, 5) + sgr(0, 5, 5, release=True))
input_seed("x10-drag.bin", [1, 119, 39], x10(0, 60, 10) + x10(32, 64, 12) + x10(3, 64, 12) + x10(64, 1, 1) + x10(0, 3, 4) + x10(3, 3, 4))
input_seed("filter.bin", [4, 79, 23], b"/train\x7f\x7fa\x08b\rs/zz\x1bF")
input_seed("tiny.bin", [0, 9, 4], b"jd l d" + sgr(0, 3, 2) + sgr(0, 3, 2, release=True) + b"?q")
input_seed("marks.bin", [0, 119, 39], b"fnot the tail\x7f\x7f\rfx\x1bx a u u \x12 F F F F F F k a f\r")
input_seed("help-quit.bin", [0x80, 119, 39], b"? d lll d a \x03")
for folder in (OUT, INPUT_OUT):
    for f in sorted(os.listdir(folder)):
        print(os.path.join(folder, f), os.path.getsize(os.path.join(folder, f)))
