// Carries out the reducer's effects against the backend and reports the results as actions.
// Synchronous on purpose: a stroke is stored (and its what-if known) before the next key is read.
import HITL

public enum EffectRunner {
    /// Runs one effect; `.quit` needs no backend work and yields no actions.
    public static func run(_ effect: ReviewEffect, backend: ReviewBackend) -> [ReviewAction] {
        switch effect {
        case .loadImage(let index):
            do { return [.imageLoaded(sampleIndex: index, try backend.image(for: index))] }
            catch { return [.imageFailed(sampleIndex: index, message: describe(error))] }
        case .requestWhatIf(let index, let map):
            do { return [.whatIfComputed(sampleIndex: index, map: map, probabilities: try backend.whatIf(sampleIndex: index, map: map))] }
            catch { return [.effectFailed(sampleIndex: index, message: "what-if failed: \(describe(error))")] }
        case .commitEdit(let index, let map, let source):
            var results: [ReviewAction] = []
            // The edit is stored even when the what-if fails: losing the person's work is worse
            // than an edit row without a prediction.
            var probabilities: [Float] = []
            do {
                probabilities = try backend.whatIf(sampleIndex: index, map: map)
                results.append(.whatIfComputed(sampleIndex: index, map: map, probabilities: probabilities))
            } catch {
                results.append(.effectFailed(sampleIndex: index, message: "what-if failed: \(describe(error))"))
            }
            do {
                try backend.commitEdit(sampleIndex: index, map: map, whatIf: probabilities, source: source)
                results.append(.saved(sampleIndex: index, map: map))
            } catch {
                results.append(.saveFailed(sampleIndex: index, message: describe(error)))
            }
            return results
        case .setMark(let index, let change, let source):
            do { try backend.setMark(sampleIndex: index, change: change, source: source); return [.markSaved(sampleIndex: index, change: change)] }
            catch { return [.saveFailed(sampleIndex: index, message: describe(error))] }
        case .requestClassMap(let index):
            do { return [.classMapComputed(sampleIndex: index, map: try backend.classMap(for: index))] }
            catch { return [.effectFailed(sampleIndex: index, message: "class map failed: \(describe(error))")] }
        case .quit:
            return []
        }
    }

    static func describe(_ error: Error) -> String {
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "unknown error"
    }
}

/// A state plus the loop that feeds actions through `reduce` and effects through the backend,
/// until no work is left. Shared by the terminal app and the tests.
public struct ReviewDriver {
    public private(set) var state: ReviewState
    let backend: ReviewBackend

    public init(backend: ReviewBackend, annotator: String, advanceOnAccept: Bool = true) {
        self.backend = backend
        state = ReviewState(classNames: backend.classNames, samples: backend.samples, annotator: annotator,
                            classMapName: backend.classMapName, advanceOnAccept: advanceOnAccept)
        run(initialEffects(state))
    }

    /// Applies `action` and everything it causes.
    public mutating func send(_ action: ReviewAction) {
        var queue = [action]
        var notice: String?
        while !queue.isEmpty {
            let next = queue.removeFirst()
            var (s, effects) = reduce(state, next)
            // Before writing to a sample, ask whether someone else has since: their work becomes the
            // base and the action runs again on it (a stroke lands on their map instead of replacing it).
            if let index = effects.lazy.compactMap(\.writtenSample).first,
               let change = try? backend.latestActivity(sampleIndex: index) {
                state = reduce(state, .changedElsewhere(sampleIndex: index, change)).0
                notice = state.message
                (s, effects) = reduce(state, next)
            }
            state = s
            for e in effects { queue += EffectRunner.run(e, backend: backend) }
        }
        // The results that follow replace the status message; who changed the sample must stay
        // readable (unless a save failed: that matters more).
        if let notice, state.lastSaveError == nil { state.message = notice }
    }

    private mutating func run(_ effects: [ReviewEffect]) {
        for e in effects { for a in EffectRunner.run(e, backend: backend) { send(a) } }
    }
}

extension ReviewEffect {
    /// The sample an effect writes to (an edit or a mark), nil for the others.
    var writtenSample: Int? {
        switch self {
        case .commitEdit(let index, _, _), .setMark(let index, _, _): return index
        default: return nil
        }
    }
}
