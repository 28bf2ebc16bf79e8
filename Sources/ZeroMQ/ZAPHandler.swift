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
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopping = false  // guarded by `lock`: `stop` may come from any thread, more than once

    /// `decide` runs on the handler's thread, once per new connection.
    public init(context: Context, decide: @escaping @Sendable (Request) -> Verdict) throws {
        socket = try context.socket(.rep)
        try socket.bind(Self.endpoint)
        wakeup = try Wakeup()
        self.decide = decide
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
        defer { socket.close(); done.signal() }
        var poller = Poller()
        let sock = poller.add(socket)
        let bell = poller.add(fileDescriptor: wakeup.fileDescriptor)
        while true {
            guard let ready = try? poller.poll(timeoutMs: -1) else { return }
            if ready.contains(bell) { return }
            guard ready.contains(sock), let frames = try? socket.receive(dontWait: true, maxFrames: 16) else { continue }
            _ = try? socket.send(Self.answer(frames, decide), dontWait: true)
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
