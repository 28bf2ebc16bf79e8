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

    private var terminated = false

    /// Waits until the messages queued on this context's closed sockets are sent (each socket's
    /// linger bounds the wait), then releases the context. Every socket of the context must be
    /// closed first, or this waits forever. A process that exits without it drops what libzmq
    /// had not sent yet. Called from one thread; deinit calls it too.
    public func terminate() {
        guard !terminated else { return }
        terminated = true
        while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {}
    }

    deinit {
        // Sockets keep their context alive (they hold a reference), so every socket is closed here.
        terminate()
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
