/// The coordinator's limits and timings. Every bound the design promises lives here.
public struct BrokerConfig: Sendable, Equatable {
    /// Heartbeat period, both directions (RFC 7/MDP default: 1 s).
    public var heartbeatIntervalMs: Int64 = 1000
    /// Missed heartbeats before a worker counts as dead.
    public var heartbeatLiveness: Int64 = 3
    /// Most requests waiting per service; past it a client gets `overloaded` at once.
    public var queueLimit: Int = 10_000
    /// Largest request the coordinator accepts (all frames together), in bytes.
    public var maxMessageBytes: Int = 4 << 20
    /// How long a request for a service with no workers waits for one to register.
    public var unknownServiceGraceMs: Int64 = 5_000
    /// Deadline applied to requests that carry none (0 = none): a worker that takes work and
    /// never answers holds a request at most this long.
    public var defaultDeadlineMs: Int64 = 300_000
    /// The most concurrent requests one worker connection may claim in its READY; a larger
    /// claim is cut to this (a worker cannot take all of a service's traffic by lying).
    public var maxWorkerCapacity: Int = 256
    /// Bytes of requests the coordinator holds at once, all services together; past it a
    /// client gets `overloaded` at once (2,000 requests of 4 MB must not take 8 GB).
    public var maxPendingBytes: Int = 256 << 20
    /// The same, per service.
    public var maxServicePendingBytes: Int = 128 << 20
    /// Open connections (clients, workers' sessions) the coordinator accepts at once; past it a new
    /// one is refused at its handshake (libzmq keeps buffers for each: 10,000 held ~500 MB).
    public var maxConnections: Int = 4096
    /// Messages libzmq buffers per connected peer before that peer's sends block.
    public var receiveHighWaterMark: Int = 1000
    /// Dispatch attempts before a request whose workers keep dying is failed.
    public var maxAttempts: Int = 3
    /// How long a worker may take to answer one swap step (load + smoke generation, or switch).
    public var swapStepTimeoutMs: Int64 = 300_000

    public init() {}

    public var workerExpiryMs: Int64 { heartbeatIntervalMs * heartbeatLiveness }
}
