import Foundation
import ABN

/// A training checkpoint: one safetensors file with the model's state_dict, the optimizer's
/// momentum buffers under `optimizer.`, the model metadata, and the run's options and position
/// under `abn.checkpoint`. Written atomically, so a kill never leaves half a checkpoint.
struct Checkpoint {
    var options: TrainOptions
    var outPath: String
    var metadata: ModelMetadata
    var position: TrainPosition
    var modelState: [(name: String, tensor: StateTensor)]
    var optimizerState: [(name: String, tensor: StateTensor)]

    private struct Record: Codable {
        var options: TrainOptions
        var outPath: String
        var position: TrainPosition
    }

    private static let key = "abn.checkpoint"
    private static let optimizerPrefix = "optimizer."

    func write(to url: URL) throws {
        var meta = metadata.dictionary
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        meta[Checkpoint.key] = String(decoding: try encoder.encode(Record(options: options, outPath: outPath, position: position)), as: UTF8.self)
        let tensors = modelState + optimizerState.map { (name: Checkpoint.optimizerPrefix + $0.name, tensor: $0.tensor) }
        try SafeTensors.write(tensors, metadata: meta, to: url)
    }

    static func read(from url: URL) throws -> Checkpoint {
        let (tensors, meta) = try SafeTensors.read(contentsOf: url)
        guard let json = meta[key], let record = try? JSONDecoder().decode(Record.self, from: Data(json.utf8)) else {
            throw TrainError("\(url.path): not a training checkpoint (no \(key) metadata)")
        }
        let metadata = try ModelMetadata(dictionary: meta, path: url.path)
        var model: [(name: String, tensor: StateTensor)] = []
        var optimizer: [(name: String, tensor: StateTensor)] = []
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            if name.hasPrefix(optimizerPrefix) {
                optimizer.append((String(name.dropFirst(optimizerPrefix.count)), tensor))
            } else {
                model.append((name, tensor))
            }
        }
        return Checkpoint(options: record.options, outPath: record.outPath, metadata: metadata, position: record.position,
                          modelState: model, optimizerState: optimizer)
    }
}
