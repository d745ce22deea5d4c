import CDNNL

/// Activations are megabytes each and are freed and allocated again on every step. By default
/// glibc hands such blocks back to the kernel (mmap/munmap and heap trimming), so every step paid
/// for fresh zero-filled pages: page faults took about a tenth of a training step. Keeping freed
/// blocks in the heap lets each step reuse the previous step's memory. Peak RSS stays what the
/// live activations need; memory is not returned to the system before exit.
enum Allocator {
    static let keepFreedBlocks: Void = cdnnl_keep_freed_blocks()
}
