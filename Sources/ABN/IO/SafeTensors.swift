import Foundation

/// Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of
/// UTF-8 JSON `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}`,
/// then the data buffer (offsets are relative to its start).
///
/// Reading bounds-checks everything before any tensor byte is touched, so a damaged or hostile file
/// gives a one-line `ABNError.modelFile` naming the file, never a crash. Supported dtypes:
/// - `F32` as is; `F16`, `BF16` and `F64` are converted to Float32 (PyTorch users may save those;
///   F64 values outside Float's range become ±inf, as `tensor.float()` does);
/// - `I64` (and `I32`, widened) become `.int64` — the state_dict uses them for `num_batches_tracked`.
/// Whether a tensor has the dtype a model expects is the loader's business (`ModelFile.load`).
///
/// Writing produces F32 and I64 tensors in the order given, laid out back to back, with the header
/// padded with spaces to a multiple of 8 bytes as the reference library does; `safetensors.torch.
/// load_file` reads the result.
public enum SafeTensors {
    /// Header lengths above this are refused before allocating (real headers are kilobytes).
    public static let maxHeaderBytes = 100 << 20
    /// No tensor may have more elements than this (2^31 − 1), whatever its dtype.
    public static let maxElements = Int(Int32.max)

    public typealias Contents = (tensors: [String: StateTensor], metadata: [String: String])

    public static func read(contentsOf url: URL) throws -> Contents {
        let data = try FileBytes.read(url)
        return try data.withUnsafeBytes { try parse($0, name: url.path) }
    }

    /// Parses a file already in memory; `name` stands for the file in error messages.
    public static func read(bytes: [UInt8], name: String) throws -> Contents {
        try bytes.withUnsafeBytes { try parse($0, name: name) }
    }

    private struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var count: Int
        var begin: Int
        var end: Int
    }

    enum DType: String {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64", i64 = "I64", i32 = "I32"

        var size: Int {
            switch self {
            case .f16, .bf16: return 2
            case .f32, .i32: return 4
            case .f64, .i64: return 8
            }
        }
    }

    /// Parses a whole safetensors file held in `raw`.
    static func parse(_ raw: UnsafeRawBufferPointer, name: String) throws -> Contents {
        func fail(_ problem: String) -> ABNError { .modelFile(path: name, problem: problem) }

        // 1. Header length, against the file size.
        guard raw.count >= 8 else {
            throw fail("not a safetensors file: \(raw.count) bytes, shorter than the 8-byte header length")
        }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(raw[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(maxHeaderBytes) else {
            throw fail("not a safetensors file: header length \(headerLength) is implausible (limit \(maxHeaderBytes) bytes)")
        }
        guard headerLength <= UInt64(raw.count - 8) else {
            throw fail("truncated or not a safetensors file: header length \(headerLength) exceeds the \(raw.count - 8) bytes after it")
        }
        let headerEnd = 8 + Int(headerLength)
        let bufferSize = raw.count - headerEnd

        // 2. The header: a JSON object of tensor entries and optional __metadata__.
        let json: HeaderJSON
        do {
            json = try HeaderJSON.parse(UnsafeRawBufferPointer(rebasing: raw[8..<headerEnd]))
        } catch let e as HeaderJSON.ParseError {
            throw fail("not a safetensors file: the header is not valid JSON (\(e.message) at header byte \(e.offset))")
        }
        guard let members = json.members else {
            throw fail("not a safetensors file: the header is \(json.kind), not a JSON object")
        }

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        entries.reserveCapacity(members.count)
        for (key, value) in members {
            if key == "__metadata__" {
                guard let dict = value.members else { throw fail("__metadata__ is \(value.kind), not an object of strings") }
                for (k, v) in dict {
                    guard let s = v.string else { throw fail("__metadata__ value for '\(k)' is \(v.kind), not a string") }
                    metadata[k] = s
                }
                continue
            }
            entries.append(try entry(key, value, fail: fail))
        }

        // 3. Byte ranges: inside the buffer, sized for dtype × shape, and not overlapping.
        for e in entries {
            guard e.begin >= 0, e.end >= e.begin else {
                throw fail("tensor '\(e.name)': data_offsets [\(e.begin), \(e.end)] are not an increasing pair of non-negative offsets")
            }
            guard e.end <= bufferSize else {
                throw fail("tensor '\(e.name)': data_offsets [\(e.begin), \(e.end)] out of range (the data buffer is \(bufferSize) bytes)")
            }
            let expected = e.count * e.dtype.size  // count ≤ 2^31, so no overflow
            guard e.end - e.begin == expected else {
                throw fail("tensor '\(e.name)': \(e.end - e.begin) bytes for \(e.dtype.rawValue) \(e.shape), expected \(expected)")
            }
        }
        let byOffset = entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where b.begin < a.end {
            throw fail("tensors '\(a.name)' [\(a.begin), \(a.end)] and '\(b.name)' [\(b.begin), \(b.end)] overlap in the data buffer")
        }

        // 4. Only now read the data.
        var tensors: [String: StateTensor] = [:]
        tensors.reserveCapacity(entries.count)
        let base = raw.baseAddress.map { UnsafeRawPointer($0) }
        for e in entries {
            let bytes = UnsafeRawBufferPointer(start: base.map { $0 + headerEnd + e.begin }, count: e.end - e.begin)
            tensors[e.name] = decode(bytes, dtype: e.dtype, count: e.count, shape: e.shape)
        }
        return (tensors, metadata)
    }

    /// Validates one tensor entry of the header.
    private static func entry(_ name: String, _ value: HeaderJSON, fail: (String) -> ABNError) throws -> Entry {
        guard value.members != nil else { throw fail("tensor '\(name)': entry is \(value.kind), not an object") }
        guard let dtypeValue = value["dtype"] else { throw fail("tensor '\(name)': missing dtype") }
        guard let dtypeText = dtypeValue.string else { throw fail("tensor '\(name)': dtype is \(dtypeValue.kind), not a string") }
        guard let dtype = DType(rawValue: dtypeText) else {
            throw fail("tensor '\(name)': unsupported dtype \(dtypeText) (supported: F32, F16, BF16, F64, I64, I32)")
        }
        guard let shapeValue = value["shape"] else { throw fail("tensor '\(name)': missing shape") }
        guard let dims = shapeValue.array else { throw fail("tensor '\(name)': shape is \(shapeValue.kind), not an array") }
        guard dims.count <= 16 else { throw fail("tensor '\(name)': shape has \(dims.count) dimensions (at most 16)") }
        var shape: [Int] = []
        var count = 1
        for d in dims {
            guard let n = d.exactInt, n >= 0 else {
                throw fail("tensor '\(name)': invalid shape: dimensions must be non-negative integers")
            }
            shape.append(n)
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, product <= maxElements else {
                throw fail("tensor '\(name)': shape \(dims.map(describe)) has more than \(maxElements) elements")
            }
            count = product
        }
        guard let offsetsValue = value["data_offsets"] else { throw fail("tensor '\(name)': missing data_offsets") }
        guard let offsets = offsetsValue.array, offsets.count == 2 else {
            throw fail("tensor '\(name)': data_offsets must be an array [begin, end]")
        }
        guard let begin = offsets[0].exactInt, let end = offsets[1].exactInt else {
            throw fail("tensor '\(name)': data_offsets \(offsets.map(describe)) are not integers (or too large)")
        }
        return Entry(name: name, dtype: dtype, shape: shape, count: count, begin: begin, end: end)
    }

    private static func describe(_ v: HeaderJSON) -> String {
        switch v {
        case .number(let t): return t
        case .string(let s): return HeaderJSON.quoted(s)
        default: return v.kind
        }
    }

    /// Little-endian bytes to a StateTensor: integers to .int64, floats of any width to Float32.
    private static func decode(_ p: UnsafeRawBufferPointer, dtype: DType, count: Int, shape: [Int]) -> StateTensor {
        func floats(_ convert: (Int) -> Float) -> StateTensor {
            let values = [Float](unsafeUninitializedCapacity: count) { buf, initialized in
                for i in 0..<count { buf[i] = convert(i) }
                initialized = count
            }
            return .float32(Tensor(shape: shape, data: values))
        }
        switch dtype {
        case .f32:
            return floats { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        case .f16:
            return floats { Float(halfBits: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .bf16:
            // bfloat16 is the upper half of a float32.
            return floats { Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) << 16) }
        case .f64:
            return floats { Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
        case .i64:
            return .int64(shape: shape, values: (0..<count).map { Int64(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) })
        case .i32:
            return .int64(shape: shape, values: (0..<count).map { Int64(Int32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self))) })
        }
    }

    // MARK: Writing

    /// Writes tensors (in the given order) and metadata atomically: a temporary file in the same
    /// directory, fsync, then rename over the destination, so no half-written file is ever there.
    public static func write(_ tensors: [(name: String, tensor: StateTensor)], metadata: [String: String], to url: URL) throws {
        let bytes = try encode(tensors, metadata: metadata, name: url.path)
        try AtomicFile.write(bytes, to: url)
    }

    /// The bytes of a safetensors file; `name` stands for the destination in error messages.
    public static func encode(_ tensors: [(name: String, tensor: StateTensor)], metadata: [String: String],
                              name: String = "safetensors") throws -> [UInt8] {
        var seen = Set<String>()
        var parts: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { HeaderJSON.quoted($0) + ":" + HeaderJSON.quoted(metadata[$0]!) }
            parts.append("\"__metadata__\":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        for (tensorName, tensor) in tensors {
            guard tensorName != "__metadata__" else {
                throw ABNError.modelFile(path: name, problem: "cannot write a tensor named __metadata__")
            }
            guard seen.insert(tensorName).inserted else {
                throw ABNError.modelFile(path: name, problem: "cannot write tensor '\(tensorName)' twice")
            }
            let dtype: String, size: Int
            switch tensor {
            case .float32(let t): (dtype, size) = ("F32", t.count * 4)
            case .int64(let shape, let v):
                guard shape.reduce(1, *) == v.count else {
                    throw ABNError.modelFile(path: name, problem: "tensor '\(tensorName)': shape \(shape) does not match \(v.count) values")
                }
                (dtype, size) = ("I64", v.count * 8)
            }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            parts.append(HeaderJSON.quoted(tensorName) + ":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        var header = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        // Pad with spaces so the data buffer starts 8-byte aligned, as the reference library does.
        while header.count % 8 != 0 { header.append(0x20) }

        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out += $0 }
        out += header
        for (_, tensor) in tensors {
            switch tensor {
            case .float32(let t):
                for v in t.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
            case .int64(_, let values):
                for v in values { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
            }
        }
        return out
    }
}

extension Float {
    /// IEEE 754 binary16 to binary32 (exact: every half value is a float).
    init(halfBits h: UInt16) {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: value = mantissa · 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            self = sign != 0 ? -magnitude : magnitude
        } else if exponent == 31 {
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))  // inf or NaN
        } else {
            self = Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }
}

/// Whole-file reads with one-line reasons for failure.
enum FileBytes {
    static func read(_ url: URL) throws -> Data {
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
        guard exists else { throw ABNError.modelFile(path: url.path, problem: "cannot read: no such file") }
        guard !isDir.boolValue else { throw ABNError.modelFile(path: url.path, problem: "cannot read: is a directory") }
        do {
            return try Data(contentsOf: url)
        } catch {
            let reason = FileManager.default.isReadableFile(atPath: url.path) ? "read error" : "permission denied"
            throw ABNError.modelFile(path: url.path, problem: "cannot read: \(reason)")
        }
    }
}
