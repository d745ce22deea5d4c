import Foundation
import XCTest

/// Runs the built `abn-hitl` executable as a user would and captures what it prints.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
}

enum CommandRunner {
    /// The executable sits next to the test bundle in SwiftPM's build directory.
    static var executable: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("abn-hitl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("abn-hitl")
    }

    @discardableResult
    static func run(_ arguments: [String], cwd: URL? = nil, timeout: TimeInterval = 600,
                    environment: [String: String] = [:]) throws -> CommandResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = cwd }
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        // Read both pipes concurrently so a chatty process never blocks on a full pipe.
        var outData = Data(), errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outData = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { errData = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline { process.terminate(); timedOut = true; break }
            usleep(20_000)
        }
        process.waitUntilExit()
        group.wait()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self), timedOut: timedOut)
    }

    /// A step that must succeed: exit 0, or a failure that shows the command and its stderr.
    @discardableResult
    static func succeed(_ arguments: [String], cwd: URL, file: StaticString = #filePath, line: UInt = #line) throws -> CommandResult {
        let r = try run(arguments, cwd: cwd)
        XCTAssertEqual(r.status, 0, "\(arguments.joined(separator: " ")): \(r.stderr)", file: file, line: line)
        return r
    }

    /// Whether /proc/cpuinfo lists avx512_bf16 (read independently of the engine's own check), i.e.
    /// whether `--precision bf16` must work rather than fail.
    static func bf16CPU() -> Bool {
        // DNNL_MAX_CPU_ISA / ONEDNN_MAX_CPU_ISA below AVX512_CORE_BF16 (how an AVX2 machine is emulated,
        // docs/benchmarks.md) takes bfloat16 away from oneDNN, and so from the executable.
        let environment = ProcessInfo.processInfo.environment
        if let isa = (environment["ONEDNN_MAX_CPU_ISA"] ?? environment["DNNL_MAX_CPU_ISA"])?.uppercased(),
           !["AVX512_CORE_BF16", "AVX512_CORE_AMX", "ALL"].contains(isa) {
            return false
        }
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return info.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx512_bf16") }
    }

    static func temporaryDirectory(_ name: String = #function) throws -> URL {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("abn-e2e-\(safe)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Asserts the contract for bad input: exit 1 (or a usage code), one line on stderr naming `mentions`.
func assertCleanFailure(_ r: CommandResult, mentions: String, status: Int32 = 1, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertFalse(r.timedOut, "timed out", file: file, line: line)
    XCTAssertEqual(r.status, status, "exit status; stderr: \(r.stderr)", file: file, line: line)
    let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    XCTAssertGreaterThanOrEqual(lines.count, 1, "expected an error line", file: file, line: line)
    XCTAssertTrue(r.stderr.contains(mentions), "stderr should mention \(mentions): \(r.stderr)", file: file, line: line)
}

/// One query on a session's database through the real sqlite3 shell, as another program would read it.
func sqliteQuery(_ session: URL, _ query: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    let p = Process(), out = Pipe()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
    p.arguments = [session.appendingPathComponent("session.sqlite").path, query]
    p.standardOutput = out
    do { try p.run() } catch { XCTFail("cannot run sqlite3: \(error)", file: file, line: line); return "" }
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0, "sqlite3 could not read \(session.path)", file: file, line: line)
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}
