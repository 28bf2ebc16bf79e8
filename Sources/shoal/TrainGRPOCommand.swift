import ArgumentParser
import Foundation
import ShoalCluster
import ShoalConfig
import ShoalEngine
import ShoalRL

/// `shoal train grpo --agent A` (or `--agents A,B`): GRPO for built-in specialists with
/// everything they need started here: a coordinator and the agents' workers (a local
/// topology, as `shoal up` runs it), then one learner per agent against them, concurrently,
/// then a clean shutdown.
struct TrainGRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "GRPO on specialists (the built-ins, or a GGUF model as a LoRA adapter), with rollouts from local workers and live swaps of each new version.",
        discussion: """
        Starts from the model the agent file serves (agents/<agent>.yaml, e.g. agents/math/), \
        with the agent file's reward weights. --agents trains several specialists at once, each \
        with its own learner, reward and versions, written under <out>/<agent>/. \
        --in-process samples in the learner's own process instead (no cluster, no swaps); \
        --from-experience updates from a recorded experience.jsonl (no cluster). The run's own \
        coordinator keeps its journal and model registry in <out>/cluster/.
        """)

    @Option(help: "The specialist: math, code or tools, or an agent whose file names its tasks (`verifier: kind:`), e.g. smol-math.") var agent: String?
    @Option(help: "Several specialists trained at once, comma-separated (e.g. tools,math).") var agents: String?
    @Option(help: "The agent file (default: agents/<agent>.yaml; one agent only).") var agentFile: String?
    @Option(help: "Worker replicas serving each agent's rollouts.") var replicas = 1
    @Flag(help: "Sample in this process from the learner's weights; start no cluster.") var inProcess = false
    @Option(help: "With --from-tasks: the topology whose other agents run the tasks' other steps (the trained agents run --replicas).") var topology = "topology/local.yaml"
    @OptionGroup var options: GRPORunOptions

    /// One agent to train: its file, spec, model (a directory or a .gguf file) and task family.
    struct Trainee {
        var name: String
        var file: String
        var spec: AgentSpec
        var modelDirectory: String
        var family: String
    }

    func trainees() throws -> [Trainee] {
        let names: [String]
        switch (agent, agents) {
        case let (one?, nil): names = [one]
        case let (nil, list?): names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        default: throw ValidationError("give --agent A or --agents A,B (one of them)")
        }
        guard !names.isEmpty, !names.contains(""), Set(names).count == names.count else {
            throw ValidationError("--agents must name distinct agents, comma-separated, got '\(agents ?? "")'")
        }
        guard agentFile == nil || names.count == 1 else { throw ValidationError("--agent-file goes with a single --agent") }
        return try names.map { name in
            let file = agentFile ?? "agents/\(name).yaml"
            let spec = try AgentSpec.load(file)
            guard spec.backend == .swift else {
                throw CommandFailure("\(file): GRPO needs a `swift`-backend agent (its workers report token log-probs), this one is \(spec.backend.rawValue)")
            }
            let family = try GRPORunOptions.family(agent: name, spec: spec)
            let model = try ShippedModel.resolve(spec.model, relativeTo: URL(fileURLWithPath: file).deletingLastPathComponent().path)
            return Trainee(name: name, file: file, spec: spec, modelDirectory: model, family: family)
        }
    }

    func run() throws {
        guard replicas >= 1 else { throw ValidationError("--replicas must be ≥ 1, got \(replicas)") }
        let trainees = try trainees()
        let several = trainees.count > 1
        let runs = try trainees.map { t in
            try options.learner(agent: t.name, family: t.family, modelDirectory: t.modelDirectory, reward: t.spec.reward,
                                outDirectory: several ? ((options.out ?? ".shoal/grpo") as NSString).appendingPathComponent(t.name) : nil)
        }
        if let file = options.fromExperience {
            guard !several, var run = runs.first else { throw ValidationError("--from-experience replays one agent's file; give --agent") }
            guard run.fromTasks == nil else { throw ValidationError("--from-experience replays a file; drop --from-tasks") }
            let records = try ExperienceLog.read(from: URL(fileURLWithPath: file))
            if let other = records.first(where: { $0.agent != nil && $0.agent != run.agent }) {
                throw ValidationError("\(file) holds experience of agent '\(other.agent ?? "")', not '\(run.agent)'")
            }
            let steps = ExperienceLog.replaySteps(records)
            guard !steps.isEmpty else { throw ValidationError("\(file) holds no experience records") }
            say("replaying \(records.count) samples in \(steps.count) recorded steps from \(file)")
            run.settings.grpo.steps = steps.count
            let summary = try run.makeLoop(rollouts: .inProcess, publication: .directory, log: say).replay(steps)
            say(GRPOReport.lines(summary, out: run.settings.outDirectory))
            return
        }
        if inProcess {
            guard !several, let run = runs.first else { throw ValidationError("--in-process trains one agent; give --agent") }
            guard run.fromTasks == nil else { throw ValidationError("--from-tasks runs tasks through a cluster; drop --in-process") }
            let summary = try run.makeLoop(rollouts: .inProcess, publication: .directory, log: say).run()
            say(GRPOReport.lines(summary, out: run.settings.outDirectory))
            return
        }

        // A topology of these agents; the coordinator on a free port.
        let topologyFile = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-grpo-\(UUID().uuidString.prefix(8)).yaml")
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path }
        var members = trainees.map { (file: absolute($0.file), replicas: replicas) }
        if runs.contains(where: { $0.fromTasks != nil }) {
            // The tasks' other steps need their own agents: those of --topology, besides these;
            // for tasks given up front, only those serving a skill the tasks use.
            let trained = Set(trainees.map(\.spec.name))
            var needed: Set<String>? = []
            for run in runs {
                guard case let .specs(specs, _)? = run.fromTasks else { needed = nil; break }
                needed?.formUnion(specs.flatMap { TaskSkills.of(specJSON: $0.text) })
                needed?.formUnion(run.heldOutTasks.flatMap { TaskSkills.of(specJSON: $0.text) })
            }
            for d in try Topology.load(topology).agents where !trained.contains(d.agent.name) {
                if let needed, needed.isDisjoint(with: d.agent.skills) { continue }
                members.append((absolute(d.agentFile), d.replicas))
            }
        }
        try ("agents:\n" + members.map { "  - file: \($0.file)\n    replicas: \($0.replicas)\n" }.joined())
            .write(to: topologyFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: topologyFile) }
        let supervisor = Supervisor(topology: try Topology.load(topologyFile.path),
                                    executable: ProcessInfo.processInfo.environment["SHOAL_BIN"] ?? currentExecutable(), log: say)
        // The run's coordinator keeps its journal and model registry under --out, apart from a
        // `shoal up` cluster's `.shoal/` in the same directory (whose journal --from-tasks reads).
        let clusterState = several ? ((options.out ?? ".shoal/grpo") as NSString).appendingPathComponent("cluster")
            : (runs[0].settings.outDirectory as NSString).appendingPathComponent("cluster")
        // The learners publish from under --out: that, and the working directory (the agents' own
        // models), are where this coordinator imports from.
        try supervisor.start(bindOverride: "tcp://127.0.0.1:*", stateDirectory: clusterState,
                             modelRoots: [FileManager.default.currentDirectoryPath, (clusterState as NSString).deletingLastPathComponent])
        defer { supervisor.shutdown() }
        let workers = members.map(\.replicas).reduce(0, +)
        guard supervisor.waitForWorkers(workers, timeout: 120) >= workers else {
            throw CommandFailure("the \(workers) worker(s) did not all register within 120 s (see their stderr above)")
        }
        var loops: [(agent: String, loop: LearnerLoop<Float>)] = []
        for (t, run) in zip(trainees, runs) {
            var run = run
            run.security = try supervisor.security("learner")
            let name = t.name
            let log: (String) -> Void = several ? { say("[\(name)] " + $0) } : { say($0) }
            let loop = try run.makeLoop(rollouts: .cluster(endpoint: supervisor.endpoint, skill: t.spec.skills.first ?? t.spec.name),
                                        publication: .coordinator(endpoint: supervisor.endpoint), log: log)
            loops.append((name, loop))
        }
        let summaries = several ? try ConcurrentLearners.run(loops) : [try loops[0].loop.run()]
        for (run, summary) in zip(runs, summaries) { say(GRPOReport.lines(summary, out: run.settings.outDirectory)) }
    }
}

/// The skills a task spec's steps name (JSON text; nothing for text that is not a spec).
enum TaskSkills {
    static func of(specJSON: String) -> [String] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(specJSON.utf8))) as? [String: Any],
              let steps = object["steps"] as? [[String: Any]] else { return [] }
        return steps.compactMap { $0["skill"] as? String }
    }
}
