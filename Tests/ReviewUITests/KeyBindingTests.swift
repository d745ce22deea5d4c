import Foundation
import XCTest
@testable import ReviewUI

/// The key table (KeyBindings.swift) is the whole of review's keyboard: every key that acts is in it,
/// each of its keys does what it says in its context, the `?` help shows every line of it within an
/// 80×24 terminal, and docs/guide.md lists it.
final class KeyBindingTests: XCTestCase {
    let size = TerminalSize(columns: 80, rows: 24)
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private func state(_ context: KeyContext) -> ReviewState {
        var s = Fixture.state(Fixture.backend())
        switch context {
        case .list: s.focus = .list
        case .canvas: s.focus = .canvas
        case .filter: s.typingFilter = true
        case .note: s.typingNote = true
        case .help: s.showHelp = true
        }
        return s
    }

    /// Every printable and control scalar up to U+24F, the named keys, and every curses key code.
    private var everyKey: [Key] {
        (0..<0x250).compactMap { Unicode.Scalar(UInt32($0)).map(Key.character) }
            + [.character("✓"), .character("é"), .up, .down, .left, .right, .tab, .escape, .enter]
            + (0..<1024).map(Key.other)
    }

    func testEveryKeyThatActsIsInTheTable() {
        for context in KeyContext.allCases {
            let s = state(context)
            let bindings = keyBindings.filter { $0.contexts.contains(context) }
            for key in everyKey where !actions(for: .key(key), in: s, size: size).isEmpty {
                XCTAssertTrue(bindings.contains { $0.actions(for: key) != nil || $0.otherKeys?(key) != nil },
                              "\(key) acts in \(context) but no binding there names it")
            }
        }
    }

    func testEachTableKeyDoesItsActionsAndNoKeyIsBoundTwice() {
        for context in KeyContext.allCases {
            let s = state(context)
            var seen: [Key] = []
            for binding in keyBindings where binding.contexts.contains(context) {
                for entry in binding.keys {
                    XCTAssertFalse(seen.contains(entry.key), "\(entry.key) bound twice in \(context)")
                    seen.append(entry.key)
                    // Help page turns at the first page: back closes (there is none), on goes to page 2.
                    var expected = entry.actions
                    if context == .help, expected == [.turnHelpPage(-1)] { expected = [.toggleHelp] }
                    XCTAssertEqual(actions(for: .key(entry.key), in: s, size: size), expected, "\(entry.key) in \(context)")
                }
            }
        }
        // Keys of one focus only do nothing in the other.
        XCTAssertEqual(actions(for: .key(.character("h")), in: state(.list), size: size), [])
        XCTAssertEqual(actions(for: .key(.right), in: state(.list), size: size), [])
        // While typing a filter, letters and a non-ASCII letter are text; a control key is not.
        XCTAssertEqual(actions(for: .key(.character("a")), in: state(.filter), size: size), [.typeFilter("a")])
        XCTAssertEqual(actions(for: .key(.character("é")), in: state(.filter), size: size), [.typeFilter("é")])
        XCTAssertEqual(actions(for: .key(.character("\u{1}")), in: state(.filter), size: size), [])
        XCTAssertEqual(actions(for: .key(.up), in: state(.filter), size: size), [])
    }

    /// The help at 80×24: 40 lines (5 headings: four groups and Mouse; 9 + 9 + 7 + 7 bindings and
    /// 3 mouse lines) in pages of 20 (22 rows less the frame): Samples (10) and Brush (10) fill the
    /// first, Seeing the map (8), Review (8) and Mouse (4) the second.
    func testHelpPagesFitEightyByTwentyFour() {
        XCTAssertEqual(HelpText.lines.count, 40)
        XCTAssertEqual(HelpText.lines.filter { $0.kind == .heading }.map(\.text),
                       ["Samples and the list", "Brush", "Seeing the map", "Review", "Mouse"])
        let pages = HelpText.pages(rows: 24)
        XCTAssertEqual(pages.map(\.count), [20, 20])
        XCTAssertEqual(pages[1].first?.text, "Seeing the map")
        for line in HelpText.lines { XCTAssertLessThanOrEqual(line.text.unicodeScalars.count + 2, HelpText.maxColumns - 2, line.text) }
        // `review --help` joins the bindings with "; ".
        for binding in keyBindings { XCTAssertFalse(binding.help.contains(";"), binding.help) }
        // The smallest terminal review draws on (48×12): pages of 10, no heading at a page's foot, nothing lost.
        let small = HelpText.pages(rows: 12)
        XCTAssertEqual(Array(small.joined()), HelpText.lines)
        for page in small {
            XCTAssertLessThanOrEqual(page.count, 10)
            XCTAssertNotEqual(page.last?.kind, .heading)
        }
    }

    /// Opening the help, paging with Space, back with PgUp, and Space on the last page closing it,
    /// through the real input mapping, reducer and renderer; every binding's label is on some page.
    func testHelpOverlayPagesThroughEveryBinding() {
        var s = state(.list)
        func press(_ key: Key) { for a in actions(for: .key(key), in: s, size: size) { s = reduce(s, a).0 } }
        func screen() -> [String] { render(s, size: size).lines }
        press(.character("?"))
        let first = screen()
        // The box: 22 rows from row 1 to row 22, at most 76 columns, title and hint in its edges.
        XCTAssertTrue(first[1].contains("┌─ Keys 1/2 ─"), first[1])
        XCTAssertTrue(first[22].contains("└─ more: Space or PgDn · any other key closes ─"), first[22])
        XCTAssertFalse(first[0].contains("┌") || first[23].contains("└"))
        let boxColumns = first[1].unicodeScalars.drop { $0 != "┌" }.prefix { $0 != "┐" }.count + 1
        XCTAssertLessThanOrEqual(boxColumns, 76)
        XCTAssertTrue(first[2].contains(" Samples and the list "), first[2])
        XCTAssertTrue(first[3].contains(" j/k, Up/Down        move in the list (list focus) "), first[3])
        press(.character(" "))
        let second = screen()
        XCTAssertEqual(s.helpPage, 1)
        XCTAssertTrue(second[1].contains("┌─ Keys 2/2 ─") && second[22].contains("└─ PgUp: back · any other key closes ─"))
        XCTAssertTrue(second[2].contains(" Seeing the map "), second[2])
        let text = (first + second).joined(separator: "\n")
        for binding in keyBindings { XCTAssertTrue(text.contains(binding.label + " "), binding.label) }
        for (label, _) in HelpText.mouseAndMarks { XCTAssertTrue(text.contains(label), label) }
        press(.other(339))
        XCTAssertEqual(s.helpPage, 0)
        XCTAssertTrue(s.showHelp)
        press(.other(338))
        XCTAssertEqual(s.helpPage, 1)
        press(.character(" "))
        XCTAssertFalse(s.showHelp, "Space on the last page closes")
        press(.character("?"))
        XCTAssertEqual(s.helpPage, 0, "the help opens at its first page")
        press(.character("x"))
        XCTAssertFalse(s.showHelp)
    }

    /// docs/guide.md has each group's table as the help has it: heading, then one row per binding in order.
    func testGuideListsEveryBinding() throws {
        let guide = try String(contentsOf: Self.repository.appendingPathComponent("docs/guide.md"), encoding: .utf8)
        for group in KeyGroup.allCases {
            let rows = keyBindings.filter { $0.group == group }.map {
                "| `\($0.label)` | \($0.help.replacingOccurrences(of: "|", with: "\\|")) |"
            }
            let block = (["**\(group.rawValue)**", "", "| Keys | What they do |", "|------|--------------|"] + rows)
                .joined(separator: "\n")
            XCTAssertTrue(guide.contains(block), "docs/guide.md should have, as is:\n\(block)")
        }
    }
}
