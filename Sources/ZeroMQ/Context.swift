import CZeroMQ

/// A libzmq context. Thread-safe (libzmq contexts are), so it may be shared.
public final class Context: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    public init(ioThreads: Int32 = 1) throws {
        guard let h = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        if ioThreads != 1 { zmq_ctx_set(h, ZMQ_IO_THREADS, ioThreads) }
        handle = h
    }

    /// Makes blocking calls on this context's sockets fail with ETERM, so loops on other threads end.
    public func shutdown() { zmq_ctx_shutdown(handle) }

    deinit {
        // Sockets keep their context alive (they hold a reference), so every socket is closed here.
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    public func socket(_ type: SocketType) throws -> Socket {
        try Socket(context: self, type: type)
    }
}

/// libzmq's version as (major, minor, patch).
public func libzmqVersion() -> (Int, Int, Int) {
    var a: Int32 = 0, b: Int32 = 0, c: Int32 = 0
    zmq_version(&a, &b, &c)
    return (Int(a), Int(b), Int(c))
}
