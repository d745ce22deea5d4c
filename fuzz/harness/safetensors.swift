// libFuzzer harness: bytes as a model file. The safetensors header and tensor table (SafeTensors.parse),
// then the model metadata those bytes carry (ModelMetadata), as ModelFile.load reads them. Any outcome
// but a crash, a hang or a sanitizer report is fine: bad files must only throw.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    guard let parsed = try? SafeTensors.parse(raw, name: "fuzz.safetensors") else { return 0 }
    _ = try? ModelMetadata(dictionary: parsed.metadata, path: "fuzz.safetensors")
    return 0
}
