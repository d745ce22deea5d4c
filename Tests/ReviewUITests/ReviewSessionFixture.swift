import Foundation
import XCTest

/// A session made by the real `synth`, `train` and `collect` commands in a temporary folder, and its
/// rows read back with the sqlite3 shell: what the end-to-end review tests in tmux start from.
struct ReviewSessionFixture {
    let work: URL
    let session: URL

    /// Fails (rather than skips) without tmux, the built binary, or sqlite3: tools/test.sh provides them,
    /// and a run that checked nothing must not look green.
    static func requirePrerequisites() throws {
        guard TmuxHarness.locateTmux() != nil else { throw MissingPrerequisite("tmux is not installed (bash tools/setup.sh installs it)") }
        guard FileManager.default.isExecutableFile(atPath: BuiltProducts.abnHitl) else {
            throw MissingPrerequisite("\(BuiltProducts.abnHitl) is not built")
        }
    }

    static func abnHitl(_ args: [String], _ what: String) throws -> String {
        let r = try Spawn.run(BuiltProducts.abnHitl, args)
        guard r.status == 0 else { throw TmuxHarness.Failure(description: "abn-hitl \(what) failed (\(r.status)): \(r.error)") }
        return r.output
    }

    /// A session of the first `samples` of a 40-image synthetic training set, under a model (of `arch`,
    /// the train command's default if nil) trained one epoch.
    init(name: String, samples: Int, arch: String? = nil) throws {
        try Self.requirePrerequisites()
        work = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("abn-hitl-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let data = work.appendingPathComponent("data").path
        let model = work.appendingPathComponent("model.safetensors").path
        session = work.appendingPathComponent("session")
        _ = try Self.abnHitl(["synth", "--out", data, "--train", "40", "--test", "10", "--seed", "1"], "synth")
        _ = try Self.abnHitl(["train", "--data", data, "--out", model, "--epochs", "1", "--batch-size", "20", "--threads", "2"]
                             + (arch.map { ["--arch", $0] } ?? []), "train")
        _ = try Self.abnHitl(["collect", "--model", model, "--data", data, "--session", session.path,
                              "--select", "all", "--limit", String(samples)], "collect")
    }

    func remove() { try? FileManager.default.removeItem(at: work) }

    /// `abn-hitl review SESSION --annotator NAME` plus `extra` in a tmux pane of `columns × rows`.
    func review(_ extra: [String] = [], columns: Int = 100, rows: Int = 30) throws -> TmuxHarness {
        try TmuxHarness(command: [BuiltProducts.abnHitl, "review", session.path, "--annotator", "tmux-test"] + extra,
                        columns: columns, rows: rows)
    }

    func query(_ sql: String) throws -> String { try Self.query(session, sql) }

    /// The sqlite3 shell's output for `sql` on `session` (docs/formats.md names the tables), trimmed.
    static func query(_ session: URL, _ sql: String) throws -> String {
        guard let sqlite = ["/usr/bin/sqlite3", "/usr/local/bin/sqlite3"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw MissingPrerequisite("sqlite3 is not installed (bash tools/setup.sh installs it)")
        }
        let r = try Spawn.run(sqlite, [session.appendingPathComponent("session.sqlite").path, sql])
        guard r.status == 0 else { throw TmuxHarness.Failure(description: "sqlite3 \(sql): \(r.error)") }
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Session sample ids in collect order (the list's order before any sort).
    func sampleIDs() throws -> [Int] {
        try query("SELECT id FROM samples ORDER BY id;").split(separator: "\n").map { Int($0)! }
    }
}
