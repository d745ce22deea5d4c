/// Formats progress of long work (training, collecting, fine-tuning) with rate and ETA: pure, so the
/// command line's printer and the tests share it.
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
        parts.append(self.rate(rate, unit: unit))
        parts.append("ETA " + duration(remaining))
        return parts.joined(separator: " ")
    }

    /// "123 img/s", "2.5 batch/s", or below one a second the time each takes ("3.2 s/batch"): a
    /// ResNet-50 fine-tuning step takes seconds, and "0 batch/s" would read as stalled.
    public static func rate(_ rate: Double, unit: String) -> String {
        guard rate > 0, rate.isFinite else { return "- \(unit)/s" }
        if rate >= 9.95 { return String(format: "%.0f %@/s", rate, unit) }
        if rate >= 0.995 { return String(format: "%.1f %@/s", rate, unit) }
        return String(format: "%.1f s/%@", 1 / rate, unit)
    }
}

/// How far a long piece of work is: what the cores (train, collect, evaluate, finetune) report.
/// They never print; the command line decides how to show it (ProgressPrinter: a redrawn bar on a
/// terminal, periodic plain lines otherwise).
public struct WorkProgress: Sendable, Equatable {
    /// What is being done: "epoch 3/6", "collect train", "eval test", "finetune".
    public var label: String
    public var done: Int
    public var total: Int
    /// What `done` counts: "img", "batch".
    public var unit: String
    /// Losses, accuracy and the like.
    public var detail: String
    /// The last report of this piece of work (its summary in `detail`).
    public var finished: Bool

    public init(label: String, done: Int, total: Int, unit: String = "img", detail: String = "", finished: Bool = false) {
        self.label = label
        self.done = done
        self.total = total
        self.unit = unit
        self.detail = detail
        self.finished = finished
    }
}

public typealias ProgressHandler = (WorkProgress) -> Void
