import ArgumentParser
import ABN
import ABNData
import HITL
import Foundation

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on images: both branches' probabilities, the raw attention map, and CAM / Grad-CAM / Grad-CAM++.",
        discussion: """
        Images are converted to the model's channel count, resized (bilinear) to its input size and normalised \
        with its mean and std. --json prints {"results": [{"image", "predicted", "probabilities", \
        "attention_probabilities", "attention_map", "class_maps"}]} with the raw map at map resolution, so outputs \
        can be compared with PyTorch's. SE-ResNet's map is unbounded (sum of log(1 + maps)); its results add \
        "attention_map_scale", the map's maximum, by which the pictures (and the review UI) divide it.

        --method abn|cam|gradcam|gradcam++ (repeat it or separate with commas; default abn): cam, gradcam and gradcam++ \
        are computed on the perception branch's last stage (layer3 for CIFAR ResNets, layer4 for ImageNet ones: \
        pytorch-grad-cam's target layer) for the predicted class or --target, from the logit (as pytorch-grad-cam's \
        ClassifierOutputTarget). In class_maps each has "map" at that layer's resolution (before normalisation) and \
        "at_map_size", normalised to [0, 1] and resampled to the attention map's size.

        --out DIR writes per image (STEM = NN-<file name without extension>) and method STEM-METHOD.png (the map at the \
        image size, coloured) and STEM-METHOD-blend.png (alpha·colour + (1 − alpha)·image), and STEM-grid.png: the image \
        and every method's blend side by side. The ABN map is drawn raw (the ABN authors' visualisation; an unbounded \
        map divided by its maximum); class maps normalised as pytorch-grad-cam returns them.
        """)

    @Option(name: .long, help: "Model file (safetensors).")
    var model: String

    @Argument(help: "Image files (PNG or JPEG).")
    var images: [String]

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Maps to compute: abn, cam, gradcam, gradcam++ (repeatable, or comma-separated).",
                                            valueName: "method"))
    var method: [ExplanationMethodList] = []

    @Option(name: .long, help: ArgumentHelp("Class for cam/gradcam/gradcam++: a class name or index (default: the perception branch's prediction).",
                                            valueName: "class"))
    var target: String?

    @Option(name: .long, help: ArgumentHelp("Write PNGs of every map, its blend over the image and a grid of all methods here.",
                                            valueName: "dir"))
    var out: String?

    @Option(name: .long, help: "Colour map of the PNGs (OpenCV's COLORMAP_* name, lower case): jet.")
    var colormap: Colormap = .jet

    @Option(name: .long, help: "Weight of the coloured map in the blend, 0–1 (pytorch-grad-cam's show_cam_on_image: image_weight = 1 − alpha).")
    var alpha: Float = 0.5

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var precision: PrecisionOptions

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one image") }
    }

    struct ClassMapJSON: Encodable {
        var method: String
        var layer: String
        var target: String
        var map: [[Float]]
        var at_map_size: [[Float]]
    }

    struct Result: Encodable {
        var image: String
        var predicted: String
        var probabilities: [Float]
        var attention_probabilities: [Float]
        var attention_map: [[Float]]
        /// Only for an unbounded map: the scale the pictures divide it by.
        var attention_map_scale: Float?
        var class_maps: [ClassMapJSON]?
    }

    struct Output: Encodable { var results: [Result] }

    /// --target as a class name, else as an index into the model's classes.
    static func parseTarget(_ text: String, classes: [String]) throws -> Int {
        if let i = classes.firstIndex(of: text) { return i }
        if let i = Int(text), classes.indices.contains(i) { return i }
        throw CommandError("--target '\(text)': not a class of the model (\(classes.joined(separator: ", "))) nor an index in 0..<\(classes.count)")
    }

    static func rows(_ v: [Float], width w: Int) -> [[Float]] {
        stride(from: 0, to: v.count, by: w).map { Array(v[$0..<($0 + w)]) }
    }

    func run() throws {
        try reportingErrors {
            let flattened = ExplanationMethodList.flattened(method)
            let methods = flattened.isEmpty ? [ExplanationMethod.abn] : flattened
            guard (0...1).contains(alpha) else { throw CommandError("--alpha \(alpha): must lie in 0–1") }
            try requireFile(model, "model")
            for path in images { try requireFile(path, "image") }
            let outDir = try out.map(prepareOutputDirectory)
            compute.apply()
            try precision.apply()
            let loaded = try ModelFile.load(contentsOf: URL(fileURLWithPath: model))
            let m = loaded.metadata
            let targetIndex = try target.map { try Self.parseTarget($0, classes: m.classes) }
            if targetIndex != nil && methods == [.abn] {
                throw CommandError("--target applies to cam, gradcam and gradcam++; add one with --method")
            }
            var results: [Result] = []
            for (index, path) in images.enumerated() {
                let url = URL(fileURLWithPath: path)
                let e = try HITL.explain(loaded.model, input: try loadInput(url, m.preprocessing), methods: methods, target: targetIndex)
                let classMaps = e.classMaps.map {
                    ClassMapJSON(method: $0.method.rawValue, layer: $0.layer, target: m.classes[$0.target],
                                 map: Self.rows($0.values, width: $0.width),
                                 at_map_size: Self.rows($0.resampled(toHeight: e.mapHeight, toWidth: e.mapWidth), width: e.mapWidth))
                }
                results.append(Result(image: path, predicted: m.classes[argmax(e.probabilities)], probabilities: e.probabilities,
                                      attention_probabilities: e.attentionProbabilities,
                                      attention_map: Self.rows(e.attentionMap, width: e.mapWidth),
                                      attention_map_scale: loaded.model.mapIsBounded ? nil : e.mapScale,
                                      class_maps: classMaps.isEmpty ? nil : classMaps))
                if let dir = outDir {
                    let stem = String(format: "%02d", index + 1) + "-" + url.deletingPathExtension().lastPathComponent
                    try writePictures(e, methods: methods, image: try loadDisplayImage(url, width: m.inputWidth, height: m.inputHeight),
                                      colormap: colormap, to: dir, stem: stem)
                }
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
                    for c in r.class_maps ?? [] {
                        let size = "\(c.map.count)x\(c.map.first?.count ?? 0)"
                        print("  \(pad(c.method, 10)) \(c.layer) \(size) for \(c.target)")
                    }
                }
                if let dir = outDir { note("wrote PNGs to \(dir.path)") }
            }
        }
    }

    /// Creates --out (and its parents) and checks it can be written, before any model runs.
    func prepareOutputDirectory(_ path: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
            throw CommandError("\(path): --out is a file, not a directory")
        }
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
            throw CommandError("\(path): cannot create the --out directory: \((error as NSError).localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: path) else { throw CommandError("\(path): --out directory is not writable") }
        return url
    }

    /// The map and blend of each method and the grid, enlarged like export's pictures (to about 256 px).
    func writePictures(_ e: Explanation, methods: [ExplanationMethod], image: Image, colormap: Colormap, to dir: URL, stem: String) throws {
        let H = image.height, W = image.width
        let scale = max(1, 256 / max(H, W))
        var blends: [Image] = []
        for method in methods {
            guard let map = e.map(method, toHeight: H, toWidth: W) else { continue }
            let colored = MapPictures.colored(map, height: H, width: W, toHeight: H, toWidth: W, colormap: colormap)
            let blend = MapPictures.blend(image: image, map: map, height: H, width: W, alpha: alpha, colormap: colormap)
            try ImageIO.writePNG(MapPictures.enlarged(colored, by: scale), to: dir.appendingPathComponent("\(stem)-\(method.rawValue).png"))
            try ImageIO.writePNG(MapPictures.enlarged(blend, by: scale), to: dir.appendingPathComponent("\(stem)-\(method.rawValue)-blend.png"))
            blends.append(blend)
        }
        let grid = MapPictures.sideBySide(([image] + blends).map { MapPictures.enlarged($0, by: scale) })
        try ImageIO.writePNG(grid, to: dir.appendingPathComponent("\(stem)-grid.png"))
    }
}
