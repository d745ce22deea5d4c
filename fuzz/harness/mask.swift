// libFuzzer harness: mask import. The first two bytes choose the model's map size (1…64 each) and
// input size (its multiple, as a network's stride makes it); the rest is the mask file. Decoded as
// import-maps does (luma, bilinear to the input size), area-averaged onto the map, and upsampled
// back as the exports and counterexamples do. Every value must stay in [0, 1].
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 2 else { return 0 }
    let h = Int(data[0] % 64) + 1, w = Int(data[1] % 64) + 1, stride = Int(data[0] / 64) + 1
    let bytes = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    guard let image = try? ImageIO.decode(data: bytes, name: "fuzz-mask", maxPixels: 1_000_000) else { return 0 }
    let mask = unitTensor(image.converted(toChannels: 1), height: h * stride, width: w * stride)
    let map = MapResampling.areaAverage(mask, height: h * stride, width: w * stride, toHeight: h, toWidth: w)
    let back = MapResampling.upsampleBilinear(map, height: h, width: w, toHeight: h * stride, toWidth: w * stride)
    for v in map + back where !(v >= -1e-5 && v <= 1 + 1e-5) { fatalError("mask value \(v) outside [0, 1]") }
    return 0
}
