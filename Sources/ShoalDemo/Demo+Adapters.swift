import Foundation
import ShoalClient
import ShoalConfig
import ShoalEngine
import ShoalTraining

extension Demo {
    /// One SmolLM2 worker process serving its own skill and two adapter specialists (`add`,
    /// `call`), which start bare: the tour trains the adapters, registers them and swaps them in.
    static func adapterAgent(state: String) -> Topology.Deployment? {
        // The file lives in the tour's state directory, so it names the model by its path.
        guard let gguf = try? ShippedModel.smolLM2.path() else { return nil }
        let path = (state as NSString).appendingPathComponent("smol.yaml")
        let yaml = """
            name: smol
            backend: swift
            model: \(gguf)
            concurrency: 16
            sampling: {temperature: 0, max_tokens: 24}
            adapters:
              - {agent: smol-math, skills: [add]}
              - {agent: smol-tools, skills: [call]}
              - {agent: smol-rl, skills: [word-math]}
            """
        guard (try? FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)) != nil,
              (try? yaml.write(toFile: path, atomically: true, encoding: .utf8)) != nil,
              let agent = try? AgentSpec.parse(yaml: yaml, file: path) else { return nil }
        return Topology.Deployment(agent: agent, agentFile: path, replicas: 1)
    }

    /// Two-digit additions, answered with the number alone.
    static func additionPairs(count: Int, seed: UInt64) -> [LoRAFineTune.Pair] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            let a = 10 + Int(rng.next() % 90), b = 10 + Int(rng.next() % 90)
            return .init(prompt: "What is \(a) + \(b)?", completion: "\(a + b)")
        }
    }

    /// Questions about a city's weather or time, answered with one compact JSON tool call.
    static func toolCallPairs(cities: ArraySlice<String>) -> [LoRAFineTune.Pair] {
        let forms = [("What is the weather in %@?", "get_weather"), ("Is it raining in %@?", "get_weather"),
                     ("What time is it in %@?", "get_time"), ("Tell me the local time in %@.", "get_time")]
        return cities.flatMap { city in
            forms.map { form, tool in
                LoRAFineTune.Pair(prompt: form.replacingOccurrences(of: "%@", with: city),
                                  completion: "{\"name\":\"\(tool)\",\"arguments\":{\"city\":\"\(city)\"}}")
            }
        }
    }

    static let demoCities = ("Paris London Berlin Madrid Rome Vienna Prague Warsaw Lisbon Dublin Oslo Stockholm Helsinki Copenhagen "
        + "Athens Budapest Zurich Geneva Brussels Amsterdam Munich Milan Naples Seville Porto Krakow Tokyo Osaka Seoul Beijing "
        + "Shanghai Delhi Mumbai Cairo Lagos Nairobi Sydney Melbourne Toronto Vancouver Chicago Boston Denver Seattle Miami "
        + "Dallas Houston Lima Bogota Santiago").split(separator: " ").map(String.init)

    /// 7c. Adapters: train two LoRA adapters for SmolLM2, register them on their base, swap each
    /// into the one live process, and ask the same held-out questions before and after.
    static func showAdapters(client: Client, state: String, say: @escaping (String) -> Void) throws {
        let gguf = try ShippedModel.smolLM2.path()
        say("")
        say("7c. Adapters: one SmolLM2 process serves its own skill and two adapter specialists, 'add' and 'call'")
        say("    (agents smol-math and smol-tools, each with its own versions). They start bare; train a LoRA adapter")
        say("    for each, register it on the base, and swap it in: only the adapter travels, the base stays loaded.")
        let math = additionPairs(count: 240, seed: 1), mathHeld = additionPairs(count: 24, seed: 2)
        let tools = toolCallPairs(cities: demoCities[..<36]), toolsHeld = toolCallPairs(cities: demoCities[36...]).enumerated().filter { $0.offset % 2 == 0 }.map(\.element)

        /// Held-out questions through the cluster, all sent at once (the worker batches both skills together).
        func exactMatch() throws -> (add: Double, call: Double, sample: [String: String]) {
            var pending: [UInt64: (skill: String, pair: LoRAFineTune.Pair)] = [:]
            for (skill, pairs) in [("add", mathHeld), ("call", toolsHeld)] {
                for pair in pairs { pending[try client.send(skill: skill, input: pair.prompt)] = (skill, pair) }
            }
            var right: [String: Int] = [:], sample: [String: String] = [:]
            while !pending.isEmpty, let (outcome, final) = try client.receive(timeoutMs: 60_000) {
                guard final, let (skill, pair) = pending.removeValue(forKey: outcome.requestId) else { continue }
                if sample[skill] == nil {
                    let answer = outcome.ok ? clip(oneLine(outcome.output), 58) : "error \(outcome.code.name): \(outcome.message)"
                    sample[skill] = "\(quote(pair.prompt, 30)) → \(answer)   [\(outcome.workerId) \(outcome.modelVersion)]"
                }
                if outcome.ok, outcome.output.trimmingCharacters(in: .whitespacesAndNewlines) == pair.completion { right[skill, default: 0] += 1 }
            }
            return (Double(right["add", default: 0]) / Double(mathHeld.count), Double(right["call", default: 0]) / Double(toolsHeld.count), sample)
        }
        let before = try exactMatch()
        say("   before (bare base), held-out exact match: add \(String(format: "%.2f", before.add)) · call \(String(format: "%.2f", before.call))")
        for skill in ["add", "call"] { say("     \(skill.padding(toLength: 4, withPad: " ", startingAt: 0)) \(before.sample[skill] ?? "")") }

        let generator = try Generator.load(path: gguf)
        var adapters: [String: String] = [:]
        for (agent, pairs, steps) in [("smol-math", math, 10), ("smol-tools", tools, 10)] {
            let out = (state as NSString).appendingPathComponent("adapter-\(agent)")
            var tune = LoRAFineTune()
            tune.steps = steps
            say("   shoal train lora --model shipped:smollm2 --data <\(pairs.count) \(agent == "smol-math" ? "additions" : "tool calls")> --steps \(steps) --out …/adapter-\(agent)")
            let s = try tune.run(generator: generator, pairs: pairs, output: out)
            say(String(format: "     rank 8 on all 7 projections (%.1f M parameters): loss %.2f → %.2f in %.0f s", Double(s.trainableParameters) / 1e6, s.firstLoss, s.finalLoss, s.seconds))
            adapters[agent] = out
        }

        func id(_ reply: [String: Any]) -> String { (reply["version"] as? [String: Any])?["id"] as? String ?? "?" }
        let base = id(try client.importModel(agent: "smol", directory: gguf))
        say("   shoal models import --agent smol …SmolLM2-135M-Instruct.Q4_1.gguf → \(base)")
        for agent in ["smol-math", "smol-tools"] {
            let v = id(try client.importModel(agent: agent, directory: adapters[agent]!, newAgent: true, base: "smol:\(base)"))
            say("   shoal models import --agent \(agent) --adapter …/adapter-\(agent) --base smol:\(base) → \(v)")
            let started = Date()
            let swap = try client.waitForSwap(agent: agent, swapId: try client.startSwap(agent: agent, model: v), pollMs: 20)
            say("   shoal swap --agent \(agent) --model \(v) → \(swap.state)\(swap.state == "succeeded" ? "" : " (\(swap.reason))") in \(String(format: "%.0f", Date().timeIntervalSince(started) * 1000)) ms")
        }
        let after = try exactMatch()
        say("   after, the same held-out questions: add \(String(format: "%.2f", after.add)) · call \(String(format: "%.2f", after.call))   (one process, one batch mixing both adapters)")
        for skill in ["add", "call"] { say("     \(skill.padding(toLength: 4, withPad: " ", startingAt: 0)) \(after.sample[skill] ?? "")") }
        let plain = try client.call(skill: "smol", input: "What is 12 + 30?", params: ["max_tokens": "16"])
        say("     smol \(quote("What is 12 + 30?", 30)) → \(clip(oneLine(plain.output), 58))   [\(plain.workerId) \(plain.modelVersion), no adapter]")
    }
}
