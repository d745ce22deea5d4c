import ArgumentParser
import ABNData
import Foundation

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate the built-in shortcut dataset (shapes over textured noise, with a class-predicting cue in train).",
        discussion: """
        Writes DIR/train and DIR/test in the ImageFolder layout (32×32 RGB PNG), DIR/masks/<split> marking the \
        object and DIR/decoys/<split> marking the cue. In train the cue (--shortcut-kind: a corner colour patch, \
        a background tint or a stamped glyph) predicts the class for most samples; in test it is random, so a \
        model that leans on it does worse on test. The same seed gives byte-identical files.
        """)

    @Option(name: .long, help: "Directory to create the dataset in.")
    var out: String

    @Option(name: .long, help: "Number of training images.")
    var train: Int = 4000

    @Option(name: .long, help: "Number of test images.")
    var test: Int = 1000

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 0

    @Option(name: .long, help: ArgumentHelp("Fraction of train images whose cue names their class (the rest get a random one); 0 gives a shortcut-free control.", valueName: "fraction"))
    var shortcut: Double = ShortcutDataset.trainPatchAgreement

    @Option(name: .long, help: ArgumentHelp("The cue that predicts the class in train.", discussion: ShortcutKind.allCases.map { "\($0.rawValue): \($0.summary)" }.joined(separator: "\n"), valueName: "kind"))
    var shortcutKind: ShortcutKind = .patch

    func validate() throws {
        guard train >= 1, test >= 1 else { throw ValidationError("--train and --test must be at least 1") }
        guard (0...1).contains(shortcut) else { throw ValidationError("--shortcut must be between 0 and 1, got \(shortcut)") }
        guard train <= 1_000_000, test <= 1_000_000 else { throw ValidationError("--train and --test are limited to 1,000,000") }
    }

    func run() throws {
        try reportingErrors {
            let root = URL(fileURLWithPath: out)
            try ShortcutDataset.generate(at: root, train: train, test: test, seed: seed, trainAgreement: shortcut, kind: shortcutKind)
            note("wrote \(train) train and \(test) test images (shortcut kind \(shortcutKind.rawValue)) with masks and decoys to \(root.path)")
        }
    }
}

