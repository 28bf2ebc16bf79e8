import CZeroMQ
import Foundation

/// A ZAP handler (RFC 27/ZAP): libzmq asks it, over `inproc://zeromq.zap.01` in the same context,
/// whether each new connection to a socket with a ZAP domain may proceed. It runs on its own
/// thread with its own REP socket, so a handshake never waits on the thread that moves messages.
///
/// Bind it before any socket it guards binds: libzmq lets connections through unchecked while no
/// handler is bound.
public final class ZAPHandler: @unchecked Sendable {
    /// What libzmq tells the handler about a connection.
    public struct Request: Sendable {
        public var domain: String
        public var address: String
        /// "NULL", "PLAIN" or "CURVE".
        public var mechanism: String
        /// For CURVE: the client's long-term public key, in Z85.
        public var clientKey: String?
    }

    public enum Verdict: Sendable, Equatable {
        /// Let it in; every message from the connection carries `userId` (`Socket.receive(userId:)`).
        case allow(userId: String)
        case deny(String)
    }

    public static let endpoint = "inproc://zeromq.zap.01"

    // Owned by the handler thread after `init`; `stop` only rings `wakeup`.
    private let socket: Socket
    private let wakeup: Wakeup
    private let decide: @Sendable (Request) -> Verdict
    /// The guarded socket's accepted and closed connections (a monitor), with `maxConnections`.
    private let connections: Socket?
    private let maxConnections: Int
    private let onFull: @Sendable (Request) -> Void
    private let onHandshakeFailure: @Sendable (String) -> Void
    private var open = 0
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopping = false  // guarded by `lock`: `stop` may come from any thread, more than once

    /// `decide` runs on the handler's thread, once per new connection. With `guarding` and
    /// `maxConnections`, a connection past that many open ones on the guarded socket is refused
    /// before `decide` is asked (each keeps buffers in libzmq, so their number is a memory bound).
    public init(context: Context, guarding guarded: Socket? = nil, maxConnections: Int = .max,
                onFull: @escaping @Sendable (Request) -> Void = { _ in },
                onHandshakeFailure: @escaping @Sendable (String) -> Void = { _ in },
                decide: @escaping @Sendable (Request) -> Verdict) throws {
        self.onFull = onFull
        self.onHandshakeFailure = onHandshakeFailure
        socket = try context.socket(.rep)
        try socket.bind(Self.endpoint)
        wakeup = try Wakeup()
        self.decide = decide
        self.maxConnections = maxConnections
        if let guarded, maxConnections < .max {
            let endpoint = "inproc://shoal-zap-connections-\(UInt(bitPattern: guarded.handle))"
            // Handshakes that fail before ZAP is asked (a plaintext peer at a CURVE socket) are seen here only.
            try check(zmq_socket_monitor(guarded.handle, endpoint, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED
                                         | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL), "zmq_socket_monitor")
            let pair = try context.socket(.pair)
            try pair.connect(endpoint)
            connections = pair
        } else {
            connections = nil
        }
        let thread = Thread { [self] in self.run() }
        thread.name = "shoal-zap"
        thread.start()
    }

    /// Ends the handler's thread and closes its socket (before the context is terminated).
    public func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopping = true }
            return !stopping
        }
        wakeup.ring()
        if first { done.wait() }
    }

    private func run() {
        defer { socket.close(); connections?.close(); done.signal() }
        var poller = Poller()
        let sock = poller.add(socket)
        let bell = poller.add(fileDescriptor: wakeup.fileDescriptor)
        let monitor = connections.map { poller.add($0) }
        while true {
            guard let ready = try? poller.poll(timeoutMs: -1) else { return }
            if ready.contains(bell) { return }
            if let monitor, ready.contains(monitor), let connections { count(connections) }
            guard ready.contains(sock), let frames = try? socket.receive(dontWait: true, maxFrames: 16) else { continue }
            // A connection is accepted (and counted) before its handshake asks here.
            if let events = connections { count(events) }
            let full = open > maxConnections
            let reply: [Frame]
            if full {
                reply = Self.answer(frames) { request in
                    onFull(request)
                    return .deny("too many connections")
                }
            } else {
                reply = Self.answer(frames, decide)
            }
            _ = try? socket.send(reply, dontWait: true)
        }
    }

    /// Applies the monitor's waiting events to `open`.
    private func count(_ events: Socket) {
        while let frames = try? events.receive(dontWait: true), let (event, value) = monitorEvent(frames) {
            if event == ZMQ_EVENT_ACCEPTED { open += 1 }
            if event == ZMQ_EVENT_DISCONNECTED { open = max(0, open - 1) }
            if event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL || event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL {
                onHandshakeFailure(event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                    ? "protocol error 0x\(String(value, radix: 16)): a plaintext peer at a CURVE coordinator, or a client with the wrong coordinator key"
                    : "errno \(value), \(String(cString: zmq_strerror(Int32(value)))) (as a plaintext peer's does at a CURVE coordinator)")
            }
        }
    }

    /// The reply to one ZAP request's frames (version, request id, domain, address, identity,
    /// mechanism, credentials…).
    static func answer(_ frames: [Frame], _ decide: (Request) -> Verdict) -> [Frame] {
        let requestId = frames.count > 1 ? frames[1] : []
        func reply(_ code: String, _ text: String, _ userId: String = "") -> [Frame] {
            [Array("1.0".utf8), requestId, Array(code.utf8), Array(text.utf8), Array(userId.utf8), []]
        }
        guard frames.count >= 6, frames[0] == Array("1.0".utf8) else { return reply("500", "malformed ZAP request") }
        let text = { (i: Int) in String(decoding: frames[i], as: UTF8.self) }
        let mechanism = text(5)
        let key = mechanism == "CURVE" && frames.count > 6 ? CurveKeyPair.z85(frames[6]) : nil
        switch decide(Request(domain: text(2), address: text(3), mechanism: mechanism, clientKey: key)) {
        case .allow(let userId): return reply("200", "OK", userId)
        case .deny(let why): return reply("400", why)
        }
    }
}
