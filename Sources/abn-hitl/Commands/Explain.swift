import ArgumentParser
import ABN
import ABNData
import HITL
import Foundation

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on images: both branches' probabilities and the raw attention map.",
        discussion: """
        Images are converted to the model's channel count, resized (bilinear) to its input size and normalised \
        with its mean and std. --json prints {"results": [{"image", "predicted", "probabilities", \
        "attention_probabilities", "attention_map"}]} with the raw sigmoid map at map resolution, so outputs can \
        be compared with PyTorch's.
        """)

    @Option(name: .long, help: "Model file (safetensors).")
    var model: String

    @Argument(help: "Image files (PNG or JPEG).")
    var images: [String]

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @OptionGroup var compute: ComputeOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
    }

    struct Result: Encodable {
        var image: String
        var predicted: String
        var probabilities: [Float]
        var attention_probabilities: [Float]
        var attention_map: [[Float]]
    }

    struct Output: Encodable { var results: [Result] }

    func run() throws {
        try reportingErrors {
            try requireFile(model, "model")
            for path in images { try requireFile(path, "image") }
            compute.apply()
            let loaded = try ModelFile.load(contentsOf: URL(fileURLWithPath: model))
            let m = loaded.metadata
            var results: [Result] = []
            for path in images {
                let input = try loadInput(URL(fileURLWithPath: path), m.preprocessing)
                let x = Tensor(shape: [1, m.inputChannels, m.inputHeight, m.inputWidth], data: input)
                let out = try loaded.model.forward(x, training: false)
                let probs = softmax(out.perceptionLogits.data)
                let attProbs = softmax(out.attentionLogits.data)
                let h = out.attentionMap.shape[2], w = out.attentionMap.shape[3]
                let rows = (0..<h).map { Array(out.attentionMap.data[($0 * w)..<($0 * w + w)]) }
                let best = argmax(probs)
                results.append(Result(image: path, predicted: m.classes[best], probabilities: probs,
                                      attention_probabilities: attProbs, attention_map: rows))
            }
            if json {
                try printJSON(Output(results: results))
            } else {
                print("\(pad("image", 40)) \(pad("predicted", 14)) \(pad("p", 7)) \(pad("attention branch", 18)) map min/mean/max")
                for r in results {
                    let best = r.probabilities.max() ?? 0
                    let attBest = argmax(r.attention_probabilities)
                    let flat = r.attention_map.flatMap { $0 }
                    let mean = flat.reduce(0, +) / Float(max(flat.count, 1))
                    print("\(pad(r.image, 40)) \(pad(r.predicted, 14)) \(pad(String(format: "%.3f", best), 7)) \(pad(m.classes[attBest], 18)) \(String(format: "%.2f/%.2f/%.2f", flat.min() ?? 0, mean, flat.max() ?? 0))")
                }
            }
        }
    }
}
