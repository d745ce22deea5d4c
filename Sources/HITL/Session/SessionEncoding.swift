import Foundation
import GRDB

/// Little-endian Float32 blobs, the on-disk form of maps and probabilities (any host byte order).
enum FloatBlob {
    static func encode(_ values: [Float]) -> Data {
        var data = Data(capacity: values.count * 4)
        for v in values { var b = v.bitPattern.littleEndian; withUnsafeBytes(of: &b) { data.append(contentsOf: $0) } }
        return data
    }

    /// nil when the byte count is not a multiple of 4 (a damaged row).
    static func decode(_ data: Data) -> [Float]? {
        guard data.count % 4 == 0 else { return nil }
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count, by: 4).map { i in
            Float(bitPattern: UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24)
        }
    }
}

/// UTC time as ISO 8601 with milliseconds ("2026-11-22T13:22:55.035Z"), the form every row carries.
func utcNow() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    f.timeZone = TimeZone(identifier: "UTC")
    return f.string(from: Date())
}

/// One-line errors that name the file: "PATH: problem".
public struct SessionError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ path: String, _ problem: String) { description = "\(path): \(problem)" }
}

extension Row {
    /// A column's value; NULL or a value of another type (a damaged or hand-made file) is a
    /// SessionError naming the file and the column, where Row's subscript would stop the process.
    func checked<Value: DatabaseValueConvertible>(_ column: String, _ path: String) throws -> Value {
        do { return try decode(Value.self, forColumn: column) } catch {
            throw SessionError(path, "damaged row: column '\(column)' holds NULL or a value of another type")
        }
    }
}
