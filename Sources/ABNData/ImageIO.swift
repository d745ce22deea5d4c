import CImageIO
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The container formats we decode, told apart by their first bytes (never by the extension).
public enum ImageFormat: String, Sendable {
    case png, jpeg

    /// PNG: 89 50 4E 47 0D 0A 1A 0A. JPEG: FF D8 FF (SOI followed by any marker).
    public static func detect(_ bytes: [UInt8]) -> ImageFormat? {
        if bytes.count >= 8 && bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            return .png
        }
        if bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF {
            return .jpeg
        }
        return nil
    }
}

/// Width, height and channel count read from a header alone.
public struct ImageInfo: Sendable, Equatable {
    public var format: ImageFormat
    public var width: Int
    public var height: Int
    public var channels: Int
}

public enum ImageIO {
    /// Files larger than this are refused before they are read into memory.
    public static let maxFileBytes = 1 << 30

    /// Reads and decodes a PNG or JPEG file, whatever its extension says. Images with more than
    /// `maxPixels` pixels are refused after reading the header, before any pixel is decoded.
    public static func decode(fileAt url: URL, maxPixels: Int = 50_000_000) throws -> Image {
        let bytes = try readFile(url)
        return try decode(data: bytes, name: url.path, maxPixels: maxPixels)
    }

    /// Decodes PNG or JPEG bytes; `name` is the path used in error messages.
    public static func decode(data: [UInt8], name: String, maxPixels: Int = 50_000_000) throws -> Image {
        let format = try detectFormat(data, name: name)
        var out = cimg_image()
        var message = [CChar](repeating: 0, count: Int(CIMG_MESSAGE_SIZE))
        let status: Int32 = data.withUnsafeBufferPointer { buffer in
            switch format {
            case .png: return cimg_png_decode(buffer.baseAddress, buffer.count, Int64(maxPixels), &out, &message)
            case .jpeg: return cimg_jpeg_decode(buffer.baseAddress, buffer.count, Int64(maxPixels), &out, &message)
            }
        }
        guard status == CIMG_OK, let raw = out.pixels else {
            throw DataError(path: name, problem: problemText(message, status: status))
        }
        defer { cimg_free(raw) }
        let count = Int(out.width) * Int(out.height) * Int(out.channels)
        let pixels = [UInt8](UnsafeBufferPointer(start: raw, count: count))
        return Image(width: Int(out.width), height: Int(out.height), channels: Int(out.channels), pixels: pixels)
    }

    /// Reads only as much as the header needs: size and channel count without decoding pixels.
    public static func info(fileAt url: URL) throws -> ImageInfo {
        try info(data: try readFile(url), name: url.path)
    }

    public static func info(data: [UInt8], name: String) throws -> ImageInfo {
        let format = try detectFormat(data, name: name)
        var out = cimg_image()
        var message = [CChar](repeating: 0, count: Int(CIMG_MESSAGE_SIZE))
        let status: Int32 = data.withUnsafeBufferPointer { buffer in
            switch format {
            case .png: return cimg_png_info(buffer.baseAddress, buffer.count, &out, &message)
            case .jpeg: return cimg_jpeg_info(buffer.baseAddress, buffer.count, &out, &message)
            }
        }
        guard status == CIMG_OK else { throw DataError(path: name, problem: problemText(message, status: status)) }
        return ImageInfo(format: format, width: Int(out.width), height: Int(out.height), channels: Int(out.channels))
    }

    /// Writes 8-bit gray (1), RGB (3) or RGBA (4) as PNG, through a temporary file in the same
    /// folder and a rename, so readers never see half a file.
    public static func writePNG(_ image: Image, to url: URL) throws {
        let bytes: [UInt8]
        do {
            bytes = try encodePNG(image)
        } catch let error as DataError {
            throw DataError(path: url.path, problem: error.problem)   // name the file, not the encoder
        }
        try writeAtomically(bytes, to: url)
    }

    public static func encodePNG(_ image: Image) throws -> [UInt8] {
        guard [1, 3, 4].contains(image.channels) else {
            throw DataError(path: "<png encoder>", problem: "cannot write \(image.channels)-channel PNG (1, 3 or 4 channels)")
        }
        guard image.pixels.count == image.width * image.height * image.channels else {
            throw DataError(path: "<png encoder>", problem: "pixel buffer does not match \(image.width)x\(image.height)x\(image.channels)")
        }
        var data: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var message = [CChar](repeating: 0, count: Int(CIMG_MESSAGE_SIZE))
        let status = image.pixels.withUnsafeBufferPointer { buffer in
            cimg_png_encode(buffer.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
                            &data, &size, &message)
        }
        guard status == CIMG_OK, let data else {
            throw DataError(path: "<png encoder>", problem: problemText(message, status: status))
        }
        defer { cimg_free(data) }
        return [UInt8](UnsafeBufferPointer(start: data, count: size))
    }

    // MARK: - Files

    /// Reads a whole file with errno turned into words a user can act on.
    public static func readFile(_ url: URL) throws -> [UInt8] {
        let path = url.path
        let fd = open(path, O_RDONLY)
        if fd < 0 { throw DataError(path: path, problem: "cannot read file (\(errnoText(errno)))") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw DataError(path: path, problem: "cannot read file (\(errnoText(errno)))") }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw DataError(path: path, problem: "is a directory, not an image file") }
        let size = Int(status.st_size)
        if size == 0 { throw DataError(path: path, problem: "empty file (0 bytes)") }
        if size > maxFileBytes { throw DataError(path: path, problem: "file is \(size) bytes, over the \(maxFileBytes)-byte limit") }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError(path: path, problem: "cannot read file (\(errnoText(errno)))")
            }
            if n == 0 { break }   // the file shrank while we read it
            done += n
        }
        if done < size { bytes.removeSubrange(done...) }
        if bytes.isEmpty { throw DataError(path: path, problem: "empty file (0 bytes)") }
        return bytes
    }

    static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
        let path = url.path
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp").path
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        if fd < 0 { throw DataError(path: path, problem: "cannot write file (\(errnoText(errno)))") }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                let text = errnoText(errno)
                close(fd)
                unlink(temp)
                throw DataError(path: path, problem: "cannot write file (\(text))")
            }
            done += n
        }
        if close(fd) != 0 {
            let text = errnoText(errno)
            unlink(temp)
            throw DataError(path: path, problem: "cannot write file (\(text))")
        }
        if rename(temp, path) != 0 {
            let text = errnoText(errno)
            unlink(temp)
            throw DataError(path: path, problem: "cannot write file (\(text))")
        }
    }

    // MARK: - Helpers

    static func detectFormat(_ data: [UInt8], name: String) throws -> ImageFormat {
        if data.isEmpty { throw DataError(path: name, problem: "empty file (0 bytes)") }
        if let format = ImageFormat.detect(data) { return format }
        let head = data.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        throw DataError(path: name, problem: "not a PNG or JPEG image (file starts with bytes \(head))")
    }

    static func problemText(_ message: [CChar], status: Int32) -> String {
        let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        if !text.isEmpty { return text }
        return status == CIMG_NO_MEMORY ? "out of memory" : "cannot decode image"
    }
}

func errnoText(_ code: Int32) -> String {
    switch code {
    case ENOENT: return "no such file"
    case EACCES, EPERM: return "permission denied"
    case EISDIR: return "is a directory"
    case ENOTDIR: return "a parent is not a directory"
    default: return String(cString: strerror(code))
    }
}
