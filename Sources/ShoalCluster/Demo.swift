import Foundation
import ShoalClient
import ShoalConfig

/// `shoal demo`: the tour a new user sees first. It brings a real local cluster up, routes
/// sub-tasks to specialists, shows errors and a worker crash being absorbed, then stops.
public enum Demo {
    public static func run(topologyFile: String, say: @escaping (String) -> Void) throws {
        var topology = try Topology.load(topologyFile)
        topology.coordinator.unknownServiceGraceMs = 1000  // keep the tour brisk
        topology.coordinator.heartbeatMs = 250
        let tinyModel = tinyModelAgent(topologyFile: topologyFile)
        if let tinyModel { topology.agents.append(tinyModel) }
        defer { if let tinyModel { try? FileManager.default.removeItem(atPath: tinyModel.agentFile) } }
        say("━━ Shoal demo ━━")
        say("")
        say("1. Start a local cluster from \(topologyFile): a coordinator and its workers, each its own process.")
        let supervisor = Supervisor(topology: topology, quietStderr: true) { say("   " + $0) }
        try supervisor.start(bindOverride: "tcp://127.0.0.1:*")
        defer {
            say("")
            say("7. Shut down: workers drain their in-flight requests, then the coordinator stops.")
            supervisor.shutdown()
        }
        let registered = supervisor.waitForWorkers(timeout: 30)
        say("   \(registered)/\(supervisor.workers.count) workers registered with the coordinator.")
        let client = try Client(endpoint: supervisor.endpoint)

        say("")
        say("2. Route sub-tasks to the specialist that serves each skill.")
        for expr in ["2 * (3 + 4)", "sqrt(2) * sqrt(8)", "(1 + 2) ^ 10 / 3", "round(100 / 7, 3)", "min(4, 2, 8) - 2.5"] {
            let r = try client.call(skill: "calculator", input: expr)
            say("   calculator  \(quote(expr, 22)) → \(r.ok ? r.output : "error \(r.code.name)")   [\(r.workerId), model v\(r.modelVersion), \(String(format: "%.2f", Double(r.latencyUs) / 1000)) ms in the specialist]")
        }

        if tinyModel != nil {
            let r = try client.call(skill: "tiny-qwen3", input: "The capital of France is", params: ["max_tokens": "8"])
            let lp = (r.metadata["logprobs"] ?? "").split(separator: ",").prefix(4).joined(separator: ", ")
            say("   tiny-qwen3  \"The capital of France is\" → \(r.ok ? "\(r.metadata["completion_tokens"] ?? "?") tokens, logprobs [\(lp), …]" : "error \(r.code.name): \(r.message)")   [\(r.workerId)]")
            say("               (Shoal's own engine serving a Qwen3 checkpoint from disk; this one is a tiny random-weight")
            say("                test model, so its text is noise — trained specialists are not built yet)")
        }
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
                say("     \(ok ? "✓" : "✗") \((step["id"] as? String ?? "").padding(toLength: 16, withPad: " ", startingAt: 0)) \(ok ? "→ \(step["output"] ?? "")" : "\(step["status"] ?? ""): \(step["error"] ?? "")")   [\(step["worker_id"] ?? "")\(reward)]")
            }
            if t.ok, let result = try? JSONSerialization.jsonObject(with: Data(t.output.utf8)) as? [String: Any] {
                say("     task \(result["status"] ?? "?"): \(result["output"] ?? "(no output)")")
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
        let s = try client.status()
        say("")
        say("   shoal status:")
        for w in s.workers {
            say("     \(w.workerID.padding(toLength: 14, withPad: " ", startingAt: 0)) \(w.service)  \(w.modelID)@\(w.modelVersion)  capacity \(w.capacity)  completed \(w.completed)")
        }
        say("     requests \(s.requestsTotal) · replies \(s.repliesTotal) · errors \(s.errorsTotal) · requeued after the crash \(s.requeued)")
    }

    static func tasksFolder(_ topologyFile: String) -> String {
        ((topologyFile as NSString).deletingLastPathComponent as NSString).appendingPathComponent("tasks")
    }

    /// The example task files shipped beside the topology, in name order.
    static func exampleTasks(_ topologyFile: String) -> [String] {
        let dir = tasksFolder(topologyFile)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { (dir as NSString).appendingPathComponent($0) }
    }

    /// A demo-only agent serving the engine's tiny Qwen3 test checkpoint, when the repo has it.
    static func tinyModelAgent(topologyFile: String) -> Topology.Deployment? {
        let root = ((topologyFile as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        let model = ((root.isEmpty ? "." : root) as NSString).appendingPathComponent("Tests/ShoalEngineTests/Fixtures/models/qwen3")
        guard FileManager.default.fileExists(atPath: model + "/config.json") else { return nil }
        let path = NSTemporaryDirectory() + "shoal-demo-tiny-\(getpid()).yaml"
        let yaml = "name: tiny-qwen3\nbackend: swift\nmodel: \(URL(fileURLWithPath: model).standardizedFileURL.path)\nconcurrency: 4\nsampling: {temperature: 0.8, seed: 7}\n"
        guard (try? yaml.write(toFile: path, atomically: true, encoding: .utf8)) != nil,
              let agent = try? AgentSpec.parse(yaml: yaml, file: path) else { return nil }
        return Topology.Deployment(agent: agent, agentFile: path, replicas: 1)
    }

    static func quote(_ s: String, _ width: Int) -> String {
        let q = "\"\(s)\""
        return q.count >= width ? q : q + String(repeating: " ", count: width - q.count)
    }
}
