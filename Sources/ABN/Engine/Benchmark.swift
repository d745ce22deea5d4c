import Foundation

/// What `abn-hitl bench` measures: training steps (forward, both losses, backward, SGD update) and
/// evaluation-mode forward passes on random data after warm-up, and the peak resident memory.
public struct BenchmarkResult: Codable, Sendable {
    public var arch: String
    public var batchSize: Int
    public var threads: Int
    public var trainImagesPerSecond: Double
    public var inferenceImagesPerSecond: Double
    public var peakRSSBytes: Int

    enum CodingKeys: String, CodingKey {
        case arch, threads
        case batchSize = "batch_size"
        case trainImagesPerSecond = "train_images_per_second"
        case inferenceImagesPerSecond = "inference_images_per_second"
        case peakRSSBytes = "peak_rss_bytes"
    }
}

/// Peak resident set size of this process (VmHWM), in bytes; 0 where /proc is unavailable.
public func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

public func runBenchmark(arch: ABNArchitecture, batchSize: Int, steps: Int, threads: Int,
                         progress: ((String) -> Void)?) throws -> BenchmarkResult {
    setComputeThreads(threads)
    let size = arch.family == .cifar ? 32 : 224
    let classes = arch.family == .cifar ? 10 : 1000
    let model = try ABNModel(config: ModelConfig(arch: arch, numClasses: classes, inputChannels: 3, inputHeight: size, inputWidth: size), seed: 0)
    var rng = InitRandom(seed: 1)
    let x = Tensor(shape: [batchSize, 3, size, size], data: (0..<(batchSize * 3 * size * size)).map { _ in Float(rng.normal()) })
    let labels = (0..<batchSize).map { _ in Int(rng.next() % UInt64(classes)) }
    let sgd = SGD(learningRate: 0.01)
    func measure(_ label: String, _ body: () throws -> Void) rethrows -> Double {
        for _ in 0..<2 { try body() }  // warm-up: primitive creation, caches
        let start = Date()
        for i in 0..<steps {
            try body()
            progress?("\(label) step \(i + 1)/\(steps)")
        }
        return Double(steps * batchSize) / Date().timeIntervalSince(start)
    }
    let train = try measure("training") { _ = try model.trainStep(input: x, labels: labels, optimizer: sgd) }
    let inference = try measure("inference") { _ = try model.forward(x, training: false) }
    return BenchmarkResult(arch: arch.name, batchSize: batchSize, threads: threads, trainImagesPerSecond: train,
                           inferenceImagesPerSecond: inference, peakRSSBytes: peakResidentBytes())
}
