import XCTest
import ABN
import ABNData
@testable import HITL

/// Fine-tuning: L_map's gradient against the loss change it causes, frozen parts bit-identical in
/// the written file, targets, the recorded run, and refusals that write nothing.
final class FinetuneTests: XCTestCase {
    /// A session of `n` samples with the dataset's masks imported as edits.
    func editedSession(_ dir: URL, n: Int = 6) throws -> (LoadedModel, Session) {
        let model = try Fixture.modelFile(in: dir)
        _ = try collect(model: model, dataRoot: Fixture.data, split: "train", session: dir.appendingPathComponent("s"), selection: .all, limit: n)
        let session = try Session.open(dir.appendingPathComponent("s"))
        _ = try importMaps(session: session, masks: Fixture.data.appendingPathComponent("masks/train"), whatIf: WhatIf(model: model, session: session))
        return (model, session)
    }

    func quick(_ branches: TrainableBranches = .attentionAndPerception) -> FinetuneOptions {
        var o = FinetuneOptions()
        o.branches = branches
        o.epochs = 1
        o.batchSize = 4
        o.learningRate = 0.05
        return o
    }

    /// The engine's gradient of L = L_att + L_per + γ·L_map (γ large, so L_map dominates) must predict
    /// the loss change of a small step along it: with plain SGD, θ± = θ ∓ η·g, and
    /// L(θ−) − L(θ+) ≈ −2η‖g‖², where ‖g‖ = ‖θ− − θ‖/η is read off the parameters that moved.
    func testMapLossGradientPredictsTheLossChange() throws {
        let dir = try Fixture.temporaryDirectory()
        let model = try Fixture.modelFile(in: dir).model
        let paths = ["circle/00000.png", "cross/00001.png", "square/00002.png", "triangle/00003.png"]
        let meta = try Fixture.metadata()
        let x = Tensor(shape: [4, 3, 32, 32], data: try paths.flatMap { try loadInput(Fixture.data.appendingPathComponent("train/" + $0), meta.preprocessing) })
        let maps: [Tensor?] = try paths.enumerated().map { i, p in
            i % 2 == 0 ? Tensor(shape: [1, 16, 16], data: try Fixture.blockMeanMask(Fixture.data.appendingPathComponent("masks/train/" + p))) : nil
        }
        let targets = MapTargets(maps: maps, gamma: 10)
        let labels = [0, 1, 2, 3]
        let start = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })
        func loss() throws -> (total: Double, map: Double) {
            // A step with a negligible rate measures L where the parameters are (running statistics move; the
            // training-mode loss does not use them).
            let s = try model.trainStep(input: x, labels: labels, optimizer: SGD(learningRate: 1e-30, momentum: 0, weightDecay: 0),
                                        trainable: .attentionAndPerception, mapTargets: targets)
            return (Double(s.attentionLoss) + Double(s.perceptionLoss) + Double(s.mapLoss), Double(s.mapLoss))
        }
        func step(_ eta: Float) throws -> [String: [Float]] {
            try model.loadStateDict(start)
            _ = try model.trainStep(input: x, labels: labels, optimizer: SGD(learningRate: eta, momentum: 0, weightDecay: 0),
                                    trainable: .attentionAndPerception, mapTargets: targets)
            var moved: [String: [Float]] = [:]
            for (name, t) in model.stateDict() where !name.contains("running_") && !name.contains("num_batches") {
                if case .float32(let now) = t, case .float32(let was)? = start[name] { moved[name] = zip(now.data, was.data).map { $0 - $1 } }
            }
            return moved
        }
        try model.loadStateDict(start)
        let atStart = try loss()
        XCTAssertGreaterThan(atStart.map, atStart.total / 2, "γ·L_map dominates")
        let eta: Float = 2e-4
        let down = try step(eta)
        let lossDown = try loss()
        _ = try step(-eta)
        let lossUp = try loss()
        let gradientSquared = down.values.flatMap { $0 }.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(eta * eta)
        let predicted = -2 * Double(eta) * gradientSquared
        let actual = lossDown.total - lossUp.total
        print("directional check: actual \(actual) predicted \(predicted) map share \(atStart.map / atStart.total)")
        XCTAssertLessThan(actual, 0)
        XCTAssertEqual(actual / predicted, 1, accuracy: 0.05, "actual \(actual), predicted \(predicted)")
        // Frozen: the feature extractor did not move.
        for (name, d) in down where ["conv1.", "bn1.", "layer1.", "layer2."].contains(where: name.hasPrefix) {
            XCTAssertTrue(d.allSatisfy { $0 == 0 }, name)
        }
        XCTAssertTrue(down["att_conv3.weight"]!.contains { $0 != 0 }, "the map's own convolution moves")
    }

    func testFrozenPartsBitIdenticalInTheWrittenFileAndTheRunIsRecorded() throws {
        for (branches, frozen) in [(TrainableBranches.attentionAndPerception, ["conv1.", "bn1.", "layer1.", "layer2."]),
                                   (.attention, ["conv1.", "bn1.", "layer1.", "layer2.", "layer3.", "fc."]), (.all, [])] {
            let dir = try Fixture.temporaryDirectory()
            let (model, session) = try editedSession(dir)
            let inputURL = model.url
            let out = dir.appendingPathComponent("tuned.safetensors")
            var seen: [FinetuneProgress] = []
            let report = try finetune(session: session, model: model, out: out, options: quick(branches)) { seen.append($0) }
            XCTAssertEqual(report.editedSamples, 6)
            XCTAssertEqual(report.heldOut, 0, "⌊0.1 · 6⌋ = 0")
            XCTAssertEqual(report.steps, 6, "6 targets (none held out), each with 2 counterexamples: 1 per batch of 4 (no replay)")
            XCTAssertEqual(seen.map(\.step), [1, 2, 3, 4, 5, 6])
            XCTAssertEqual(report.outputSHA256, try ModelFile.sha256(of: out))
            let before = try ModelFile.read(contentsOf: inputURL).tensors
            let after = try ModelFile.read(contentsOf: out).tensors
            XCTAssertEqual(Set(before.keys), Set(after.keys))
            var changed: [String] = []
            for (name, tensor) in before.sorted(by: { $0.key < $1.key }) {
                if frozen.contains(where: name.hasPrefix) {
                    XCTAssertEqual(after[name], tensor, "\(name) must be bit-identical with --branches \(branches.rawValue)")
                } else if after[name] != tensor {
                    changed.append(name)
                }
            }
            XCTAssertTrue(changed.contains("att_conv3.weight") && changed.contains("bn_att3.running_mean"), "\(changed)")
            XCTAssertEqual(changed.contains("fc.weight"), branches != .attention)
            // Unfrozen, the extractor's weights and BatchNorm statistics move too.
            XCTAssertEqual(changed.contains("layer1.0.conv1.weight") && changed.contains("bn1.running_mean"), branches == .all, "\(changed)")
            // The run: parameters and before/after metrics on the test split, as JSON.
            let runs = try session.runs()
            XCTAssertEqual(runs.map(\.kind), ["finetune"])
            let parameters = try JSONSerialization.jsonObject(with: Data(runs[0].parameters.utf8)) as! [String: Any]
            XCTAssertEqual(parameters["output_sha256"] as? String, report.outputSHA256)
            XCTAssertEqual(parameters["input_sha256"] as? String, model.sha256)
            XCTAssertEqual((parameters["options"] as? [String: Any])?["branches"] as? String, branches.rawValue)
            let results = try JSONSerialization.jsonObject(with: Data(runs[0].results.utf8)) as! [String: Any]
            XCTAssertEqual((results["before"] as? [String: Any])?["n"] as? Int, 16)
            XCTAssertNotNil((results["after"] as? [String: Any])?["attention"])
        }
    }

    /// The feature cache changes no result: the same session fine-tuned with the extractor frozen and
    /// the cache off, on, and with a budget of 3 samples' g(x) (the rest recomputed every time), writes
    /// the same weights bit for bit, with the same losses and validation accuracy. Two recipes: the paper's (targets
    /// and replayed samples, all cacheable) and counterexamples without augmentation (fresh
    /// counterexamples are never cached, the targets and the validation set are), and the paper's
    /// without replay in batches of 3, whose last batch in each epoch (20 = 6 × 3 + 2) is smaller.
    func testFeatureCacheChangesNoResult() throws {
        let dir = try Fixture.temporaryDirectory()
        let (model, session) = try editedSession(dir, n: 20)
        var paper = quick()
        paper.counterexamples = 0
        paper.epochs = 3
        var counter = quick()
        counter.augment = false
        counter.holdout = 0.2
        counter.epochs = 3
        var partial = paper
        partial.replayRatio = 0
        partial.batchSize = 3
        let oneSample = 4 * model.model.featureShape.reduce(1, *)
        for (name, options) in [("paper", paper), ("counterexamples", counter), ("partial last batch", partial)] {
            var runs: [(budget: Int, report: FinetuneReport, weights: [String: StateTensor])] = []
            for budget in [0, FeatureCache.defaultBudget, 3 * oneSample] {
                let out = dir.appendingPathComponent("\(name)-\(budget).safetensors")
                let report = try finetune(session: session, model: try ModelFile.load(contentsOf: model.url), out: out, options: options,
                                          featureCacheBudget: budget) { _ in }
                runs.append((budget, report, try ModelFile.read(contentsOf: out).tensors))
            }
            XCTAssertEqual(runs[0].report.featuresFromCache + runs[0].report.featuresComputed, 0, "\(name): budget 0 is the uncached path")
            XCTAssertGreaterThan(runs[1].report.featuresFromCache, 0, "\(name): something came from the cache")
            for run in runs[1...] {
                // Bit for bit: a cached g(x) is what the batch would have computed (FeatureCache).
                XCTAssertEqual(run.report.finalMapLoss, runs[0].report.finalMapLoss, "\(name), budget \(run.budget)")
                XCTAssertEqual(run.report.validationAccuracy, runs[0].report.validationAccuracy, "\(name), budget \(run.budget)")
                XCTAssertEqual(run.report.steps, runs[0].report.steps)
                for (key, tensor) in runs[0].weights.sorted(by: { $0.key < $1.key }) {
                    XCTAssertEqual(run.weights[key], tensor, "\(name), budget \(run.budget): \(key)")
                }
            }
            // With room for 3 samples only, most batches went through the extractor every epoch.
            XCTAssertLessThan(runs[2].report.featuresFromCache, runs[1].report.featuresFromCache, name)
            XCTAssertGreaterThan(runs[2].report.featuresComputed, runs[1].report.featuresComputed, name)
            XCTAssertEqual(runs[1].report.featuresFromCache + runs[1].report.featuresComputed,
                           runs[2].report.featuresFromCache + runs[2].report.featuresComputed, "every input counted once")
            XCTAssertEqual(runs[0].report.validationAccuracy.isEmpty, name != "counterexamples")
            if name == "partial last batch" {
                // Each sample's g(x) is extracted once, in the first epoch, and served in the other two,
                // whichever batch (full or the last, smaller one) it falls in then.
                XCTAssertEqual(runs[1].report.featuresComputed, 20, name)
                XCTAssertEqual(runs[1].report.featuresFromCache, 40, name)
            }
        }
    }

    /// ABN_FEATURE_CACHE: MiB, 0 off, unset the default; anything else is refused, not ignored.
    func testFeatureCacheBudgetFromTheEnvironment() throws {
        XCTAssertEqual(try FeatureCache.budget(fromEnvironmentValue: nil), 2 << 30)
        XCTAssertEqual(try FeatureCache.budget(fromEnvironmentValue: "0"), 0)
        XCTAssertEqual(try FeatureCache.budget(fromEnvironmentValue: "512"), 512 * 1024 * 1024)
        for bad in ["", "1.5", "-1", "2G", "lots"] {
            XCTAssertThrowsError(try FeatureCache.budget(fromEnvironmentValue: bad), "'\(bad)'") { error in
                XCTAssertTrue("\(error)".contains("ABN_FEATURE_CACHE"), "\(error)")
            }
        }
    }

    func testRefusalsWriteNothing() throws {
        let dir = try Fixture.temporaryDirectory()
        let (model, session) = try editedSession(dir, n: 2)
        assertOneLineError(try finetune(session: session, model: model, out: model.url, options: quick()) { _ in },
                           mentions: [model.url.path, "would overwrite"])
        let nowhere = dir.appendingPathComponent("no/such/dir/tuned.safetensors")
        XCTAssertThrowsError(try finetune(session: session, model: model, out: nowhere, options: quick()) { _ in }) {
            XCTAssertTrue("\($0)".contains(nowhere.path), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: nowhere.path))
        var bad = quick()
        bad.learningRate = .nan
        assertOneLineError(try finetune(session: session, model: model, out: dir.appendingPathComponent("x.safetensors"), options: bad) { _ in },
                           mentions: ["positive learning rate"])
        // A session with nothing edited or accepted.
        let empty = dir.appendingPathComponent("empty")
        _ = try collect(model: model, dataRoot: Fixture.data, split: "train", session: empty, limit: 1, allowModelChange: true)
        assertOneLineError(try finetune(session: try Session.open(empty), model: model, out: dir.appendingPathComponent("y.safetensors"), options: quick()) { _ in },
                           mentions: [empty.path, "no edited or accepted samples"])
        XCTAssertEqual(try session.runs().count, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("y.safetensors").path))
    }

    /// Excluded samples are left out: 6 imported edits, 2 of them excluded (one after an exclude was
    /// cleared and set again) → 4 targets, 4 steps of 1 target + 2 counterexamples in batches of 4;
    /// the run records excluded_samples 2.
    func testExcludedSamplesAreSkippedAndRecorded() throws {
        let dir = try Fixture.temporaryDirectory()
        let (model, session) = try editedSession(dir)
        let ids = try session.samples().map(\.id)
        try session.setMark(sampleID: ids[1], kind: .exclude, value: true, annotator: "a")
        try session.setMark(sampleID: ids[1], kind: .exclude, value: false, annotator: "a")
        try session.setMark(sampleID: ids[1], kind: .exclude, value: true, annotator: "b")
        try session.setMark(sampleID: ids[4], kind: .exclude, value: true, annotator: "a")
        try session.setMark(sampleID: ids[5], kind: .exclude, value: false, annotator: "a")
        let report = try finetune(session: session, model: model, out: dir.appendingPathComponent("t.safetensors"), options: quick()) { _ in }
        XCTAssertEqual([report.editedSamples, report.excludedSamples, report.steps], [4, 2, 4])
        let parameters = try JSONSerialization.jsonObject(with: Data(try session.runs()[0].parameters.utf8)) as! [String: Any]
        XCTAssertEqual(parameters["excluded_samples"] as? Int, 2)
        XCTAssertEqual(parameters["target_samples"] as? Int, 4)
    }

    /// What trains when --branches is not given: the whole network with counterexamples (the default
    /// recipe), the paper's attention and perception branches with `counterexamples = 0`; an explicit
    /// setting wins either way, and the run records the resolved value.
    func testBranchesFollowTheRecipeUnlessGiven() {
        var o = FinetuneOptions()
        XCTAssertEqual(o.effectiveBranches, .all)
        XCTAssertEqual(o.resolved.branches, .all)
        o.counterexamples = 0
        XCTAssertEqual(o.effectiveBranches, .attentionAndPerception)
        XCTAssertEqual(o.resolved.branches, .attentionAndPerception)
        o.branches = .all
        XCTAssertEqual(o.effectiveBranches, .all)
        o.counterexamples = 2
        o.branches = .attentionAndPerception
        XCTAssertEqual(o.resolved.branches, .attentionAndPerception)
    }

    /// The default length: at least 30 epochs and at least 900 steps (hand-computed).
    func testAutomaticEpochs() {
        XCTAssertEqual(FinetuneOptions.automaticEpochs(batchesPerEpoch: 63), 30)    // 1000 edits, batch 32: 1890 steps
        XCTAssertEqual(FinetuneOptions.automaticEpochs(batchesPerEpoch: 30), 30)    // exactly 900 steps
        XCTAssertEqual(FinetuneOptions.automaticEpochs(batchesPerEpoch: 29), 32)    // 31 would make 899
        XCTAssertEqual(FinetuneOptions.automaticEpochs(batchesPerEpoch: 7), 129)    // 100 edits: 903 steps
        XCTAssertEqual(FinetuneOptions.automaticEpochs(batchesPerEpoch: 1), 900)
    }

    func testTargetsAndBatchPlan() {
        func s(_ id: Int64, edits: Int, accepted: Bool, excluded: Bool = false) -> SessionSample {
            SessionSample(id: id, relativePath: "c/\(id).png", label: 1, probabilities: [0.5, 0.5], attentionProbabilities: [0.5, 0.5],
                          originalMap: [0.25], currentMap: edits > 0 ? [1] : [0.25], editCount: edits,
                          marks: SampleMarks(accepted: accepted, excluded: excluded))
        }
        // 5 (edited) and 6 (accepted) are excluded: no target.
        let targets = fineTuningTargets([s(1, edits: 2, accepted: false), s(2, edits: 0, accepted: true), s(3, edits: 0, accepted: false),
                                         s(4, edits: 1, accepted: true), s(5, edits: 1, accepted: false, excluded: true),
                                         s(6, edits: 0, accepted: true, excluded: true)])
        XCTAssertEqual(targets.map(\.relativePath), ["c/1.png", "c/2.png", "c/4.png"])
        XCTAssertEqual(targets.map(\.map), [[1], [0.25], [1]], "edited: newest edit; accepted as is: the original map")
        XCTAssertEqual(targets.map(\.originalMap), [[0.25], [0.25], [0.25]])
        XCTAssertEqual(BatchPlan(targets: 10, replayPool: 100, batchSize: 32, replayRatio: 1), BatchPlan(targetsPerBatch: 16, replayPerTarget: 1, batchesPerEpoch: 1))
        XCTAssertEqual(BatchPlan(targets: 100, replayPool: 100, batchSize: 32, replayRatio: 3), BatchPlan(targetsPerBatch: 8, replayPerTarget: 3, batchesPerEpoch: 13))
        XCTAssertEqual(BatchPlan(targets: 5, replayPool: 0, batchSize: 4, replayRatio: 1), BatchPlan(targetsPerBatch: 2, replayPerTarget: 0, batchesPerEpoch: 3))
        // With counterexamples each target brings itself, K counterexamples and its replayed samples: 32 / (1 + 2 + 1) = 8.
        XCTAssertEqual(BatchPlan(targets: 450, replayPool: 100, batchSize: 32, replayRatio: 1, counterexamples: 2),
                       BatchPlan(targetsPerBatch: 8, replayPerTarget: 1, batchesPerEpoch: 57))
    }
}
