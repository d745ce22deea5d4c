import Foundation

/// Where a sample named by a session lives. A session file is untrusted input: a sample path with
/// `..`, an absolute path, or a symbolic link out of the dataset must not make export, review or
/// fine-tuning read (or name outputs after) files outside the folder the session points at.
public enum SamplePath {
    /// `folder/relativePath`, or an error naming the path when the name or a symbolic link on the
    /// way leads outside `folder` (which may itself be reached through links).
    public static func resolve(_ relativePath: String, under folder: URL) throws -> URL {
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false)
        guard !relativePath.isEmpty, !relativePath.hasPrefix("/"), !relativePath.contains("\0"),
              !parts.contains(where: { $0 == ".." || $0.isEmpty }) else {
            throw DataError(path: folder.path, problem: "sample path '\(relativePath)' is not a relative path inside this folder; refused")
        }
        let url = folder.appendingPathComponent(relativePath)
        let base = folder.resolvingSymlinksInPath().path
        let real = url.resolvingSymlinksInPath().path
        guard real.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
            throw DataError(path: url.path, problem: "a symbolic link leads outside the dataset folder \(base) (to \(real)); refused")
        }
        return url
    }
}
