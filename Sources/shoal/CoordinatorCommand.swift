import ArgumentParser
import Foundation
import Logging
import ShoalCluster
import ShoalCoordinator
import ShoalConfig
import ShoalEngine
import ShoalGateway
import ShoalTracing
import ShoalWire

struct CoordinatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coordinator",
        abstract: "Run the coordinator: the Majordomo broker every worker and client connects to.",
        discussion: "Prints `shoal coordinator listening on ENDPOINT` on stdout once bound. Bind to port * for a free port. "
            + "Tasks' and steps' spans are exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set (off by default).")

    @Option(help: "Endpoint to bind (tcp://HOST:PORT, PORT may be *).") var bind = "tcp://127.0.0.1:5555"
    @Option(name: .customLong("heartbeat-ms"), help: "Heartbeat interval in ms.") var heartbeatMs: Int64 = 1000
    @Option(help: "Missed heartbeats before a worker counts as dead.") var liveness: Int64 = 3
    @Option(name: .customLong("queue-limit"), help: "Most queued requests per service before `overloaded`.") var queueLimit = 10_000
    @Option(name: .customLong("max-message-bytes"), help: "Largest accepted request, all frames together.") var maxMessageBytes = 4 << 20
    @Option(name: .customLong("grace-ms"), help: "How long a request for an unknown service waits for a worker.") var graceMs: Int64 = 5000
    @Option(name: .customLong("default-deadline-ms"), help: "Deadline for requests that carry none (0: none): a worker that takes work and never answers holds it at most this long.") var defaultDeadlineMs: Int64 = 300_000
    @Option(name: .customLong("max-pending-bytes"), help: "Bytes of requests held at once, all services together (per service: half); past it clients get `overloaded`.") var maxPendingBytes = 256 << 20
    @Option(name: .customLong("max-worker-capacity"), help: "The most concurrent requests one worker may claim; larger claims are cut to this.") var maxWorkerCapacity = 256
    @Option(name: .customLong("max-connections"), help: "Open connections (clients and workers' sessions) accepted at once; past it new ones are refused at the handshake.") var maxConnections = 4096
    @Option(help: "SQLite journal of multi-step tasks (WAL); unfinished tasks resume from it after a crash.") var journal = ".shoal/journal.sqlite"
    @Flag(name: .customLong("journal-recover"), help: "When the journal is empty or not a readable database, move it aside (<path>.broken-<time>) and start a fresh one.") var journalRecover = false
    @Flag(name: .customLong("no-journal"), help: "Keep tasks in memory only (they do not survive a crash).") var noJournal = false
    @Option(name: .customLong("skill"), help: "A skill the topology runs (repeatable): task specs may use it before its workers register.") var skills: [String] = []
    @Option(name: .customLong("journal-retention-hours"), help: "Forget finished tasks older than this at start-up.") var journalRetentionHours: Double = 168
    @Option(name: .customLong("model-root"), help: "A directory model imports may come from (repeatable). Default: the directory the coordinator starts in; `--model-root /` allows any path it can read.") var modelRoots: [String] = []
    @Option(help: "The model registry's directory (SQLite + content-addressed store; default: models/ beside the journal).") var models: String?
    @Option(help: ArgumentHelp("Key directory: coordinator.key and the allowlist allow.yaml (`shoal keys init`). Default: $SHOAL_KEYS, else .shoal/keys, made on first start.", valueName: "dir")) var keys: String?
    @Flag(help: "Plaintext, no keys and no roles: anyone who can reach the port may do anything. Loopback binds only, unless --insecure-network.") var insecure = false
    @Flag(name: .customLong("insecure-network"), help: "Allow --insecure on a non-loopback bind.") var insecureNetwork = false
    @Option(name: .customLong("metrics-bind"), help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics (port 0: any free port; the URL is printed). Off by default.", valueName: "host:port")) var metricsBind: String?
    @Flag(name: .customLong("metrics-public"), help: "Allow --metrics-bind on a non-loopback address (the metrics name services, workers and versions, and ask no key).") var metricsPublic = false
    @Option(name: .customLong("swap-step-timeout-ms"), help: "How long a worker may take to load (or switch to) a swapped-in model.") var swapStepTimeoutMs: Int64 = 300_000

    func validate() throws {
        guard heartbeatMs >= 10 else { throw ValidationError("--heartbeat-ms must be ≥ 10, got \(heartbeatMs)") }
        guard liveness >= 1 else { throw ValidationError("--liveness must be ≥ 1, got \(liveness)") }
        guard queueLimit >= 1 else { throw ValidationError("--queue-limit must be ≥ 1, got \(queueLimit)") }
        guard maxMessageBytes >= 1024 else { throw ValidationError("--max-message-bytes must be ≥ 1024, got \(maxMessageBytes)") }
        guard maxPendingBytes >= maxMessageBytes else { throw ValidationError("--max-pending-bytes must be ≥ --max-message-bytes (\(maxMessageBytes)), got \(maxPendingBytes)") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be ≥ 1, got \(maxConnections)") }
        guard maxWorkerCapacity >= 1 else { throw ValidationError("--max-worker-capacity must be ≥ 1, got \(maxWorkerCapacity)") }
        guard defaultDeadlineMs >= 0 else { throw ValidationError("--default-deadline-ms must be ≥ 0, got \(defaultDeadlineMs)") }
        if let metricsBind {
            guard let (host, _) = Topology.Gateway.parse(bind: metricsBind) else {
                throw ValidationError("--metrics-bind must be HOST:PORT (e.g. 127.0.0.1:9464), got '\(metricsBind)'")
            }
            if !metricsPublic && !Topology.Gateway.isLoopback(host: host) {
                throw ValidationError("--metrics-bind \(metricsBind) would show anyone on the network the cluster's services, workers and versions; "
                                      + "bind to 127.0.0.1, or add --metrics-public")
            }
        }
        if insecure && keys != nil { throw ValidationError("--insecure and --keys exclude each other: keys mean CURVE") }
        if insecure && !insecureNetwork && !Supervisor.isLoopback(bind) {
            throw ValidationError("--insecure on \(bind) would let anyone on the network register workers, read tasks and swap models; "
                                  + "bind to 127.0.0.1, use keys (drop --insecure), or add --insecure-network")
        }
    }

    /// The key directory's coordinator key and allowlist; the default directory is made when
    /// missing (a named one must exist: a typo must not lock every key out).
    func security() throws -> CoordinatorSecurity? {
        if insecure { return nil }
        let env = Security.environmentKeyDirectory
        let dir = KeyDirectory(path: keys ?? env ?? Security.localKeyDirectory)
        if !dir.exists {
            guard keys == nil && env == nil else {
                throw CommandFailure("\(dir.path) holds no coordinator.key and allow.yaml; make them with `shoal keys init \(dir.path)`, or run --insecure", code: "no_keys")
            }
            try KeyDirectory.create(at: dir.path)
            FileHandle.standardError.write(Data("made CURVE keys in \(dir.path): admin.key, worker.key, learner.key, client.key; give each process its file (--key or SHOAL_KEY)\n".utf8))
        }
        return try CoordinatorSecurity(keys: dir)
    }

    func run() throws {
        dieWithSupervisorIfSupervised()
        Shoal.bootstrapLogging()
        var config = BrokerConfig()
        config.heartbeatIntervalMs = heartbeatMs
        config.heartbeatLiveness = liveness
        config.queueLimit = queueLimit
        config.maxMessageBytes = maxMessageBytes
        config.unknownServiceGraceMs = graceMs
        config.defaultDeadlineMs = defaultDeadlineMs
        config.maxWorkerCapacity = maxWorkerCapacity
        config.maxConnections = maxConnections
        config.maxPendingBytes = maxPendingBytes
        config.maxServicePendingBytes = max(maxMessageBytes, maxPendingBytes / 2)
        config.swapStepTimeoutMs = swapStepTimeoutMs
        let here = FileManager.default.currentDirectoryPath
        if modelRoots.isEmpty && URL(fileURLWithPath: here).standardizedFileURL.path == "/" {
            // Started from / (a service manager's default): the default root would be everything.
            FileHandle.standardError.write(Data("warning: the coordinator runs in /, so model imports may name any path; give --model-root DIR\n".utf8))
        }
        let metrics = metricsBind.map { _ in CoordinatorMetrics() }
        let exporter = try traceExporter(service: "shoal-coordinator")
        defer { exporter?.shutdown() }
        let coordinator = try Coordinator(bind: bind, config: config, journalPath: noJournal ? nil : journal,
                                          retentionHours: journalRetentionHours, modelStore: models,
                                          modelRoots: modelRoots.isEmpty ? [here] : modelRoots, recoverJournal: journalRecover,
                                          topologySkills: Set(skills), security: try security(),
                                          modelCheck: { try Generator.checkServable(path: $0, base: $1) }, modelMerger: mergeModels,
                                          metrics: metrics, spans: exporter)
        FileHandle.standardOutput.write(Data("shoal coordinator listening on \(coordinator.endpoint)\n".utf8))
        let metricsFailure = FailureBox()
        if let metrics, let metricsBind, let (host, port) = Topology.Gateway.parse(bind: metricsBind) {
            Task {
                do {
                    try await MetricsListener.serve(host: host, port: port, text: { metrics.text() }, listening: { url in
                        FileHandle.standardOutput.write(Data("shoal coordinator metrics on \(url)\n".utf8))
                    }, logger: Logger(label: "shoal.metrics"))
                } catch {
                    // Asked for metrics and cannot serve them (the port is taken…): stop rather than run without.
                    metricsFailure.set(error)
                    coordinator.stop()
                }
            }
        }
        let signals = onTerminationSignal { _ in coordinator.stop() }
        // The sources must outlive the loop: released early, they stop catching signals.
        try withExtendedLifetime(signals) { try coordinator.run() }
        if let error = metricsFailure.error { throw CommandFailure("metrics listener on \(metricsBind ?? ""): \(error)") }
    }
}

/// The OTLP exporter the standard OpenTelemetry variables ask for (`OTEL_EXPORTER_OTLP_ENDPOINT`,
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_SERVICE_NAME`); nil when none is set: tracing is
/// off by default. A malformed endpoint stops the command with the variable named.
func traceExporter(service: String) throws -> OTLPExporter? {
    do {
        let exporter = try OTLPExporter.fromEnvironment(serviceName: service)
        if let exporter { FileHandle.standardError.write(Data("\(service): exporting spans to \(exporter.endpoint.absoluteString) (OTLP/HTTP JSON)\n".utf8)) }
        return exporter
    } catch {
        throw CommandFailure("\(error)", code: "bad_otlp_endpoint")
    }
}

/// The coordinator's merges (`shoal models merge`): the engine's `ModelMerge` on the versions'
/// directories, with the parameters parsed and checked by name; the parameters used, as JSON.
@Sendable func mergeModels(_ request: MergeRequest) throws -> String {
    guard let method = ModelMerge.Method(rawValue: request.method) else {
        throw ModelMergeError.settings("method must be linear, ties, slerp or task-arithmetic, got '\(request.method)'")
    }
    var settings = ModelMerge.Settings(method: method)
    func number(_ key: String, _ text: String) throws -> Double {
        guard let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite else {
            throw ModelMergeError.settings("--\(key) must be a number, got '\(text.prefix(40))'")
        }
        return v
    }
    if let w = request.parameters["weights"], !w.isEmpty { settings.weights = try w.split(separator: ",").map { try number("weights", String($0)) } }
    if let d = request.parameters["density"], !d.isEmpty { settings.density = try number("density", d) }
    if let t = request.parameters["t"], !t.isEmpty { settings.t = try number("t", t) }
    try ModelMerge.merge(models: request.models, base: request.base, settings: settings, into: request.output)
    let data = try JSONSerialization.data(withJSONObject: settings.parameters, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}
