import Dispatch
import Foundation

/// One image of a split: its path relative to the split folder ("<class>/<name>.png"), its class
/// index, and where its mask and decoy mask are, if it has them.
public struct Sample: Sendable, Equatable {
    public let relativePath: String
    public let label: Int
    public let imageURL: URL
    public let maskURL: URL?
    public let decoyURL: URL?

    public init(relativePath: String, label: Int, imageURL: URL, maskURL: URL? = nil, decoyURL: URL? = nil) {
        self.relativePath = relativePath
        self.label = label
        self.imageURL = imageURL
        self.maskURL = maskURL
        self.decoyURL = decoyURL
    }
}

/// Width, height and channel count (1 gray or 3 colour; alpha not counted).
public struct ImageShape: Sendable, Equatable, CustomStringConvertible {
    public var channels: Int
    public var height: Int
    public var width: Int
    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }
    public var description: String { "\(channels)x\(height)x\(width)" }
}

/// A split of a dataset in the torchvision ImageFolder layout:
///
///     ROOT/<split>/<class>/<name>.png|.jpg|.jpeg        (classes = sorted folder names)
///     ROOT/masks/<split>/<class>/<name>.png             (optional, white = evidence)
///     ROOT/decoys/<split>/<class>/<name>.png            (optional, white = spurious cue)
///
/// A mask belongs to the image with the same relative path minus extension, so "cat/1.jpg" has
/// the mask "masks/train/cat/1.png". Files are recognised by content: a ".png" holding JPEG
/// bytes is decoded as JPEG (and listed in `notes`). Other extensions and hidden files are ignored;
/// nested folders inside a class folder are searched too, as torchvision does.
///
/// Scanning decodes every image and mask once, so a truncated or corrupt file is reported here,
/// before training starts. Each problem is a `DataError` naming the file; with `skipBad` the file
/// is left out instead and the problem goes to `warnings` (`skippedCount` counts them).
public struct ImageFolder: Sendable {
    public let root: URL
    public let split: String
    public let classes: [String]
    public let samples: [Sample]
    /// One line per skipped file or folder (only with skipBad).
    public let warnings: [String]
    /// Files and folders left out because they were bad (only with skipBad).
    public let skippedCount: Int
    /// Things worth knowing that are not errors, e.g. a ".png" whose content is JPEG.
    public let notes: [String]
    /// The shape shared by all images (channels: 3 if any image has colour, else 1), or nil when
    /// the images differ in size.
    public let commonShape: ImageShape?

    public var hasMasks: Bool { samples.contains { $0.maskURL != nil } }
    public var hasDecoys: Bool { samples.contains { $0.decoyURL != nil } }
    public var splitURL: URL { root.appendingPathComponent(split) }

    public static let imageExtensions: Set<String> = ["png", "jpg", "jpeg"]

    public init(root: URL, split: String, skipBad: Bool = false) throws {
        try self.init(root: root, split: split, classes: nil, skipBad: skipBad)
    }

    /// - Parameters:
    ///   - classes: the class list to label with (e.g. a trained model's); nil takes the sorted
    ///     folder names. With a list, every class folder must be in it; a class may lack a folder.
    ///   - decodeAll: decode every file while scanning (catches truncated files up front);
    ///     false reads headers only.
    public init(root: URL, split: String, classes: [String]?, skipBad: Bool = false,
                decodeAll: Bool = true, maxPixels: Int = 50_000_000) throws {
        var scan = Scan(skipBad: skipBad)
        let root = root.standardizedFileURL
        self.root = root
        self.split = split

        guard let rootKind = kindOfItem(root.path) else {
            throw DataError(path: root.path, problem: "dataset folder does not exist")
        }
        guard rootKind == .directory else {
            throw DataError(path: root.path, problem: "dataset root is a file, not a folder")
        }
        let splitURL = root.appendingPathComponent(split)
        guard kindOfItem(splitURL.path) == .directory else {
            let present = (try? listFolder(root))?.filter { kindOfItem(root.appendingPathComponent($0).path) == .directory } ?? []
            let hint = present.isEmpty ? "the dataset folder is empty" : "found folders: \(present.joined(separator: ", "))"
            throw DataError(path: splitURL.path,
                            problem: "split folder '\(split)' is missing (expected \(split)/<class>/<image>.png; \(hint))")
        }

        // Classes: the sorted folder names, or the given list.
        let folders = try listFolder(splitURL).filter { kindOfItem(splitURL.appendingPathComponent($0).path) == .directory }
        if folders.isEmpty {
            throw DataError(path: splitURL.path, problem: "split folder has no class folders (expected \(split)/<class>/<image>.png)")
        }
        let classList: [String]
        if let given = classes {
            for name in folders where !given.contains(name) {
                throw DataError(path: splitURL.appendingPathComponent(name).path,
                                problem: "class folder '\(name)' is not one of the \(given.count) classes [\(given.joined(separator: ", "))]")
            }
            classList = given
        } else {
            classList = folders
        }
        self.classes = classList

        // Candidate image files per class, in sorted order.
        var candidates: [(relative: String, label: Int, url: URL)] = []
        for name in folders {
            let label = classList.firstIndex(of: name)!
            let classURL = splitURL.appendingPathComponent(name)
            let files = try listImages(classURL, prefix: name)
            if files.isEmpty {
                try scan.problem(DataError(path: classURL.path, problem: "class folder has no images (.png, .jpg, .jpeg)"))
            }
            for relative in files {
                candidates.append((relative, label, splitURL.appendingPathComponent(relative)))
            }
        }

        // Decode (or read the header of) every image, in parallel; report in sorted order.
        let checked = checkFiles(candidates.map { $0.url }, decodeAll: decodeAll, maxPixels: maxPixels)
        var kept: [(relative: String, label: Int, url: URL, info: ImageInfo)] = []
        for (candidate, result) in zip(candidates, checked) {
            switch result {
            case .success(let info):
                kept.append((candidate.relative, candidate.label, candidate.url, info))
                if info.format != format(forExtension: candidate.url.pathExtension) {
                    scan.notes.append("\(candidate.url.path): content is \(info.format == .png ? "PNG" : "JPEG"), decoded as such despite the .\(candidate.url.pathExtension) extension")
                }
            case .failure(let error):
                try scan.problem(error)
            }
        }
        if kept.isEmpty {
            throw DataError(path: splitURL.path, problem: "split has no usable images")
        }

        // Masks and decoys: matched by relative path without extension; same size as the image.
        var byStem: [String: Int] = [:]
        for (i, item) in kept.enumerated() {
            let stem = stripExtension(item.relative)
            if byStem[stem] == nil { byStem[stem] = i }
        }
        var masks = [URL?](repeating: nil, count: kept.count)
        var decoys = [URL?](repeating: nil, count: kept.count)
        for (folder, kind) in [("masks", "mask"), ("decoys", "decoy mask")] {
            let base = root.appendingPathComponent(folder).appendingPathComponent(split)
            guard kindOfItem(base.path) == .directory else { continue }
            var files: [(relative: String, url: URL, target: Int)] = []
            for relative in try listImages(base, prefix: "") {
                let url = base.appendingPathComponent(relative)
                guard let target = byStem[stripExtension(relative)] else {
                    try scan.problem(DataError(path: url.path,
                                               problem: "\(kind) has no matching image \(split)/\(stripExtension(relative)).png|.jpg"))
                    continue
                }
                files.append((relative, url, target))
            }
            let results = checkFiles(files.map { $0.url }, decodeAll: decodeAll, maxPixels: maxPixels)
            for (file, result) in zip(files, results) {
                switch result {
                case .failure(let error):
                    try scan.problem(error)
                case .success(let info):
                    let image = kept[file.target].info
                    if info.width != image.width || info.height != image.height {
                        try scan.problem(DataError(path: file.url.path,
                                                   problem: "\(kind) is \(info.width)x\(info.height) but its image \(kept[file.target].relative) is \(image.width)x\(image.height)"))
                        continue
                    }
                    if folder == "masks" { masks[file.target] = file.url } else { decoys[file.target] = file.url }
                }
            }
        }

        samples = kept.indices.map { i in
            Sample(relativePath: kept[i].relative, label: kept[i].label, imageURL: kept[i].url,
                   maskURL: masks[i], decoyURL: decoys[i])
        }
        let first = kept[0].info
        if kept.allSatisfy({ $0.info.width == first.width && $0.info.height == first.height }) {
            let colour = kept.contains { $0.info.channels >= 3 }
            commonShape = ImageShape(channels: colour ? 3 : 1, height: first.height, width: first.width)
        } else {
            commonShape = nil
        }
        warnings = scan.warnings
        skippedCount = scan.warnings.count
        notes = scan.notes
    }
}

/// Collects problems: throws the first one, or (with skipBad) records it as a warning.
private struct Scan {
    let skipBad: Bool
    var warnings: [String] = []
    var notes: [String] = []

    mutating func problem(_ error: DataError) throws {
        if !skipBad { throw error }
        warnings.append(error.description)
    }
}

enum ItemKind { case file, directory }

/// What is at a path, following symlinks; nil when nothing is (or the link dangles).
func kindOfItem(_ path: String) -> ItemKind? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
    return isDirectory.boolValue ? .directory : .file
}

/// Names in a folder, hidden ones left out, in code-point order (like Python's sorted()).
func listFolder(_ url: URL) throws -> [String] {
    let names: [String]
    do {
        names = try FileManager.default.contentsOfDirectory(atPath: url.path)
    } catch {
        let reason = access(url.path, R_OK | X_OK) != 0 ? errnoText(errno) : "unreadable"
        throw DataError(path: url.path, problem: "cannot list folder (\(reason))")
    }
    return names.filter { !$0.hasPrefix(".") }.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }
}

/// Image files (.png/.jpg/.jpeg, any case) under a folder, recursively, as "prefix/sub/name.ext".
/// Entries that do not exist as folders (e.g. dangling links) are kept when named like an image,
/// so that reading them reports the problem.
func listImages(_ folder: URL, prefix: String, depth: Int = 0) throws -> [String] {
    guard depth < 32 else { throw DataError(path: folder.path, problem: "folders nested too deeply (a symlink loop?)") }
    var result: [String] = []
    for name in try listFolder(folder) {
        let url = folder.appendingPathComponent(name)
        let relative = prefix.isEmpty ? name : prefix + "/" + name
        if kindOfItem(url.path) == .directory {
            result += try listImages(url, prefix: relative, depth: depth + 1)
        } else if ImageFolder.imageExtensions.contains(url.pathExtension.lowercased()) {
            result.append(relative)
        }
    }
    return result
}

func stripExtension(_ relative: String) -> String {
    guard let dot = relative.lastIndex(of: "."), !relative[dot...].contains("/") else { return relative }
    return String(relative[..<dot])
}

func format(forExtension ext: String) -> ImageFormat {
    ext.lowercased() == "png" ? .png : .jpeg
}

/// Reads (and, with decodeAll, decodes) files on all cores; results in input order.
func checkFiles(_ urls: [URL], decodeAll: Bool, maxPixels: Int) -> [Result<ImageInfo, DataError>] {
    let results = UnsafeMutableBufferPointer<Result<ImageInfo, DataError>>.allocate(capacity: urls.count)
    results.initialize(repeating: .failure(DataError(path: "", problem: "")))
    defer { results.deallocate() }
    DispatchQueue.concurrentPerform(iterations: urls.count) { i in
        let url = urls[i]
        do {
            let bytes = try ImageIO.readFile(url)
            var info = try ImageIO.info(data: bytes, name: url.path)
            if decodeAll {
                let image = try ImageIO.decode(data: bytes, name: url.path, maxPixels: maxPixels)
                info.width = image.width
                info.height = image.height
                info.channels = image.channels
            } else if info.width * info.height > maxPixels {
                throw DataError(path: url.path, problem: "image is \(info.width)x\(info.height), over the limit of \(maxPixels) pixels")
            }
            results[i] = .success(info)
        } catch let error as DataError {
            results[i] = .failure(error)
        } catch {
            results[i] = .failure(DataError(path: url.path, problem: "\(error)"))
        }
    }
    return Array(results)
}
