import Foundation

/// Formats progress of long work (training, collecting, fine-tuning) with rate and ETA.
/// Pure formatting lives in `ProgressLine`; `ProgressReporter` decides where and how often to print:
/// a redrawn bar on a terminal, plain periodic lines otherwise (logs, CI, pipes).
public struct ProgressLine {
    /// "1:02:03" or "4:05" for a duration in seconds.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        let h = s / 3600, m = (s % 3600) / 60, sec = s % 60
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }

    /// A bar of `width` cells, filled in proportion to done/total.
    public static func bar(done: Int, total: Int, width: Int) -> String {
        guard total > 0, width > 0 else { return "" }
        let filled = min(width, max(0, Int((Double(done) / Double(total) * Double(width)).rounded(.down))))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    /// "label [####....] done/total detail 123 img/s ETA 0:42".
    public static func render(label: String, done: Int, total: Int, detail: String, rate: Double, unit: String,
                              barWidth: Int) -> String {
        let remaining = rate > 0 ? Double(max(0, total - done)) / rate : .infinity
        var parts = [label]
        if barWidth > 0 { parts.append(bar(done: done, total: total, width: barWidth)) }
        parts.append("\(done)/\(total)")
        if !detail.isEmpty { parts.append(detail) }
        parts.append(rate > 0 ? String(format: "%.0f %@/s", rate, unit) : "- \(unit)/s")
        parts.append("ETA " + duration(remaining))
        return parts.joined(separator: " ")
    }
}

/// Prints progress to stderr: a single redrawn line on a terminal, a plain line every
/// `plainInterval` seconds otherwise, and always a final line.
public final class ProgressReporter {
    private let label: String
    private let total: Int
    private let unit: String
    private let isTerminal: Bool
    private let plainInterval: Double
    private let start = Date()
    private var lastPrint = Date.distantPast
    private var rateWindow: [(time: Date, done: Int)] = []

    public init(label: String, total: Int, unit: String = "img", plainInterval: Double = 10,
                isTerminal: Bool = isatty(STDERR_FILENO) != 0) {
        self.label = label
        self.total = total
        self.unit = unit
        self.isTerminal = isTerminal
        self.plainInterval = plainInterval
    }

    /// Reports `done` units of `total`; `detail` carries losses, accuracy and the like.
    public func update(done: Int, detail: String = "", force: Bool = false) {
        let now = Date()
        rateWindow.append((now, done))
        // A sliding window keeps the rate current when speed changes (e.g. after warm-up).
        while rateWindow.count > 2, now.timeIntervalSince(rateWindow[0].time) > 20 { rateWindow.removeFirst() }
        let elapsed = now.timeIntervalSince(rateWindow[0].time)
        let rate = elapsed > 0 ? Double(done - rateWindow[0].done) / elapsed : 0
        let interval = isTerminal ? 0.1 : plainInterval
        guard force || done >= total || now.timeIntervalSince(lastPrint) >= interval else { return }
        lastPrint = now
        let line = ProgressLine.render(label: label, done: done, total: total, detail: detail, rate: rate,
                                       unit: unit, barWidth: isTerminal ? 20 : 0)
        if isTerminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// Ends the line on a terminal so the next output starts cleanly.
    public func finish(detail: String = "") {
        let seconds = Date().timeIntervalSince(start)
        let line = "\(label) done: \(total) \(unit) in \(ProgressLine.duration(seconds))" + (detail.isEmpty ? "" : ", " + detail)
        FileHandle.standardError.write(Data(((isTerminal ? "\r\u{1B}[K" : "") + line + "\n").utf8))
    }
}
