import Foundation
import ShoalWire
import SwiftProtobuf
import ZeroMQ

/// What came back for one sub-task.
public struct SubTaskOutcome: Sendable, Equatable {
    public var requestId: UInt64
    public var code: Shoal_V1_ReplyCode
    public var message: String
    public var output: String
    public var workerId: String
    public var modelVersion: String
    public var latencyUs: UInt64
    public var metadata: [String: String]
    /// The completion's tokens, from a model-backed worker (older ones put them in `metadata`;
    /// `Shoal_V1_SampledTokens(typed:metadata:)` reads either).
    public var tokens: Shoal_V1_SampledTokens?

    public var ok: Bool { code == .ok }

    /// A reply's header and, when it has one, its result.
    public init(header h: Shoal_V1_ReplyHeader, result: Shoal_V1_SubTaskResult? = nil) {
        requestId = h.requestID
        code = h.code
        message = h.message
        output = result?.output ?? ""
        workerId = h.workerID
        modelVersion = h.modelVersion
        latencyUs = h.latencyUs
        metadata = result?.metadata ?? [:]
        tokens = result?.hasTokens == true ? result?.tokens : nil
    }
}

public enum ClientError: Error, CustomStringConvertible, Equatable {
    case noReply(service: String, waitedMs: Int64, endpoint: String, hint: String = "")
    case malformedReply(String)
    /// The coordinator answered with an error `code` (bad_request, forbidden, …).
    case refused(service: String, reason: String, code: Shoal_V1_ReplyCode = .badRequest)
    /// No connection to send on came up in time.
    case notConnected(endpoint: String, waitedMs: Int, hint: String)
    /// The connection's handshake failed: the coordinator does not let this key in (or this
    /// client's security does not match the coordinator's). Waiting longer cannot help.
    case handshakeFailed(endpoint: String, reason: String)

    public var description: String {
        switch self {
        case let .noReply(service, waited, endpoint, hint):
            "no reply for '\(service)' from the coordinator at \(endpoint) within \(waited) ms — is `shoal coordinator` (or `shoal up`) running there?\(hint)"
        case let .malformedReply(why): "malformed reply from the coordinator: \(why)"
        case let .refused(_, reason, _): reason
        case let .notConnected(endpoint, waited, hint):
            "could not connect to the coordinator at \(endpoint) within \(waited) ms — is `shoal coordinator` (or `shoal up`) running there?\(hint)"
        case let .handshakeFailed(endpoint, reason):
            "the coordinator at \(endpoint) did not let this client in: \(reason)"
        }
    }
}

/// A Shoal client: 18/MDP over one DEALER socket, protobuf bodies, many requests in flight.
/// Not thread-safe (it owns a socket); use one per thread.
public final class Client {
    public let endpoint: String
    /// How it connects: CURVE with a key file's credentials, or plaintext.
    public let security: Security
    private let context: Context
    private let socket: Socket
    private let handshakes: HandshakeMonitor
    /// Waits for the socket; made once, not per wait.
    private var poller = Poller()
    private var nextId: UInt64 = 1
    /// Said after a timeout: why the handshake failed, when libzmq said, else what to check.
    var hint: String {
        handshakes.failure().map { ": \($0)" + (security == .plaintext ? " (this client sent plaintext; pass --key FILE or set SHOAL_KEY)" : "") } ?? security.hint
    }

    /// How long a send waits for the connection to come up.
    public static let connectTimeoutMs = 10_000

    /// `security` nil: `Security.ambient(name: "admin")` ($SHOAL_KEY, else .shoal/keys/admin.key
    /// when it exists, else plaintext).
    public init(endpoint: String, security: Security? = nil) throws {
        self.endpoint = endpoint
        self.security = try security ?? Security.ambient(name: "admin")
        context = try Context()
        socket = try context.socket(.dealer)
        try socket.setSendHighWaterMark(0)
        try socket.setReceiveHighWaterMark(0)
        // With no high-water mark, a send blocks only while no connection is up: bounded, so a
        // refused key or a coordinator that is not there ends in an error, not a hang.
        try socket.setSendTimeout(Int32(Self.connectTimeoutMs))
        try self.security.apply(to: socket)
        handshakes = try socket.monitorHandshakes(context: context)
        poller.add(socket)
        try socket.connect(endpoint)
    }

    /// Sends a sub-task without waiting; returns its request id.
    @discardableResult
    public func send(skill: String, input: String, params: [String: String] = [:], deadlineMs: UInt32 = 0,
                     modelVersion: String = "", stream: Bool = false, taskId: String = "", stepId: String = "",
                     payload: Data = Data(), traceparent: String = "") throws -> UInt64 {
        let id = nextId
        nextId += 1
        var header = Shoal_V1_RequestHeader()
        header.requestID = id
        header.deadlineMs = deadlineMs
        header.modelVersion = modelVersion
        header.traceparent = traceparent
        var task = Shoal_V1_SubTask()
        task.skill = skill
        task.input = input
        task.params = params
        task.stream = stream
        task.taskID = taskId
        task.stepID = stepId
        task.payload = payload
        do {
            // A specialist's skill gets the packed body (one frame; its worker answers the same
            // way); the coordinator's own services the three-frame form they read.
            let body = MDP.isCoordinatorService(skill) ? ShoalBody.request(header: header, task: task)
                                                       : ShoalBody.packedRequest(header: header, task: task)
            var frames: [Frame] = []
            frames.reserveCapacity(3 + body.count)
            frames.append(MDP.clientV2)
            frames.append(MDP.commandFrame(ClientCommandCode.request))
            frames.append(Array(skill.utf8))
            frames.append(contentsOf: body)
            try socket.send(frames)
        } catch let error as ZMQError where error.isWouldBlock {
            throw ClientError.notConnected(endpoint: endpoint, waitedMs: Self.connectTimeoutMs, hint: hint)
        }
        return id
    }

    /// The next reply message (PARTIAL or FINAL), or nil after `timeoutMs`.
    public func receive(timeoutMs: Int) throws -> (outcome: SubTaskOutcome, final: Bool)? {
        try nextMessage(timeoutMs: timeoutMs).map(Self.decode)
    }

    /// How long handshakes must have failed (a refused key, mismatched security or keys, a full
    /// coordinator) before a wait gives up: long enough for a transient failure to pass.
    public static let refusedHandshakeMs: Int64 = 2_500

    /// The next message within `timeoutMs`, or nil. Throws `handshakeFailed` once libzmq has
    /// reported refused handshakes for `refusedHandshakeMs` with no good one since: a key the
    /// coordinator refuses (or a plaintext client at a CURVE coordinator) never gets in, so
    /// waiting out the whole timeout is useless. A failure that a good handshake follows (a reset)
    /// keeps waiting.
    private func nextMessage(timeoutMs: Int) throws -> [Frame]? {
        let start = monotonicMs()
        var waited = false
        while true {
            if let frames = try socket.receive(dontWait: true) { return frames }
            // Handshake events are read only once a wait has gone by with nothing (at most 100 ms
            // late): a reply that is already on its way costs no look at the monitor socket.
            if waited, let why = handshakes.refusal(lastingMs: Self.refusedHandshakeMs) {
                throw ClientError.handshakeFailed(endpoint: endpoint, reason: why + (security == .plaintext ? " (this client sent plaintext; pass --key FILE or set SHOAL_KEY)" : ""))
            }
            let left = Int64(timeoutMs) - (monotonicMs() - start)
            guard left > 0 else { return nil }
            waited = try poller.poll(timeoutMs: Int(min(left, 100))).isEmpty
        }
    }

    /// Sends one sub-task and waits for its final reply, passing streamed pieces to `onPartial`.
    public func call(skill: String, input: String, params: [String: String] = [:], deadlineMs: UInt32 = 0,
                     modelVersion: String = "", timeoutMs: Int = 30_000, traceparent: String = "",
                     onPartial: ((String) -> Void)? = nil) throws -> SubTaskOutcome {
        let id = try send(skill: skill, input: input, params: params, deadlineMs: deadlineMs,
                          modelVersion: modelVersion, stream: onPartial != nil, traceparent: traceparent)
        guard let outcome = try reply(to: id, timeoutMs: timeoutMs, onPartial: onPartial) else {
            throw ClientError.noReply(service: skill, waitedMs: Int64(timeoutMs), endpoint: endpoint, hint: hint)
        }
        return outcome
    }

    /// The final reply to request `id` within `timeoutMs` (nil: none yet), passing its streamed
    /// pieces to `onPartial` and dropping late replies to earlier requests.
    public func reply(to id: UInt64, timeoutMs: Int, onPartial: ((String) -> Void)? = nil) throws -> SubTaskOutcome? {
        let start = monotonicMs()
        while true {
            let left = Int64(timeoutMs) - (monotonicMs() - start)
            guard left > 0, let (outcome, final) = try receive(timeoutMs: Int(left)) else { return nil }
            guard outcome.requestId == id else { continue }  // a late reply to an earlier call
            if final { return outcome }
            onPartial?(outcome.output)
        }
    }

    /// The coordinator's view of the cluster (`shoal.status` service).
    public func status(timeoutMs: Int = 5000) throws -> Shoal_V1_ClusterStatus {
        let id = try send(skill: MDP.statusService, input: "")
        let start = monotonicMs()
        while true {
            let left = Int64(timeoutMs) - (monotonicMs() - start)
            guard left > 0, let frames = try nextMessage(timeoutMs: Int(left)) else {
                throw ClientError.noReply(service: MDP.statusService, waitedMs: Int64(timeoutMs), endpoint: endpoint, hint: hint)
            }
            guard frames.count >= 5, frames[0] == MDP.clientV2, frames[3] == ShoalBody.contentType else {
                throw ClientError.malformedReply("status reply has \(frames.count) frames")
            }
            let header = try Shoal_V1_ReplyHeader(serializedBytes: frames[4])
            guard header.requestID == id else { continue }
            // Refused (a worker key asking, say): the coordinator's code and reason.
            guard header.code == .ok else { throw ClientError.refused(service: MDP.statusService, reason: "\(header.code.name): \(header.message)", code: header.code) }
            guard frames.count >= 6 else { throw ClientError.malformedReply("status reply has \(frames.count) frames") }
            return try Shoal_V1_ClusterStatus(serializedBytes: frames[5])
        }
    }

    /// 8/MMI: whether any worker serves `service` right now.
    public func serviceExists(_ service: String, timeoutMs: Int = 5000) throws -> Bool {
        let outcome = try call(skill: "mmi.service", input: service, timeoutMs: timeoutMs)
        return outcome.output == "200"
    }

    static func decode(_ frames: [Frame]) throws -> (SubTaskOutcome, Bool) {
        // ["MDPC02", PARTIAL|FINAL, service, content-type, ReplyHeader, SubTaskResult?], or the
        // body packed in one frame after the service.
        guard frames.count >= 4, frames[0] == MDP.clientV2, frames[1].count == 1 else {
            throw ClientError.malformedReply("expected an 18/MDP reply, got \(frames.count) frames")
        }
        guard let parts = ShoalBody.parts(frames[3...]) else {
            throw ClientError.malformedReply("reply body is not a Shoal message")
        }
        let final = frames[1][0] == ClientCommandCode.final
        return (SubTaskOutcome(header: try parts.replyHeader(), result: try parts.result()), final)
    }
}
