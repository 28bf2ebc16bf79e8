import Foundation
import ShoalClient
import ShoalConfig
import ShoalCoordinator
import ShoalWire

/// Runs a topology on this machine (`shoal up`): the coordinator first, then every worker
/// replica, each its own child process. Crashed children restart with exponential back-off;
/// `shutdown` drains workers, then stops the coordinator, leaving no process behind.
public final class Supervisor: @unchecked Sendable {
    // All mutable state is touched only from the thread that calls `start`/`superviseOnce`/`shutdown`.
    public struct Child {
        public let name: String
        let arguments: [String]
        public internal(set) var process: ChildProcess
        var restarts = 0
        var startedAt = Date()
        var nextRestartAt: Date?
    }

    public let topology: Topology
    let executable: String
    let quietStderr: Bool
    public private(set) var endpoint = ""
    /// The coordinator's Prometheus metrics URL, when the topology asks for them (`coordinator: metrics:`).
    public private(set) var metricsURL: String?
    /// The gateway's URL, when the topology has a `gateway:` block.
    public private(set) var gatewayURL: String?
    public private(set) var coordinator: Child?
    public private(set) var workers: [Child] = []
    public private(set) var gateway: Child?
    /// The cluster's CURVE keys (made on first start); nil when the topology says `insecure`.
    public private(set) var keys: KeyDirectory?
    private let log: (String) -> Void

    public init(topology: Topology, executable: String = currentExecutable(), quietStderr: Bool = false,
                log: @escaping (String) -> Void = { print($0) }) {
        self.topology = topology
        self.executable = executable
        self.quietStderr = quietStderr
        self.log = log
    }

    public enum StartError: Error, CustomStringConvertible {
        case coordinatorDidNotStart(String)
        case gatewayDidNotStart(String)
        public var description: String {
            switch self {
            case .coordinatorDidNotStart(let why): "the coordinator did not start: \(why)"
            case .gatewayDidNotStart(let why): "the gateway did not start: \(why)"
            }
        }
    }

    /// Starts everything; returns once the coordinator listens (workers register on their own).
    /// `stateDirectory` holds the coordinator's journal and model registry (default: the
    /// coordinator's own, `.shoal/` in the working directory).
    /// `modelRoots`: where the coordinator may import models from; empty: its default (the
    /// working directory).
    public func start(bindOverride: String? = nil, stateDirectory: String? = nil, modelRoots: [String] = []) throws {
        let c = topology.coordinator
        let bind = bindOverride ?? c.endpoint
        if !c.insecure {
            // The topology's, else beside the state (a run's own cluster), else $SHOAL_KEYS or .shoal/keys,
            // where commands run beside `shoal up` look by default.
            let dir = c.keys ?? stateDirectory.map { ($0 as NSString).appendingPathComponent("keys") }
                ?? Security.environmentKeyDirectory ?? Security.localKeyDirectory
            let made = !KeyDirectory(path: dir).exists
            keys = try KeyDirectory.ensure(at: dir)
            if made { log("keys          made in \(dir): admin.key, worker.key, learner.key, client.key (allowlist: allow.yaml)") }
        }
        // An insecure topology stays on loopback: the coordinator refuses anything else without
        // --insecure-network, which only a hand-started coordinator can be given.
        let security = keys.map { ["--keys", $0.path] } ?? ["--insecure"]
        let args = ["coordinator", "--bind", bind, "--heartbeat-ms", "\(c.heartbeatMs)", "--liveness", "\(c.liveness)",
                    "--queue-limit", "\(c.queueLimit)", "--max-message-bytes", "\(c.maxMessageBytes)",
                    "--grace-ms", "\(c.unknownServiceGraceMs)", "--default-deadline-ms", "\(c.defaultDeadlineMs)",
                    "--max-worker-capacity", "\(c.maxWorkerCapacity)", "--max-pending-bytes", "\(c.maxPendingBytes)"]
            + (stateDirectory.map { ["--journal", ($0 as NSString).appendingPathComponent("journal.sqlite")] } ?? [])
            + Set(topology.agents.flatMap(\.agent.skills)).sorted().flatMap { ["--skill", $0] } + security
            + modelRoots.flatMap { ["--model-root", $0] } + (c.metrics.map { ["--metrics-bind", $0] } ?? [])
        let p = try ChildProcess(name: "coordinator", executable: executable, arguments: args, silenceStderr: quietStderr)
        guard let ep = p.waitForLine(prefix: "shoal coordinator listening on ", timeout: 20) else {
            p.stop(grace: 1)
            throw StartError.coordinatorDidNotStart(p.exitCode.map { "exited with status \($0)" } ?? "no 'listening' line within 20 s")
        }
        endpoint = ep
        coordinator = Child(name: "coordinator", arguments: args, process: p)
        log("coordinator   listening on \(endpoint)   (pid \(p.pid))\(keys == nil ? "   INSECURE: plaintext, no keys" : "   CURVE, keys in \(keys!.path)")")
        if c.metrics != nil {
            guard let line = p.waitForLine(prefix: "shoal coordinator metrics on ", timeout: 20) else {
                p.stop(grace: 1)
                throw StartError.coordinatorDidNotStart("no metrics listener on \(c.metrics!) within 20 s (is the port taken?)")
            }
            metricsURL = line
            log("metrics       \(metricsURL!)   (Prometheus text format)")
        }
        for d in topology.agents {
            for i in 1...d.replicas {
                let name = "\(d.agent.name)-\(i)"
                let key = keys.map { ["--key", d.key ?? $0.file("worker")] } ?? ["--insecure"]
                let wargs = ["worker", "--agent", d.agentFile, "--coordinator", endpoint, "--id", name,
                             "--heartbeat-ms", "\(c.heartbeatMs)", "--liveness", "\(c.liveness)"] + key
                let w = try ChildProcess(name: name, executable: executable, arguments: wargs, captureStdout: false,
                                         silenceStderr: quietStderr)
                workers.append(Child(name: name, arguments: wargs, process: w))
                log("worker        \(name.padding(toLength: 14, withPad: " ", startingAt: 0)) skills \(d.agent.skills.joined(separator: ",")) · \(d.agent.backend.rawValue):\(d.agent.model) · capacity \(d.agent.concurrency)   (pid \(w.pid))")
            }
        }
        if let g = topology.gateway {
            let key = keys.map { ["--key", $0.file("client")] + (g.admin ? ["--admin-key", $0.file("admin")] : []) } ?? ["--insecure"]
            let gargs = ["gateway", "--coordinator", endpoint, "--bind", g.bind] + (g.apiKeys.map { ["--api-keys", $0] } ?? []) + key
            let p = try ChildProcess(name: "gateway", executable: executable, arguments: gargs, silenceStderr: quietStderr)
            guard let line = p.waitForLine(prefix: "shoal gateway listening on ", timeout: 20), let url = line.split(separator: " ").first else {
                p.stop(grace: 1)
                throw StartError.gatewayDidNotStart(p.exitCode.map { "exited with status \($0)" } ?? "no 'listening' line within 20 s")
            }
            gatewayURL = String(url)
            gateway = Child(name: "gateway", arguments: gargs, process: p)
            log("gateway       \(url)   OpenAI's HTTP API\(g.apiKeys == nil ? " (no API keys: loopback only)" : "")   (pid \(p.pid))")
        }
    }

    /// How a process beside the supervisor connects as `name` (admin, learner, client or
    /// worker): with that key of the cluster's directory, or in plaintext when insecure.
    public func security(_ name: String = "admin") throws -> Security {
        guard let keys else { return .plaintext }
        return .curve(try keys.credentials(name))
    }

    /// A client of this cluster's coordinator, as `name`.
    public func client(_ name: String = "admin") throws -> Client {
        try Client(endpoint: endpoint, security: try security(name))
    }

    /// Whether an endpoint stays on this machine (loopback TCP, IPC or in-process).
    public static func isLoopback(_ endpoint: String) -> Bool {
        guard endpoint.hasPrefix("tcp://") else { return true }
        let host = endpoint.dropFirst(6).split(separator: ":", omittingEmptySubsequences: false).dropLast().joined(separator: ":")
        return ["127.0.0.1", "localhost", "[::1]", "::1"].contains(host) || host.hasPrefix("127.")
    }

    /// Waits until `count` workers have registered, or `timeout` passes; returns how many did.
    public func waitForWorkers(_ count: Int? = nil, timeout: TimeInterval = 30) -> Int {
        let want = count ?? workers.count
        let end = Date().addingTimeInterval(timeout)
        var seen = 0
        while Date() < end {
            if let client = try? client(), let s = try? client.status(timeoutMs: 1000) {
                seen = s.workers.count
                if seen >= want { return seen }
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return seen
    }

    /// One supervision pass: restarts children that exited, with back-off 0.5 s · 2^n (max 30 s),
    /// reset after a child stays up a minute.
    public func superviseOnce() {
        func revive(_ child: inout Child) {
            if child.process.isRunning {
                if Date().timeIntervalSince(child.startedAt) > 60 { child.restarts = 0 }
                return
            }
            let now = Date()
            if let at = child.nextRestartAt {
                guard now >= at else { return }
                do {
                    child.process = try ChildProcess(name: child.name, executable: executable, arguments: child.arguments,
                                                     captureStdout: child.name == "coordinator", silenceStderr: quietStderr)
                    child.startedAt = now
                    child.nextRestartAt = nil
                    log("restarted \(child.name) (pid \(child.process.pid), restart #\(child.restarts))")
                } catch {
                    log("could not restart \(child.name): \(error)")
                    child.nextRestartAt = now.addingTimeInterval(5)
                }
                return
            }
            let delay = min(30, 0.5 * pow(2, Double(child.restarts)))
            child.restarts += 1
            child.nextRestartAt = now.addingTimeInterval(delay)
            log("\(child.name) exited (status \(child.process.exitCode ?? -1)); restarting in \(String(format: "%.1f", delay)) s")
        }
        if var c = coordinator { revive(&c); coordinator = c }
        if var g = gateway { revive(&g); gateway = g }
        for i in workers.indices { revive(&workers[i]) }
    }

    /// Drains workers (SIGTERM: finish in-flight work, then DISCONNECT), then stops the coordinator.
    public func shutdown(grace: TimeInterval = 10) {
        gateway?.process.stop(grace: 5)  // first: no new requests come in
        for w in workers { w.process.signal(SIGTERM) }
        let end = Date().addingTimeInterval(grace)
        for w in workers { _ = w.process.wait(timeout: max(0.1, end.timeIntervalSinceNow)) }
        for w in workers where w.process.isRunning { w.process.signal(SIGKILL); w.process.wait(timeout: 5) }
        coordinator?.process.stop(grace: 5)
        log("all \(workers.count + (coordinator == nil ? 0 : 1) + (gateway == nil ? 0 : 1)) processes stopped")
    }
}
