import Foundation
import XCTest
@testable import ReviewUI

/// End to end: the real `abn-hitl review SESSION` in tmux on a small session made by the real
/// `synth`, `train` and `collect` commands; paints with keys and with SGR mouse drags, quits, and
/// checks the screen and the session's new edit rows; a full disk under review; two annotators.
final class ReviewCommandTmuxTests: XCTestCase {
    private func abnHitl(_ args: [String], _ what: String) throws -> String { try ReviewSessionFixture.abnHitl(args, what) }

    private func editRows(_ session: URL) throws -> Int {
        Int(try ReviewSessionFixture.query(session, "SELECT count(*) FROM edits;")) ?? -1
    }

    func testAbnHitlReviewCommandInTmux() throws {
        try ReviewSessionFixture.requirePrerequisites()
        let binary = BuiltProducts.abnHitl
        // ArgumentParser prints the root help (status 0) for an unknown subcommand, so look for
        // each command's own usage line.
        let missing = ["synth", "train", "collect", "review"].filter { command in
            let help = try? Spawn.run(binary, [command, "--help"])
            return !(help?.output ?? "").contains("abn-hitl \(command)")
        }
        guard missing.isEmpty else {
            throw MissingPrerequisite("abn-hitl lacks the commands \(missing.joined(separator: ", "))")
        }
        let fixture = try ReviewSessionFixture(name: "review-e2e", samples: 3)
        defer { fixture.remove() }
        let session = fixture.session
        let before = try editRows(session)

        let size = TerminalSize(columns: 120, rows: 40)
        let t = try TmuxHarness(command: [binary, "review", session.path, "--annotator", "tmux-test"],
                                columns: size.columns, rows: size.rows)
        defer { t.close() }
        try t.waitFor("Samples 1/3", timeout: 20)
        // Keyboard stroke at the brush's start position (the image centre).
        try t.sendKeys("Tab")
        try t.sendLiteral(" ")
        // Mouse drag through the middle of the canvas (the image is centred in it), then a wheel step.
        let layout = ReviewLayout(size: size, imageWidth: 32, imageHeight: 32)
        let c = layout.canvasArea.column + layout.canvasArea.columns / 2, r = layout.canvasArea.row + layout.canvasArea.rows / 2
        // Events 50 ms apart, as a hand produces them: ncurses drops SGR mouse reports that reach it
        // concatenated in one read while the UI is busy (noted in docs/guide.md).
        for event in [TmuxHarness.sgrMouse(button: 0, column: c - 3, row: r),
                      TmuxHarness.sgrMouse(button: 32, column: c, row: r + 1),
                      TmuxHarness.sgrMouse(button: 0, column: c + 3, row: r + 1, release: true),
                      TmuxHarness.sgrMouse(button: 65, column: c, row: r)] {
            usleep(50_000)
            try t.sendLiteral(event)
        }
        let screen = try t.waitFor(timeout: 20, "the edited what-if and saved status") {
            $0.contains("what-if (edited map)") && $0.contains("saved") && !$0.contains("UNSAVED") && $0.contains("* ")
        }
        XCTAssertTrue(screen.contains("▀"), screen)
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(timeout: 20), 0)
        XCTAssertEqual(try t.format("#{mouse_sgr_flag}#{mouse_button_flag}#{alternate_on}"), "000")
        XCTAssertEqual(try editRows(session), before + 2, "one edit per stroke (keyboard, mouse drag)")
    }

    /// Review on every backbone family's model (issue 13): the session loads, a keyboard stroke gives
    /// the what-if under the edited map and is stored, q exits 0.
    func testReviewOnEachBackbone() throws {
        for arch in ["cifar-wrn10-1", "cifar-resnext11-2x4d-w1", "cifar-densenet-bc16-12", "imagenet-se-resnet18"] {
            let fixture = try ReviewSessionFixture(name: "review-\(arch)", samples: 2, arch: arch)
            defer { fixture.remove() }
            let before = try editRows(fixture.session)
            let t = try fixture.review(columns: 120, rows: 40)
            defer { t.close() }
            try t.waitFor("Samples 1/2", timeout: 20)
            try t.sendKeys("Tab")
            try t.sendLiteral(" ")
            _ = try t.waitFor(timeout: 20, "\(arch): the edited what-if, saved") {
                $0.contains("what-if (edited map)") && $0.contains("saved") && !$0.contains("UNSAVED")
            }
            try t.sendLiteral("q")
            XCTAssertEqual(try t.waitForExit(timeout: 20), 0, arch)
            XCTAssertEqual(try editRows(fixture.session), before + 1, "\(arch): one edit for the stroke")
        }
    }

    /// Several annotators (issue 12, item 6): two real `abn-hitl review` processes on one session, in
    /// two tmux servers. Both load; alice paints sample 1 left of centre; bob, who loaded before her
    /// stroke, paints it right of centre: his review notices her edit first, names her in the status
    /// line and paints on her map, so the stored map has both strokes. Then bob flags it with a note
    /// typed at the prompt. The rows are read back with the sqlite3 shell.
    func testTwoAnnotatorsOnOneSessionKeepBothStrokes() throws {
        let fixture = try ReviewSessionFixture(name: "review-two", samples: 3)
        defer { fixture.remove() }
        let binary = BuiltProducts.abnHitl, session = fixture.session
        func query(_ sql: String) throws -> [String] { try fixture.query(sql).split(separator: "\n").map(String.init) }
        /// Float32 little-endian values from sqlite3's hex().
        func floats(_ hex: String) -> [Float] {
            let bytes = stride(from: 0, to: hex.count, by: 2).map { i -> UInt8 in
                let start = hex.index(hex.startIndex, offsetBy: i)
                return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
            }
            return stride(from: 0, to: bytes.count, by: 4).map {
                Float(bitPattern: UInt32(bytes[$0]) | UInt32(bytes[$0 + 1]) << 8 | UInt32(bytes[$0 + 2]) << 16 | UInt32(bytes[$0 + 3]) << 24)
            }
        }

        let alice = try TmuxHarness(command: [binary, "review", session.path, "--annotator", "alice"], columns: 140, rows: 40)
        defer { alice.close() }
        let bob = try TmuxHarness(command: [binary, "review", session.path, "--annotator", "bob"], columns: 140, rows: 40)
        defer { bob.close() }
        try alice.waitFor("Samples 1/3", timeout: 20)
        try bob.waitFor("Samples 1/3", timeout: 20)
        // Alice: the brush 8 px left of the centre of the 32×32 image (H moves 4 px), one dab.
        try alice.sendKeys("Tab")
        try alice.sendLiteral("HH ")
        // " 1*" in the progress row: one sample edited (" 0* " would match a bare "* ").
        try alice.waitFor(timeout: 20, "alice's stroke saved") { $0.contains(" 1*  0✓") && !$0.contains("UNSAVED") }
        // Bob, 8 px right of the centre: his review finds alice's newer edit before storing his.
        try bob.sendKeys("Tab")
        try bob.sendLiteral("LL ")
        let screen = try bob.waitFor(timeout: 20, "bob's status naming alice") {
            $0.contains("sample 1 changed by alice at ") && $0.contains("now editing their map") && !$0.contains("UNSAVED")
        }
        XCTAssertTrue(screen.contains(" 1*  0✓"), screen)
        // Bob flags it: f, a note typed at the prompt ("a" and "x" in it are text, not keys), Enter.
        try bob.sendLiteral("f")
        try bob.waitFor("flag note:", timeout: 20)
        try bob.sendLiteral("ask a vet x")
        try bob.sendKeys("Enter")
        try bob.waitFor("flagged sample 1", timeout: 20)
        for t in [alice, bob] {
            try t.sendLiteral("q")
            XCTAssertEqual(try t.waitForExit(timeout: 20), 0)
        }

        XCTAssertEqual(try query("SELECT sample_id, annotator, source FROM edits ORDER BY id;"), ["1|alice|stroke", "1|bob|stroke"])
        let original = floats(try query("SELECT hex(original_map) FROM samples WHERE id = 1;")[0])
        let maps = try query("SELECT hex(map) FROM edits ORDER BY id;").map(floats)
        XCTAssertEqual(maps.map(\.count), [original.count, original.count])
        let (hers, final) = (maps[0], maps[1])
        let herCells = original.indices.filter { hers[$0] != original[$0] }
        let hisCells = original.indices.filter { final[$0] != hers[$0] }
        XCTAssertFalse(herCells.isEmpty, "alice's stroke changed the map")
        XCTAssertFalse(hisCells.isEmpty, "bob's stroke changed it again")
        // Both paint (values only rise): the final map is at least hers everywhere, so her stroke is kept.
        for i in original.indices { XCTAssertGreaterThanOrEqual(final[i], hers[i], "cell \(i): alice's paint kept") }
        XCTAssertTrue(herCells.contains { !hisCells.contains($0) }, "strokes 16 px apart: some of her cells untouched by his")
        XCTAssertEqual(try query("SELECT sample_id, kind, value, note, annotator, source FROM marks ORDER BY id;"),
                       ["1|flag|1|ask a vet x|bob|toggle"])
    }

    /// A full disk under the session while reviewing (reliability issue, item 4): the stroke that cannot
    /// be stored is shown as not saved, quitting then says so in one line with exit 1, the session keeps
    /// every row it had and passes integrity_check, and with space again review stores edits as before.
    /// Mounting the small tmpfs needs root (tools/test.sh and CI run as root); without it this fails.
    func testFullDiskDuringReviewSaysWhatWasNotSavedAndKeepsTheSession() throws {
        guard TmuxHarness.locateTmux() != nil else { throw MissingPrerequisite("tmux is not installed (bash tools/setup.sh installs it)") }
        guard getuid() == 0 else { throw MissingPrerequisite("mounting a tmpfs needs root: run the tests as root, as tools/test.sh and CI do") }
        let binary = BuiltProducts.abnHitl
        let work = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("abn-hitl-review-full-\(getpid())")
        try? FileManager.default.removeItem(at: work)
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let disk = work.appendingPathComponent("disk")
        try FileManager.default.createDirectory(at: disk, withIntermediateDirectories: true)
        defer {
            _ = try? Spawn.run("/bin/umount", [disk.path])
            try? FileManager.default.removeItem(at: work)
        }
        let data = work.appendingPathComponent("data").path, model = work.appendingPathComponent("m.safetensors").path
        _ = try abnHitl(["synth", "--out", data, "--train", "16", "--test", "8", "--seed", "2"], "synth")
        _ = try abnHitl(["train", "--data", data, "--out", model, "--epochs", "1", "--batch-size", "8"], "train")
        guard try Spawn.run("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", disk.path]).status == 0 else {
            throw TmuxHarness.Failure(description: "mount -t tmpfs \(disk.path) was refused")
        }
        let session = disk.appendingPathComponent("s")
        _ = try abnHitl(["collect", "--model", model, "--data", data, "--session", session.path, "--select", "all", "--limit", "3"], "collect")
        let before = try editRows(session)

        // The review opens with room to spare; then the disk fills up under it.
        var t = try TmuxHarness(command: [binary, "review", session.path, "--annotator", "full"], columns: 100, rows: 30)
        defer { t.close() }
        try t.waitFor("Samples 1/3", timeout: 20)
        let filler = disk.appendingPathComponent("filler").path
        _ = try Spawn.run("/bin/dd", ["if=/dev/zero", "of=\(filler)", "bs=4096"])   // stops at ENOSPC
        try t.sendLiteral(" ")
        try t.waitFor("NOT SAVED", timeout: 20)
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(timeout: 20), 1)
        // -J joins the wrapped line; -S from the history too, where the end of the screen pushed it.
        let screen = try t.run(["capture-pane", "-p", "-J", "-S", "-100", "-t", t.target])
        XCTAssertTrue(screen.contains("were not saved: ") && screen.contains("session.sqlite: disk full")
                      && screen.contains("every edit saved before that is in the session"), screen)
        XCTAssertEqual(screen.components(separatedBy: "were not saved").count, 2, "one line: \(screen)")

        // With space again: the session is whole, still without the unsaved edit, and takes new ones.
        try FileManager.default.removeItem(atPath: filler)
        XCTAssertEqual(try ReviewSessionFixture.query(session, "PRAGMA integrity_check;"), "ok")
        XCTAssertEqual(try editRows(session), before)
        t.close()
        t = try TmuxHarness(command: [binary, "review", session.path, "--annotator", "full"], columns: 100, rows: 30)
        try t.waitFor("Samples 1/3", timeout: 20)
        try t.sendLiteral(" ")
        // " 1*" in the progress row: one sample edited (a bare "* " matches " 0* " at once).
        try t.waitFor(timeout: 20, "the stroke saved") { $0.contains("saved") && !$0.contains("UNSAVED") && $0.contains(" 1*") }
        try t.sendLiteral("q")
        XCTAssertEqual(try t.waitForExit(timeout: 20), 0)
        XCTAssertEqual(try editRows(session), before + 1)
    }
}
