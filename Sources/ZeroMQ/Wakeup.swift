import CZeroMQ
import Glibc

/// A thread-safe doorbell for a poll loop: any thread may `ring`, the loop polls `fileDescriptor`
/// and calls `drain` when it fires. Built on a Linux eventfd so no ZeroMQ socket is shared.
public final class Wakeup: @unchecked Sendable {
    // The fd is written from many threads; eventfd writes are atomic, which is why this is safe.
    public let fileDescriptor: Int32

    public init() throws {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        if fd < 0 { throw ZMQError(code: errno, operation: "eventfd") }
        fileDescriptor = fd
    }

    deinit { Glibc.close(fileDescriptor) }

    public func ring() {
        var one: UInt64 = 1
        _ = write(fileDescriptor, &one, 8)
    }

    public func drain() {
        var value: UInt64 = 0
        _ = read(fileDescriptor, &value, 8)
    }
}
