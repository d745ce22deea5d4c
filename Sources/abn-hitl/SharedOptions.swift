import ArgumentParser
import ABN
import ABNData
import HITL
import Foundation

/// `--threads`, shared by every command that computes.
struct ComputeOptions: ParsableArguments {
    @Option(name: .long, help: "Compute threads (1–256).")
    var threads: Int = 2

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
    }

    /// Sets the engine's thread count; call first thing in run().
    func apply() { setComputeThreads(threads) }
}

/// `--precision`, for the commands that only run the model forward (eval, collect, explain).
struct PrecisionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Arithmetic of the convolutions: fp32 (default), or bf16 (inputs and weights rounded to bfloat16, "
            + "float accumulation; CPUs with AVX512_BF16 only; its agreement with fp32 is in docs/benchmarks.md).",
        valueName: "fp32|bf16"))
    var precision: ConvolutionPrecision = .fp32

    /// Sets the engine's inference precision; an error where the CPU has no bfloat16 convolutions.
    func apply() throws {
        do { try ConvolutionPrecision.set(precision) } catch { throw CommandError("--precision bf16: \(error)") }
    }
}

// The choices the commands take, parsed by their raw values; a bad value gets ArgumentParser's
// usage error, which lists the valid ones.
extension AttentionMechanism: ExpressibleByArgument {}
extension CollectSelection: ExpressibleByArgument {}
extension ShortcutKind: ExpressibleByArgument {}
extension ConvolutionPrecision: ExpressibleByArgument {}

/// `--arch`: any name ABNArchitecture(parsing:) accepts (resnet20 = cifar-resnet20, any CIFAR depth
/// 6n+2); help and completion list the standard backbones.
extension ABNArchitecture: ExpressibleByArgument {
    public init?(argument: String) {
        guard let arch = try? ABNArchitecture(parsing: argument) else { return nil }
        self = arch
    }

    public static var allValueStrings: [String] { standard.map(\.name) }
}

/// `explain --method`, `eval --method`, `review --cam`: one of abn, cam, gradcam, gradcam++ (any case).
extension ExplanationMethod: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.trimmingCharacters(in: .whitespaces).lowercased()) }
}

/// A `--method` value: one method or several separated by commas, each of them valid or the whole
/// value is a usage error.
struct ExplanationMethodList: ExpressibleByArgument {
    var methods: [ExplanationMethod]

    init?(argument: String) {
        var methods: [ExplanationMethod] = []
        for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
            guard let m = ExplanationMethod(argument: String(part)) else { return nil }
            methods.append(m)
        }
        self.methods = methods
    }

    static var allValueStrings: [String] { ExplanationMethod.allValueStrings }

    /// Repeated --method values in order, each method once.
    static func flattened(_ lists: [ExplanationMethodList]) -> [ExplanationMethod] {
        lists.flatMap(\.methods).reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }
}

/// `review --cam`: a class activation map, so any method but abn.
struct ClassMapMethod: ExpressibleByArgument {
    var method: ExplanationMethod

    init(_ method: ExplanationMethod) { self.method = method }

    init?(argument: String) {
        guard let m = ExplanationMethod(argument: argument), m != .abn else { return nil }
        method = m
    }

    var defaultValueDescription: String { method.rawValue }

    static var allValueStrings: [String] { ExplanationMethod.allCases.filter { $0 != .abn }.map(\.rawValue) }
}

/// `explain --colormap` (any case).
extension Colormap: ExpressibleByArgument {
    public init?(argument: String) { self.init(rawValue: argument.lowercased()) }
}

/// `finetune --branches`: attention+perception (default), attention, or all (the feature extractor too).
extension TrainableBranches: ExpressibleByArgument {}

/// `--model`, `--data` and `--skip-bad`, for the commands that run a model over a dataset split.
struct ModelAndDataOptions: ParsableArguments {
    @Option(name: .long, help: "Model file (safetensors).")
    var model: String

    @Option(name: .long, help: "Dataset root (ImageFolder layout).")
    var data: String

    @Flag(name: .long, help: "Skip unreadable images with a warning (each named) and a count instead of stopping.")
    var skipBad = false

    /// The model and the split, checked to have the same classes; warnings about skipped files printed.
    func load(split: String) throws -> (LoadedModel, ImageFolder) {
        try requireFile(model, "model")
        try requireDirectory(data, "dataset")
        let loaded = try ModelFile.load(contentsOf: URL(fileURLWithPath: model))
        let folder = try ImageFolder(root: URL(fileURLWithPath: data), split: split, skipBad: skipBad)
        try checkClasses(folder: folder, model: loaded)
        for warning in folder.warnings { note("warning: \(warning)") }
        return (loaded, folder)
    }
}

/// Who is at the keyboard, for edit and mark rows: the real user's login name from the password
/// database, else $USER, else $LOGNAME, else "annotator".
func loginName() -> String {
    if let entry = getpwuid(getuid()), let name = entry.pointee.pw_name, name.pointee != 0 { return String(cString: name) }
    let environment = ProcessInfo.processInfo.environment
    return [environment["USER"], environment["LOGNAME"]].compactMap { $0 }.first { !$0.isEmpty } ?? "annotator"
}
