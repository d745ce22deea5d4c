// Which samples the list shows and in what order: a pure function of the filter text, the quick
// filter and the sort order. The view is a list of positions into `samples`, so `selected`, the
// histories and every per-position table keep meaning the same sample whatever is shown.
import HITL

/// The `F` key's cycle: everything, then only one review status.
public enum QuickFilter: String, Sendable, CaseIterable {
    case all, untouched, edited, accepted, flagged, excluded
    var next: QuickFilter { Self.allCases[(Self.allCases.firstIndex(of: self)! + 1) % Self.allCases.count] }
}

/// The `s` key's cycle. Ties keep collect order, so every order is deterministic.
public enum SortOrder: String, Sendable, CaseIterable {
    /// As `collect` stored them (the session's order).
    case collect
    /// Most confident prediction first.
    case confidence
    /// By the label's class name, then the prediction's.
    case `class`
    /// Edited samples first, then the unedited ones.
    case edited
    var next: SortOrder { Self.allCases[(Self.allCases.firstIndex(of: self)! + 1) % Self.allCases.count] }
}

/// How many samples are edited, accepted, flagged, excluded, and none of these (a sample can be
/// several at once).
public struct ReviewProgress: Equatable, Sendable {
    public var edited = 0, accepted = 0, flagged = 0, excluded = 0, untouched = 0, total = 0
}

extension ReviewState {
    /// The list's edited mark: the current map differs from the model's.
    func isEdited(_ p: Int) -> Bool { histories[p].isEdited }
    /// Not edited, accepted, flagged or excluded: not looked at yet.
    func isUntouched(_ p: Int) -> Bool { !isEdited(p) && marks(p).isEmpty }

    /// Positions into `samples` the list shows, in display order.
    public var visiblePositions: [Int] {
        let query = Self.normalizedQuery(filterText)
        let kept = samples.indices.filter { p in
            switch quickFilter {
            case .all: break
            case .untouched: guard isUntouched(p) else { return false }
            case .edited: guard isEdited(p) else { return false }
            case .accepted: guard marks(p).accepted else { return false }
            case .flagged: guard marks(p).flagged else { return false }
            case .excluded: guard marks(p).excluded else { return false }
            }
            return query.isEmpty || searchText(p).contains(query)
        }
        return sorted(kept)
    }

    /// `positions` in the sort order.
    func sorted(_ kept: [Int]) -> [Int] {
        switch sortOrder {
        case .collect: return kept
        case .confidence:
            let c = kept.map { (p: $0, c: confidence($0)) }
            return c.sorted { $0.c > $1.c || ($0.c == $1.c && $0.p < $1.p) }.map(\.p)
        case .class:
            let key = { (p: Int) in (self.className(self.samples[p].label), self.className(self.samples[p].predicted)) }
            return kept.sorted { key($0) < key($1) || (key($0) == key($1) && $0 < $1) }
        case .edited:
            return kept.filter(isEdited) + kept.filter { !isEdited($0) }
        }
    }

    public var progress: ReviewProgress {
        var r = ReviewProgress(total: samples.count)
        for p in samples.indices {
            if isEdited(p) { r.edited += 1 }
            if marks(p).accepted { r.accepted += 1 }
            if marks(p).flagged { r.flagged += 1 }
            if marks(p).excluded { r.excluded += 1 }
            if isUntouched(p) { r.untouched += 1 }
        }
        return r
    }

    /// Where the review opens: the first untouched sample in collect order, else the first.
    var firstUntouched: Int { samples.indices.first(where: isUntouched) ?? 0 }

    /// Lower-cased, with "->" read as "→" (which a keyboard rarely has).
    static func normalizedQuery(_ text: String) -> String {
        text.lowercased().replacingOccurrences(of: "->", with: "→")
    }

    /// What the filter text is matched against: path, label, prediction and "label→prediction".
    func searchText(_ p: Int) -> String {
        let s = samples[p]
        let label = className(s.label), predicted = className(s.predicted)
        return "\(s.relativePath)\n\(label)→\(predicted)".lowercased()
    }

    /// The perception branch's probability for its own prediction (-1 when unknown, sorts last).
    func confidence(_ p: Int) -> Float {
        let s = samples[p]
        guard s.probabilities.indices.contains(s.predicted), s.probabilities[s.predicted].isFinite else { return -1 }
        return s.probabilities[s.predicted]
    }

    /// The selection's place in the view, nil when the selected sample is filtered out.
    func viewIndex(in view: [Int]) -> Int? { view.firstIndex(of: selected) }

    /// The list's first header row: what is shown. " Samples 2/3" unfiltered; with a filter or a sort,
    /// " 2/42 of 500 · untouched · /cat · by confidence" (position in the view, view size, all).
    func listTitle(_ view: [Int]) -> String {
        let at = viewIndex(in: view).map { "\($0 + 1)" } ?? "-"
        var parts: [String] = []
        if quickFilter != .all { parts.append(quickFilter.rawValue) }
        if !filterText.isEmpty || typingFilter { parts.append("/" + filterText + (typingFilter ? "_" : "")) }
        if sortOrder != .collect { parts.append("by \(sortOrder.rawValue)") }
        guard !parts.isEmpty else { return " Samples \(samples.isEmpty ? "0" : at)/\(samples.count)" }
        return " \(view.isEmpty ? "0" : at)/\(view.count) of \(samples.count) · " + parts.joined(separator: " · ")
    }

    /// The second header row: progress over all samples, " 12*  30✓  2!  1x  455 untouched of 500"
    /// (the list's marks; flagged and excluded only when there are some), parts dropped from the end
    /// rather than cut when `width` is short.
    func progressLine(width: Int) -> String {
        let r = progress
        var line = ""
        let parts = [" \(r.edited)*", "  \(r.accepted)✓"] + (r.flagged > 0 ? ["  \(r.flagged)!"] : [])
            + (r.excluded > 0 ? ["  \(r.excluded)x"] : []) + ["  \(r.untouched) untouched", " of \(r.total)"]
        for part in parts {
            guard line.unicodeScalars.count + part.unicodeScalars.count <= width else { break }
            line += part
        }
        return line
    }
}
