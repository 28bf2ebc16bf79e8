import Foundation

/// A cluster layout (`topology/local.yaml`): where the coordinator listens and which agents
/// run with how many replicas.
public struct Topology: Sendable, Equatable {
    public struct Coordinator: Sendable, Equatable {
        /// Where the coordinator binds and workers connect, e.g. `tcp://127.0.0.1:5555`.
        public var endpoint = "tcp://127.0.0.1:5555"
        public var heartbeatMs = 1000
        public var liveness = 3
        public var queueLimit = 10_000
        public var maxMessageBytes = 4 << 20
        public var unknownServiceGraceMs = 5000
        public var defaultDeadlineMs = 300_000
        public var maxWorkerCapacity = 256
        public var maxPendingBytes = 256 << 20
        /// The cluster's key directory (`KeyDirectory`), relative to the topology file; nil: the
        /// default, `keys/` in the state directory (made on first start).
        public var keys: String?
        /// Plaintext, no keys or roles (`--insecure`): every peer may do everything.
        public var insecure = false
        /// Where the coordinator serves Prometheus metrics (`--metrics-bind`, loopback HOST:PORT); nil: off.
        public var metrics: String?
        public init() {}
    }

    public struct Deployment: Sendable, Equatable {
        public var agent: AgentSpec
        public var agentFile: String
        public var replicas: Int
        /// The key file its workers connect with (default: the key directory's `worker.key`).
        public var key: String?

        public init(agent: AgentSpec, agentFile: String, replicas: Int, key: String? = nil) {
            self.agent = agent
            self.agentFile = agentFile
            self.replicas = replicas
            self.key = key
        }
    }

    /// `shoal gateway` beside the cluster (OpenAI's HTTP API), started by `shoal up`.
    public struct Gateway: Sendable, Equatable {
        /// HOST:PORT it listens on.
        public var bind = "127.0.0.1:8080"
        /// Its API key file, relative to the topology file; nil: loopback only.
        public var apiKeys: String?
        /// Give it the cluster's admin key, for the admin routes of admin API keys.
        public var admin = false
        public init() {}

        /// HOST:PORT (an IPv6 host in brackets or not) as its parts, or nil.
        public static func parse(bind: String) -> (host: String, port: Int)? {
            guard let colon = bind.lastIndex(of: ":"), let port = Int(bind[bind.index(after: colon)...]), (0...65535).contains(port) else { return nil }
            let host = String(bind[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            return host.isEmpty ? nil : (host, port)
        }

        /// Whether a host is this machine only (without API keys, the gateway listens only there).
        public static func isLoopback(host: String) -> Bool {
            ["127.0.0.1", "::1", "localhost"].contains(host) || host.hasPrefix("127.")
        }
    }

    public var coordinator: Coordinator
    public var agents: [Deployment]
    public var sourceFile: String
    public var gateway: Gateway? = nil

    static let keys = ["coordinator", "agents", "gateway"]
    static let gatewayKeys = ["bind", "api_keys", "admin"]
    static let coordinatorKeys = ["endpoint", "heartbeat_ms", "liveness", "queue_limit", "max_message_bytes",
                                  "unknown_service_grace_ms", "default_deadline_ms", "max_worker_capacity", "max_pending_bytes",
                                  "keys", "insecure", "metrics"]
    static let deploymentKeys = ["file", "replicas", "key"]

    public static func load(_ path: String) throws -> Topology {
        try parse(yaml: try readConfigFile(path), file: path)
    }

    /// Agent files are resolved relative to the topology file's folder.
    public static func parse(yaml: String, file: String) throws -> Topology {
        let r = try YAMLReader.load(file: file, text: yaml)
        try r.allowOnly(keys)
        let base = (file as NSString).deletingLastPathComponent
        func relative(_ p: String) -> String { p.hasPrefix("/") || base.isEmpty ? p : "\(base)/\(p)" }
        var c = Coordinator()
        if let cr = try r.child("coordinator") {
            try cr.allowOnly(coordinatorKeys)
            if let e = try cr.string("endpoint") {
                guard e.hasPrefix("tcp://") || e.hasPrefix("ipc://") || e.hasPrefix("inproc://") else {
                    throw cr.fail("endpoint", "must be a ZeroMQ endpoint like tcp://127.0.0.1:5555, got \"\(e)\"")
                }
                c.endpoint = e
            }
            func positive(_ key: String, _ min: Int) throws -> Int? {
                guard let v = try cr.int(key) else { return nil }
                guard v >= min else { throw cr.fail(key, "must be ≥ \(min), got \(v)") }
                return v
            }
            c.heartbeatMs = try positive("heartbeat_ms", 10) ?? c.heartbeatMs
            c.liveness = try positive("liveness", 1) ?? c.liveness
            c.queueLimit = try positive("queue_limit", 1) ?? c.queueLimit
            c.maxMessageBytes = try positive("max_message_bytes", 1024) ?? c.maxMessageBytes
            c.unknownServiceGraceMs = try positive("unknown_service_grace_ms", 0) ?? c.unknownServiceGraceMs
            c.defaultDeadlineMs = try positive("default_deadline_ms", 0) ?? c.defaultDeadlineMs
            c.maxWorkerCapacity = try positive("max_worker_capacity", 1) ?? c.maxWorkerCapacity
            c.maxPendingBytes = try positive("max_pending_bytes", 1024) ?? c.maxPendingBytes
            c.keys = try cr.string("keys").map { relative($0) }
            c.insecure = try cr.bool("insecure") ?? false
            if c.insecure && c.keys != nil { throw cr.fail("insecure", "and keys exclude each other: keys mean CURVE") }
            if let m = try cr.string("metrics") {
                guard let (host, _) = Gateway.parse(bind: m) else { throw cr.fail("metrics", "must be HOST:PORT, e.g. 127.0.0.1:9464, got \"\(m)\"") }
                guard Gateway.isLoopback(host: host) else {
                    throw cr.fail("metrics", "must be a loopback address (127.0.0.1, ::1, localhost), got \"\(host)\": the metrics ask no key; "
                                  + "start the coordinator by hand with --metrics-bind and --metrics-public to serve them to the network")
                }
                c.metrics = m
            }
        }
        guard let list = try r.children("agents") else { throw r.fail("agents", "is required: list the agents to run") }
        var deployments: [Deployment] = []
        for d in list {
            try d.allowOnly(deploymentKeys)
            let rel = try d.requiredString("file")
            let path = rel.hasPrefix("/") ? rel : (base.isEmpty ? rel : "\(base)/\(rel)")
            let replicas = try d.int("replicas") ?? 1
            guard replicas >= 1 else { throw d.fail("replicas", "must be ≥ 1, got \(replicas)") }
            let agent: AgentSpec
            do { agent = try AgentSpec.load(path) } catch let e as ConfigError where e.reason == "file not found" {
                throw d.fail("file", "agent file \(path) not found")
            }
            if deployments.contains(where: { $0.agent.name == agent.name }) {
                throw d.fail("file", "agent \"\(agent.name)\" is listed twice")
            }
            deployments.append(Deployment(agent: agent, agentFile: path, replicas: replicas, key: try d.string("key").map { relative($0) }))
        }
        var gateway: Gateway?
        if let g = try r.child("gateway") {
            try g.allowOnly(gatewayKeys)
            var gw = Gateway()
            if let bind = try g.string("bind") {
                guard Gateway.parse(bind: bind) != nil else { throw g.fail("bind", "must be HOST:PORT like 127.0.0.1:8080, got \"\(bind)\"") }
                gw.bind = bind
            }
            gw.apiKeys = try g.string("api_keys").map { relative($0) }
            gw.admin = try g.bool("admin") ?? false
            if gw.apiKeys == nil, let host = Gateway.parse(bind: gw.bind)?.host, !Gateway.isLoopback(host: host) {
                throw g.fail("bind", "\(gw.bind) is not loopback: give api_keys (a key file), or bind to 127.0.0.1")
            }
            gateway = gw
        }
        return Topology(coordinator: c, agents: deployments, sourceFile: file, gateway: gateway)
    }
}
