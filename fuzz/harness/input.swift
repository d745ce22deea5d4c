// libFuzzer harness: bytes as a terminal sends them to review. The first three bytes choose the
// terminal (xterm-256color, whose mouse reports are SGR, or screen-256color, X10 reports), its size,
// whether the backend's writes fail and whether frames carry the panels as images; the rest (less an X10 mouse report it cuts off) goes through a pipe into a real curses screen with
// review's input modes (CTerminal's decoder), and each event it yields goes through the same path as
// in ReviewApp: Terminal.events → actions(for:in:size:) → ReviewDriver (reduce and effects, against an
// in-memory backend) → render. Any outcome but a crash, a hang or a sanitizer report is fine.
import CTerminal
import Foundation
import HITL

/// Two samples with 8×8 maps over 32×32 images and one with a 2×2 map over a 5×3 image (cells of
/// uneven size); writes succeed or all fail, as the input says; the class map exists.
private final class FuzzBackend: ReviewBackend {
    let classNames = ["a", "b", "c"]
    let samples: [ReviewSample]
    let failWrites: Bool
    var classMapName: String? { "gradcam" }

    init(failWrites: Bool) {
        self.failWrites = failWrites
        samples = [(0, 8), (1, 8), (2, 2)].map { i, side in
            let map = AttentionMap(height: side, width: side, fill: 0.25)
            return ReviewSample(index: i, relativePath: "train/a/\(i).png", label: i % 3, predicted: (i + 1) % 3,
                                attentionPredicted: 0, probabilities: [0.2, 0.5, 0.3], attentionProbabilities: [0.4, 0.3, 0.3],
                                originalMap: map, currentMap: map, edited: false, accepted: false)
        }
    }

    struct Refused: Error {}

    func image(for sampleIndex: Int) throws -> ReviewImage {
        let (w, h) = sampleIndex == 2 ? (5, 3) : (32, 32)
        return ReviewImage(width: w, height: h, rgb: (0..<(w * h * 3)).map { UInt8(truncatingIfNeeded: $0 * 7) })
    }

    func whatIf(sampleIndex: Int, map: AttentionMap) throws -> [Float] {
        let mean = map.values.reduce(0, +) / Float(max(1, map.values.count))
        return [mean, (1 - mean) / 2, (1 - mean) / 2]
    }

    func commitEdit(sampleIndex: Int, map: AttentionMap, whatIf: [Float], source: EditSource) throws {
        if failWrites { throw Refused() }
    }

    func setMark(sampleIndex: Int, change: MarkChange, source: MarkSource) throws { if failWrites { throw Refused() } }

    func classMap(for sampleIndex: Int) throws -> AttentionMap {
        let side = sampleIndex == 2 ? 2 : 8
        return AttentionMap(height: side, width: side, fill: 0.5)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 3 else { return 0 }
    let term = data[0] & 1 == 0 ? "xterm-256color" : "screen-256color"
    let colors: ColorCapability = [.direct, .palette256, .monochrome][Int(data[0] >> 1) % 3]
    let failWrites = data[0] & 0x80 != 0
    // Frames as a kitty-graphics terminal gets them: the panels as images (their pixels composed too).
    let images = data[0] & 0x40 != 0
    // From far too small for the layout to wider than the image at one pixel per cell.
    let screen = TerminalSize(columns: 1 + Int(data[1]) % 220, rows: 1 + Int(data[2]) % 70)

    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { return 0 }
    var input = UnsafeRawBufferPointer(start: data + 3, count: size - 3)
    if term == "screen-256color" { input = UnsafeRawBufferPointer(rebasing: input[..<withoutUnfinishedX10Report(input)]) }
    var written = 0
    while written < input.count {   // inputs are at most -max_len, well under a pipe's capacity
        let n = write(fds[1], input.baseAddress! + written, input.count - written)
        if n <= 0 { break }
        written += n
    }
    // The read end does not block and the write end stays open until the decoder stops, so the end of
    // the input reads as "nothing yet" (EAGAIN). Both alternatives hang inside ncurses rather than in
    // our code: a blocking read waits forever for the rest of a truncated UTF-8 character, and an end
    // of file makes ncurses' X10 mouse decoder retry read() forever for the rest of a truncated
    // ESC [ M sequence (it stops only on -1). A terminal never ends a sequence early; the fuzzer does.
    _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
    defer { close(fds[1]) }
    // The decoder owns the read end from here on, also when it fails to start (it closes it then).
    guard ct_start_decoder(fds[0], term) == 0 else { return 0 }
    defer { ct_stop_decoder() }

    var driver = ReviewDriver(backend: FuzzBackend(failWrites: failWrites), annotator: "fuzz")
    _ = renderFrame(driver.state, size: screen, colors: colors, images: images)
    var event = ct_event()
    // Each read consumes input or reports its end; the bound only guards against a decoder that would not.
    for step in 0..<(4 * size + 16) where !driver.state.quitting {
        guard ct_read(0, &event) == 0 else { break }
        for e in Terminal.events(from: event) {
            for action in actions(for: e, in: driver.state, size: screen) { driver.send(action) }
        }
        // A frame costs more than the rest of an event (milliseconds under the sanitizer): draw every
        // 16th state and the last, where a drawing of every state would leave few inputs per second.
        if step % 16 == 15 { _ = renderFrame(driver.state, size: screen, colors: colors, images: images) }
    }
    _ = renderFrame(driver.state, size: screen, colors: colors, images: images)
    return 0
}

/// How many leading bytes to send so that no X10 mouse report (ESC [ M and three raw bytes) is cut
/// off by the end of the input. ncurses reads a report's three bytes with plain read()s and, when the
/// pipe has no more, decodes whatever its stack buffer held before (valgrind: uninitialised reads in
/// its X10 decoding), so the same input gave a different button and cell from run to run, and a crash
/// it led to could not be replayed from the saved input. A terminal never sends half a report.
private func withoutUnfinishedX10Report(_ bytes: UnsafeRawBufferPointer) -> Int {
    var i = 0
    while i + 2 < bytes.count {
        if bytes[i] == 0x1B, bytes[i + 1] == UInt8(ascii: "["), bytes[i + 2] == UInt8(ascii: "M") {
            // ncurses takes the next three bytes as the report, whatever they are.
            if i + 6 > bytes.count { return i }
            i += 6
        } else {
            i += 1
        }
    }
    return bytes.count
}
