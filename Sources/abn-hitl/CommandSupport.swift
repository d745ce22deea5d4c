import ArgumentParser
import Foundation

/// Runs a command body: any error becomes one line on stderr ("abn-hitl: <problem>") and exit 1.
/// ArgumentParser keeps its own exit code for usage errors, which are raised before this runs.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let text = String(describing: error).replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("abn-hitl: \(text)\n".utf8))
        throw ExitCode(1)
    }
}

/// One line on stderr, for progress and warnings (stdout stays clean for --json).
func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Prints one JSON object on stdout with sorted keys.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A file that must exist. Checked first thing in run(): a missing file is a data error (exit 1, one
/// line), not a usage error.
func requireFile(_ path: String, _ what: String) throws {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw CommandError("\(path): \(what) does not exist")
    }
    guard !isDir.boolValue else { throw CommandError("\(path): \(what) is a directory, expected a file") }
}

func requireDirectory(_ path: String, _ what: String) throws {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
        throw CommandError("\(path): \(what) does not exist")
    }
    guard isDir.boolValue else { throw CommandError("\(path): \(what) is not a directory") }
}

/// Right-pads for plain tables.
func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
}

func percent(_ x: Double) -> String { String(format: "%.1f%%", 100 * x) }

/// A runtime or data error raised by the command layer itself.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
