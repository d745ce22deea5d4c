import XCTest
@testable import ABNData

final class BatchLoaderTests: XCTestCase {
    /// 3 classes × 7 images of 6×6 RGB; each image's pixels encode its class and number.
    func makeDataset() -> URL {
        let root = makeTempDir(self).standardizedFileURL
        for cls in 0..<3 {
            for n in 0..<7 {
                writeImage(root.appendingPathComponent("train/c\(cls)/\(n).png"), width: 6, height: 6, channels: 3) { x, y, c in
                    UInt8((cls * 80 + n * 10 + x * 3 + y * 5 + c * 17) % 256)
                }
            }
        }
        return root
    }

    let p = Preprocessing(channels: 3, height: 6, width: 6, mean: [0.4, 0.5, 0.6], std: [0.2, 0.3, 0.25])

    func testUnaugmentedBatchesAreTheLoadedInputsInOrder() throws {
        let folder = try ImageFolder(root: makeDataset(), split: "train")
        let loader = try BatchLoader(folder: folder, preprocessing: p, batchSize: 4, shuffle: false, augmentation: .none, seed: 0)
        XCTAssertEqual(loader.batchesPerEpoch, 6)   // 21 images: 5 full batches and one of 1
        var seen: [Int] = []
        let epoch = loader.epoch(0)
        while let batch = try epoch.next() {
            XCTAssertEqual(batch.inputs.count, batch.count * 108)
            for (slot, index) in batch.indices.enumerated() {
                let expected = try loadInput(folder.samples[index].imageURL, p)
                XCTAssertEqual(Array(batch.inputs[slot * 108..<(slot + 1) * 108]), expected)
                XCTAssertEqual(batch.labels[slot], folder.samples[index].label)
            }
            seen += batch.indices
        }
        XCTAssertEqual(seen, Array(0..<21))
        XCTAssertNil(try epoch.next())
        let dropping = try BatchLoader(folder: folder, preprocessing: p, batchSize: 4, shuffle: false, augmentation: .none, seed: 0, dropLast: true)
        XCTAssertEqual(dropping.batchesPerEpoch, 5)
        XCTAssertEqual(Array(dropping.batches(epoch: 0)).count, 5)
    }

    func testDeterministicWhateverTheTimingAndCache() throws {
        let folder = try ImageFolder(root: makeDataset(), split: "train")
        func make(_ seed: UInt64, cache: Bool, prefetch: Int) throws -> BatchLoader {
            try BatchLoader(folder: folder, preprocessing: p, batchSize: 5, shuffle: true, augmentation: .cifar,
                            seed: seed, cacheImages: cache, prefetch: prefetch)
        }
        let a = try make(7, cache: true, prefetch: 1), b = try make(7, cache: false, prefetch: 4)
        for epoch in 0..<2 {
            let viaThread = Array(a.batches(epoch: epoch))
            XCTAssertNil(a.lastError)
            XCTAssertEqual(viaThread.count, 5)
            for (i, batch) in viaThread.enumerated() {
                let direct = try b.batch(epoch: epoch, index: i)
                XCTAssertEqual(batch.inputs, direct.inputs)
                XCTAssertEqual(batch.indices, direct.indices)
            }
            XCTAssertEqual(viaThread.flatMap { $0.indices }.sorted(), Array(0..<21))
        }
        // Each epoch has its own order; another seed another order and other crops.
        XCTAssertNotEqual(a.order(epoch: 0), a.order(epoch: 1))
        XCTAssertNotEqual(a.order(epoch: 0), try make(8, cache: true, prefetch: 2).order(epoch: 0))
        // Augmentation follows the sample, not its batch: sample i's tensor in any batch is
        // its draw applied to its image.
        let batch = try a.batch(epoch: 1, index: 2)
        let index = batch.indices[1]
        let unit = try a.unitInput(index)
        let expected = Augmentation.cifar.apply(Augmentation.cifar.draw(seed: 7, epoch: 1, sample: index), to: unit,
                                                channels: 3, height: 6, width: 6, mean: p.mean, std: p.std)
        XCTAssertEqual(Array(batch.inputs[108..<216]), expected)
    }

    func testAugmentedBatchesShowPaddingAndFlips() throws {
        let folder = try ImageFolder(root: makeDataset(), split: "train")
        let loader = try BatchLoader(folder: folder, preprocessing: p, batchSize: 21, shuffle: false, augmentation: .cifar, seed: 1)
        let batch = try loader.batch(epoch: 0, index: 0)
        let padded = (0 - p.mean[0]) / p.std[0]
        var withPadding = 0
        for slot in 0..<21 where batch.inputs[slot * 108..<slot * 108 + 36].contains(padded) { withPadding += 1 }
        XCTAssertGreaterThan(withPadding, 10)   // a crop offset of exactly the padding (no shift) on both axes is 1/81
    }

    func testErrorsSurfaceAfterTheGoodBatches() throws {
        let root = makeDataset()
        let folder = try ImageFolder(root: root, split: "train")
        // Damage a file after the scan: the loader must report it, not crash.
        let victim = folder.samples[9].imageURL
        write(Array("broken".utf8), victim)
        let loader = try BatchLoader(folder: folder, preprocessing: p, batchSize: 4, shuffle: false, augmentation: .none,
                                     seed: 0, cacheImages: false)
        let epoch = loader.epoch(0)
        XCTAssertNotNil(try epoch.next())
        XCTAssertNotNil(try epoch.next())
        assertDataError(try epoch.next(), path: victim.path, contains: "not a PNG or JPEG")
        XCTAssertNil(try epoch.next())
        XCTAssertEqual(Array(loader.batches(epoch: 0)).count, 2)
        XCTAssertEqual((loader.lastError as? DataError)?.path, victim.path)
    }

    func testAbandonedEpochDoesNotHang() throws {
        let folder = try ImageFolder(root: makeDataset(), split: "train")
        let loader = try BatchLoader(folder: folder, preprocessing: p, batchSize: 1, shuffle: true, augmentation: .cifar, seed: 0, prefetch: 2)
        for _ in 0..<5 {
            let epoch = loader.epoch(0)
            _ = try epoch.next()
        }   // each dropped after one batch; their threads stop at the full queue
        XCTAssertEqual(Array(loader.batches(epoch: 0)).count, 21)
    }

    func testBadConfiguration() throws {
        let folder = try ImageFolder(root: makeDataset(), split: "train")
        let path = folder.splitURL.path
        assertDataError(try BatchLoader(folder: folder, preprocessing: p, batchSize: 0, shuffle: false, augmentation: .none, seed: 0),
                        path: path, contains: "batch size must be positive")
        assertDataError(try BatchLoader(folder: folder, preprocessing: p, batchSize: 64, shuffle: false, augmentation: .none, seed: 0, dropLast: true),
                        path: path, contains: "fewer than one batch")
        let loader = try BatchLoader(folder: folder, preprocessing: p, batchSize: 8, shuffle: false, augmentation: .none, seed: 0)
        assertDataError(try loader.batch(epoch: 0, index: 3), path: path, contains: "out of range")
    }
}
