import ZeroMQ

/// Builders for the frames the coordinator sends through its ROUTER socket (identity first).
public enum Outbound {
    public static func toWorker(_ identity: Frame, _ version: MDPVersion, command: UInt8, _ rest: [Frame] = []) -> [Frame] {
        var frames: [Frame] = []
        frames.reserveCapacity(rest.count + 4)  // before the first append: one allocation, not two
        frames.append(identity)
        if version == .v1 { frames.append([]) }
        frames.append(version.workerHeader)
        frames.append(MDP.commandFrame(command))
        frames.append(contentsOf: rest)
        return frames
    }

    /// REQUEST to a worker: the "client address" is the coordinator's request key, which the
    /// worker echoes back verbatim, so plain MDP workers need no changes.
    public static func request(to identity: Frame, _ version: MDPVersion, address: Frame, body: [Frame]) -> [Frame] {
        var frames: [Frame] = []
        frames.reserveCapacity(body.count + 6)
        frames.append(identity)
        if version == .v1 { frames.append([]) }
        frames.append(version.workerHeader)
        frames.append(MDP.commandFrame(WorkerCommandCode.request(version)))
        frames.append(address)
        frames.append([])
        frames.append(contentsOf: body)
        return frames
    }

    public static func heartbeat(to identity: Frame, _ version: MDPVersion) -> [Frame] {
        toWorker(identity, version, command: WorkerCommandCode.heartbeat(version))
    }

    public static func disconnect(to identity: Frame, _ version: MDPVersion) -> [Frame] {
        toWorker(identity, version, command: WorkerCommandCode.disconnect(version))
    }

    /// A reply to a client in the dialect it spoke. `final: false` is an 18/MDP PARTIAL.
    public static func reply(to identity: Frame, _ version: MDPVersion, delimited: Bool, service: Frame,
                             body: [Frame], final: Bool = true) -> [Frame] {
        var frames: [Frame] = []
        frames.reserveCapacity(body.count + 5)
        frames.append(identity)
        if delimited { frames.append([]) }
        frames.append(version.clientHeader)
        if version == .v2 { frames.append(MDP.commandFrame(final ? ClientCommandCode.final : ClientCommandCode.partial)) }
        frames.append(service)
        frames.append(contentsOf: body)
        return frames
    }
}

extension UInt64 {
    /// Big-endian 8 bytes: the request key frame.
    public var frame: Frame {
        withUnsafeBytes(of: bigEndian) { Array($0) }
    }

    public init?(frame: Frame) {
        guard frame.count == 8 else { return nil }
        var v: UInt64 = 0
        for b in frame { v = (v << 8) | UInt64(b) }
        self = v
    }
}
