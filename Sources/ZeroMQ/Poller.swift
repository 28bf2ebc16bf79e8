import CZeroMQ

/// Waits on several sockets and plain file descriptors at once (zmq_poll).
/// Items keep the order they were added in; `poll` reports readiness by index.
public struct Poller {
    private var items: [zmq_pollitem_t] = []
    private var sockets: [Socket?] = []  // keeps sockets alive while polled

    public init() {}

    /// Adds a socket to wait for input on; returns its index.
    @discardableResult
    public mutating func add(_ socket: Socket) -> Int {
        items.append(zmq_pollitem_t(socket: socket.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0))
        sockets.append(socket)
        return items.count - 1
    }

    /// Adds a file descriptor (an eventfd or pipe) to wait for input on; returns its index.
    @discardableResult
    public mutating func add(fileDescriptor fd: Int32) -> Int {
        items.append(zmq_pollitem_t(socket: nil, fd: fd, events: Int16(ZMQ_POLLIN), revents: 0))
        sockets.append(nil)
        return items.count - 1
    }

    /// Waits up to `timeoutMs` (-1: forever). Returns the indices with input ready.
    public mutating func poll(timeoutMs: Int) throws -> [Int] {
        while true {
            let rc = items.withUnsafeMutableBufferPointer {
                zmq_poll($0.baseAddress, Int32($0.count), timeoutMs)
            }
            if rc < 0 {
                let err = ZMQError.last("zmq_poll")
                if err.isInterrupted { return [] }
                throw err
            }
            if rc == 0 { return [] }
            var ready: [Int] = []
            for i in items.indices where items[i].revents & Int16(ZMQ_POLLIN) != 0 { ready.append(i) }
            return ready
        }
    }

    /// Whether item `index` had input at the last poll.
    public func isReady(_ index: Int) -> Bool { items[index].revents & Int16(ZMQ_POLLIN) != 0 }
}
