import Foundation
import XCTest
import HITL
@testable import ReviewUI

/// kitty's graphics protocol end to end: the real `abn-hitl review` on a real session (the
/// ReviewSessionFixture tmux tests use) under a pseudo-terminal that a Python script drives as a
/// terminal would (tmux answers no graphics query). The script answers the query as told, types
/// keys, and records every byte review writes; the test reads the image commands from those bytes
/// with a decoder of its own and compares the pixels with the session's image and map.
final class KittyPtyTests: XCTestCase {
    nonisolated(unsafe) private static var shared: ReviewSessionFixture?

    private func fixture() throws -> ReviewSessionFixture {
        if let f = Self.shared { return f }
        let f = try ReviewSessionFixture(name: "kitty-pty", samples: 2)
        Self.shared = f
        return f
    }

    override class func tearDown() {
        shared?.remove()
        shared = nil
        super.tearDown()
    }

    // MARK: - The fake terminal

    /// Runs ARGV (spec["argv"]) on a pty of the given size and environment; answers review's queries
    /// (`reply`: ok = graphics OK and device attributes, da = device attributes only, silent = none);
    /// runs the steps (wait for text after the last key sent, settle until quiet for N ms, send keys,
    /// resize the terminal: the kernel tells review with SIGWINCH);
    /// then reads to the end. Writes every byte to spec["log"]; prints {"status", "marks", "error"},
    /// marks being the log's length when each key was sent.
    static let fakeTerminal = #"""
import fcntl, json, os, pty, re, select, struct, sys, termios, time
spec = json.loads(sys.argv[1])
out = bytearray()
marks = []
scanned = 0
eof = False
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", spec["rows"], spec["columns"], 0, 0))
    os.execve(spec["argv"][0], spec["argv"], spec["env"])
queries = re.compile(rb"\x1b_G([^\x1b]*a=q[^\x1b]*)\x1b\\|\x1b\[c")
def answer():
    global scanned
    for m in queries.finditer(out, scanned):
        if m.group(0) == b"\x1b[c":
            if spec["reply"] in ("ok", "da"):
                os.write(fd, b"\x1b[?62;22c")
        else:
            ident = re.search(rb"i=(\d+)", m.group(1)).group(1)
            if spec["reply"] == "ok":
                os.write(fd, b"\x1b_Gi=" + ident + b";OK\x1b\\")
        scanned = m.end()
def pump(timeout):
    global eof
    if eof:
        return 0
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        return 0
    try:
        data = os.read(fd, 65536)
    except OSError:
        data = b""
    if not data:
        eof = True
        return 0
    out.extend(data)
    answer()
    return len(data)
error = None
for step in spec["steps"]:
    kind = step[0]
    if kind == "wait":
        text, deadline = step[1].encode(), time.time() + step[2]
        start = marks[-1] if marks else 0
        while text not in out[start:] and time.time() < deadline and not eof:
            pump(0.05)
        if text not in out[start:]:
            error = "timed out waiting for %r" % step[1]
            break
    elif kind == "settle":
        while pump(step[1] / 1000.0) > 0:
            pass
    elif kind == "send":
        marks.append(len(out))
        os.write(fd, step[1].encode())
    elif kind == "resize":
        marks.append(len(out))
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", step[2], step[1], 0, 0))
deadline = time.time() + 20
while not eof and time.time() < deadline:
    pump(0.1)
if not eof:
    os.kill(pid, 9)
    error = error or "review did not exit"
_, status = os.waitpid(pid, 0)
open(spec["log"], "wb").write(bytes(out))
print(json.dumps({"status": os.waitstatus_to_exitcode(status), "marks": marks, "error": error}))
"""#

    struct Run {
        var output: [UInt8]
        /// Where each key was sent (or the size changed), as offsets into `output`.
        var marks: [Int]
        var status: Int
        /// The bytes between mark i − 1 and mark i (segment 0: before the first key).
        func segment(_ i: Int) -> [UInt8] {
            let bounds = [0] + marks + [output.count]
            return Array(output[bounds[i]..<bounds[i + 1]])
        }
    }

    enum Step {
        case wait(String), settle(Int), send(String), resize(TerminalSize)
        var json: [Any] {
            switch self {
            case .wait(let text): return ["wait", text, 30]
            case .settle(let ms): return ["settle", ms]
            case .send(let keys): return ["send", keys]
            case .resize(let size): return ["resize", size.columns, size.rows]
            }
        }
    }

    static let size = TerminalSize(columns: 120, rows: 40)

    private func review(reply: String, arguments: [String] = [], environment extra: [String: String] = [:], steps: [Step]) throws -> Run {
        let f = try fixture()
        let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let python else { throw MissingPrerequisite("python3 is not installed (bash tools/setup.sh installs it)") }
        let log = NSTemporaryDirectory() + "abn-hitl-kitty-pty-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        // A clean environment: a truecolour xterm, whatever terminal (tmux, say) runs the tests.
        var env = ["TERM": "xterm-256color", "COLORTERM": "truecolor", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                   "PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        env.merge(extra) { $1 }
        let spec: [String: Any] = [
            "argv": [BuiltProducts.abnHitl, "review", f.session.path, "--annotator", "pty-test"] + arguments,
            "env": env, "columns": Self.size.columns, "rows": Self.size.rows, "reply": reply, "log": log,
            "steps": steps.map(\.json),
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
        let r = try Spawn.run(python, ["-c", Self.fakeTerminal, json])
        guard r.status == 0, let result = try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any] else {
            throw TmuxHarness.Failure(description: "the fake terminal failed (\(r.status)): \(r.error)")
        }
        let output = [UInt8]((try? Data(contentsOf: URL(fileURLWithPath: log))) ?? Data())
        if let error = result["error"] as? String {
            throw TmuxHarness.Failure(description: "\(error); review wrote:\n\(String(decoding: output.suffix(3000), as: UTF8.self))")
        }
        return Run(output: output, marks: result["marks"] as? [Int] ?? [], status: result["status"] as? Int ?? -1)
    }

    // MARK: - Reading the commands back (independently of KittyGraphics)

    /// One APC graphics command: its keys and its payload (base64 text).
    struct Command { var keys: [String: String]; var payload: String }

    static func commands(_ bytes: [UInt8]) -> [Command] {
        var out: [Command] = []
        var i = 0
        while i + 2 < bytes.count {
            guard bytes[i] == 0x1B, bytes[i + 1] == UInt8(ascii: "_"), bytes[i + 2] == UInt8(ascii: "G") else { i += 1; continue }
            var j = i + 3
            while j + 1 < bytes.count, !(bytes[j] == 0x1B && bytes[j + 1] == UInt8(ascii: "\\")) { j += 1 }
            let body = String(decoding: bytes[(i + 3)..<min(j, bytes.count)], as: UTF8.self)
            let parts = body.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)
            var keys: [String: String] = [:]
            for pair in parts[0].split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { keys[String(kv[0])] = String(kv[1]) }
            }
            out.append(Command(keys: keys, payload: parts.count > 1 ? String(parts[1]) : ""))
            i = j + 2
        }
        return out
    }

    /// Transmitted images (a=T and the chunks after it), with their pixels decoded.
    static func images(_ bytes: [UInt8]) -> [(keys: [String: String], rgb: [UInt8])] {
        var out: [(keys: [String: String], rgb: [UInt8])] = []
        var current: (keys: [String: String], payload: String)?
        for c in commands(bytes) {
            if c.keys["a"] == "T" { current = (c.keys, c.payload) } else if current != nil, c.keys["a"] == nil { current!.payload += c.payload } else { continue }
            if c.keys["m"] == "0", let done = current {
                out.append((done.keys, [UInt8](Data(base64Encoded: done.payload) ?? Data())))
                current = nil
            }
        }
        return out
    }

    private func count(_ needle: String, in bytes: [UInt8]) -> Int {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: needle).count - 1
    }

    /// The first sample's image and its map upsampled to it, as the session stores them.
    private func firstSample() throws -> (width: Int, height: Int, rgb: [UInt8], values: [Float]) {
        let session = try Session.open(try fixture().session, readOnly: true)
        let info = session.info
        let sample = try XCTUnwrap(try session.samples().first)
        let image = try loadDisplayImage(try info.sampleURL(sample.relativePath), width: info.inputWidth, height: info.inputHeight)
        let values = Compose.upsampled(AttentionMap(height: info.mapHeight, width: info.mapWidth, values: sample.currentMap),
                                       imageWidth: image.width, imageHeight: image.height)
        return (image.width, image.height, image.pixels, values)
    }

    // MARK: - Tests

    /// A kitty-capable terminal: the first frame's panel image is the blend at 50% (the query's reply
    /// did not reach the keys: `i` or `=` would have changed it) over the panel's cells, which are
    /// blank; `o` `o` shows the image itself, pixel for pixel; `?` deletes the image; `q` exits 0 and
    /// frees every panel image.
    func testKittyTerminalGetsThePanelAsAnImage() throws {
        let sent = "\u{1B}_Ga=T"
        let run = try review(reply: "ok", steps: [.wait("?:help"), .wait(sent), .settle(600), .send("o"), .wait(sent), .settle(400),
                                                  .send("o"), .wait(sent), .settle(400), .send("?"), .wait("Keys 1/"), .wait("a=d"),
                                                  .settle(400), .send("q")])
        XCTAssertEqual(run.status, 0)
        XCTAssertEqual(count("\u{1B}_Gi=4170,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\\u{1B}[c", in: run.output), 1, "asked once")
        let sample = try firstSample()
        let layout = ReviewLayout(size: Self.size, imageWidth: sample.width, imageHeight: sample.height)
        let rect = layout.panels[0].rect
        XCTAssertEqual(layout.scale, 2, "120×40 shows a 32×32 image at 2×2 display pixels a pixel")
        let width = 2 * sample.width, height = 2 * sample.height

        func check(_ segment: Int, _ what: String, expected: (Int) -> [UInt8]) throws {
            let image = try XCTUnwrap(Self.images(run.segment(segment)).last, "\(what): an image was sent")
            let k = image.keys
            XCTAssertEqual([k["f"], k["i"], k["p"], k["C"], k["q"]], ["24", "4171", "1", "1", "2"], what)
            XCTAssertEqual([k["c"], k["r"]], ["\(rect.columns)", "\(rect.rows)"], what)
            XCTAssertEqual([k["s"], k["v"]], ["\(width)", "\(2 * rect.rows)"], what)
            XCTAssertEqual(image.rgb.count, width * 2 * rect.rows * 3, what)
            // Corners (the brush ring is at the centre): transmitted pixel (x, y) is image pixel (x/2, y/2).
            for (x, y) in [(0, 0), (width - 1, 0), (1, height - 1), (width - 2, height - 2)] {
                let t = 3 * (y * width + x)
                XCTAssertEqual(Array(image.rgb[t..<(t + 3)]), expected((y / 2) * sample.width + x / 2), "\(what): pixel \(x),\(y)")
            }
        }
        try check(0, "blend") { p in
            let heat = RGB.jet(sample.values[p]), pixel = RGB(sample.rgb[3 * p], sample.rgb[3 * p + 1], sample.rgb[3 * p + 2])
            let mixed = Compose.mix(pixel, heat, 0.5)
            return [mixed.r, mixed.g, mixed.b]
        }
        try check(2, "image view") { p in Array(sample.rgb[(3 * p)..<(3 * p + 3)]) }
        // 64×64×3 = 12288 bytes, 16384 in base64: four chunks of at most 4096, m=1 while more follow.
        let chunks = Self.commands(run.segment(0)).filter { $0.keys["a"] == "T" || ($0.keys["a"] == nil && $0.keys["m"] != nil) }
        XCTAssertEqual(chunks.map { $0.keys["m"] }, ["1", "1", "1", "0"])
        XCTAssertEqual(chunks.map { $0.payload.utf8.count }, [4096, 4096, 4096, 4096])
        // The cursor went to the panel's top-left before the first chunk.
        XCTAssertEqual(count("\u{1B}[\(rect.row + 1);\(rect.column + 1)H\u{1B}_Ga=T", in: run.segment(0)), Self.images(run.segment(0)).count)
        // Blank cells under the image: the first frame's half blocks are the legend's only (drawn, then repainted).
        XCTAssertLessThanOrEqual(count("▀", in: run.segment(0)), 64)

        let help = Self.commands(run.segment(3))
        XCTAssertTrue(help.contains { $0.keys["a"] == "d" && $0.keys["d"] == "i" && $0.keys["i"] == "4171" }, "? deletes the image")
        XCTAssertFalse(help.contains { $0.keys["a"] == "T" }, "nothing sent while the help is up")
        let exit = Self.commands(run.segment(4)).filter { $0.keys["a"] == "d" && $0.keys["d"] == "I" }.compactMap { $0.keys["i"] }
        XCTAssertEqual(Set(exit), ["4171", "4172", "4173"], "q frees every panel image")
    }

    /// A resize deletes the image and sends it again at the new size's place: 120×40 → 100×30 puts
    /// the 32×32 image at scale 1 in a 32×16-cell panel.
    func testResizeDeletesAndSendsTheImageAgain() throws {
        let run = try review(reply: "ok", steps: [.wait("?:help"), .wait("\u{1B}_Ga=T"), .settle(600),
                                                  .resize(TerminalSize(columns: 100, rows: 30)), .wait("\u{1B}_Ga=T"), .settle(600), .send("q")])
        XCTAssertEqual(run.status, 0)
        let after = Self.commands(run.segment(1))
        let delete = after.firstIndex { $0.keys["a"] == "d" && $0.keys["d"] == "i" && $0.keys["i"] == "4171" }
        let send = after.firstIndex { $0.keys["a"] == "T" }
        XCTAssertNotNil(delete, "the old image deleted")
        XCTAssertNotNil(send, "sent again")
        if let delete, let send { XCTAssertLessThan(delete, send) }
        let rect = ReviewLayout(size: TerminalSize(columns: 100, rows: 30), imageWidth: 32, imageHeight: 32).panels[0].rect
        let image = try XCTUnwrap(Self.images(run.segment(1)).last)
        XCTAssertEqual([image.keys["c"], image.keys["r"], image.keys["s"], image.keys["v"]], ["\(rect.columns)", "\(rect.rows)", "32", "32"])
        XCTAssertEqual(rect.columns, 32)
    }

    /// A terminal that answers only the device-attributes query: half blocks, no image command, and
    /// its reply does not reach the keys (its `?` would open the help).
    func testDeviceAttributesOnlyMeansHalfBlocks() throws {
        let run = try review(reply: "da", steps: [.wait("?:help"), .settle(600), .send("q")])
        XCTAssertEqual(run.status, 0)
        XCTAssertEqual(count("a=q", in: run.output), 1, "asked")
        XCTAssertEqual(Self.commands(run.output).filter { $0.keys["a"] != "q" }.count, 0, "no image commands")
        XCTAssertGreaterThan(count("▀", in: run.segment(0)), 32 * 16, "the panel in half blocks")
        XCTAssertEqual(count("Keys 1/", in: run.output), 0, "the reply's ? did not open the help")
    }

    /// A terminal that answers nothing: after the short wait, half blocks.
    func testSilentTerminalMeansHalfBlocksAfterTheWait() throws {
        let run = try review(reply: "silent", steps: [.wait("?:help"), .settle(600), .send("q")])
        XCTAssertEqual(run.status, 0)
        XCTAssertEqual(Self.commands(run.output).filter { $0.keys["a"] != "q" }.count, 0)
        XCTAssertGreaterThan(count("▀", in: run.segment(0)), 32 * 16)
    }

    /// Under tmux (TMUX set) review asks nothing, even of a terminal that would say OK.
    func testUnderTmuxNothingIsAsked() throws {
        let run = try review(reply: "ok", environment: ["TMUX": "/tmp/tmux-0/default,1,0"], steps: [.wait("?:help"), .settle(600), .send("q")])
        XCTAssertEqual(run.status, 0)
        XCTAssertEqual(count("\u{1B}_G", in: run.output), 0, "no graphics command at all")
        XCTAssertEqual(count("\u{1B}[c", in: run.output), 0, "no device-attributes query")
        XCTAssertGreaterThan(count("▀", in: run.segment(0)), 32 * 16)
    }

    /// `--graphics kitty` sends images without asking (to a terminal that would not answer);
    /// `--graphics none` neither asks nor sends (to one that would say OK).
    func testForcedModes() throws {
        let kitty = try review(reply: "silent", arguments: ["--graphics", "kitty"],
                               steps: [.wait("?:help"), .wait("\u{1B}_Ga=T"), .settle(600), .send("q")])
        XCTAssertEqual(kitty.status, 0)
        XCTAssertEqual(count("a=q", in: kitty.output), 0, "not asked")
        XCTAssertEqual(Self.images(kitty.segment(0)).map { $0.keys["i"] }, ["4171"])
        let none = try review(reply: "ok", arguments: ["--graphics", "none"], steps: [.wait("?:help"), .settle(600), .send("q")])
        XCTAssertEqual(none.status, 0)
        XCTAssertEqual(count("\u{1B}_G", in: none.output), 0)
        XCTAssertGreaterThan(count("▀", in: none.segment(0)), 32 * 16)
    }
}
