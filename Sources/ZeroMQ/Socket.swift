import CZeroMQ
import Foundation

/// One frame of a multipart message.
public typealias Frame = [UInt8]

/// A libzmq socket. Not thread-safe (libzmq sockets are not): one thread owns it.
public final class Socket {
    let handle: UnsafeMutableRawPointer
    private let context: Context  // keeps the context alive while the socket is open
    private var closed = false

    init(context: Context, type: SocketType) throws {
        guard let h = zmq_socket(context.handle, type.raw) else { throw ZMQError.last("zmq_socket") }
        handle = h
        self.context = context
        // A closed socket must never block process exit on unsent messages.
        try set(ZMQ_LINGER, Int32(0), "ZMQ_LINGER")
    }

    deinit { close() }

    public func close() {
        guard !closed else { return }
        closed = true
        zmq_close(handle)
    }

    public func bind(_ endpoint: String) throws {
        try check(zmq_bind(handle, endpoint), "zmq_bind(\(endpoint))")
    }

    public func connect(_ endpoint: String) throws {
        try check(zmq_connect(handle, endpoint), "zmq_connect(\(endpoint))")
    }

    public func disconnect(_ endpoint: String) throws {
        try check(zmq_disconnect(handle, endpoint), "zmq_disconnect(\(endpoint))")
    }

    // MARK: sending

    /// Sends one frame; `more` marks that further frames of the same message follow.
    /// Returns false only when `dontWait` is set and the message would block (high-water mark).
    @discardableResult
    public func send(_ frame: Frame, more: Bool = false, dontWait: Bool = false) throws -> Bool {
        var flags: Int32 = more ? ZMQ_SNDMORE : 0
        if dontWait { flags |= ZMQ_DONTWAIT }
        while true {
            let rc = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            if rc >= 0 { return true }
            let err = ZMQError.last("zmq_send")
            if err.isInterrupted { continue }
            if err.isWouldBlock && dontWait { return false }
            throw err
        }
    }

    /// Sends a multipart message. With `dontWait`, returns false if the first frame would block
    /// (libzmq sends the remaining frames of a started message atomically).
    @discardableResult
    public func send(_ frames: [Frame], dontWait: Bool = false) throws -> Bool {
        precondition(!frames.isEmpty, "a ZeroMQ message has at least one frame")
        for (i, frame) in frames.enumerated() {
            let more = i < frames.count - 1
            if !(try send(frame, more: more, dontWait: dontWait && i == 0)) { return false }
        }
        return true
    }

    // MARK: receiving

    /// Receives one whole multipart message. Returns nil only with `dontWait` when none is waiting.
    /// A message of more than `maxFrames` frames is read to its end and dropped: it comes
    /// back as no frames at all (`[]`), so one message of a million tiny frames cannot hold
    /// memory for each.
    public func receive(dontWait: Bool = false, maxFrames: Int = .max) throws -> [Frame]? {
        var unused: String?
        return try receive(dontWait: dontWait, maxFrames: maxFrames, userId: &unused, wantsUserId: false)
    }

    /// `receive`, also giving the User-Id a ZAP handler gave the sending peer's connection
    /// (nil on a connection no ZAP handler authenticated, such as a plaintext one).
    public func receive(dontWait: Bool = false, maxFrames: Int = .max, userId: inout String?) throws -> [Frame]? {
        try receive(dontWait: dontWait, maxFrames: maxFrames, userId: &userId, wantsUserId: true)
    }

    private func receive(dontWait: Bool, maxFrames: Int, userId: inout String?, wantsUserId: Bool) throws -> [Frame]? {
        var frames: [Frame] = []
        var tooMany = false
        if wantsUserId { userId = nil }
        frames.reserveCapacity(8)  // a worker's REPLY with a three-frame Shoal body, as the coordinator reads it
        var msg = zmq_msg_t()
        zmq_msg_init(&msg)
        defer { zmq_msg_close(&msg) }
        while true {
            let flags: Int32 = (dontWait && frames.isEmpty) ? ZMQ_DONTWAIT : 0
            let rc = zmq_msg_recv(&msg, handle, flags)
            if rc < 0 {
                let err = ZMQError.last("zmq_msg_recv")
                if err.isInterrupted { continue }
                if err.isWouldBlock && frames.isEmpty && dontWait { return nil }
                throw err
            }
            if frames.count >= maxFrames {
                tooMany = true
                frames = [[]]  // keeps `frames.isEmpty` false while the rest is drained
            }
            // A ROUTER's first frame (the identity it made up) may carry no metadata: the first
            // frame that does answers.
            if wantsUserId && (frames.isEmpty || userId == nil) {
                userId = zmq_msg_gets(&msg, "User-Id").map { String(cString: $0) }
            }
            if !tooMany {
                // Copied through a buffer pointer: Array's specialised init from one is about half
                // the cost of `init(unsafeUninitializedCapacity:)`, whose allocation is not
                // specialised and looks up the storage class's metadata on every call.
                let size = zmq_msg_size(&msg)
                frames.append(size == 0 ? [] : Frame(UnsafeRawBufferPointer(start: zmq_msg_data(&msg), count: size)))
            }
            if zmq_msg_more(&msg) == 0 { return tooMany ? [] : frames }
        }
    }

    // MARK: options

    func set(_ option: Int32, _ value: Int32, _ name: String) throws {
        var v = value
        try check(zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size), "zmq_setsockopt(\(name))")
    }

    func set(_ option: Int32, _ value: Int64, _ name: String) throws {
        var v = value
        try check(zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size), "zmq_setsockopt(\(name))")
    }

    func set(_ option: Int32, bytes: [UInt8], _ name: String) throws {
        try bytes.withUnsafeBytes {
            try check(zmq_setsockopt(handle, option, $0.baseAddress, $0.count), "zmq_setsockopt(\(name))")
        }
    }

    func getString(_ option: Int32, _ name: String) throws -> String {
        var buf = [CChar](repeating: 0, count: 512)
        var len = buf.count
        try check(zmq_getsockopt(handle, option, &buf, &len), "zmq_getsockopt(\(name))")
        return String(cString: buf)
    }

    func getInt32(_ option: Int32, _ name: String) throws -> Int32 {
        var v: Int32 = 0
        var len = MemoryLayout<Int32>.size
        try check(zmq_getsockopt(handle, option, &v, &len), "zmq_getsockopt(\(name))")
        return v
    }

    /// Milliseconds a closed socket keeps trying to send pending messages (default here: 0).
    public func setLinger(_ ms: Int32) throws { try set(ZMQ_LINGER, ms, "ZMQ_LINGER") }
    /// Outgoing high-water mark, in messages (0 = unlimited).
    public func setSendHighWaterMark(_ n: Int32) throws { try set(ZMQ_SNDHWM, n, "ZMQ_SNDHWM") }
    /// Incoming high-water mark, in messages (0 = unlimited).
    public func setReceiveHighWaterMark(_ n: Int32) throws { try set(ZMQ_RCVHWM, n, "ZMQ_RCVHWM") }
    /// How long a blocking send waits for a peer to send to (-1: forever); past it, send throws
    /// EAGAIN. A DEALER has no peer while its connection is refused (a CURVE key not allowed).
    public func setSendTimeout(_ ms: Int32) throws { try set(ZMQ_SNDTIMEO, ms, "ZMQ_SNDTIMEO") }
    /// Largest inbound frame libzmq accepts; a peer that sends more is disconnected (-1 = no limit).
    public func setMaxMessageSize(_ bytes: Int64) throws { try set(ZMQ_MAXMSGSIZE, bytes, "ZMQ_MAXMSGSIZE") }
    public func setRoutingId(_ id: Frame) throws { try set(ZMQ_ROUTING_ID, bytes: id, "ZMQ_ROUTING_ID") }
    /// A ROUTER fails with EHOSTUNREACH instead of silently dropping a message to an unknown peer.
    public func setRouterMandatory(_ on: Bool) throws { try set(ZMQ_ROUTER_MANDATORY, Int32(on ? 1 : 0), "ZMQ_ROUTER_MANDATORY") }
    public func setReconnectInterval(_ ms: Int32, max: Int32 = 0) throws {
        try set(ZMQ_RECONNECT_IVL, ms, "ZMQ_RECONNECT_IVL")
        try set(ZMQ_RECONNECT_IVL_MAX, max, "ZMQ_RECONNECT_IVL_MAX")
    }
    /// Queue messages only to completed connections.
    public func setImmediate(_ on: Bool) throws { try set(ZMQ_IMMEDIATE, Int32(on ? 1 : 0), "ZMQ_IMMEDIATE") }
    public func subscribe(_ prefix: Frame = []) throws { try set(ZMQ_SUBSCRIBE, bytes: prefix, "ZMQ_SUBSCRIBE") }
    public func unsubscribe(_ prefix: Frame = []) throws { try set(ZMQ_UNSUBSCRIBE, bytes: prefix, "ZMQ_UNSUBSCRIBE") }

    /// The endpoint the socket last bound to, with a wildcard port resolved (`tcp://127.0.0.1:*`).
    public func lastEndpoint() throws -> String { try getString(ZMQ_LAST_ENDPOINT, "ZMQ_LAST_ENDPOINT") }

    /// Whether the last received frame has more frames after it.
    var hasMore: Bool { (try? getInt32(ZMQ_RCVMORE, "ZMQ_RCVMORE")) == 1 }

    // MARK: CURVE security

    /// Why this socket's handshakes failed, as libzmq reports them to a monitor: read with
    /// `HandshakeMonitor.failure()`. Made before `connect`, so no event is missed.
    public func monitorHandshakes(context: Context) throws -> HandshakeMonitor {
        let endpoint = "inproc://shoal-handshake-\(UInt(bitPattern: handle))"
        let events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
            | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
        try check(zmq_socket_monitor(handle, endpoint, events), "zmq_socket_monitor")
        let pair = try context.socket(.pair)
        try pair.connect(endpoint)
        return HandshakeMonitor(socket: pair)
    }

    /// Makes this socket a CURVE server with the given Z85 secret key.
    public func makeCurveServer(secretKey: String) throws {
        try set(ZMQ_CURVE_SERVER, Int32(1), "ZMQ_CURVE_SERVER")
        try set(ZMQ_CURVE_SECRETKEY, bytes: Array(secretKey.utf8), "ZMQ_CURVE_SECRETKEY")
    }

    /// The ZAP domain this socket's connections are authenticated in (RFC 27). Setting one also
    /// makes libzmq ask the ZAP handler about plaintext (NULL) connections.
    public func setZAPDomain(_ domain: String) throws { try set(ZMQ_ZAP_DOMAIN, bytes: Array(domain.utf8), "ZMQ_ZAP_DOMAIN") }

    /// Makes this socket a CURVE client of the server whose Z85 public key is `serverKey`.
    public func makeCurveClient(serverKey: String, keyPair: CurveKeyPair) throws {
        try set(ZMQ_CURVE_SERVERKEY, bytes: Array(serverKey.utf8), "ZMQ_CURVE_SERVERKEY")
        try set(ZMQ_CURVE_PUBLICKEY, bytes: Array(keyPair.publicKey.utf8), "ZMQ_CURVE_PUBLICKEY")
        try set(ZMQ_CURVE_SECRETKEY, bytes: Array(keyPair.secretKey.utf8), "ZMQ_CURVE_SECRETKEY")
    }
}

/// The handshake events of one socket (see `Socket.monitorHandshakes`).
public final class HandshakeMonitor {
    let socket: Socket
    private var last: String?
    /// Since when (monotonic ms) handshakes have failed, with no good one since; nil otherwise.
    private var failingSince: Int64?

    init(socket: Socket) { self.socket = socket }

    /// Closes the monitor's end (nothing it holds needs sending).
    public func close() {
        try? socket.setLinger(0)
        socket.close()
    }

    /// The latest handshake failure, in words, or nil when the latest handshake succeeded (or none
    /// was reported yet). Reads what is waiting; never blocks.
    public func failure() -> String? {
        while let frames = try? socket.receive(dontWait: true), let (event, value) = monitorEvent(frames) {
            switch event {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
                last = nil
                failingSince = nil
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
                last = "the coordinator refused this key (ZAP status \(value))"
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
                last = "the handshake failed (protocol error \(value): a CURVE peer meeting a plaintext one, or the wrong coordinator key)"
            default:
                // No detail: the coordinator closed it (the wrong coordinator key, its connection limit) or a reset.
                last = "the handshake failed (errno \(value): \(String(cString: zmq_strerror(Int32(value)))))"
            }
            if event != ZMQ_EVENT_HANDSHAKE_SUCCEEDED { failingSince = failingSince ?? monotonicNow() }
        }
        return last
    }

    /// The failure, once handshakes have failed for at least `ms` with no good one since: a
    /// refused key, mismatched security or keys, a full coordinator. One failure followed by a
    /// good handshake (a reset, a key just added) never gets here.
    public func refusal(lastingMs ms: Int64) -> String? {
        guard let why = failure(), let since = failingSince, monotonicNow() - since >= ms else { return nil }
        return why
    }

    private func monotonicNow() -> Int64 { Int64(ProcessInfo.processInfo.systemUptime * 1000) }
}

/// A socket monitor's event: [6 bytes: event (u16) and value (u32), native order] [endpoint].
func monitorEvent(_ frames: [Frame]) -> (event: Int32, value: UInt32)? {
    guard let head = frames.first, head.count >= 6 else { return nil }
    return (Int32(UInt16(head[0]) | UInt16(head[1]) << 8),
            UInt32(head[2]) | UInt32(head[3]) << 8 | UInt32(head[4]) << 16 | UInt32(head[5]) << 24)
}

/// A CURVE key pair in Z85 text (40 characters each).
public struct CurveKeyPair: Sendable, Equatable {
    public let publicKey: String
    public let secretKey: String

    public init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Whether `text` reads as a Z85 CURVE key (40 characters of the Z85 alphabet).
    public static func isKey(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { z85Alphabet.contains($0) }
    }

    static let z85Alphabet = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#".utf8)

    /// The Z85 text of a 32-byte binary key (how ZAP hands a CURVE client's key over).
    public static func z85(_ key: [UInt8]) -> String? {
        guard key.count == 32 else { return nil }
        var out = [CChar](repeating: 0, count: 41)
        return key.withUnsafeBufferPointer { zmq_z85_encode(&out, $0.baseAddress, 32) } == nil ? nil : String(cString: out)
    }

    /// The public key that belongs to a Z85 secret key.
    public static func publicKey(ofSecret secretKey: String) throws -> String {
        var pub = [CChar](repeating: 0, count: 41)
        try check(zmq_curve_public(&pub, secretKey), "zmq_curve_public")
        return String(cString: pub)
    }

    public static func generate() throws -> CurveKeyPair {
        var pub = [CChar](repeating: 0, count: 41)
        var sec = [CChar](repeating: 0, count: 41)
        try check(zmq_curve_keypair(&pub, &sec), "zmq_curve_keypair")
        return CurveKeyPair(publicKey: String(cString: pub), secretKey: String(cString: sec))
    }
}

/// Runs libzmq's built-in proxy between two sockets until the context terminates.
/// Used as the logic-free baseline broker in the routing benchmark.
public func runProxy(frontend: Socket, backend: Socket) throws {
    let rc = zmq_proxy(frontend.handle, backend.handle, nil)
    if rc != 0 {
        let err = ZMQError.last("zmq_proxy")
        if !err.isTerminated { throw err }
    }
}
