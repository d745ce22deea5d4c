import Foundation
import HITL

/// Shows WorkProgress on stderr: one redrawn line on a terminal, a plain line every `plainInterval`
/// seconds otherwise (logs, CI, pipes), and always a final line. The rate is over the last 20 s, so
/// it stays current when speed changes (e.g. after warm-up). One printer per piece of work.
final class ProgressPrinter {
    private let isTerminal: Bool
    private let plainInterval: Double
    private var start: Date?
    private var lastPrint = Date.distantPast
    private var rateWindow: [(time: Date, done: Int)] = []

    init(plainInterval: Double = 10, isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.isTerminal = isTerminal
        self.plainInterval = plainInterval
    }

    /// A handler for a core's `progress:` parameter.
    var handler: ProgressHandler { { [self] in show($0) } }

    func show(_ p: WorkProgress) {
        let now = Date()
        if start == nil { start = now }
        if p.finished {
            let line = "\(p.label) done: \(p.done) \(p.unit) in \(ProgressLine.duration(now.timeIntervalSince(start!)))" + (p.detail.isEmpty ? "" : ", " + p.detail)
            write((isTerminal ? "\r\u{1B}[K" : "") + line + "\n")
            start = nil
            rateWindow = []
            lastPrint = .distantPast
            return
        }
        rateWindow.append((now, p.done))
        while rateWindow.count > 2, now.timeIntervalSince(rateWindow[0].time) > 20 { rateWindow.removeFirst() }
        let elapsed = now.timeIntervalSince(rateWindow[0].time)
        let rate = elapsed > 0 ? Double(p.done - rateWindow[0].done) / elapsed : 0
        guard p.done >= p.total || now.timeIntervalSince(lastPrint) >= (isTerminal ? 0.1 : plainInterval) else { return }
        lastPrint = now
        let line = ProgressLine.render(label: p.label, done: p.done, total: p.total, detail: p.detail, rate: rate,
                                       unit: p.unit, barWidth: isTerminal ? 20 : 0)
        write(isTerminal ? "\r\u{1B}[K" + line : line + "\n")
    }

    private func write(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
