import Foundation

/// Model files: safetensors whose tensors carry the official ABN state_dict names and whose
/// `__metadata__` holds `ModelMetadata`. Building a network from a file is in ModelLoading.swift.
public enum ModelFile {
    /// Reads the tensors and validated metadata, without building a network. Keys missing from the
    /// file's metadata are taken from `defaults` where given. If the file has an `fc.weight`, its
    /// rows must match the number of classes.
    public static func read(contentsOf url: URL, defaults: [String: String] = [:]) throws
        -> (metadata: ModelMetadata, tensors: [String: StateTensor]) {
        let (tensors, meta) = try SafeTensors.read(contentsOf: url)
        let metadata = try ModelMetadata(dictionary: meta, path: url.path, defaults: defaults)
        if let fc = tensors["fc.weight"], fc.shape.count == 2, fc.shape[0] != metadata.classes.count {
            throw ABNError.modelFile(path: url.path, problem:
                "metadata 'abn.classes' names \(metadata.classes.count) classes but fc.weight has \(fc.shape[0]) rows")
        }
        return (metadata, tensors)
    }

    /// Writes tensors and metadata atomically. The metadata are validated first, so a file this
    /// writes always reads back.
    public static func write(metadata: ModelMetadata, tensors: [(name: String, tensor: StateTensor)], to url: URL) throws {
        try metadata.validate(path: url.path)
        if let fc = tensors.first(where: { $0.name == "fc.weight" })?.tensor, fc.shape.count == 2, fc.shape[0] != metadata.classes.count {
            throw ABNError.modelFile(path: url.path, problem:
                "cannot write: \(metadata.classes.count) class names for an fc.weight with \(fc.shape[0]) rows")
        }
        try SafeTensors.write(tensors, metadata: metadata.dictionary, to: url)
    }

    /// The lowercase hex SHA-256 of the file's bytes, read in chunks.
    public static func sha256(of url: URL) throws -> String {
        try SHA256.hex(ofFileAt: url)
    }
}
