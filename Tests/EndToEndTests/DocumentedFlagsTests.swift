import Foundation
import XCTest

/// Every flag the README and docs/ show exists: a flag written after a command (`abn-hitl finetune
/// --counterexamples 0`, or a code span that starts with the command's name) is in that command's
/// `--help`; a flag on its own (`--skip-bad`) is in some command's. Code of other tools (`swift build
/// --show-bin-path`, `python tools/…`) is left out.
final class DocumentedFlagsTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func testEveryDocumentedFlagExists() throws {
        let commands = try subcommands()
        XCTAssertGreaterThanOrEqual(commands.count, 10, "abn-hitl --help lists its commands")
        var flagsOf: [String: Set<String>] = [:]
        for command in commands {
            let help = try CommandRunner.run([command, "--help"])
            XCTAssertEqual(help.status, 0, "\(command) --help")
            flagsOf[command] = Self.flags(in: help.stdout).union(["--help"])
        }
        let anyCommand = flagsOf.values.reduce(into: Set<String>()) { $0.formUnion($1) }

        var checked = 0
        for file in try documentationFiles() {
            let text = try String(contentsOf: file, encoding: .utf8)
            let snippets = Self.codeSnippets(in: text).flatMap { line, code in Self.commandsIn(code).map { (line, $0) } }
            for (line, snippet) in snippets {
                var words = snippet.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)[...]
                if words.first == "abn-hitl" || words.first?.hasSuffix("/abn-hitl") == true { words = words.dropFirst() }
                guard let first = words.first else { continue }
                // After a command, its own flags; a bare flag, any command's; other tools' code, none.
                let isCommand = flagsOf[first] != nil
                guard isCommand || first.hasPrefix("--") else { continue }
                let allowed = flagsOf[first] ?? anyCommand
                let arguments = isCommand ? words.dropFirst() : words
                for flag in Self.flags(in: arguments.joined(separator: " ")) {
                    let message = isCommand ? "\(first) has no \(flag)" : "no command has \(flag)"
                    XCTAssertTrue(allowed.contains(flag), "\(file.lastPathComponent):\(line): `\(snippet)`: \(message)")
                    checked += 1
                }
            }
        }
        // The README and the guide alone show dozens; far fewer means the scan stopped seeing them.
        XCTAssertGreaterThan(checked, 60, "documented flags checked")
    }

    /// The scan itself, on a hand-made page: what it attributes to which command.
    func testSnippetsAreFoundInSpansAndFencedBlocks() {
        let page = """
        Run `abn-hitl eval --model m --json` or `finetune --counterexamples 0`; `--skip-bad` skips.
        ```
        abn-hitl train --data d   # comment --not-a-flag-of-train
        swift build --show-bin-path
        ```
        """
        let snippets = Self.codeSnippets(in: page).map(\.1)
        XCTAssertEqual(snippets, ["abn-hitl eval --model m --json", "finetune --counterexamples 0", "--skip-bad",
                                  "abn-hitl train --data d", "swift build --show-bin-path"])
        XCTAssertEqual(Self.commandsIn("abn-hitl train --out m && abn-hitl eval --model m | tail"),
                       ["abn-hitl train --out m", "abn-hitl eval --model m", "tail"])
        XCTAssertEqual(Self.flags(in: "[--split test] [--json] x--y --a-b2"), ["--split", "--json", "--a-b2"])
    }

    // MARK: - Scanning

    /// Long options as `--help` and the docs write them.
    static func flags(in text: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: #"(?<![A-Za-z0-9_-])--[a-z][a-z0-9-]*"#)
        let ns = text as NSString
        return Set(regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range) })
    }

    /// The commands of a shell snippet: `a && b`, `a; b` and `a | b` are two.
    static func commandsIn(_ snippet: String) -> [String] {
        snippet.replacingOccurrences(of: "&&", with: ";").replacingOccurrences(of: "|", with: ";")
            .components(separatedBy: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Inline code spans and the lines of fenced blocks (a `#` comment cut off), with their line numbers.
    static func codeSnippets(in text: String) -> [(Int, String)] {
        var result: [(Int, String)] = []
        var fenced = false
        for (index, line) in text.components(separatedBy: "\n").enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") { fenced.toggle(); continue }
            if fenced {
                let code = trimmed.components(separatedBy: " #").first!.trimmingCharacters(in: .whitespaces)
                if !code.isEmpty { result.append((index + 1, code)) }
                continue
            }
            let parts = line.components(separatedBy: "`")
            for i in stride(from: 1, to: parts.count - 1, by: 2) where !parts[i].isEmpty {
                result.append((index + 1, parts[i].trimmingCharacters(in: .whitespaces)))
            }
        }
        return result
    }

    func subcommands() throws -> [String] {
        let help = try CommandRunner.run(["--help"])
        guard let section = help.stdout.components(separatedBy: "SUBCOMMANDS:").last else { return [] }
        return section.components(separatedBy: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = words.first, name.allSatisfy({ $0.isLowercase || $0 == "-" }) else { return nil }
            return String(name)
        }
    }

    func documentationFiles() throws -> [URL] {
        let docs = Self.repository.appendingPathComponent("docs")
        let pages = try FileManager.default.contentsOfDirectory(at: docs, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" }
        return [Self.repository.appendingPathComponent("README.md")] + pages.sorted { $0.path < $1.path }
    }
}
