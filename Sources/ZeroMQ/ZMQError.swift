import CZeroMQ

/// A libzmq call failed. `description` carries zmq_strerror's text and the call that failed.
public struct ZMQError: Error, CustomStringConvertible, Equatable, Sendable {
    public let code: Int32
    public let operation: String

    public var description: String {
        "\(operation): \(String(cString: zmq_strerror(code)))"
    }

    /// The error libzmq reports for the calling thread's last failed call.
    static func last(_ operation: String) -> ZMQError {
        ZMQError(code: zmq_errno(), operation: operation)
    }

    public var isWouldBlock: Bool { code == EAGAIN }
    public var isInterrupted: Bool { code == EINTR }
    /// The context was terminated; a socket loop should exit.
    public var isTerminated: Bool { code == ETERM }
}

@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
    if rc != 0 { throw ZMQError.last(operation()) }
}
