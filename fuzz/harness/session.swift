// libFuzzer harness: bytes as session.sqlite. The session is opened as export opens it (read-only)
// and as review and collect open it (read-write: an older schema is migrated), then every table is
// read through the product's readers, as export and review read them. Any outcome but a crash, a hang
// or a sanitizer report is fine: a damaged session must only throw, naming the file and the row.
import Foundation

private let directory: URL = {
    // /dev/shm where there is one: the product syncs its writes, which on a disk would cost more than the rest.
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let d = URL(fileURLWithPath: base).appendingPathComponent("abn-fuzz-session-\(getpid())")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    Session.lockTimeout = 0   // one process: a lock can only be a stale one in the input, never worth waiting for
    return d
}()

private func readEverything(_ s: Session) {
    _ = try? s.samples()
    _ = try? s.edits()
    _ = try? s.marks()
    _ = try? s.latestActivity(sampleID: 1)
    _ = try? s.modelChanges()
    _ = try? s.runs()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let file = directory.appendingPathComponent("session.sqlite")
    for suffix in ["-wal", "-shm", "-journal"] { unlink(file.path + suffix) }
    guard FileManager.default.createFile(atPath: file.path, contents: Data(bytes: data, count: size)) else { return 0 }
    if let s = try? Session.open(directory, readOnly: true) { readEverything(s) }
    if let s = try? Session.open(directory) { readEverything(s) }
    return 0
}
