import ZeroMQ

/// A message the coordinator's ROUTER socket received, parsed from its frames.
/// Bodies are slices of the received frames: nothing is copied or decoded here.
public enum Inbound: Sendable {
    case clientRequest(ClientRequest)
    case worker(identity: Frame, version: MDPVersion, command: WorkerCommand)
}

public struct ClientRequest: Sendable {
    public var identity: Frame
    public var version: MDPVersion
    /// Whether the client's frames began with an empty delimiter (a REQ socket); replies echo it.
    public var delimited: Bool
    public var service: Frame
    public var body: [Frame]
}

public enum WorkerCommand: Sendable {
    /// `extra` holds any frames after the service name: Shoal workers send a WorkerInfo there.
    case ready(service: Frame, extra: [Frame])
    case partial(address: Frame, body: [Frame])
    case final(address: Frame, body: [Frame])
    case heartbeat(extra: [Frame])
    case disconnect
}

/// Why a message was dropped. Each case names what was wrong, for the log line.
public enum MalformedMessage: Error, CustomStringConvertible, Equatable, Sendable {
    case tooFewFrames(got: Int, need: Int, what: String)
    case unknownProtocol(Frame)
    case unknownCommand(UInt8, protocolName: String)
    case missingCommand(protocolName: String)
    case missingDelimiter(what: String)
    case emptyServiceName

    public var description: String {
        switch self {
        case let .tooFewFrames(got, need, what): "\(what): \(got) frames, need at least \(need)"
        case let .unknownProtocol(f): "unknown protocol header \(Self.preview(f))"
        case let .unknownCommand(c, p): "\(p): unknown command 0x\(String(c, radix: 16))"
        case let .missingCommand(p): "\(p): command frame must be exactly one byte"
        case let .missingDelimiter(what): "\(what): missing empty delimiter after the client address"
        case .emptyServiceName: "empty service name"
        }
    }

    static func preview(_ f: Frame) -> String {
        let head = f.prefix(16)
        if let s = String(validating: head, as: UTF8.self), s.allSatisfy({ $0.isASCII && !$0.isNewline }) {
            return "\"\(s)\"\(f.count > 16 ? "…" : "")"
        }
        return "0x" + head.hexString + (f.count > 16 ? "…" : "") + " (\(f.count) bytes)"
    }
}

extension Collection where Element == UInt8 {
    /// Lower-case hex, two digits a byte: how peer identities and odd frames appear in logs.
    public var hexString: String {
        let digits = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(count * 2)
        for b in self { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return s
    }
}

extension Inbound {
    /// Parses ROUTER frames: frame 0 is the peer identity, then an optional empty delimiter,
    /// then the MDP header. Accepts 7/MDP and 18/MDP clients and workers on one socket.
    public static func parse(_ frames: [Frame]) throws(MalformedMessage) -> Inbound {
        guard frames.count >= 2 else { throw .tooFewFrames(got: frames.count, need: 3, what: "message") }
        let identity = frames[0]
        var i = 1
        let delimited = frames[1].isEmpty
        if delimited { i += 1 }
        guard i < frames.count else { throw .tooFewFrames(got: frames.count, need: i + 1, what: "message") }
        let header = frames[i]
        i += 1
        switch header {
        case MDP.clientV1:
            // 7/MDP client: service, body...
            guard frames.count - i >= 1 else { throw .tooFewFrames(got: frames.count, need: i + 1, what: "MDPC01 request") }
            let service = frames[i]
            guard !service.isEmpty else { throw .emptyServiceName }
            return .clientRequest(ClientRequest(identity: identity, version: .v1, delimited: delimited,
                                                service: service, body: Array(frames[(i + 1)...])))
        case MDP.clientV2:
            // 18/MDP client: 0x01 REQUEST, service, body...
            guard i < frames.count else { throw .tooFewFrames(got: frames.count, need: i + 2, what: "MDPC02 request") }
            guard frames[i].count == 1 else { throw .missingCommand(protocolName: "MDPC02") }
            guard frames[i][0] == ClientCommandCode.request else { throw .unknownCommand(frames[i][0], protocolName: "MDPC02") }
            i += 1
            guard i < frames.count else { throw .tooFewFrames(got: frames.count, need: i + 1, what: "MDPC02 request") }
            let service = frames[i]
            guard !service.isEmpty else { throw .emptyServiceName }
            return .clientRequest(ClientRequest(identity: identity, version: .v2, delimited: delimited,
                                                service: service, body: Array(frames[(i + 1)...])))
        case MDP.workerV1:
            return .worker(identity: identity, version: .v1, command: try parseWorker(frames, from: i, version: .v1))
        case MDP.workerV2:
            return .worker(identity: identity, version: .v2, command: try parseWorker(frames, from: i, version: .v2))
        default:
            throw .unknownProtocol(header)
        }
    }

    private static func parseWorker(_ frames: [Frame], from start: Int, version: MDPVersion) throws(MalformedMessage) -> WorkerCommand {
        let name = version == .v1 ? "MDPW01" : "MDPW02"
        guard start < frames.count else { throw .tooFewFrames(got: frames.count, need: start + 1, what: "\(name) command") }
        guard frames[start].count == 1 else { throw .missingCommand(protocolName: name) }
        let code = frames[start][0]
        let rest = start + 1
        switch code {
        case WorkerCommandCode.ready(version):
            guard rest < frames.count else { throw .tooFewFrames(got: frames.count, need: rest + 1, what: "\(name) READY") }
            guard !frames[rest].isEmpty else { throw .emptyServiceName }
            return .ready(service: frames[rest], extra: Array(frames[(rest + 1)...]))
        case WorkerCommandCode.final(version), WorkerCommandCode.partial(version):
            // client address, empty delimiter, body...
            guard frames.count - rest >= 2 else { throw .tooFewFrames(got: frames.count, need: rest + 2, what: "\(name) reply") }
            guard frames[rest + 1].isEmpty else { throw .missingDelimiter(what: "\(name) reply") }
            let body = Array(frames[(rest + 2)...])
            return code == WorkerCommandCode.final(version)
                ? .final(address: frames[rest], body: body)
                : .partial(address: frames[rest], body: body)
        case WorkerCommandCode.heartbeat(version):
            return .heartbeat(extra: Array(frames[rest...]))
        case WorkerCommandCode.disconnect(version):
            return .disconnect
        default:
            throw .unknownCommand(code, protocolName: name)
        }
    }
}
