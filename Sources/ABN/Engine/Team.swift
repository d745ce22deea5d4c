import CDNNL

/// The engine's own loops on the OpenMP team that runs oneDNN and the Winograd kernel. A body gets a
/// contiguous range of its items and must write only what belongs to them, so results are the same
/// bits on any number of threads.
enum Team {
    /// Below this many floats touched, waking the other threads (a futex each, under the passive wait
    /// policy the executable sets) costs about what it saves.
    static let minimumParallelWork = 1 << 15

    /// body(range) over shares of 0..<count: on the team when `work` (floats the whole loop touches)
    /// is large enough, else once on this thread with 0..<count.
    static func forEachShare(of count: Int, work: Int, _ body: (Range<Int>) -> Void) {
        guard count > 1, work >= minimumParallelWork, cdnnl_team_size() > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            var call = body
            withUnsafeMutablePointer(to: &call) { pointer in
                cdnnl_parallel_shares(count, UnsafeMutableRawPointer(pointer)) { context, begin, end in
                    context!.assumingMemoryBound(to: ((Range<Int>) -> Void).self).pointee(begin..<end)
                }
            }
        }
    }
}
