// libFuzzer harness: bytes as an image file, through the libpng/libjpeg shim (Sources/CImageIO):
// the header-only read every dataset scan does, then a full decode with a pixel cap that keeps the
// fuzzer's memory small.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? ImageIO.info(data: bytes, name: "fuzz")
    _ = try? ImageIO.decode(data: bytes, name: "fuzz", maxPixels: 4_000_000)
    return 0
}
