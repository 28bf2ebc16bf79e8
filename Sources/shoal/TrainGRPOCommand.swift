import ArgumentParser
import Foundation
import ShoalCluster
import ShoalConfig
import ShoalRL

/// `shoal train grpo --agent A`: GRPO for a built-in specialist with everything it needs
/// started here: a coordinator and the agent's workers (a local topology, as `shoal up` runs
/// it), then the learner against them, then a clean shutdown.
struct TrainGRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "GRPO on a built-in specialist, with rollouts from local workers and live swaps of each new version.",
        discussion: """
        Starts from the model the agent file serves (agents/<agent>.yaml, e.g. agents/math/),
        with the agent file's reward weights. --in-process samples in the learner's own process
        instead (no cluster, no swaps). The run's own coordinator keeps its journal and model
        registry in <out>/cluster/.
        """)

    @Option(help: "The specialist: math, code or tools.") var agent: String
    @Option(help: "The agent file (default: agents/<agent>.yaml).") var agentFile: String?
    @Option(help: "Worker replicas serving rollouts.") var replicas = 1
    @Flag(help: "Sample in this process from the learner's weights; start no cluster.") var inProcess = false
    @Option(help: "With --from-tasks: the topology whose other agents run the tasks' other steps (the agent itself runs --replicas).") var topology = "topology/local.yaml"
    @OptionGroup var options: GRPORunOptions

    func run() throws {
        let file = agentFile ?? "agents/\(agent).yaml"
        let spec = try AgentSpec.load(file)
        guard spec.backend == .swift else {
            throw CommandFailure("\(file): GRPO needs a `swift`-backend agent (its workers report token log-probs), this one is \(spec.backend.rawValue)")
        }
        guard replicas >= 1 else { throw ValidationError("--replicas must be ≥ 1, got \(replicas)") }
        let base = (file as NSString).deletingLastPathComponent
        let modelDirectory = spec.model.hasPrefix("/") ? spec.model : ((base as NSString).appendingPathComponent(spec.model) as NSString).standardizingPath
        let run = try options.learner(agent: agent, modelDirectory: modelDirectory, reward: spec.reward)
        if inProcess {
            guard run.fromTasks == nil else { throw ValidationError("--from-tasks runs tasks through a cluster; drop --in-process") }
            let summary = try run.makeLoop(rollouts: .inProcess, publication: .directory, log: say).run()
            say(GRPOReport.lines(summary, out: run.settings.outDirectory))
            return
        }

        // A topology of this one agent; the coordinator on a free port.
        let topologyFile = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-grpo-\(UUID().uuidString.prefix(8)).yaml")
        let agentPath = (file as NSString).isAbsolutePath ? file : FileManager.default.currentDirectoryPath + "/" + file
        var agents = [(file: agentPath, replicas: replicas)]
        if run.fromTasks != nil {
            // The tasks' other steps need their own agents: those of --topology, besides this one.
            for d in try Topology.load(topology).agents where d.agent.name != spec.name {
                agents.append((d.agentFile.hasPrefix("/") ? d.agentFile : FileManager.default.currentDirectoryPath + "/" + d.agentFile, d.replicas))
            }
        }
        try ("agents:\n" + agents.map { "  - file: \($0.file)\n    replicas: \($0.replicas)\n" }.joined())
            .write(to: topologyFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: topologyFile) }
        let supervisor = Supervisor(topology: try Topology.load(topologyFile.path),
                                    executable: ProcessInfo.processInfo.environment["SHOAL_BIN"] ?? currentExecutable(), log: say)
        // The run's coordinator keeps its journal and model registry under --out, apart from a
        // `shoal up` cluster's `.shoal/` in the same directory (whose journal --from-tasks reads).
        try supervisor.start(bindOverride: "tcp://127.0.0.1:*",
                             stateDirectory: (run.settings.outDirectory as NSString).appendingPathComponent("cluster"))
        defer { supervisor.shutdown() }
        let workers = agents.map(\.replicas).reduce(0, +)
        guard supervisor.waitForWorkers(workers, timeout: 120) >= workers else {
            throw CommandFailure("the \(workers) worker(s) did not all register within 120 s (see their stderr above)")
        }
        let skill = spec.skills.first ?? spec.name
        let loop = try run.makeLoop(rollouts: .cluster(endpoint: supervisor.endpoint, skill: skill),
                                    publication: .coordinator(endpoint: supervisor.endpoint), log: say)
        let summary = try loop.run()
        say(GRPOReport.lines(summary, out: run.settings.outDirectory))
    }
}
