import Foundation
import HITL
import ReviewUI

// The review UI's terminal test host: TerminalTmuxTests runs this inside tmux as
// `review-ui-test-host LOG`, drives the real ReviewApp (ncurses, keys, mouse, resize) over an
// in-memory backend, and reads every backend write from LOG. Not part of the tool.

/// Three 32×32 samples with 16×16 maps (the CIFAR shapes); every write appends one line to a log
/// file at once, so the test sees exactly what was stored even if the process is killed.
final class LoggingBackend: ReviewBackend {
    let classNames = ["airplane", "cat", "dog"]
    let samples: [ReviewSample]
    private let logPath: String

    init(logPath: String) {
        self.logPath = logPath
        let map = AttentionMap(height: 16, width: 16, fill: 0.25)
        samples = (0..<3).map { i in
            ReviewSample(index: 10 + i, relativePath: "train/cat/\(i).png", label: 1, predicted: 2, attentionPredicted: 2,
                         probabilities: [0.1, 0.3, 0.6], attentionProbabilities: [0.2, 0.2, 0.6], originalMap: map,
                         currentMap: map, edited: false, accepted: false)
        }
    }

    func write(_ line: String) {
        let fd = open(logPath, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { return }
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    func image(for sampleIndex: Int) throws -> ReviewImage {
        var rgb: [UInt8] = []
        for y in 0..<32 { for x in 0..<32 { rgb += [UInt8(x * 8), UInt8(y * 8), 128] } }
        return ReviewImage(width: 32, height: 32, rgb: rgb)
    }

    func whatIf(sampleIndex: Int, map: AttentionMap) throws -> [Float] {
        let mean = map.values.reduce(0, +) / Float(map.values.count)
        return [0.1, mean, 0.9 - mean]
    }

    func commitEdit(sampleIndex: Int, map: AttentionMap, whatIf: [Float], source: EditSource) throws {
        write("commit \(sampleIndex) " + map.values.map { String($0) }.joined(separator: ","))
    }

    /// "accept 10", "flag 10 note text", "exclude cleared 10 (undo)": kind, cleared or not, sample, note, source unless a toggle.
    func setMark(sampleIndex: Int, change: MarkChange, source: MarkSource) throws {
        write("\(change.kind.rawValue)\(change.value ? "" : " cleared") \(sampleIndex)" + (change.note.map { " \($0)" } ?? "")
              + (source == .toggle ? "" : " (\(source.rawValue))"))
    }
}

// `review-ui-test-host LOG [COLOR]`: COLOR is a `review --color` mode (default auto).
let arguments = CommandLine.arguments
guard arguments.count == 2 || arguments.count == 3, let colorMode = ColorMode(rawValue: arguments.count == 3 ? arguments[2] : "auto") else {
    FileHandle.standardError.write(Data("usage: review-ui-test-host LOG [auto|truecolor|256|16|none]\n".utf8))
    exit(2)
}
let backend = LoggingBackend(logPath: arguments[1])
do {
    try ReviewApp.run(backend: backend, annotator: "tmux", colorMode: colorMode, environment: ProcessInfo.processInfo.environment)
    backend.write("exited")
} catch {
    backend.write("error \(error)")
}
