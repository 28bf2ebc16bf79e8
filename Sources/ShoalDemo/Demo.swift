import Foundation
import ShoalBench
import ShoalCluster
import ShoalClient
import ShoalConfig

/// `shoal demo`: the tour a new user sees first. It brings a real local cluster up, routes
/// sub-tasks to specialists, shows errors and a worker crash being absorbed, then stops.
public enum Demo {
    public static func run(topologyFile: String, say: @escaping (String) -> Void) throws {
        var topology = try Topology.load(topologyFile)
        topology.coordinator.unknownServiceGraceMs = 1000  // keep the tour brisk
        topology.coordinator.heartbeatMs = 250
        topology.coordinator.metrics = "127.0.0.1:0"  // Prometheus metrics on a free port, shown in 9b
        let tinyModel = tinyModelAgent(topologyFile: topologyFile)
        if let tinyModel { topology.agents.append(tinyModel) }
        // A fresh journal and model registry per tour, so one tour's swaps never leak into the next.
        let state = NSTemporaryDirectory() + "shoal-demo-\(getpid())"
        let digitsModel = (state as NSString).appendingPathComponent("digits-model")
        try? FileManager.default.createDirectory(atPath: digitsModel, withIntermediateDirectories: true)
        let digits = digitsAgent(directory: digitsModel)
        if let digits { topology.agents.append(digits) }
        let adapterHost = adapterAgent(state: state)
        if let adapterHost { topology.agents.append(adapterHost) }
        defer {
            if let tinyModel { try? FileManager.default.removeItem(atPath: tinyModel.agentFile) }
            if let digits { try? FileManager.default.removeItem(atPath: digits.agentFile) }
            try? FileManager.default.removeItem(atPath: state)
        }
        say("━━ Shoal demo ━━")
        say("")
        say("1. Start a local cluster from \(topologyFile): a coordinator and its workers, each its own process.")
        let supervisor = Supervisor(topology: topology, quietStderr: true) { say("   " + $0) }
        // Models come from the project (its fixtures) and the tour's own state (the GRPO versions).
        try supervisor.start(bindOverride: "tcp://127.0.0.1:*", stateDirectory: state,
                             modelRoots: [FileManager.default.currentDirectoryPath, repoRoot(topologyFile), state])
        defer {
            say("")
            say("10. Shut down: workers drain their in-flight requests, then the coordinator stops.")
            supervisor.shutdown()
        }
        let registered = supervisor.waitForWorkers(timeout: 30)
        say("   \(registered)/\(supervisor.workers.count) workers registered with the coordinator.")
        let client = try supervisor.client()

        say("")
        say("2. Route sub-tasks to the specialist that serves each skill.")
        for expr in ["2 * (3 + 4)", "sqrt(2) * sqrt(8)", "(1 + 2) ^ 10 / 3", "round(100 / 7, 3)", "min(4, 2, 8) - 2.5"] {
            let r = try client.call(skill: "calculator", input: expr)
            say("   calculator  \(quote(expr, 22)) → \(r.ok ? r.output : "error \(r.code.name)")   [\(r.workerId), model v\(r.modelVersion), \(String(format: "%.2f", Double(r.latencyUs) / 1000)) ms in the specialist]")
        }

        if tinyModel != nil {
            let r = try client.call(skill: tinySkill, input: "The capital of France is", params: ["max_tokens": "8"])
            let lp = (r.metadata["logprobs"] ?? "").split(separator: ",").prefix(4).joined(separator: ", ")
            say("   \(tinySkill)  \"The capital of France is\" → \(r.ok ? "\(r.metadata["completion_tokens"] ?? "?") tokens, logprobs [\(lp), …]" : "error \(r.code.name): \(r.message)")   [\(r.workerId), model \(r.modelVersion)]")
            say("               (Shoal's own engine serving a Llama checkpoint from disk; this one is a tiny random-weight")
            say("                test model, so its text is noise; it is here for the live swap below)")
        }
        try showBuiltInSpecialists(client: client, skills: Set(topology.agents.flatMap(\.agent.skills)), say: say)
        try showRealModels(client: client, skills: Set(topology.agents.flatMap(\.agent.skills)), say: say)
        let gateway = try showGateway(supervisor: supervisor, skills: Set(topology.agents.flatMap(\.agent.skills)), say: say)
        defer { gateway?.stop() }
        let answer = try client.call(skill: "calculator", input: "2 * (3 + 4)").output

        say("")
        say("3. Rewards: verifiers check outputs; the reward module maps each verdict to one scalar.")
        showRewards(calculatorAnswer: answer, say: say)

        say("")
        say("4. Multi-step tasks from \(tasksFolder(topologyFile)): the coordinator runs each as a DAG (independent")
        say("   steps at once, fan-out over lists), passes outputs along, journals it, and streams each step.")
        for file in exampleTasks(topologyFile) {
            guard var text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            // A fresh id per run: the journal would otherwise return the stored result of an earlier tour.
            text = text.replacingOccurrences(of: "\nid: ", with: "\nid: demo-\(getpid())-")
            say("   shoal submit --task \(file)")
            let t = try client.call(skill: "shoal.task", input: text) { partial in
                guard let step = try? JSONSerialization.jsonObject(with: Data(partial.utf8)) as? [String: Any] else { return }
                if let id = step["accepted"] as? String { say("     accepted and journaled as \(id)"); return }
                let ok = step["status"] as? String == "succeeded"
                let reward = (step["reward"] as? Double).map { String(format: ", reward %.2f", $0) } ?? ""
                say("     \(ok ? "✓" : "✗") \((step["id"] as? String ?? "").padding(toLength: 16, withPad: " ", startingAt: 0)) \(ok ? "→ \(clip(oneLine("\(step["output"] ?? "")"), 96))" : "\(step["status"] ?? ""): \(step["error"] ?? "")")   [\(step["worker_id"] ?? "")\(reward)]")
            }
            if t.ok, let result = try? JSONSerialization.jsonObject(with: Data(t.output.utf8)) as? [String: Any] {
                say("     task \(result["status"] ?? "?"): \(clip(oneLine("\(result["output"] ?? "(no output)")"), 110))")
            } else {
                // Validation names every specialist no worker serves; nothing is dispatched or faked.
                let missing = t.message.split(separator: "\n").compactMap { line -> String? in
                    guard let r = line.range(of: "skill: '"), let end = line[r.upperBound...].firstIndex(of: "'") else { return nil }
                    return String(line[r.upperBound..<end])
                }
                say(missing.isEmpty ? "     rejected: \(t.message)"
                    : "     not run: needs specialists no worker serves here: \(missing.joined(separator: ", ")) (the coordinator names them and dispatches nothing)")
            }
        }

        say("")
        say("5. Bad input gets a named error; nothing crashes.")
        for (skill, input) in [("calculator", "1 / 0"), ("calculator", "2 + * 3"), ("poet", "a haiku about fish")] {
            let r = try client.call(skill: skill, input: input)
            say("   \(skill.padding(toLength: 10, withPad: " ", startingAt: 0))  \(quote(input, 22)) → \(r.code.name): \(r.message)")
        }
        // An attacker's input is bad input too (issue 21): specs that once crashed or stalled the coordinator.
        var bomb = "id: bomb\ninputs:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for (name, previous) in zip(["b", "c", "d", "e", "f", "g", "h", "i"], ["a", "b", "c", "d", "e", "f", "g", "h"]) {
            bomb += "  \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]\n"
        }
        let deep = "id: deep\ninputs: {x: " + String(repeating: "[", count: 6_000) + String(repeating: "]", count: 6_000) + "}\nsteps: []\n"
        for (what, spec) in [("a task 6,000 [ deep (12 KB)", deep), ("a YAML alias bomb (\(bomb.utf8.count) bytes)", bomb + "steps: []\n")] {
            let start = DispatchTime.now().uptimeNanoseconds
            let r = try client.call(skill: "shoal.task", input: spec)
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            let reason = r.message.split(separator: "\n").dropFirst().first.map { $0.trimmingCharacters(in: .whitespaces) } ?? r.message
            say("   \(what) → \(r.code.name) in \(String(format: "%.1f", ms)) ms: \(reason)")
        }
        try showRoles(supervisor: supervisor, say: say)

        say("")
        say("6. A worker dies (kill -9) under load: its in-flight requests go to another worker,")
        say("   every request is answered exactly once, and the supervisor restarts the dead worker.")
        if supervisor.workers.count >= 2 {
            let victim = supervisor.workers[0]
            var sent = 0, answered: [UInt64: Int] = [:], killed = false
            let total = 2000
            var inputs: [UInt64: String] = [:]
            for i in 0..<64 { let e = "\(i) * 3"; inputs[try client.send(skill: "calculator", input: e)] = e; sent += 1 }
            while answered.count < total, let (r, final) = try client.receive(timeoutMs: 10_000) {
                guard final else { continue }
                answered[r.requestId, default: 0] += 1
                if !killed && answered.count == 300 {
                    victim.process.signal(SIGKILL)
                    killed = true
                    say("   killed \(victim.name) (pid \(victim.process.pid)) after 300 replies…")
                }
                if sent < total { let e = "\(sent) * 3"; inputs[try client.send(skill: "calculator", input: e)] = e; sent += 1 }
            }
            let once = answered.values.filter { $0 == 1 }.count
            say("   \(answered.count)/\(total) requests answered, \(once) exactly once, \(answered.values.filter { $0 > 1 }.count) duplicates.")
            for _ in 0..<60 {
                supervisor.superviseOnce()
                if supervisor.waitForWorkers(supervisor.workers.count, timeout: 0.25) == supervisor.workers.count { break }
            }
        }
        if tinyModel != nil { try liveSwap(client: client, endpoint: supervisor.endpoint, topologyFile: topologyFile, say: say) }
        if let assistant = topology.agents.first(where: { $0.agent.name == "assistant" && $0.agent.model == "shipped:smollm2" }) {
            try realModelSwap(client: client, endpoint: supervisor.endpoint, state: state, workers: assistant.replicas,
                              supervisor: supervisor, say: say)
        }
        if adapterHost != nil { try showAdapters(client: client, state: state, say: say) }
        if digits != nil { try showGRPO(endpoint: supervisor.endpoint, security: client.security, modelDirectory: digitsModel, state: state, say: say) }
        if adapterHost != nil { try showSmolGRPO(endpoint: supervisor.endpoint, security: client.security, state: state, say: say) }
        if let tools = topology.agents.first(where: { $0.agent.name == "tools" && $0.agent.backend == .swift }) {
            let base = (tools.agentFile as NSString).deletingLastPathComponent
            let model = tools.agent.model.hasPrefix("/") ? tools.agent.model : (base as NSString).appendingPathComponent(tools.agent.model)
            try showStepCredit(endpoint: supervisor.endpoint, security: client.security, state: state, toolsModel: model, say: say)
        }

        showDashboard(gateway, metricsURL: supervisor.metricsURL, say: say)

        let s = try client.status()
        say("")
        say("   shoal status:")
        for w in s.workers {
            say("     \(w.workerID.padding(toLength: 20, withPad: " ", startingAt: 0)) \(w.service)  \(w.modelID)@\(w.modelVersion)  capacity \(w.capacity)  completed \(w.completed)")
        }
        say("     requests \(s.requestsTotal) · replies \(s.repliesTotal) · errors \(s.errorsTotal) · requeued after the crash \(s.requeued)")
    }

    /// 7. A rolling swap of the model agent's two workers under steady load, then a rollback.
    static func liveSwap(client: Client, endpoint: String, topologyFile: String, say: @escaping (String) -> Void) throws {
        say("")
        say("7. Live model swap: register two versions of \(tinySkill) in the model registry, then swap its two")
        say("   workers from one to the other, one at a time, under steady traffic. Every reply names its version.")
        let a = fixtureModel(topologyFile, "llama"), b = fixtureModel(topologyFile, "llama3_rope")
        let va = try client.importModel(agent: tinySkill, directory: a)
        let vb = try client.importModel(agent: tinySkill, directory: b)
        func describe(_ v: [String: Any]) -> String {
            let version = v["version"] as? [String: Any] ?? [:]
            return "\(version["id"] ?? "?") (sha256 \(String("\(version["sha256"] ?? "")".prefix(12)))…)"
        }
        say("   shoal models import --agent \(tinySkill) …/llama        → \(describe(va))")
        say("   shoal models import --agent \(tinySkill) …/llama3_rope  → \(describe(vb))")
        let first = try client.waitForSwap(agent: tinySkill, swapId: try client.startSwap(agent: tinySkill, model: "v1", strategy: "all"))
        say("   serving v1 on every worker: \(first.state)")
        say("   shoal swap --agent \(tinySkill) --model v2 --strategy rolling   (under 40 requests/s)")
        let r = try SwapBench.underLoad(endpoint: endpoint, security: client.security, skill: tinySkill, agent: tinySkill, model: "v2", strategy: "rolling",
                                        requestsPerSecond: 40, steadySeconds: 1.5) { say("   " + $0) }
        say("   swap \(r.outcome) in \(String(format: "%.0f", r.swapSeconds * 1000)) ms · \(r.total) requests, \(r.failed) failed")
        for (worker, versions) in r.versionsByWorker.sorted(by: { $0.key < $1.key }) {
            say("     \(worker.padding(toLength: 14, withPad: " ", startingAt: 0)) replies came from \(versions.joined(separator: " → "))")
        }
        let back = try client.waitForSwap(agent: tinySkill, swapId: try client.startRollback(agent: tinySkill))
        let reply = try client.call(skill: tinySkill, input: "Hello", params: ["max_tokens": "2"])
        say("   shoal rollback --agent \(tinySkill) → \(back.state); the next reply comes from \(reply.modelVersion)")
    }

    static let tinySkill = "tiny-llama"

    static func repoRoot(_ topologyFile: String) -> String {
        let root = ((topologyFile as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        return root.isEmpty ? "." : root
    }

    static func fixtureModel(_ topologyFile: String, _ name: String) -> String {
        URL(fileURLWithPath: (repoRoot(topologyFile) as NSString).appendingPathComponent("Tests/ShoalEngineTests/Fixtures/models/\(name)"))
            .standardizedFileURL.path
    }

    static func clip(_ s: String, _ width: Int) -> String { s.count <= width ? s : String(s.prefix(width - 1)) + "…" }

    static func tasksFolder(_ topologyFile: String) -> String {
        ((topologyFile as NSString).deletingLastPathComponent as NSString).appendingPathComponent("tasks")
    }

    /// The example task files shipped beside the topology, in name order.
    static func exampleTasks(_ topologyFile: String) -> [String] {
        let dir = tasksFolder(topologyFile)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { (dir as NSString).appendingPathComponent($0) }
    }

    /// A demo-only agent with two workers serving the engine's tiny Llama test checkpoints
    /// (the live swap needs two versions of one architecture), when the repo has them.
    static func tinyModelAgent(topologyFile: String) -> Topology.Deployment? {
        let model = fixtureModel(topologyFile, "llama")
        guard FileManager.default.fileExists(atPath: model + "/config.json"),
              FileManager.default.fileExists(atPath: fixtureModel(topologyFile, "llama3_rope") + "/config.json") else { return nil }
        let path = NSTemporaryDirectory() + "shoal-demo-tiny-\(getpid()).yaml"
        let yaml = "name: \(tinySkill)\nbackend: swift\nmodel: \(model)\nconcurrency: 4\nsampling: {temperature: 0.8, seed: 7, max_tokens: 4}\n"
        guard (try? yaml.write(toFile: path, atomically: true, encoding: .utf8)) != nil,
              let agent = try? AgentSpec.parse(yaml: yaml, file: path) else { return nil }
        return Topology.Deployment(agent: agent, agentFile: path, replicas: 2)
    }

    static func quote(_ s: String, _ width: Int) -> String {
        let q = "\"\(s)\""
        return q.count >= width ? q : q + String(repeating: " ", count: width - q.count)
    }
}
