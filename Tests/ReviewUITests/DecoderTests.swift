import CTerminal
import Foundation
import XCTest

/// CTerminal's decoder screen, which the input fuzz harness drives: it owns the descriptor it is given.
final class DecoderTests: XCTestCase {
    private func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) != -1 }

    /// A start that fails closes the descriptor too, so its caller never closes it a second time (by
    /// then the number may belong to a descriptor someone else opened).
    func testAFailedStartClosesItsDescriptor() throws {
        // The decoder sets the process's locale; the other tests keep theirs.
        let locale = String(cString: setlocale(LC_ALL, nil))
        defer { setlocale(LC_ALL, locale) }

        var running: [Int32] = [0, 0], refused: [Int32] = [0, 0], writeOnly: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&running), 0)
        XCTAssertEqual(pipe(&refused), 0)
        XCTAssertEqual(pipe(&writeOnly), 0)
        defer { close(running[1]); close(refused[1]); close(writeOnly[0]) }

        XCTAssertEqual(ct_start_decoder(running[0], "xterm-256color"), 0)
        // A second decoder while one runs is refused.
        XCTAssertEqual(ct_start_decoder(refused[0], "xterm-256color"), -1)
        XCTAssertFalse(isOpen(refused[0]))
        ct_stop_decoder()
        XCTAssertFalse(isOpen(running[0]))

        // A descriptor the decoder cannot read from (fdopen refuses it).
        XCTAssertEqual(ct_start_decoder(writeOnly[1], "xterm-256color"), -1)
        XCTAssertFalse(isOpen(writeOnly[1]))
    }
}
