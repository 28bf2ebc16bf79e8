import Foundation

/// Milliseconds on a monotonic clock: what every timer in a poll loop is measured with.
public func monotonicMs() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// A flag any thread may set once (e.g. "stop") and a loop thread reads.
public final class OnceFlag: @unchecked Sendable {
    // Guarded by `lock`: set from signal-handling threads, read by the loop.
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func set() { lock.withLock { value = true } }
    public var isSet: Bool { lock.withLock { value } }
}
