import SwiftProtobuf
import ZeroMQ

/// Shoal's body convention inside MDP: a content-type frame, a header, then payload frames.
///
///     request: ["application/x-shoal.v1"] [RequestHeader] [SubTask]
///     reply:   ["application/x-shoal.v1"] [ReplyHeader]   [SubTaskResult]?
///
/// Any other body is opaque to the coordinator: plain MDP peers pass bytes through untouched,
/// and Shoal workers treat a body without the marker as UTF-8 text input and answer in text.
public enum ShoalBody {
    public static let contentType: Frame = Array("application/x-shoal.v1".utf8)
    /// Marks a swap control message (coordinator → worker REQUEST) and its answer (worker REPLY).
    public static let controlContentType: Frame = Array("application/x-shoal.control.v1".utf8)
    /// The "client address" of control REQUESTs: never a valid request key, so a control answer
    /// can never be mistaken for a client's reply.
    public static let controlAddress: Frame = Array("shoal:control".utf8)

    public static func control(_ message: some SwiftProtobuf.Message) -> [Frame] {
        [controlContentType, (try? message.serializedBytes()) ?? []]
    }

    public static func isShoal(_ body: [Frame]) -> Bool {
        body.count >= 2 && body[0] == contentType
    }

    public static func request(header: Shoal_V1_RequestHeader, task: Shoal_V1_SubTask) -> [Frame] {
        [contentType, (try? header.serializedBytes()) ?? [], (try? task.serializedBytes()) ?? []]
    }

    public static func reply(header: Shoal_V1_ReplyHeader, result: Shoal_V1_SubTaskResult? = nil) -> [Frame] {
        var frames: [Frame] = [contentType, (try? header.serializedBytes()) ?? []]
        if let result { frames.append((try? result.serializedBytes()) ?? []) }
        return frames
    }

    /// A coordinator-made error reply, in Shoal form for Shoal clients and as one text frame
    /// (`ERROR <code>: <message>`) for plain MDP clients.
    /// The request id of a Shoal body (nil for a plain MDP body; 0 when its header does not parse).
    public static func requestId(_ body: [Frame]) -> UInt64? {
        guard isShoal(body) else { return nil }
        return (try? Shoal_V1_RequestHeader(serializedBytes: body[1]))?.requestID ?? 0
    }

    public static func error(_ code: Shoal_V1_ReplyCode, _ message: String, requestId: UInt64?) -> [Frame] {
        if let requestId {
            var h = Shoal_V1_ReplyHeader()
            h.requestID = requestId
            h.code = code
            h.message = message
            return reply(header: h)
        }
        return [Array("ERROR \(code.name): \(message)".utf8)]
    }
}

extension Shoal_V1_ReplyCode {
    /// The stable snake_case name used in logs, JSON output and plain-text errors.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .overloaded: "overloaded"
        case .timeout: "timeout"
        case .noSuchService: "no_such_service"
        case .tooLarge: "too_large"
        case .badRequest: "bad_request"
        case .specialistError: "specialist_error"
        case .internal: "internal"
        case .forbidden: "forbidden"
        case .notFound: "not_found"
        case .conflict: "conflict"
        case .UNRECOGNIZED(let n): "code_\(n)"
        }
    }
}
