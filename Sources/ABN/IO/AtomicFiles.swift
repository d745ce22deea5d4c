import Foundation

/// Writes a file so that the destination holds either its old content or the whole new content.
/// The bytes go into an unnamed file in the destination's folder (Linux O_TMPFILE), which a killed
/// process leaves nowhere; once written and fsync'ed it gets a hidden name (`.<name>.<pid>.<random>.tmp`)
/// and is renamed over the destination, then the folder is fsync'ed so the rename survives a crash.
/// Where the file system has no unnamed files, the hidden name is created first instead, so a kill
/// mid-write can leave it behind; the next write of the same destination removes the ones whose
/// process is gone.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to url: URL) throws {
        func fail(_ err: Int32) -> ABNError {
            .modelFile(path: url.path, problem: "cannot write: \(String(cString: strerror(err)))")
        }
        let dir = url.deletingLastPathComponent()
        StaleLeftovers.remove(in: dir, prefix: ".\(url.lastPathComponent).", suffix: ".tmp")
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let temp = dir.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(suffix).tmp")
        var fd = open(dir.path, O_WRONLY | O_CLOEXEC | unnamedFileFlag, 0o644)
        let unnamed = fd >= 0
        if !unnamed { fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw fail(errno) }
        var failure: Int32 = 0
        bytes.withUnsafeBytes { buf in
            var written = 0
            while written < buf.count {
                let n = Foundation.write(fd, buf.baseAddress! + written, buf.count - written)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { failure = n < 0 ? errno : EIO; return }
                written += n
            }
            if fsync(fd) != 0 { failure = errno }
        }
        if failure == 0 && unnamed && linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, temp.path, AT_SYMLINK_FOLLOW) != 0 {
            failure = errno
        }
        if close(fd) != 0 && failure == 0 { failure = errno }
        if failure == 0 && rename(temp.path, url.path) != 0 { failure = errno }
        guard failure == 0 else {
            unlink(temp.path)
            throw fail(failure)
        }
        syncDirectory(dir)
    }

    /// O_TMPFILE, which Swift does not import (a macro over the private __O_TMPFILE): 0o20000000 on
    /// every Linux architecture Swift runs on, plus O_DIRECTORY.
    private static let unnamedFileFlag: Int32 = 0o20000000 | O_DIRECTORY

    public static func syncDirectory(_ dir: URL) {
        let dfd = open(dir.path, O_RDONLY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}

/// Makes a directory appear whole or not at all: its contents are written into a hidden sibling
/// (`.<name>.partial-<pid>`), which is renamed to the destination when complete. An existing
/// destination is replaced only if `replaceable` says so (for export: empty, or an earlier export);
/// it is moved aside (`.<name>.old-<pid>`) for the instant between the two renames and then removed.
/// A kill leaves the destination as it was or complete, plus at most a hidden sibling, which the next
/// build of the same destination removes once its process is gone.
public enum AtomicDirectory {
    /// `refusal` is the problem reported when an existing destination is not `replaceable`.
    public static func build<T>(_ url: URL, replaceable: (URL) -> Bool, refusal: String, contents: (URL) throws -> T) throws -> T {
        let url = url.standardizedFileURL
        func fail(_ problem: String) -> ABNError { .modelFile(path: url.path, problem: problem) }
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir)
        if exists && !isDir.boolValue { throw fail("the destination is a file, not a directory") }
        if exists && !replaceable(url) { throw fail(refusal) }
        let parent = url.deletingLastPathComponent(), name = url.lastPathComponent
        do { try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true) } catch {
            throw fail("cannot create the folder it goes in: \((error as NSError).localizedDescription)")
        }
        for kind in ["partial", "old"] { StaleLeftovers.remove(in: parent, prefix: ".\(name).\(kind)-", suffix: "") }
        let staging = parent.appendingPathComponent(".\(name).partial-\(getpid())")
        try? FileManager.default.removeItem(at: staging)
        guard mkdir(staging.path, 0o755) == 0 else { throw fail("cannot create the folder: \(String(cString: strerror(errno)))") }
        let result: T
        do { result = try contents(staging) } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
        // rename(2) replaces an empty directory in one step; a non-empty one is moved aside first.
        var aside: URL? = nil
        if exists, (try? FileManager.default.contentsOfDirectory(atPath: url.path).isEmpty) == false {
            let old = parent.appendingPathComponent(".\(name).old-\(getpid())")
            guard rename(url.path, old.path) == 0 else {
                let text = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: staging)
                throw fail("cannot move the earlier folder aside: \(text)")
            }
            aside = old
        }
        guard rename(staging.path, url.path) == 0 else {
            let text = String(cString: strerror(errno))
            if let aside { _ = rename(aside.path, url.path) }
            try? FileManager.default.removeItem(at: staging)
            throw fail("cannot move the finished folder into place: \(text)")
        }
        AtomicFile.syncDirectory(parent)
        if let aside { try? FileManager.default.removeItem(at: aside) }
        return result
    }
}

/// Hidden leftovers of a killed process, named `<prefix><pid><rest><suffix>`: removed when that
/// process no longer exists (a live one may still be writing them).
public enum StaleLeftovers {
    public static func remove(in dir: URL, prefix: String, suffix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(suffix) && name.count > prefix.count + suffix.count {
            let afterPrefix = name.dropFirst(prefix.count).dropLast(suffix.count)
            let digits = afterPrefix.prefix(while: \.isNumber), rest = afterPrefix.dropFirst(digits.count)
            // Only this program's exact pattern: nothing, or "." and a random alphanumeric tag, after the pid.
            guard rest.isEmpty || (rest.first == "." && rest.count > 1 && rest.dropFirst().allSatisfy { $0.isLetter || $0.isNumber }) else { continue }
            guard let pid = pid_t(digits), pid > 0, !isAlive(pid) else { continue }
            try? FileManager.default.removeItem(at: dir.appendingPathComponent(name))
        }
    }

    static func isAlive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno == EPERM }
}
