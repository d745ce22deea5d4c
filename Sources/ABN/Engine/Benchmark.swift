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
    /// The inference convolutions' arithmetic (ConvolutionPrecision.inference); training runs in fp32 here.
    public var precision: String

    enum CodingKeys: String, CodingKey {
        case arch, threads
        case batchSize = "batch_size"
        case trainImagesPerSecond = "train_images_per_second"
        case inferenceImagesPerSecond = "inference_images_per_second"
        case peakRSSBytes = "peak_rss_bytes"
        case precision
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
                           inferenceImagesPerSecond: inference, peakRSSBytes: peakResidentBytes(),
                           precision: ConvolutionPrecision.inference.rawValue)
}

/// One 3×3 stride-1 layer timed on the Winograd and on oneDNN's direct kernel: the inference forward
/// pass, and training's backward weights.
public struct KernelComparison: Codable, Sendable {
    public var inChannels, outChannels, size, batch: Int
    /// Best of the alternating runs, in milliseconds.
    public var winogradMilliseconds, directMilliseconds: Double
    public var winogradBackwardWeightsMilliseconds, directBackwardWeightsMilliseconds: Double
    /// Whether the selection rule (shim.c) picks Winograd for this layer; if not, both ran direct.
    public var winogradChosen: Bool
    /// Whether training's backward weights for it run on Winograd by default (the columns time the
    /// Winograd kernel either way).
    public var winogradBackwardWeightsChosen: Bool

    enum CodingKeys: String, CodingKey {
        case batch, size
        case inChannels = "in_channels", outChannels = "out_channels"
        case winogradMilliseconds = "winograd_ms", directMilliseconds = "direct_ms", winogradChosen = "winograd_chosen"
        case winogradBackwardWeightsChosen = "winograd_backward_weights_chosen"
        case winogradBackwardWeightsMilliseconds = "winograd_backward_weights_ms"
        case directBackwardWeightsMilliseconds = "direct_backward_weights_ms"
    }
}

/// Per-layer times of the Winograd and the direct convolution (inference, and training's backward
/// weights) at the 3×3 stride-1 shapes of
/// ResNet-20-ABN (batch 64) and of ImageNet ResNet stages (batch 8, and batch 1 where the rule keeps
/// direct; batch 32 for the fine-tuned branches of ResNet-50-ABN), alternating the two so machine noise hits both alike; best of `repeats`.
public func compareConvolutionKernels(threads: Int, repeats: Int = 15) throws -> [KernelComparison] {
    setComputeThreads(threads)
    let block = Layout.preferredBlock // this machine's layout: nChw8c on AVX2, nChw16c on AVX-512
    var rng = InitRandom(seed: 1)
    let layers = [(16, 16, 32, 64), (32, 32, 16, 64), (32, 64, 16, 64), (64, 64, 16, 64), (64, 64, 8, 64),
                  (128, 128, 28, 8), (256, 256, 14, 8), (512, 512, 7, 8), (256, 256, 14, 1), (512, 512, 7, 1),
                  (512, 512, 14, 32), (512, 512, 7, 32)]  // the last two: fine-tuning ResNet-50-ABN's branches at batch 32
    // What training takes by default, then Winograd's backward weights timed at every layer.
    let wgradByDefault = layers.map { ConvPrimitive.backwardWeightsOnWinograd(inChannels: $0.0, outChannels: $0.1) }
    let wgradMinimum = ConvPrimitive.winogradBackwardWeightsMinimumChannels
    ConvPrimitive.winogradBackwardWeightsMinimumChannels = 0
    defer { ConvPrimitive.winogradBackwardWeightsMinimumChannels = wgradMinimum }
    return try zip(layers, wgradByDefault).map { layer, wgradOnWinograd in
        let (c, k, size, n) = layer
        let winograd = Conv2d(name: "w", inChannels: c, outChannels: k, kernel: 3, padding: 1, rng: &rng)
        let direct = Conv2d(name: "d", inChannels: c, outChannels: k, kernel: 3, padding: 1, rng: &rng)
        direct.directOnly = true
        let x = Act(n: n, c: c, h: size, w: size, data: (0..<(n * c * size * size)).map { _ in Float(rng.normal()) }).reblocked(block)
        let bias = [Float](repeating: 0.1, count: k)
        func time(_ conv: Conv2d) throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try conv.forwardFolded(x, weights: conv.weight.value, bias: bias, version: 1, epilogue: .relu, block: block)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        let dy = Act(n: n, c: k, h: size, w: size, data: (0..<(n * k * size * size)).map { _ in Float(rng.normal()) }).reblocked(block)
        func timeBackwardWeights(_ conv: Conv2d) throws -> Double {
            _ = try conv.forward(x, keepForBackward: true, block: block)
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try conv.backward(dy, needInputGradient: false)
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        var best = (winograd: Double.infinity, direct: Double.infinity, winogradWeights: Double.infinity, directWeights: Double.infinity)
        for _ in 0..<repeats {
            best.winograd = min(best.winograd, try time(winograd))
            best.direct = min(best.direct, try time(direct))
            best.winogradWeights = min(best.winogradWeights, try timeBackwardWeights(winograd))
            best.directWeights = min(best.directWeights, try timeBackwardWeights(direct))
        }
        return KernelComparison(inChannels: c, outChannels: k, size: size, batch: n, winogradMilliseconds: best.winograd,
                                directMilliseconds: best.direct, winogradBackwardWeightsMilliseconds: best.winogradWeights,
                                directBackwardWeightsMilliseconds: best.directWeights,
                                winogradChosen: try winograd.usesWinograd(x, epilogue: .relu, block: block),
                                winogradBackwardWeightsChosen: try winograd.usesWinograd(x, training: true, block: block) && wgradOnWinograd)
    }
}
