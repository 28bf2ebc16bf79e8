import ZeroMQ

/// Majordomo protocol constants: 7/MDP (v0.1) and 18/MDP (v0.2).
public enum MDP {
    public static let clientV1: Frame = Array("MDPC01".utf8)
    public static let clientV2: Frame = Array("MDPC02".utf8)
    public static let workerV1: Frame = Array("MDPW01".utf8)
    public static let workerV2: Frame = Array("MDPW02".utf8)

    /// Service names under this prefix are answered by the coordinator itself (8/MMI).
    public static let mmiPrefix = "mmi."
    /// Shoal's own built-in services, answered by the coordinator.
    public static let statusService = "shoal.status"
    /// Model registry and live swaps (`shoal models`, `shoal swap`, `shoal rollback`).
    public static let adminService = "shoal.admin"
    /// Chunks of the coordinator's content-addressed model store, for workers without its filesystem.
    public static let blobService = "shoal.blob"
    /// Names no worker may register for: the coordinator answers them itself.
    public static func isReserved(_ service: String) -> Bool {
        service.hasPrefix(mmiPrefix) || service == statusService || service == adminService || service == blobService
    }

    /// The one-byte frame of a command: shared, so the hot path allocates nothing for it (a
    /// `[command]` literal is a new array every time).
    public static func commandFrame(_ command: UInt8) -> Frame { commandFrames[Int(command)] }
    private static let commandFrames: [Frame] = (0...255).map { [UInt8($0)] }

    /// Whether the coordinator itself (not a specialist) answers `service`: 8/MMI and every
    /// `shoal.` name (status, admin, blob, task). Clients send these the three-frame Shoal body.
    public static func isCoordinatorService(_ service: String) -> Bool {
        service.hasPrefix(mmiPrefix) || service.hasPrefix("shoal.")
    }

    /// Trailing frame a Shoal worker adds to HEARTBEAT to say it takes no new work (graceful
    /// shutdown). Plain MDP brokers ignore extra frames.
    public static let drainingMarker: Frame = Array("shoal:draining".utf8)
    /// Trailing frame a Shoal worker adds to READY (after its WorkerInfo) to say it reads packed
    /// bodies (`ShoalBody.packed`); a worker without it gets the three-frame form. Plain MDP
    /// brokers ignore extra frames.
    public static let packedBodiesMarker: Frame = Array("shoal:packed".utf8)
}

public enum MDPVersion: Sendable, Equatable {
    case v1  // 7/MDP: REQ-style empty delimiters, single REPLY
    case v2  // 18/MDP: DEALER framing, PARTIAL and FINAL

    var clientHeader: Frame { self == .v1 ? MDP.clientV1 : MDP.clientV2 }
    var workerHeader: Frame { self == .v1 ? MDP.workerV1 : MDP.workerV2 }
}

/// Worker command bytes differ between the two versions; this names them once.
public enum WorkerCommandCode {
    public static func ready(_ v: MDPVersion) -> UInt8 { 0x01 }
    public static func request(_ v: MDPVersion) -> UInt8 { 0x02 }
    public static func partial(_ v: MDPVersion) -> UInt8? { v == .v2 ? 0x03 : nil }
    public static func final(_ v: MDPVersion) -> UInt8 { v == .v1 ? 0x03 : 0x04 }
    public static func heartbeat(_ v: MDPVersion) -> UInt8 { v == .v1 ? 0x04 : 0x05 }
    public static func disconnect(_ v: MDPVersion) -> UInt8 { v == .v1 ? 0x05 : 0x06 }
}

/// 18/MDP client command bytes.
public enum ClientCommandCode {
    public static let request: UInt8 = 0x01
    public static let partial: UInt8 = 0x02
    public static let final: UInt8 = 0x03
}
