import SwiftProtobuf
import ZeroMQ

/// Shoal's body convention inside MDP: a content-type frame, a header, then payload frames.
///
///     request: ["application/x-shoal.v1"] [RequestHeader] [SubTask]
///     reply:   ["application/x-shoal.v1"] [ReplyHeader]   [SubTaskResult]?
///
/// or, packed, the same in one frame (what `Client` sends to a specialist's skill, and what a
/// Shoal worker answers a packed request with: two frames fewer on every hop of the hot path):
///
///     [FF 53 48 31] [header length: UInt32, little-endian] [header] [payload]?
///
/// Its first byte (0xFF) is never UTF-8, so no text body a plain MDP peer sends is mistaken for
/// it. A worker says at READY that it reads packed bodies (`MDP.packedBodiesMarker`); the
/// coordinator reads the header of both forms and unpacks a packed request for a worker that
/// did not say so (an older Shoal worker, or one written by hand against the three frames).
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

    public static func isShoal(_ body: [Frame]) -> Bool { isShoal(body[...]) }

    static func isShoal(_ body: ArraySlice<Frame>) -> Bool {
        body.count >= 2 && body.first == contentType
    }

    /// The first bytes of a packed body.
    public static let packedMarker: [UInt8] = [0xFF, 0x53, 0x48, 0x31]
    static let packedPrefix = 8

    /// Whether `body` is one frame that begins as a packed body does (it may still be malformed).
    public static func looksPacked(_ body: [Frame]) -> Bool { looksPacked(body[...]) }

    static func looksPacked(_ body: ArraySlice<Frame>) -> Bool {
        body.count == 1 && body.first!.starts(with: packedMarker)
    }

    /// A header and an optional payload in one frame.
    public static func packed(header: [UInt8], payload: [UInt8]?) -> Frame {
        packed(capacity: header.count + (payload?.count ?? 0), header: { $0.append(contentsOf: header) },
               payload: { if let payload { $0.append(contentsOf: payload) } })
    }

    /// The one place a packed frame is laid out: marker, the length of what `header` appends,
    /// then what `payload` appends. `capacity` only sizes the buffer. (One allocation: the
    /// closures do not escape, and nothing is appended before the buffer is reserved.)
    static func packed(capacity: Int, header: (inout [UInt8]) -> Void, payload: (inout [UInt8]) -> Void) -> Frame {
        var frame: [UInt8] = []
        frame.reserveCapacity(packedPrefix + capacity)
        frame.append(contentsOf: packedMarker)
        for _ in 0..<4 { frame.append(0) }
        header(&frame)
        let length = UInt32(frame.count - packedPrefix)
        for i in 0..<4 { frame[packedMarker.count + i] = UInt8(truncatingIfNeeded: length >> (8 * i)) }
        payload(&frame)
        return frame
    }

    /// A request in one frame, what `Client` sends: header and sub-task written by hand
    /// (`HotCodecs`) straight into the frame.
    public static func packedRequest(header: Shoal_V1_RequestHeader, task: Shoal_V1_SubTask) -> [Frame] {
        let text = header.modelVersion.utf8.count + header.traceparent.utf8.count + task.skill.utf8.count
            + task.input.utf8.count + task.taskID.utf8.count + task.stepID.utf8.count + task.payload.count
        return [packed(capacity: 64 + text + mapBytes(task.params), header: { HotCodecs.append(header, to: &$0) },
                       payload: { HotCodecs.append(task, to: &$0) })]
    }

    /// A reply in one frame. Every reply a worker sends goes through here: header and result are
    /// written by hand (`HotCodecs`) straight into the frame.
    public static func packedReply(header: Shoal_V1_ReplyHeader, result: Shoal_V1_SubTaskResult? = nil) -> [Frame] {
        let text = header.message.utf8.count + header.workerID.utf8.count + header.modelVersion.utf8.count
            + (result.map { $0.output.utf8.count + mapBytes($0.metadata) } ?? 0)
        return [packed(capacity: 64 + text, header: { HotCodecs.append(header, to: &$0) },
                       payload: { if let result { HotCodecs.append(result, to: &$0) } })]
    }

    /// Room a map takes in a frame: its text, and a few bytes of tags and lengths an entry.
    private static func mapBytes(_ map: [String: String]) -> Int {
        map.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 12 }
    }

    /// The header and payload of a Shoal body in either form, as slices of its frames (nothing
    /// copied); nil for any other body, and for a packed frame whose header length overruns it.
    /// A packed body's payload is nil when nothing follows the header.
    public static func parts(_ body: [Frame]) -> Parts? { parts(body[...]) }

    /// `parts` of the body frames at the end of a message, without copying them out first.
    public static func parts(_ body: ArraySlice<Frame>) -> Parts? {
        if isShoal(body) {
            let header = body.startIndex + 1
            return Parts(header: body[header][...], payload: body.count > 2 ? body[header + 1][...] : nil, packed: false)
        }
        guard looksPacked(body), let frame = body.first, frame.count >= packedPrefix else { return nil }
        let length = frame[4...7].reversed().reduce(0) { $0 << 8 | Int($1) }
        guard length <= frame.count - packedPrefix else { return nil }
        let end = packedPrefix + length
        return Parts(header: frame[packedPrefix..<end], payload: end < frame.count ? frame[end...] : nil, packed: true)
    }

    /// A packed body as the three frames (for a peer that did not say it reads packed ones);
    /// any other body as it is.
    public static func unpacked(_ body: [Frame]) -> [Frame] {
        guard let parts = parts(body), parts.packed else { return body }
        return [contentType, Array(parts.header), Array(parts.payload ?? [])]
    }

    /// A Shoal body's header and payload bytes (see `parts`).
    public struct Parts: Sendable {
        public let header: ArraySlice<UInt8>
        public let payload: ArraySlice<UInt8>?
        /// Which form it came in: a reply goes back in the same one.
        public let packed: Bool

        // Each read by hand (`HotCodecs`); SwiftProtobuf reads what that does not know, and throws.
        public func requestHeader() throws -> Shoal_V1_RequestHeader {
            try HotCodecs.requestHeader(header) ?? Shoal_V1_RequestHeader(bytes: header)
        }
        public func replyHeader() throws -> Shoal_V1_ReplyHeader {
            try HotCodecs.replyHeader(header) ?? Shoal_V1_ReplyHeader(bytes: header)
        }
        public func subTask() throws -> Shoal_V1_SubTask {
            let bytes = payload ?? []
            return try HotCodecs.subTask(bytes) ?? Shoal_V1_SubTask(bytes: bytes)
        }
        /// The reply's result; nil when the reply carries none.
        public func result() throws -> Shoal_V1_SubTaskResult? {
            try payload.map { try HotCodecs.subTaskResult($0) ?? Shoal_V1_SubTaskResult(bytes: $0) }
        }
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
        guard let parts = parts(body) else { return looksPacked(body) ? 0 : nil }
        return (try? parts.requestHeader())?.requestID ?? 0
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

extension SwiftProtobuf.Message {
    /// Decodes from a slice of a frame (copied: a header is a few dozen bytes).
    init(bytes: ArraySlice<UInt8>) throws {
        try self.init(serializedBytes: Array(bytes))
    }
}
