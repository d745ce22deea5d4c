import ArgumentParser
import ABN
import Foundation

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and inference throughput (images/s) and peak memory on random data.",
        discussion: """
        Training steps are forward, both losses, backward and the SGD update; inference is the evaluation-mode \
        forward pass (BatchNorm folded). Both after warm-up. bench/compare.sh runs the same measurement in \
        PyTorch side by side (ROUNDS=N alternates the two N times and prints the median ratio). 3×3 stride-1 \
        convolutions use Winograd F(4×4, 3×3) where it is faster (AVX2 or AVX-512); ABN_WINOGRAD=0 in the \
        environment keeps oneDNN's direct kernel on AVX2, for comparisons.
        """)

    @Option(name: .long, help: "Architecture.")
    var arch: String = "cifar-resnet20"

    @Option(name: .long, help: "Batch size.")
    var batchSize: Int = 64

    @Option(name: .long, help: "Measured steps for each of training and inference.")
    var steps: Int = 20

    @Option(name: .long, help: "Compute threads.")
    var threads: Int = 2

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func validate() throws {
        guard batchSize >= 2, batchSize <= 4096 else { throw ValidationError("--batch-size must be between 2 and 4096") }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard threads >= 1, threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() throws {
        try reportingErrors {
            let architecture = try ABNArchitecture(parsing: arch)
            let result = try runBenchmark(arch: architecture, batchSize: batchSize, steps: steps, threads: threads,
                                          progress: json ? nil : { note($0) })
            if json {
                try printJSON(result)
            } else {
                print("\(result.arch), batch \(result.batchSize), \(result.threads) threads")
                print(String(format: "training:  %.1f images/s", result.trainImagesPerSecond))
                print(String(format: "inference: %.1f images/s", result.inferenceImagesPerSecond))
                print(String(format: "peak RSS:  %.0f MB", Double(result.peakRSSBytes) / 1e6))
            }
        }
    }
}
