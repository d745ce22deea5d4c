import XCTest
@testable import ABN

/// Files written here to a fresh temporary directory per test.
func ioTempDirectory(_ prefix: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// The bytes of a safetensors file with the given header text (not padded) and a zero buffer.
func ioSafetensorsBytes(header: String, buffer: Int) -> [UInt8] {
    var out: [UInt8] = []
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out += $0 }
    return out + Array(header.utf8) + [UInt8](repeating: 0, count: buffer)
}

final class SafeTensorsTests: XCTestCase {
    var fixture: URL { Bundle.module.url(forResource: "Fixtures/io/reference", withExtension: "safetensors")! }

    /// A file written by the reference Python package (tools/make_io_fixtures.py): a[i] = (i-5)/4,
    /// stored as F32, F16, BF16 and F64, plus an I64 scalar and an empty tensor.
    func testReadsFileWrittenByReferenceLibrary() throws {
        let (tensors, meta) = try SafeTensors.read(contentsOf: fixture)
        let expected = (0..<24).map { Float($0 - 5) / 4 }
        XCTAssertEqual(meta, ["abn.arch": "cifar-resnet20", "note": "written by safetensors.torch"])
        XCTAssertEqual(tensors["layer1.0.conv1.weight"], .float32(Tensor(shape: [2, 3, 4], data: expected)))
        XCTAssertEqual(tensors["bn1.num_batches_tracked"], .int64(shape: [], values: [7]))
        XCTAssertEqual(tensors["half"], .float32(Tensor(shape: [6, 4], data: expected)))
        XCTAssertEqual(tensors["bfloat"], .float32(Tensor(shape: [24], data: expected)))
        XCTAssertEqual(tensors["double"], .float32(Tensor(shape: [4, 6], data: expected)))
        XCTAssertEqual(tensors["empty"], .float32(Tensor(shape: [0, 3], data: [])))
        XCTAssertEqual(tensors.count, 6)
    }

    /// Half and bfloat16 bit patterns with known values (IEEE 754 tables), including subnormals,
    /// infinities and the extremes; plus little-endian I32.
    func testNarrowFloatConversions() throws {
        let halves: [(UInt16, Float)] = [(0x0000, 0), (0x8000, -0.0), (0x3C00, 1), (0xC000, -2), (0x7BFF, 65504),
                                         (0x0001, 5.960464477539063e-08), (0x03FF, 6.097555160522461e-05),
                                         (0x0400, 6.103515625e-05), (0x3555, 0.333251953125), (0x7C00, .infinity), (0xFC00, -.infinity)]
        let bf: [(UInt16, Float)] = [(0x3F80, 1), (0xC0A0, -5), (0x7F7F, 3.3895313892515355e38), (0x0001, 9.183549615799121e-41)]
        var buffer: [UInt8] = []
        for (bits, _) in halves + bf { buffer += [UInt8(bits & 0xFF), UInt8(bits >> 8)] }
        buffer += [0xFE, 0xFF, 0xFF, 0xFF, 0x05, 0, 0, 0]  // I32 -2, 5
        let nh = halves.count * 2, nb = bf.count * 2
        var file = ioSafetensorsBytes(header: #"{"h":{"dtype":"F16","shape":[\#(halves.count)],"data_offsets":[0,\#(nh)]},"#
            + #""b":{"dtype":"BF16","shape":[\#(bf.count)],"data_offsets":[\#(nh),\#(nh + nb)]},"#
            + #""i":{"dtype":"I32","shape":[2],"data_offsets":[\#(nh + nb),\#(nh + nb + 8)]}}"#, buffer: 0)
        file += buffer
        let (t, _) = try SafeTensors.read(bytes: file, name: "narrow")
        guard case .float32(let h)? = t["h"], case .float32(let b)? = t["b"] else { return XCTFail("missing tensors") }
        XCTAssertEqual(h.data.map(\.bitPattern), halves.map(\.1.bitPattern))
        XCTAssertEqual(b.data.map(\.bitPattern), bf.map(\.1.bitPattern))
        XCTAssertEqual(t["i"], .int64(shape: [2], values: [-2, 5]))
        // NaN half stays NaN.
        let nan = ioSafetensorsBytes(header: #"{"n":{"dtype":"F16","shape":[],"data_offsets":[0,2]}}"#, buffer: 0) + [0x00, 0x7E]
        guard case .float32(let n)? = try SafeTensors.read(bytes: nan, name: "nan").tensors["n"] else { return XCTFail() }
        XCTAssertTrue(n.data[0].isNaN)
    }

    func testWriteThenReadRoundTripsExactly() throws {
        let url = try ioTempDirectory("abn-st").appendingPathComponent("m.safetensors")
        let values: [Float] = [0, -0.0, 1e-45, .greatestFiniteMagnitude, 3.14159, -.infinity]
        let tensors: [(name: String, tensor: StateTensor)] = [
            ("b", .float32(Tensor(shape: [2, 3], data: values))),
            ("a.num_batches_tracked", .int64(shape: [], values: [Int64.min])),
            ("empty", .float32(Tensor(shape: [3, 0], data: []))),
            ("ünï \"q\"", .float32(Tensor(shape: [1], data: [.nan]))),
        ]
        let meta = ["k": "v \"quoted\" \\ ü\n\u{1}", "abn.classes": "[\"a\"]"]
        try SafeTensors.write(tensors, metadata: meta, to: url)
        let (read, readMeta) = try SafeTensors.read(contentsOf: url)
        XCTAssertEqual(readMeta, meta)
        XCTAssertEqual(read.count, 4)
        for (name, t) in tensors.prefix(3) { XCTAssertEqual(read[name], t, name) }
        guard case .float32(let n)? = read["ünï \"q\""] else { return XCTFail() }
        XCTAssertEqual(n.data[0].bitPattern, Float.nan.bitPattern)
        // Deterministic: the same input gives the same bytes.
        XCTAssertEqual(try SafeTensors.encode(tensors, metadata: meta), [UInt8](try Data(contentsOf: url)))
    }

    /// The written header checked by another JSON parser (Foundation's), and the layout by hand:
    /// 8-byte aligned data, ranges back to back covering the buffer, little-endian values.
    func testWrittenLayoutIsIndependentlyValid() throws {
        let url = try ioTempDirectory("abn-st").appendingPathComponent("m.safetensors")
        try SafeTensors.write([("w", .float32(Tensor(shape: [1, 2], data: [1, -2]))), ("n", .int64(shape: [], values: [258]))],
                              metadata: ["abn.arch": "cifar-resnet20"], to: url)
        let bytes = [UInt8](try Data(contentsOf: url))
        let n = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(n % 8, 0)
        XCTAssertEqual(bytes.count, 8 + n + 8 + 8)
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any])
        XCTAssertEqual(header["__metadata__"] as? [String: String], ["abn.arch": "cifar-resnet20"])
        let w = try XCTUnwrap(header["w"] as? [String: Any])
        XCTAssertEqual(w["dtype"] as? String, "F32")
        XCTAssertEqual(w["shape"] as? [Int], [1, 2])
        XCTAssertEqual(w["data_offsets"] as? [Int], [0, 8])
        let nbt = try XCTUnwrap(header["n"] as? [String: Any])
        XCTAssertEqual(nbt["dtype"] as? String, "I64")
        XCTAssertEqual(nbt["shape"] as? [Int], [])
        XCTAssertEqual(nbt["data_offsets"] as? [Int], [8, 16])
        XCTAssertEqual(Array(bytes[(8 + n)...]), [0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0, 2, 1, 0, 0, 0, 0, 0, 0])
        XCTAssertTrue(bytes[8..<(8 + n)].reversed().prefix { $0 != UInt8(ascii: "}") }.allSatisfy { $0 == 0x20 })
    }

    /// The reference Python package must read what we write: values, dtypes, shapes and metadata.
    /// tools/test.sh makes its environment (tools/torch-env.sh) and sets ABN_TORCH_PYTHON.
    func testReferenceLibraryReadsWrittenFile() throws {
        let python = ProcessInfo.processInfo.environment["ABN_TORCH_PYTHON"] ?? "/tmp/abn-torch-env/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            return XCTFail("no reference python at \(python): run `bash tools/torch-env.sh` and set ABN_TORCH_PYTHON to what it prints")
        }
        let url = try ioTempDirectory("abn-st").appendingPathComponent("m.safetensors")
        try SafeTensors.write([("conv.weight", .float32(Tensor(shape: [2, 1, 1, 3], data: [0.5, -1, 2, 1e-3, 7, -0.0]))),
                               ("bn.num_batches_tracked", .int64(shape: [], values: [123456789012]))],
                              metadata: ["abn.classes": "[\"ä\", \"b\"]"], to: url)
        let script = """
        import json, sys
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file(sys.argv[1])
        with safe_open(sys.argv[1], "np") as f: meta = f.metadata()
        print(json.dumps({k: [str(v.dtype), list(v.shape), v.ravel().tolist()] for k, v in t.items()} | {"meta": meta}))
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script, url.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let w = try XCTUnwrap(json["conv.weight"] as? [Any])
        XCTAssertEqual(w[0] as? String, "float32")
        XCTAssertEqual(w[1] as? [Int], [2, 1, 1, 3])
        XCTAssertEqual((w[2] as? [Double])?.map { Float($0) }, [0.5, -1, 2, 1e-3, 7, -0.0])
        let nbt = try XCTUnwrap(json["bn.num_batches_tracked"] as? [Any])
        XCTAssertEqual(nbt[0] as? String, "int64")
        XCTAssertEqual(nbt[2] as? [Int], [123456789012])
        XCTAssertEqual(json["meta"] as? [String: String], ["abn.classes": "[\"ä\", \"b\"]"])
    }

    /// Writes `bytes` to a real file and expects a one-line error that names it and says `problem`.
    func assertRejects(_ bytes: [UInt8], _ problem: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let url = try ioTempDirectory("abn-st").appendingPathComponent("bad.safetensors")
        try Data(bytes).write(to: url)
        XCTAssertThrowsError(try SafeTensors.read(contentsOf: url), file: file, line: line) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.hasPrefix(url.path + ": "), text, file: file, line: line)
            XCTAssertTrue(text.contains(problem), "\(text) should say \(problem)", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), text, file: file, line: line)
        }
    }

    func testMalformedFiles() throws {
        func f(_ header: String, _ buffer: Int) -> [UInt8] { ioSafetensorsBytes(header: header, buffer: buffer) }
        // Too short, header length absurd or beyond the file.
        try assertRejects([], "0 bytes, shorter than the 8-byte header length")
        try assertRejects([1, 2, 3], "3 bytes, shorter than the 8-byte header length")
        try assertRejects([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF] + Array("{}".utf8), "header length 18446744073709551615 is implausible")
        try assertRejects([0, 0, 0, 0x40, 0, 0, 0, 0] + Array("{}".utf8), "is implausible")
        try assertRejects([100, 0, 0, 0, 0, 0, 0, 0] + Array("{}".utf8), "header length 100 exceeds the 2 bytes after it")
        // Not JSON, not an object, not UTF-8, trailing text.
        try assertRejects(f("not json", 0), "the header is not valid JSON")
        try assertRejects(f("", 0), "the header is not valid JSON")
        try assertRejects(f("[1, 2]", 0), "the header is an array, not a JSON object")
        try assertRejects(f("{} x", 0), "unexpected text after the JSON value")
        try assertRejects(f("{\"a\u{1}\":1}", 0), "control character in a string")
        try assertRejects([2, 0, 0, 0, 0, 0, 0, 0, 0x7B, 0xFF], "not valid UTF-8")
        // UTF-16 with a BOM is what JSONSerialization would guess; the format says UTF-8.
        try assertRejects([6, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE, 0x7B, 0, 0x7D, 0], "not valid")
        // Entries: missing or ill-typed fields.
        try assertRejects(f(#"{"a":[1]}"#, 0), "tensor 'a': entry is an array, not an object")
        try assertRejects(f(#"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, 4), "tensor 'a': missing dtype")
        try assertRejects(f(#"{"a":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}"#, 4), "dtype is a number, not a string")
        try assertRejects(f(#"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, 4), "tensor 'a': missing shape")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#, 4), "shape is a string, not an array")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[1]}}"#, 4), "tensor 'a': missing data_offsets")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, 8), "data_offsets must be an array [begin, end]")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0.0,4]}}"#, 4), "are not integers")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e1]}}"#, 10), "are not integers")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}"#, 4), "are not integers (or too large)")
        // Shapes: negative, fractional, boolean, overflowing.
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, 4), "invalid shape")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, 4), "invalid shape")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, 4), "invalid shape")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, 4), "more than 2147483647 elements")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[65536,65536],"data_offsets":[0,4]}}"#, 4), "more than 2147483647 elements")
        // Offsets and byte counts.
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, 4), "data_offsets [0, 8] out of range (the data buffer is 4 bytes)")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, 8), "not an increasing pair")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[0],"data_offsets":[-4,0]}}"#, 8), "not an increasing pair")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, 8), "tensor 'a': 8 bytes for F32 [3], expected 12")
        try assertRejects(f(#"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,4]}}"#, 8), "4 bytes for I64 [1], expected 8")
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, 12),
                          "tensors 'a' [0, 8] and 'b' [4, 12] overlap")
        try assertRejects(f(#"{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#, 12), "overlap")
        // Dtypes.
        try assertRejects(f(#"{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]}}"#, 8), "tensor 'a': unsupported dtype U8")
        try assertRejects(f(#"{"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}}"#, 8), "unsupported dtype f32")
        // Duplicate keys, at the top and inside entries and metadata.
        try assertRejects(f(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8), "duplicate key 'a'")
        try assertRejects(f(#"{"a":{"dtype":"F32","dtype":"I64","shape":[1],"data_offsets":[0,4]}}"#, 8), "duplicate key 'dtype'")
        try assertRejects(f(#"{"__metadata__":{"k":"1","k":"2"}}"#, 0), "duplicate key 'k'")
        try assertRejects(f(#"{"a\u0062":1,"ab":2}"#, 0), "duplicate key 'ab'")
        // Metadata.
        try assertRejects(f(#"{"__metadata__":{"a":1}}"#, 0), "__metadata__ value for 'a' is a number, not a string")
        try assertRejects(f(#"{"__metadata__":["a"]}"#, 0), "__metadata__ is an array, not an object of strings")
    }

    func testHostileStructureFailsCleanly() throws {
        // Deep nesting would overflow a recursive parser's stack.
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        XCTAssertThrowsError(try SafeTensors.read(bytes: ioSafetensorsBytes(header: #"{"a":"# + deep + "}", buffer: 0), name: "deep")) {
            XCTAssertTrue("\($0)".contains("nested deeper than 64 levels"), "\($0)")
        }
        // Many zero-sized tensors are fine; an enormous element count is not.
        let many = (0..<2000).map { #""t\#($0)":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}"# }.joined(separator: ",")
        XCTAssertEqual(try SafeTensors.read(bytes: ioSafetensorsBytes(header: "{" + many + "}", buffer: 0), name: "many").tensors.count, 2000)
    }

    /// Every proper prefix of a valid file is rejected with an error, never a crash.
    func testEveryTruncationIsRejected() throws {
        let bytes = [UInt8](try Data(contentsOf: fixture))
        for cut in 0..<bytes.count {
            XCTAssertThrowsError(try SafeTensors.read(bytes: Array(bytes[0..<cut]), name: "cut"), "prefix \(cut)")
        }
        XCTAssertNoThrow(try SafeTensors.read(bytes: bytes, name: "whole"))
    }

    /// Single-byte corruptions anywhere in a valid file (header length, JSON, data): each read
    /// either succeeds or throws a one-line error naming the file; none crashes.
    func testCorruptedBytesNeverCrash() throws {
        let bytes = [UInt8](try Data(contentsOf: fixture))
        var rng = SystemRandomNumberGenerator()
        var rejected = 0
        for trial in 0..<3000 {
            var b = bytes
            let at = trial < bytes.count ? trial : Int.random(in: 0..<bytes.count, using: &rng)
            b[at] = trial < bytes.count ? b[at] ^ 0xFF : UInt8.random(in: 0...255, using: &rng)
            do { _ = try SafeTensors.read(bytes: b, name: "corrupt") } catch {
                rejected += 1
                XCTAssertTrue("\(error)".hasPrefix("corrupt: ") && !"\(error)".contains("\n"), "\(error)")
            }
        }
        XCTAssertGreaterThan(rejected, 100)
    }

    func testMissingFileAndDirectory() throws {
        let dir = try ioTempDirectory("abn-st")
        let url = dir.appendingPathComponent("absent.safetensors")
        XCTAssertThrowsError(try SafeTensors.read(contentsOf: url)) { XCTAssertEqual("\($0)", "\(url.path): cannot read: no such file") }
        XCTAssertThrowsError(try SafeTensors.read(contentsOf: dir)) { XCTAssertEqual("\($0)", "\(dir.path): cannot read: is a directory") }
    }

    func testWriteIntoMissingDirectoryLeavesNothing() throws {
        let url = try ioTempDirectory("abn-st").appendingPathComponent("nope/m.safetensors")
        XCTAssertThrowsError(try SafeTensors.write([], metadata: [:], to: url)) {
            XCTAssertEqual("\($0)", "\(url.path): cannot write: No such file or directory")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }

    /// Overwriting replaces the whole file and leaves no temporary file behind; a failed write
    /// (duplicate names) leaves the old file untouched.
    func testAtomicReplace() throws {
        let dir = try ioTempDirectory("abn-st")
        let url = dir.appendingPathComponent("m.safetensors")
        try SafeTensors.write([("a", .float32(Tensor(shape: [1000], data: [Float](repeating: 1, count: 1000))))], metadata: [:], to: url)
        try SafeTensors.write([("b", .float32(Tensor(shape: [1], data: [2])))], metadata: [:], to: url)
        XCTAssertEqual(try SafeTensors.read(contentsOf: url).tensors, ["b": .float32(Tensor(shape: [1], data: [2]))])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["m.safetensors"])
        let before = try Data(contentsOf: url)
        let twice: [(name: String, tensor: StateTensor)] = [("x", .int64(shape: [], values: [1])), ("x", .int64(shape: [], values: [2]))]
        XCTAssertThrowsError(try SafeTensors.write(twice, metadata: [:], to: url)) {
            XCTAssertEqual("\($0)", "\(url.path): cannot write tensor 'x' twice")
        }
        XCTAssertEqual(try Data(contentsOf: url), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["m.safetensors"])
    }
}
