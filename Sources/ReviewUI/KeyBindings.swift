// The one definition of review's keys. InputMapping.swift looks keys up here, the `?` help
// (HelpText.swift) is generated from it, and a test holds docs/guide.md's key tables to it, so a key
// cannot act without being listed, nor be listed without acting.

/// Where a binding acts: the focused pane while browsing, while `/` types a filter or `f` a flag's
/// note, while help is open.
public enum KeyContext: Hashable, Sendable, CaseIterable {
    case list, canvas, filter, note, help

    /// Either focus, no mode: most keys.
    static let browsing: Set<KeyContext> = [.list, .canvas]

    /// The context `state` reads keys in.
    init(_ state: ReviewState) {
        if state.showHelp { self = .help } else if state.typingFilter { self = .filter } else if state.typingNote {
            self = .note
        } else {
            self = state.focus == .canvas ? .canvas : .list
        }
    }
}

/// The help's and the guide's headings, in the order shown.
public enum KeyGroup: String, Sendable, CaseIterable {
    case samples = "Samples and the list"
    case brush = "Brush"
    case view = "Seeing the map"
    case review = "Review"
}

/// One key (or several) that does one action list.
public struct KeyAction: Sendable {
    let key: Key
    let actions: [ReviewAction]
}

/// One line of the help: the keys as shown, what each does, where, and the words for it.
public struct KeyBinding: Sendable {
    /// The keys as the help and the guide show them.
    public let label: String
    public let help: String
    public let group: KeyGroup
    public let contexts: Set<KeyContext>
    let keys: [KeyAction]
    /// For keys no binding of the context names (typing into the filter, closing the help).
    let otherKeys: (@Sendable (Key) -> [ReviewAction]?)?

    init(_ label: String, _ help: String, _ group: KeyGroup, _ contexts: Set<KeyContext>,
         _ keys: [KeyAction], otherKeys: (@Sendable (Key) -> [ReviewAction]?)? = nil) {
        self.label = label
        self.help = help
        self.group = group
        self.contexts = contexts
        self.keys = keys
        self.otherKeys = otherKeys
    }

    /// A binding of either focus while browsing (most keys).
    init(_ label: String, _ help: String, _ group: KeyGroup, _ keys: [KeyAction]) {
        self.init(label, help, group, KeyContext.browsing, keys)
    }

    /// What this binding does for `key`, nil when it does not take the key.
    func actions(for key: Key) -> [ReviewAction]? {
        if let hit = keys.first(where: { $0.key == key }) { return hit.actions }
        return nil
    }
}

private func c(_ s: Unicode.Scalar) -> Key { .character(s) }

/// `keys` all doing `actions`.
private func each(_ keys: [Key], _ actions: [ReviewAction]) -> [KeyAction] {
    keys.map { KeyAction(key: $0, actions: actions) }
}

// curses codes: KEY_SLEFT, KEY_SRIGHT, KEY_SR (shift+up), KEY_SF (shift+down), KEY_BACKSPACE,
// KEY_NPAGE, KEY_PPAGE.
private let shiftLeft = Key.other(393), shiftRight = Key.other(402), shiftUp = Key.other(337), shiftDown = Key.other(336)
private let backspace = Key.other(263), pageDown = Key.other(338), pageUp = Key.other(339)
/// Raw mode delivers Ctrl-C as a key: it quits in every context.
private let ctrlC = c("\u{3}")

/// The two lines of a one-line prompt (`/`'s filter, `f`'s note): while it types, letters are text
/// (a typed "a" does not accept), Enter ends it, Esc cancels, Backspace deletes, Ctrl-C still quits.
private func promptBindings(_ what: String, _ ends: String, _ group: KeyGroup, _ context: KeyContext,
                            end: ReviewAction, cancel: ReviewAction, delete: ReviewAction,
                            type: @escaping @Sendable (Unicode.Scalar) -> ReviewAction) -> [KeyBinding] {
    [KeyBinding("Enter, Esc, Bksp", "\(what): \(ends) / delete", group, [context],
                each([.enter, c("\r"), c("\n")], [end]) + each([.escape, c("\u{1B}")], [cancel])
                + each([c("\u{7F}"), c("\u{8}"), backspace], [delete])),
     KeyBinding("other keys", "\(what): text (Ctrl-C quits)", group, [context], each([ctrlC], [.quit]), otherKeys: { key in
         if case .character(let s) = key, s.value >= 0x20 { return [type(s)] }
         return nil
     })]
}

let keyBindings: [KeyBinding] = [
    KeyBinding("j/k, Up/Down", "move in the list (list focus)", .samples, [.list],
               each([c("j"), .down], [.moveSelection(1)]) + each([c("k"), .up], [.moveSelection(-1)])),
    KeyBinding("n / p", "next / previous sample in the list", .samples,
               each([c("n")], [.nextSample]) + each([c("p")], [.previousSample])),
    KeyBinding("N or .", "next untouched: not edited, no mark", .samples,
               each([c("N"), c(".")], [.nextUntouched])),
    KeyBinding("/", "filter as you type: path, class, cat->dog", .samples, each([c("/")], [.beginFilter])),
] + promptBindings("typing a filter", "keep / clear", .samples, .filter, end: .endFilter, cancel: .clearFilter,
                  delete: .deleteFilterCharacter, type: { .typeFilter($0) }) + [
    KeyBinding("F", "show all/untouched/edited/accepted/flagged/excluded", .samples, each([c("F")], [.cycleQuickFilter])),
    KeyBinding("s", "sort: collect / confidence / class / edited first", .samples, each([c("s")], [.cycleSort])),
    KeyBinding("Tab", "switch focus list <-> canvas", .samples, each([.tab, c("\t")], [.toggleFocus])),

    KeyBinding("hjkl, arrows", "move the brush (canvas focus)", .brush, [.canvas],
               each([c("h"), .left], [.moveCursor(dx: -1, dy: 0)]) + each([c("j"), .down], [.moveCursor(dx: 0, dy: 1)])
               + each([c("k"), .up], [.moveCursor(dx: 0, dy: -1)]) + each([c("l"), .right], [.moveCursor(dx: 1, dy: 0)])),
    KeyBinding("HJKL, Shift+arrows", "move the brush faster", .brush,
               each([c("H"), shiftLeft], [.moveCursorFast(dx: -1, dy: 0)]) + each([c("J"), shiftDown], [.moveCursorFast(dx: 0, dy: 1)])
               + each([c("K"), shiftUp], [.moveCursorFast(dx: 0, dy: -1)]) + each([c("L"), shiftRight], [.moveCursorFast(dx: 1, dy: 0)])),
    KeyBinding("space / d", "one dab / pen down-up (paints while it moves)", .brush,
               each([c(" ")], [.applyBrush]) + each([c("d")], [.togglePen])),
    KeyBinding("b / e", "paint (raise) / erase (lower)", .brush,
               each([c("b")], [.setTool(.paint)]) + each([c("e")], [.setTool(.erase)])),
    KeyBinding("[ / ]", "smaller / larger brush", .brush,
               each([c("[")], [.adjustRadius(-1)]) + each([c("]")], [.adjustRadius(1)])),
    KeyBinding("1-9", "brush strength 1/9 ... 9/9 (full)", .brush,
               (1...9).flatMap { k in each([c(Unicode.Scalar(UInt8(0x30 + k)))], [.setStrength(k)]) }),
    KeyBinding("u, Ctrl-Z", "undo the last stroke or mark", .brush, each([c("u"), c("\u{1A}")], [.undo])),
    KeyBinding("Ctrl-R, Ctrl-Y", "redo", .brush, each([c("\u{12}"), c("\u{19}")], [.redo])),
    KeyBinding("r", "reset to the model's map", .brush, each([c("r")], [.reset])),

    KeyBinding("o", "one view: blend / map / image", .view, each([c("o")], [.cycleView])),
    KeyBinding("v", "side by side: image | map | blend", .view, each([c("v")], [.toggleSideBySide])),
    KeyBinding("- / +, =", "blend opacity down / up", .view,
               each([c("-")], [.adjustOpacity(-10)]) + each([c("+"), c("=")], [.adjustOpacity(10)])),
    KeyBinding("m", "hide / show the map in the blend", .view, each([c("m")], [.toggleMapHidden])),
    KeyBinding("z / Z", "zoom in / out at the brush", .view, each([c("z")], [.zoom(1)]) + each([c("Z")], [.zoom(-1)])),
    KeyBinding("i", "contour of the map at 0.5", .view, each([c("i")], [.toggleContour])),
    KeyBinding("c", "class activation map instead (read-only)", .view, each([c("c")], [.toggleClassMap])),

    KeyBinding("a / x", "accept (then next) / exclude (again: clear)", .review,
               each([c("a")], [.accept]) + each([c("x")], [.toggleExclude])),
    KeyBinding("f", "flag with a note typed below (again: unflag)", .review, each([c("f")], [.toggleFlag])),
] + promptBindings("typing a note", "flag / cancel", .review, .note, end: .endNote, cancel: .cancelNote,
                   delete: .deleteNoteCharacter, type: { .typeNote($0) }) + [
    KeyBinding("? / q, Ctrl-C", "this help / quit (everything is saved)", .review,
               each([c("?")], [.toggleHelp]) + each([c("q"), ctrlC], [.quit])),

    KeyBinding("Space, PgDn / PgUp", "next / previous page of this help", .review, [.help],
               each([c(" "), pageDown], [.turnHelpPage(1)]) + each([pageUp], [.turnHelpPage(-1)])),
    KeyBinding("q, Ctrl-C / other", "quit / close the help", .review, [.help],
               each([c("q"), ctrlC], [.toggleHelp, .quit]), otherKeys: { _ in [.toggleHelp] }),
]

/// What `key` does in `context`: the binding that names it, else one that takes other keys.
func boundActions(_ key: Key, in context: KeyContext) -> [ReviewAction] {
    let bindings = keyBindings.filter { $0.contexts.contains(context) }
    for binding in bindings { if let actions = binding.actions(for: key) { return actions } }
    for binding in bindings { if let actions = binding.otherKeys?(key) { return actions } }
    return []
}

/// Every binding on one line, for `abn-hitl review --help`: "keys: what they do; …" (so no help
/// text has a semicolon of its own).
public var keyBindingsSummary: String {
    keyBindings.map { "\($0.label): \($0.help)" }.joined(separator: "; ")
}
