import XCTest
@testable import ABN

/// The strict JSON reader behind safetensors headers and metadata values.
final class SafeTensorsHeaderJSONTests: XCTestCase {
    func testParsesValuesAndEscapes() throws {
        let v = try HeaderJSON.parse(#" {"a": [1, -0, 2.5e-3, true, false, null], "s": "\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "o": {}} "#)
        XCTAssertEqual(v["a"], .array([.number("1"), .number("-0"), .number("2.5e-3"), .bool(true), .bool(false), .null]))
        XCTAssertEqual(v["s"]?.string, "\"\\/\u{8}\u{c}\n\r\té😀")
        XCTAssertEqual(v["o"], .object([]))
        XCTAssertEqual(v.members?.map(\.key), ["a", "s", "o"])
        XCTAssertEqual(HeaderJSON.number("9223372036854775807").exactInt, Int.max)
        XCTAssertNil(HeaderJSON.number("9223372036854775808").exactInt)
        XCTAssertNil(HeaderJSON.number("2.0").exactInt)
        XCTAssertEqual(HeaderJSON.number("1e-05").double, 1e-5)
    }

    func testRejectsWhatRFC8259Rejects() {
        for bad in ["", "{", "{\"a\"}", "{\"a\":1,}", "[1,]", "01", "1.", ".5", "-", "+1", "1e", "NaN", "Infinity", "'a'",
                    "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u12\"", "tru", "nul", "{\"a\":1 \"b\":2}", "[1 2]", "\"a\" \"b\""] {
            XCTAssertThrowsError(try HeaderJSON.parse(bad), bad)
        }
    }

    /// What we quote, Foundation's parser reads back.
    func testQuotedStringsAreValidJSON() throws {
        for s in ["", "plain", "q\"uote", "back\\slash", "nl\ncr\rtab\t", "ctl\u{1}\u{1f}", "ü 😀 /"] {
            let text = "[" + HeaderJSON.quoted(s) + "]"
            XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String], [s], text)
            XCTAssertEqual(try HeaderJSON.parse(text), .array([.string(s)]))
        }
    }
}
