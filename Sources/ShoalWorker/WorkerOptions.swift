import ShoalWire

/// How a worker process connects and behaves.
public struct WorkerOptions: Sendable {
    public var coordinator: String
    public var agent: String
    public var skills: [String]
    public var capacity: Int
    public var heartbeatIntervalMs: Int64 = 1000
    public var heartbeatLiveness: Int64 = 3
    /// Reconnect back-off after a coordinator goes silent: starts here, doubles, caps at max.
    public var reconnectInitialMs: Int64 = 100
    public var reconnectMaxMs: Int64 = 4000
    /// A stable name for logs and `shoal status`; defaults to "<agent>-<pid>".
    public var workerId: String
    /// Where versions fetched from the coordinator during a live swap are kept.
    public var modelCache = ".shoal/worker-models"
    /// Fetch swapped-in versions over ZeroMQ even when the coordinator's store is visible here.
    public var fetchModels = false
    /// The key the worker presents (CURVE), or plaintext for an `--insecure` coordinator.
    public var security: Security = .plaintext
    /// Where each traced request's span goes (an OTLP exporter); nil: nowhere.
    public var spans: (any SpanSink)?

    public init(coordinator: String, agent: String, skills: [String], capacity: Int, workerId: String) {
        self.coordinator = coordinator
        self.agent = agent
        self.skills = skills
        self.capacity = capacity
        self.workerId = workerId
    }
}
