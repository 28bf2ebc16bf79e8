import COpenBLAS
import Dispatch

/// Runs `body` over `0..<count` split into one contiguous chunk per compute thread (the
/// count `setComputeThreads` gave OpenBLAS), so the element-wise ops use the cores the
/// matrix products use. Work below `minimumChunk` items per thread stays on the caller.
func forEachChunk(_ count: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void) {
    let threads = min(Int(openblas_get_num_threads()), count / max(minimumChunk, 1))
    guard threads > 1 else {
        body(0..<count)
        return
    }
    withoutActuallyEscaping(body) { body in
        // Safe to share: every chunk writes only its own disjoint items, and
        // `concurrentPerform` returns only after all chunks are done.
        let shared = UncheckedSendable(body)
        DispatchQueue.concurrentPerform(iterations: threads) { i in
            shared.value((count * i / threads)..<(count * (i + 1) / threads))
        }
    }
}

private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
