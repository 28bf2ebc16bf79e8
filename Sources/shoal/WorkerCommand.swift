import ArgumentParser
import Foundation
import Logging
import ShoalCluster
import ShoalConfig
import ShoalWorker

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run one worker process hosting the specialist an agent file defines.")

    @Option(help: "The agent file (agents/NAME.yaml).") var agent: String
    @OptionGroup var endpoint: CoordinatorEndpoint
    @Option(help: "Worker id shown in status and replies (default: AGENT-HOST-PID).") var id: String?
    @Option(help: "Override the agent's concurrency (requests served at once).") var capacity: Int?
    @Option(name: .customLong("heartbeat-ms"), help: "Heartbeat interval in ms (match the coordinator).") var heartbeatMs: Int64 = 1000
    @Option(help: "Missed heartbeats before the coordinator counts as gone.") var liveness: Int64 = 3
    @Option(name: .customLong("model-cache"), help: "Where versions fetched from the coordinator during a swap are kept.") var modelCache = ".shoal/worker-models"
    @Flag(name: .customLong("fetch-models"), help: "Fetch swapped-in versions from the coordinator over ZeroMQ even if its store is visible here.") var fetchModels = false

    func run() throws {
        dieWithSupervisorIfSupervised()
        Shoal.bootstrapLogging()
        let spec = try AgentSpec.load(agent)
        let specialist = try Specialists.make(for: spec)
        var options = WorkerOptions(coordinator: endpoint.coordinator, agent: spec.name, skills: spec.skills,
                                    capacity: capacity ?? spec.concurrency, workerId: id ?? defaultWorkerId(spec.name))
        options.heartbeatIntervalMs = heartbeatMs
        options.heartbeatLiveness = liveness
        options.modelCache = modelCache
        options.fetchModels = fetchModels
        options.security = try endpoint.security("worker")
        if options.security == .plaintext && !endpoint.insecure {
            FileHandle.standardError.write(Data("worker \(options.workerId): no key (--key, SHOAL_KEY or .shoal/keys/worker.key); connecting in plaintext, which only an --insecure coordinator accepts\n".utf8))
        }
        let exporter = try traceExporter(service: "shoal-worker")
        options.spans = exporter
        defer { exporter?.shutdown() }
        let worker = try Worker(options: options, specialist: specialist)
        let signals = onTerminationSignal { _ in worker.stop() }
        // The sources must outlive the loop: released early, they stop catching signals.
        try withExtendedLifetime(signals) { try worker.run() }
    }
}

/// "<agent>-<host>-<pid>": unique across containers, where every pid may be 1.
func defaultWorkerId(_ agent: String) -> String {
    var name = [CChar](repeating: 0, count: 256)
    gethostname(&name, name.count)
    return "\(agent)-\(String(cString: name))-\(getpid())"
}
