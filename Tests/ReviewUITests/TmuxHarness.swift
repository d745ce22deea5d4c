import Foundation

/// Drives a program inside a detached tmux session on a private server (its own -L socket, no
/// config file), so tests can type keys, send raw mouse escape sequences, and read the screen.
final class TmuxHarness {
    struct Failure: Error, CustomStringConvertible { let description: String }

    let socket: String
    let target = "review"
    private let tmux: String
    private var closed = false

    /// The tmux executable on PATH, or nil (tests skip without it).
    static func locateTmux() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/tmux"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Starts `command` in a `columns × rows` pane with `environment` added to a clean UTF-8 one.
    /// The pane stays after the program exits, so its exit status and final screen can be read.
    init(command: [String], columns: Int, rows: Int, environment: [String: String] = [:]) throws {
        guard let tmux = TmuxHarness.locateTmux() else { throw Failure(description: "tmux not found") }
        self.tmux = tmux
        socket = "abn-hitl-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var env = ["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"]
        env.merge(environment) { $1 }
        let assignments = env.keys.sorted().map { "\($0)=\(TmuxHarness.quote(env[$0]!))" }
        // `exec env …` keeps the program itself as the pane's process, so pane_pid is its pid.
        let shellCommand = "exec env " + (assignments + command.map(TmuxHarness.quote)).joined(separator: " ")
        try run(["-f", "/dev/null", "new-session", "-d", "-s", target, "-x", String(columns), "-y", String(rows), shellCommand])
        try run(["set-option", "-t", target, "remain-on-exit", "on"])
    }

    deinit { close() }

    /// Ends the private tmux server (and the program, if still running).
    func close() {
        guard !closed else { return }
        closed = true
        _ = try? run(["kill-server"])
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let result = try Spawn.run(tmux, ["-u", "-L", socket] + arguments)
        guard result.status == 0 else {
            throw Failure(description: "tmux \(arguments.joined(separator: " ")): \(result.error)")
        }
        return result.output
    }

    /// Types `text` exactly as given (escape sequences included): what a terminal would send.
    func sendLiteral(_ text: String) throws { try run(["send-keys", "-t", target, "-l", text]) }

    /// Sends tmux key names (e.g. "Tab", "C-z", "Left").
    func sendKeys(_ keys: String...) throws { try run(["send-keys", "-t", target] + keys) }

    /// An SGR (mode 1006) mouse report; column and row are 0-based cells, as curses reports them.
    static func sgrMouse(button: Int, column: Int, row: Int, release: Bool = false) -> String {
        "\u{1B}[<\(button);\(column + 1);\(row + 1)\(release ? "m" : "M")"
    }

    /// The visible screen as text, one line per row.
    func capture() throws -> String { try run(["capture-pane", "-p", "-t", target]) }

    /// A tmux format value for the pane, e.g. "#{pane_dead}" or "#{mouse_sgr_flag}".
    func format(_ f: String) throws -> String {
        try run(["display-message", "-p", "-t", target, f]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls until `predicate(screen)` holds; throws with the last screen after `timeout` seconds.
    @discardableResult
    func waitFor(timeout: TimeInterval = 10, _ what: String, _ predicate: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var screen = ""
        repeat {
            screen = (try? capture()) ?? ""
            if predicate(screen) { return screen }
            usleep(50_000)
        } while Date() < deadline
        throw Failure(description: "timed out waiting for \(what); screen:\n\(screen)")
    }

    /// Waits until the screen shows `text`.
    @discardableResult
    func waitFor(_ text: String, timeout: TimeInterval = 10) throws -> String {
        try waitFor(timeout: timeout, "\"\(text)\"") { $0.contains(text) }
    }

    /// Waits for the program to exit; returns its exit status.
    func waitForExit(timeout: TimeInterval = 10) throws -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        repeat {
            if (try? format("#{pane_dead}")) == "1" { return try deadPaneStatus() }
            usleep(50_000)
        } while Date() < deadline
        throw Failure(description: "program did not exit; screen:\n\((try? capture()) ?? "")")
    }

    /// A dead pane's exit status (128 + n for signal n). tmux marks the pane dead when its terminal
    /// closes and shows no status until it has reaped the process (none at all for status 0), and the
    /// server these tests start can leave its child a zombie for seconds. So the status is read from
    /// tmux when it has one, else from the zombie itself (/proc/PID/stat's last field, exit_code).
    private func deadPaneStatus(timeout: TimeInterval = 10) throws -> Int {
        let process = try pid()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = Int(try format("#{pane_dead_status}")) { return status }
            if let signal = Int(try format("#{pane_dead_signal}")) { return 128 + signal }
            if process > 0, kill(process, 0) != 0 { return 0 }   // reaped, and tmux shows no status: 0
            if let code = TmuxHarness.zombieExitCode(process) {
                return code & 0x7f == 0 ? (code >> 8) & 0xff : 128 + code & 0x7f
            }
            usleep(20_000)
        }
        throw Failure(description: "the pane closed but its process \(process) has not exited after \(Int(timeout)) s")
    }

    /// A zombie's wait status, from /proc/PID/stat (state Z; exit_code is the last field); nil for
    /// a live process.
    static func zombieExitCode(_ process: Int32) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(process)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return nil }
        // After "pid (comm)", which may itself hold spaces: state, ppid, …, exit_code.
        let fields = stat[stat.index(after: end)...].split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard fields.first == "Z", let code = fields.last.flatMap({ Int($0) }) else { return nil }
        return code
    }

    /// The program's process id.
    func pid() throws -> Int32 { Int32(try format("#{pane_pid}")) ?? -1 }
}

/// Paths of built products next to the running test bundle.
enum BuiltProducts {
    /// The build directory holding this test bundle (…/.build/release or …/.build/debug).
    static var directory: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = bundle.deletingLastPathComponent()
        // On macOS the runner is inside the .xctest bundle; on Linux the bundle is the executable.
        while dir.path.contains(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir
    }

    /// Hosts the review UI over an in-memory backend that logs every write (Sources/review-ui-test-host).
    static var reviewHost: String { directory.appendingPathComponent("review-ui-test-host").path }

    static var abnHitl: String { directory.appendingPathComponent("abn-hitl").path }
}

/// A prerequisite of an end-to-end test that tools/test.sh provides; thrown, it fails the test.
struct MissingPrerequisite: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
