import Foundation

/// Measures how many images per second one thread can decode and prepare for training: read the
/// file, decode, convert, scale to [0, 1], pad+crop+flip (CIFAR augmentation), normalise. No cache,
/// so every image is decoded each time. Runs whole batches of 64 until `seconds` have passed.
/// Used by bench/decode/run.sh (against Pillow doing the same work) and available to the CLI.
public func measureDecodeThroughput(root: URL, split: String = "train", seconds: Double = 3) throws -> Double {
    let folder = try ImageFolder(root: root, split: split, classes: nil, skipBad: false, decodeAll: false)
    guard let shape = folder.commonShape else {
        throw DataError(path: folder.splitURL.path, problem: "images differ in size; the benchmark needs one size")
    }
    let mean = [Float](repeating: 0.5, count: shape.channels), std = [Float](repeating: 0.25, count: shape.channels)
    let p = Preprocessing(channels: shape.channels, height: shape.height, width: shape.width, mean: mean, std: std)
    let loader = try BatchLoader(folder: folder, preprocessing: p, batchSize: 64, shuffle: true,
                                 augmentation: .cifar, seed: 1, cacheImages: false)
    let start = DispatchTime.now().uptimeNanoseconds
    var images = 0, epoch = 0, index = 0
    var order = loader.order(epoch: 0)
    var elapsed = 0.0
    repeat {
        let batch = try loader.batch(epoch: epoch, index: index, order: order)
        images += batch.count
        index += 1
        if index == loader.batchesPerEpoch {
            index = 0
            epoch += 1
            order = loader.order(epoch: epoch)
        }
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    } while elapsed < seconds
    return Double(images) / elapsed
}
