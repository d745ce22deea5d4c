import Foundation

/// A batch of model inputs: `inputs` is N·C·H·W floats (normalised), `labels` and `indices`
/// (positions in `folder.samples`) have N entries.
public struct Batch: Sendable {
    public let inputs: [Float]
    public let labels: [Int]
    public let indices: [Int]
    public var count: Int { labels.count }

    public init(inputs: [Float], labels: [Int], indices: [Int]) {
        self.inputs = inputs
        self.labels = labels
        self.indices = indices
    }
}

/// Turns an ImageFolder into batches for training or evaluation.
///
/// Batch b of epoch e depends only on (seed, e, b): the epoch's order is a permutation seeded
/// from (seed, e), and each sample's augmentation from (seed, e, sample index). `batch(epoch:index:)`
/// computes one directly; `epoch(_:)` prepares them on a background thread, a few batches ahead
/// (`prefetch`), so training does not wait for decoding.
public final class BatchLoader: @unchecked Sendable {
    public let folder: ImageFolder
    public let preprocessing: Preprocessing
    public let batchSize: Int
    public let shuffle: Bool
    public let augmentation: Augmentation
    public let seed: UInt64
    public let dropLast: Bool
    /// How many batches the background thread may have ready before it waits.
    public let prefetch: Int
    private let cache: ImageCache?

    /// The error that ended the most recent `batches(epoch:)` iteration early, if any.
    public var lastError: Error? {
        errorLock.lock(); defer { errorLock.unlock() }
        return storedError
    }
    private var storedError: Error?
    private let errorLock = NSLock()

    /// - Parameter cacheImages: keep each decoded image (8-bit, converted to the channel count,
    ///   at its file size) in memory after its first use; the datasets here are small.
    public init(folder: ImageFolder, preprocessing: Preprocessing, batchSize: Int, shuffle: Bool,
                augmentation: Augmentation, seed: UInt64, dropLast: Bool = false,
                cacheImages: Bool = true, prefetch: Int = 3) throws {
        try preprocessing.validate()
        guard batchSize > 0 else { throw DataError(path: folder.splitURL.path, problem: "batch size must be positive, not \(batchSize)") }
        guard !folder.samples.isEmpty else { throw DataError(path: folder.splitURL.path, problem: "split has no images") }
        if dropLast && folder.samples.count < batchSize {
            throw DataError(path: folder.splitURL.path,
                            problem: "only \(folder.samples.count) images, fewer than one batch of \(batchSize) (dropLast)")
        }
        self.folder = folder
        self.preprocessing = preprocessing
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.augmentation = augmentation
        self.seed = seed
        self.dropLast = dropLast
        self.prefetch = max(1, prefetch)
        self.cache = cacheImages ? ImageCache(count: folder.samples.count) : nil
    }

    public var batchesPerEpoch: Int {
        let n = folder.samples.count
        return dropLast ? n / batchSize : (n + batchSize - 1) / batchSize
    }

    /// The order samples are visited in an epoch (indices into folder.samples).
    public func order(epoch: Int) -> [Int] {
        let n = folder.samples.count
        guard shuffle else { return Array(0..<n) }
        var rng = SplitMix64(seed: SplitMix64.derive(seed, 0x5348_5546 /* "SHUF" */, UInt64(bitPattern: Int64(epoch))))
        return rng.permutation(n)
    }

    /// Batch `index` of `epoch`, computed on the calling thread.
    public func batch(epoch: Int, index: Int) throws -> Batch {
        try batch(epoch: epoch, index: index, order: order(epoch: epoch))
    }

    func batch(epoch: Int, index: Int, order: [Int]) throws -> Batch {
        guard index >= 0 && index < batchesPerEpoch else {
            throw DataError(path: folder.splitURL.path, problem: "batch \(index) out of range (0..<\(batchesPerEpoch))")
        }
        let start = index * batchSize
        let indices = Array(order[start..<min(start + batchSize, order.count)])
        let p = preprocessing
        let size = p.channels * p.height * p.width
        var inputs = [Float](repeating: 0, count: indices.count * size)
        try inputs.withUnsafeMutableBufferPointer { out in
            for (slot, sampleIndex) in indices.enumerated() {
                let x = try unitInput(sampleIndex)
                let draw = augmentation.isIdentity
                    ? Augmentation.Draw(left: augmentation.padding, top: augmentation.padding, flip: false)
                    : augmentation.draw(seed: seed, epoch: epoch, sample: sampleIndex)
                let target = UnsafeMutableBufferPointer(rebasing: out[slot * size..<(slot + 1) * size])
                x.withUnsafeBufferPointer { src in
                    augmentation.apply(draw, to: src, channels: p.channels, height: p.height, width: p.width,
                                       mean: p.mean, std: p.std, into: target)
                }
            }
        }
        return Batch(inputs: inputs, labels: indices.map { folder.samples[$0].label }, indices: indices)
    }

    /// One sample as CHW floats in [0, 1] at the input size (from the cache when enabled).
    func unitInput(_ sampleIndex: Int) throws -> [Float] {
        let p = preprocessing
        let image: Image
        if let cached = cache?.get(sampleIndex) {
            image = cached
        } else {
            image = try ImageIO.decode(fileAt: folder.samples[sampleIndex].imageURL).converted(toChannels: p.channels)
            cache?.set(sampleIndex, image)
        }
        return unitTensor(image, height: p.height, width: p.width)
    }

    /// The batches of one epoch, prepared ahead on a background thread. Use `next()`; it throws
    /// the first decoding error, after handing out every batch before it.
    public func epoch(_ epoch: Int) -> EpochBatches {
        EpochBatches(loader: self, epoch: epoch)
    }

    /// The same as a plain iterator: it stops at the first error and leaves it in `lastError`.
    public func batches(epoch: Int) -> AnyIterator<Batch> {
        setError(nil)
        let stream = self.epoch(epoch)
        return AnyIterator { [weak self] in
            do {
                return try stream.next()
            } catch {
                self?.setError(error)
                return nil
            }
        }
    }

    private func setError(_ error: Error?) {
        errorLock.lock()
        storedError = error
        errorLock.unlock()
    }
}

/// A bounded producer/consumer queue of one epoch's batches. The producer thread makes batches
/// strictly in order, so content never depends on timing. Dropping this object stops the thread.
public final class EpochBatches {
    public let epoch: Int
    public let count: Int
    private let state: PrefetchState
    private var handedOut = 0
    private var failed = false

    init(loader: BatchLoader, epoch: Int) {
        self.epoch = epoch
        self.count = loader.batchesPerEpoch
        let state = PrefetchState(capacity: loader.prefetch)
        self.state = state
        let total = count
        let thread = Thread {
            let order = loader.order(epoch: epoch)
            for index in 0..<total {
                guard state.waitForRoom() else { return }
                let result = Result { try loader.batch(epoch: epoch, index: index, order: order) }
                state.put(result)
                if case .failure = result { return }
            }
        }
        thread.name = "abn-data-prefetch"
        thread.start()
    }

    deinit { state.cancel() }

    /// The next batch, nil after the last one; throws when a batch could not be made.
    public func next() throws -> Batch? {
        if failed || handedOut >= count { return nil }
        let result = state.take()
        handedOut += 1
        switch result {
        case .success(let batch): return batch
        case .failure(let error):
            failed = true
            throw error
        }
    }
}

private final class PrefetchState: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [Result<Batch, Error>] = []
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Blocks while the queue is full; false once the consumer has gone away.
    func waitForRoom() -> Bool {
        condition.lock(); defer { condition.unlock() }
        while queue.count >= capacity && !cancelled { condition.wait() }
        return !cancelled
    }

    func put(_ result: Result<Batch, Error>) {
        condition.lock()
        queue.append(result)
        condition.broadcast()
        condition.unlock()
    }

    func take() -> Result<Batch, Error> {
        condition.lock(); defer { condition.unlock() }
        while queue.isEmpty { condition.wait() }
        let first = queue.removeFirst()
        condition.broadcast()
        return first
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Decoded images by sample index, shared by the producer threads of several epochs.
final class ImageCache: @unchecked Sendable {
    private var images: [Image?]
    private let lock = NSLock()

    init(count: Int) { images = [Image?](repeating: nil, count: count) }

    func get(_ i: Int) -> Image? {
        lock.lock(); defer { lock.unlock() }
        return images[i]
    }

    func set(_ i: Int, _ image: Image) {
        lock.lock(); defer { lock.unlock() }
        images[i] = image
    }
}
