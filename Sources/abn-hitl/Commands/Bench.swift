import ArgumentParser
import ABN
import ABNData
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and inference throughput (images/s) and peak memory on random data.",
        discussion: """
        Training steps are forward, both losses, backward and the SGD update; inference is the evaluation-mode \
        forward pass (BatchNorm folded). Both after warm-up. bench/compare.sh runs the same measurement in \
        PyTorch side by side (ROUNDS=N alternates the two N times and prints the median ratio). 3×3 stride-1 \
        convolutions use Winograd F(4×4, 3×3) where it is faster (AVX2 or AVX-512); ABN_WINOGRAD=0 in the \
        environment keeps oneDNN's kernels, for comparisons.

        Two other measurements: --kernels times each 3×3 layer shape on the Winograd and the direct kernel, \
        inference and training's backward weights (alternating, best of 15); --decode DIR measures decode + augmentation throughput on an ImageFolder \
        dataset (generating the built-in one there if DIR has no train/), as bench/decode/run.sh compares \
        with Pillow.
        """)

    @Option(name: .long, help: "Backbone, as train's --arch; CIFAR backbones run at 3×32×32 with 10 classes, ImageNet ones at 3×224×224 with 1000.")
    var arch: ABNArchitecture = .defaultBackbone

    @Option(name: .long, help: "Batch size.")
    var batchSize: Int = 64

    @Option(name: .long, help: "Measured steps for each of training and inference.")
    var steps: Int = 20

    @OptionGroup var compute: ComputeOptions
    @OptionGroup var precision: PrecisionOptions

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    @Flag(name: .long, help: "Time 3×3 layers on the Winograd and the direct convolution kernel instead.")
    var kernels = false

    @Option(name: .long, help: "Measure decode + augmentation throughput on this dataset root instead (one thread).")
    var decode: String?

    @Option(name: .long, help: "With --decode: how long to measure, in seconds.")
    var seconds: Double = 5

    func validate() throws {
        guard !(kernels && decode != nil) else { throw ValidationError("--kernels and --decode are separate measurements: give one") }
        guard seconds > 0, seconds <= 3600 else { throw ValidationError("--seconds must be between 0 and 3600") }
        guard batchSize >= 2, batchSize <= 4096 else { throw ValidationError("--batch-size must be between 2 and 4096") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    }

    func run() throws {
        if kernels { return try runKernels() }
        if let decode { return try runDecode(URL(fileURLWithPath: decode)) }
        try reportingErrors {
            try precision.apply()  // inference only: training always runs in fp32
            let result = try runBenchmark(arch: arch, batchSize: batchSize, steps: steps, threads: compute.threads,
                                          progress: json ? nil : { note($0) })
            if json {
                try printJSON(result)
            } else {
                print("\(result.arch), batch \(result.batchSize), \(result.threads) threads")
                print(String(format: "training:  %.1f images/s", result.trainImagesPerSecond))
                print(String(format: "inference: %.1f images/s (%@)", result.inferenceImagesPerSecond, result.precision))
                print(String(format: "peak RSS:  %.0f MB", Double(result.peakRSSBytes) / 1e6))
            }
        }
    }

    private func runKernels() throws {
        try reportingErrors {
            let rows = try compareConvolutionKernels(threads: compute.threads)
            if json { return try printJSON(["layers": rows]) }
            for r in rows {
                let gflops = 2.0 * Double(r.batch * r.inChannels * r.outChannels * 9 * r.size * r.size) / r.directMilliseconds / 1e6
                print(String(format: "%3d→%3d @%2d², batch %2d: inference Winograd %.2f ms, direct %.2f ms (%.0f GFLOP/s), %.2f×; "
                             + "backward weights Winograd %.2f ms, direct %.2f ms, %.2f×",
                             r.inChannels, r.outChannels, r.size, r.batch, r.winogradMilliseconds, r.directMilliseconds, gflops,
                             r.directMilliseconds / r.winogradMilliseconds, r.winogradBackwardWeightsMilliseconds,
                             r.directBackwardWeightsMilliseconds, r.directBackwardWeightsMilliseconds / r.winogradBackwardWeightsMilliseconds)
                      + (r.winogradChosen ? "" : "  (not chosen: both ran direct)")
                      + (r.winogradChosen && !r.winogradBackwardWeightsChosen ? "  (training takes direct backward weights)" : ""))
            }
        }
    }

    private func runDecode(_ root: URL) throws {
        try reportingErrors {
            var generateSeconds = -1.0
            if !FileManager.default.fileExists(atPath: root.appendingPathComponent("train").path) {
                let start = Date()
                try ShortcutDataset.generate(at: root, train: 4000, test: 1000, seed: 0)
                generateSeconds = Date().timeIntervalSince(start)
            }
            let rate = try measureDecodeThroughput(root: root, split: "train", seconds: seconds)
            if json { return try printJSON(["swift_images_per_second": rate, "generate_seconds": generateSeconds]) }
            print(String(format: "decode + augment: %.0f images/s (one thread, ", rate) + root.path + ")")
        }
    }
}
