import Foundation
import ShoalClient
import ShoalEngine
import ShoalRL
import ShoalTraining
import XCTest

/// The learner against a real cluster: a coordinator and a `swift`-backend worker as
/// processes, serving the engine's tiny random-weight Qwen3 fixture.
final class LearnerTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ShoalEngineTests/Fixtures/models/qwen3").path

    /// A copy of the fixture whose VERSION file names it, so replies carry that name.
    private func model(in h: ClusterHarness, version: String) throws -> String {
        let dir = h.directory.appendingPathComponent("model").path
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: dir)
        try (version + "\n").write(toFile: dir + "/VERSION", atomically: true, encoding: .utf8)
        return dir
    }

    /// GRPO settings of these short cluster runs: groups of 4, no KL, the rest as given.
    private static func grpo(steps: Int, promptsPerStep: Int = 2, maxTokens: Int = 4, learningRate: Double = 1e-3,
                             maxStaleness: Int = 3) -> GRPOSettings {
        var g = GRPOSettings()
        g.steps = steps
        g.groupSize = 4
        g.promptsPerStep = promptsPerStep
        g.maxTokens = maxTokens
        g.learningRate = learningRate
        g.klCoefficient = 0
        g.maxStaleness = maxStaleness
        return g
    }

    /// A learner on the 'tiny' worker at `endpoint`: groups of 4 on 2 of 4 prompts, 4 tokens,
    /// no KL, held-out checks only before and after, versions published through the coordinator.
    /// `baseName` nil: the version the worker serves is version 0.
    private func clusterLoop(_ h: ClusterHarness, endpoint ep: String, model: String, policy: TrainableDecoder<Float>, steps: Int,
                             learningRate: Double, prefix: String, baseName: String?,
                             log: @escaping (String) -> Void) throws -> (LearnerLoop<Float>, VersionNaming) {
        let tokenizer = try XCTUnwrap(try Generator.load(path: model).tokenizer)
        let grpo = Self.grpo(steps: steps, learningRate: learningRate)
        let learner = try GRPOLearner(policy: policy, reference: nil, settings: grpo)
        let source = try ClusterRolloutSource(endpoint: ep, skill: "tiny", tokenizer: tokenizer, security: try h.security("learner"))
        let naming = VersionNaming(prefix: prefix, baseName: try baseName ?? source.servedVersion())
        let items = (0..<4).map { TaskItem(id: "t\($0)", family: .math, difficulty: 1, prompt: "Write \($0)", target: "") }
        let heldOut = HeldOutEvaluation(items: items, passAtKItems: [], maxTokens: 4, tokenizer: tokenizer, stopTokenIds: [], scorer: Letters())
        var settings = LearnerLoopSettings(agent: "tiny", grpo: grpo, outDirectory: h.directory.appendingPathComponent("run").path)
        settings.evalEvery = 0
        let publisher = try CoordinatorVersionPublisher(endpoint: ep, agent: "tiny", security: try h.security("learner"))
        let loop = try LearnerLoop(learner: learner, source: source, scorer: Letters(), trainItems: items, heldOut: heldOut,
                                   naming: naming, publisher: publisher, settings: settings, tokenizer: tokenizer,
                                   tokenizerDirectory: model, log: log)
        return (loop, naming)
    }

    private func agentFile(in h: ClusterHarness, model: String) throws -> String {
        let path = h.directory.appendingPathComponent("tiny.yaml").path
        try """
            name: tiny
            backend: swift
            model: \(model)
            concurrency: 8
            sampling: {temperature: 0, max_tokens: 4}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testRolloutsFromAWorkerCarryTokenIdsTheModelsOwnLogProbsAndTheModelVersion() throws {
        let h = try ClusterHarness()
        let model = try model(in: h, version: "run-v2")
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try agentFile(in: h, model: model), endpoint: ep, id: "tiny-1")
        try h.waitForWorkers(ep, count: 1)

        let generator = try Generator.load(path: model)
        let tokenizer = try XCTUnwrap(generator.tokenizer)
        let source = try ClusterRolloutSource(endpoint: ep, skill: "tiny", tokenizer: tokenizer, maxInFlight: 4, security: try h.security("learner"))
        XCTAssertEqual(try source.servedVersion(), "run-v2")
        let prompts = [RolloutPrompt(groupID: "a", text: "Hello world"), RolloutPrompt(groupID: "b", text: "The cat sat")]
        let samples = try source.sample(prompts, sampling: RolloutSampling(groupSize: 3, temperature: 1, maxTokens: 6, seed: 11))

        XCTAssertEqual(samples.map(\.count), [3, 3])
        let reference = try TrainableDecoder<Double>(directory: model)
        let naming = VersionNaming(prefix: "run-v", baseName: "local")
        for (i, group) in samples.enumerated() {
            XCTAssertGreaterThan(Set(group.map(\.completionTokens)).count, 1, "each sample of a group has its own seed")
            for s in group {
                XCTAssertEqual(s.promptTokens, tokenizer.encode(prompts[i].text))
                XCTAssertFalse(s.completionTokens.isEmpty)
                XCTAssertLessThanOrEqual(s.completionTokens.count, 6)
                XCTAssertEqual(s.logProbs.count, s.completionTokens.count)
                XCTAssertEqual(s.modelVersion, "run-v2")
                XCTAssertEqual(try naming.version(named: s.modelVersion), 2)
                // The worker's log-probs are the model's own, recomputed here by the trainable decoder.
                let own = try reference.tokenLogProbabilities([s.promptTokens + s.completionTokens])[0][s.promptTokens.count...]
                for (t, (a, b)) in zip(own, s.logProbs).enumerated() {
                    XCTAssertEqual(a, b, accuracy: 1e-3, "prompt \(i) token \(t)")
                }
            }
        }

        // Same seeds, same samples: a step's rollouts are reproducible.
        let again = try source.sample(prompts, sampling: RolloutSampling(groupSize: 3, temperature: 1, maxTokens: 6, seed: 11))
        XCTAssertEqual(again.map { $0.map(\.completionTokens) }, samples.map { $0.map(\.completionTokens) })
    }

    /// Reward for this test: the fraction of letters in the completion (any signal will do).
    struct Letters: RolloutScorer {
        func score(_ items: [TaskItem], outputs: [String]) throws -> [ScoredOutput] {
            outputs.map { o in
                let f = o.isEmpty ? 0 : Double(o.filter(\.isLetter).count) / Double(o.count)
                return ScoredOutput(reward: RewardBreakdown(total: f, components: ["correctness": f]), solved: f > 0.99)
            }
        }
    }

    func testLearnerLoopOnAClusterPublishesVersionsThatTheWorkersSwapIn() throws {
        let h = try ClusterHarness()
        let model = try model(in: h, version: "base")
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try agentFile(in: h, model: model), endpoint: ep, id: "tiny-1")
        try h.waitForWorkers(ep, count: 1)

        var lines: [String] = []
        let (loop, naming) = try clusterLoop(h, endpoint: ep, model: model, policy: try TrainableDecoder<Float>(directory: model),
                                             steps: 3, learningRate: 1e-3, prefix: "learner-test-v", baseName: nil) { lines.append($0) }
        let summary = try loop.run()

        XCTAssertEqual(summary.steps, 3)
        XCTAssertEqual(summary.publishedVersions, ["learner-test-v1", "learner-test-v2", "learner-test-v3"])
        XCTAssertTrue(lines.contains { $0.contains("learner-test-v1 registered") && $0.contains("swap") }, lines.joined(separator: "\n"))
        // The registry holds every published version, made by GRPO, each with its parent.
        let client = try h.client(ep)
        let versions = (try client.models(agent: "tiny")["versions"] as? [[String: Any]]) ?? []
        let grpo1 = versions.first { $0["id"] as? String == "learner-test-v1" }
        XCTAssertEqual(grpo1?["created_by"] as? String, "grpo")
        XCTAssertEqual(grpo1?["training_step"] as? Int, 1)
        // The learner reported each step and the held-out checks before and after to the coordinator
        // (its metrics and the gateway dashboard's curves), and a client key may read them.
        let curve = try XCTUnwrap((try h.client(ep, as: "client").learnerCurves()["agents"] as? [String: Any])?["tiny"] as? [[String: Any]])
        XCTAssertEqual(curve.map { $0["step"] as? Int ?? -1 }, [0, 1, 2, 3, 3], "\(curve)")
        XCTAssertEqual(curve.first?["heldout_pass_at_1"] as? Double, summary.passAtOneBefore)
        XCTAssertEqual(curve.last?["heldout_pass_at_1"] as? Double, summary.passAtOneAfter)
        XCTAssertNotNil(curve[1]["reward_mean"] as? Double)
        XCTAssertNotNil(curve[1]["reward_std"] as? Double)
        // The worker ends up serving a version this learner published, and says so on its replies.
        var served = ""
        XCTAssertTrue(eventually(timeout: 30) {
            served = (try? client.call(skill: "tiny", input: "Hello", params: ["max_tokens": "1"]).modelVersion) ?? ""
            return served.hasPrefix("learner-test-v")
        }, "worker still serves '\(served)'")
        XCTAssertGreaterThan(try naming.version(named: served), 0)
        // Experience rows name the version that sampled them.
        let experience = try ExperienceLog.read(from: h.directory.appendingPathComponent("run/experience.jsonl"))
        XCTAssertFalse(experience.isEmpty)
        XCTAssertTrue(experience.allSatisfy { (0...3).contains($0.modelVersion) })
    }

    /// A LoRA run (issue 18): the first version is the starting weights, every later one the
    /// adapter alone, registered on it; the worker swaps each adapter in over the base it keeps.
    func testALoRARunPublishesAdapterVersionsOnItsStartingWeights() throws {
        let h = try ClusterHarness()
        let model = try model(in: h, version: "base")
        let (_, ep) = try h.coordinator()
        _ = try h.worker(agent: try agentFile(in: h, model: model), endpoint: ep, id: "tiny-1")
        try h.waitForWorkers(ep, count: 1)

        let policy = try TrainableDecoder<Float>(directory: model)
        try policy.attachLoRA(LoRAConfig(rank: 2, alpha: 4))
        let (loop, _) = try clusterLoop(h, endpoint: ep, model: model, policy: policy, steps: 2, learningRate: 1e-2,
                                        prefix: "lora-v", baseName: "lora-v0") { _ in }
        XCTAssertEqual(loop.learner.optimizer.parameters.count, policy.loraParameters.count, "only the adapters get optimiser state")
        let summary = try loop.run()
        XCTAssertEqual(summary.publishedVersions, ["lora-v1", "lora-v2"])

        let client = try h.client(ep)
        let versions = (try client.models(agent: "tiny")["versions"] as? [[String: Any]]) ?? []
        XCTAssertEqual(versions.first { $0["id"] as? String == "lora-v0" }?["kind"] as? String, "model", "the starting weights, whole")
        for id in ["lora-v1", "lora-v2"] {
            let v = try XCTUnwrap(versions.first { $0["id"] as? String == id }, "\(versions)")
            XCTAssertEqual(v["kind"] as? String, "adapter")
            XCTAssertEqual(v["base"] as? [String: String], ["agent": "tiny", "id": "lora-v0"])
            XCTAssertEqual((v["files"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["adapter_config.json", "adapter_model.safetensors"])
            XCTAssertEqual(v["created_by"] as? String, "grpo")
        }
        var served = ""
        XCTAssertTrue(eventually(timeout: 30) {
            served = (try? client.call(skill: "tiny", input: "Hello", params: ["max_tokens": "1"]).modelVersion) ?? ""
            return served == "lora-v2"
        }, "worker still serves '\(served)'")
    }

    /// LoRA GRPO on a real model (`AgentLearner` as `shoal train grpo --agent smol-math` runs it):
    /// SmolLM2's 4-bit GGUF, served by a worker, is the policy, trained as a rank-16 adapter on the
    /// file's frozen weights. Version 0 is the file itself, registered whole; every later version
    /// the adapter alone, registered on it and swapped in live. The worker's sampling log-probs are
    /// the learner's own for the same tokens (prompt rendered and tokenized alike, the 4-bit
    /// weights read back exactly), up to the worker's 8-bit activations.
    func testAGGUFPolicyTrainsAdapterVersionsOnTheFileItself() throws {
        let gguf = try ShippedModel.smolLM2.path(workingDirectory: InteropTests.packageRoot.path)
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        let file = h.directory.appendingPathComponent("smol-math.yaml").path
        try """
            name: smol-math
            skills: [smol-math]
            backend: swift
            model: \(gguf)
            chat_template: chatml
            concurrency: 8
            sampling: {temperature: 0, max_tokens: 8}
            verifier: {kind: math}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let worker = try h.worker(agent: file, endpoint: ep, id: "smol-1")
        try h.waitForWorkers(ep, count: 1, timeout: 60)

        var grpo = Self.grpo(steps: 1, promptsPerStep: 1, maxTokens: 8)
        grpo.overlongBuffer = 0
        grpo.dynamicSampling = false
        var settings = LearnerLoopSettings(agent: "smol-math", grpo: grpo, outDirectory: h.directory.appendingPathComponent("run").path)
        settings.evalEvery = 0
        settings.rollbackMargin = nil  // the one held-out task must not decide which version is served
        var run = AgentLearner(agent: "smol-math", modelDirectory: gguf, settings: settings)
        run.family = "math"
        run.difficulties = 1...1
        run.trainPool = 8
        run.heldOutItems = 1
        run.passAtKItems = 0
        run.versionPrefix = "smol-v"
        run.security = try h.security("learner")
        var lines: [String] = []
        let loop = try run.makeLoop(rollouts: .cluster(endpoint: ep, skill: "smol-math"), publication: .coordinator(endpoint: ep)) { lines.append($0) }
        XCTAssertEqual(loop.learner.policy.loraConfig, AgentLearner.defaultGGUFLoRA, "a GGUF policy trains rank 16 unless told otherwise")
        XCTAssertTrue(lines.contains { $0.contains("rank-16 LoRA adapter") }, "\(lines)")
        XCTAssertEqual(loop.learner.optimizer.parameters.count, loop.learner.policy.loraParameters.count, "the GGUF's weights stay frozen")

        let summary = try loop.run()
        XCTAssertEqual(summary.publishedVersions, ["smol-v1"], lines.joined(separator: "\n"))
        let client = try h.client(ep)
        let versions = (try client.models(agent: "smol-math")["versions"] as? [[String: Any]]) ?? []
        let start = try XCTUnwrap(versions.first { $0["id"] as? String == "smol-v0" }, "\(versions)")
        XCTAssertEqual(start["kind"] as? String, "model", "version 0 is the GGUF, whole")
        XCTAssertEqual((start["files"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, [(gguf as NSString).lastPathComponent])
        let adapter = try XCTUnwrap(versions.first { $0["id"] as? String == "smol-v1" }, "\(versions)")
        XCTAssertEqual(adapter["kind"] as? String, "adapter")
        XCTAssertEqual(adapter["base"] as? [String: String], ["agent": "smol-math", "id": "smol-v0"])
        XCTAssertEqual((adapter["files"] as? [[String: Any]])?.compactMap { $0["name"] as? String }, ["adapter_config.json", "adapter_model.safetensors"])
        var served = ""
        XCTAssertTrue(eventually(timeout: 30) {
            served = (try? client.call(skill: "smol-math", input: "What is 2 + 3?", params: ["max_tokens": "1"]).modelVersion) ?? ""
            return served == "smol-v1"
        }, "worker still serves '\(served)'\n\(worker.stderrText.suffix(1500))")

        // The samples the learner trained on, as it recorded them: the worker's log-probs against
        // the learner's own under the weights that sampled them (step 1's came from version 0,
        // the bare GGUF: the learner's policy with its adapter zeroed).
        let records = try ExperienceLog.read(from: URL(fileURLWithPath: settings.outDirectory).appendingPathComponent("experience.jsonl"))
        XCTAssertEqual(records.count, 4)
        XCTAssertTrue(records.allSatisfy { $0.prompt.hasPrefix("<|im_start|>user\n") && $0.modelVersion == 0 }, "\(records.map(\.prompt))")
        let bare = loop.learner.policy
        bare.resetLoRA()
        var gaps: [Double] = []
        for r in records {
            let own = try bare.tokenLogProbabilities([r.promptIDs + r.completionIDs])[0][r.promptIDs.count...]
            XCTAssertEqual(own.count, r.completionLogprobs.count)
            gaps += zip(own, r.completionLogprobs).map { abs($0 - $1) }
        }
        let mean = gaps.reduce(0, +) / Double(max(gaps.count, 1))
        // Measured 0.04 nats (max 0.21): the worker's 8-bit activations. A prompt rendered or
        // tokenized differently moves whole tokens' log-probs by nats.
        XCTAssertLessThan(mean, 0.1, "mean |learner − worker| log-prob gap per token \(mean): the prompt or weights differ; gaps \(gaps)")
    }

    /// Two specialists trained at once against one coordinator, each with its own learner,
    /// scorer and versions: both run all their steps, their publications interleave in time,
    /// and each agent's registry holds only its own versions, swapped into its own worker.
    func testTwoLearnersTrainTwoAgentsConcurrently() throws {
        let h = try ClusterHarness()
        let (_, ep) = try h.coordinator()
        var models: [String: String] = [:]
        for name in ["tiny-a", "tiny-b"] {
            let dir = h.directory.appendingPathComponent(name).path
            try FileManager.default.copyItem(atPath: Self.fixture, toPath: dir)
            try "base\n".write(toFile: dir + "/VERSION", atomically: true, encoding: .utf8)
            let file = h.directory.appendingPathComponent("\(name).yaml").path
            try """
                name: \(name)
                backend: swift
                model: \(dir)
                concurrency: 8
                sampling: {temperature: 0, max_tokens: 4}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            _ = try h.worker(agent: file, endpoint: ep, id: "\(name)-1")
            models[name] = dir
        }
        try h.waitForWorkers(ep, count: 2)

        let events = Events()
        var loops: [(agent: String, loop: LearnerLoop<Float>)] = []
        for name in ["tiny-a", "tiny-b"] {
            let model = models[name]!
            let tokenizer = try XCTUnwrap(try Generator.load(path: model).tokenizer)
            let grpo = Self.grpo(steps: 4, maxStaleness: 4)
            let learner = try GRPOLearner(policy: try TrainableDecoder<Float>(directory: model), reference: nil, settings: grpo)
            let source = try ClusterRolloutSource(endpoint: ep, skill: name, tokenizer: tokenizer, security: try h.security("learner"))
            let items = (0..<4).map { TaskItem(id: "\(name)-\($0)", family: .math, difficulty: 1, prompt: "Write \($0)", target: "") }
            var settings = LearnerLoopSettings(agent: name, grpo: grpo, outDirectory: h.directory.appendingPathComponent("run-\(name)").path)
            settings.evalEvery = 0
            let loop = try LearnerLoop(
                learner: learner, source: source, scorer: Letters(), trainItems: items,
                heldOut: HeldOutEvaluation(items: items, passAtKItems: [], maxTokens: 4, tokenizer: tokenizer, stopTokenIds: [], scorer: Letters()),
                naming: VersionNaming(prefix: "\(name)-v", baseName: "\(name)-v0"),
                publisher: try CoordinatorVersionPublisher(endpoint: ep, agent: name, security: try h.security("learner")), settings: settings, tokenizer: tokenizer,
                tokenizerDirectory: model, log: { events.add(name, $0) })
            loops.append((name, loop))
        }
        let summaries = try ConcurrentLearners.run(loops)

        XCTAssertEqual(summaries.map(\.steps), [4, 4], events.lines.joined(separator: "\n"))
        XCTAssertEqual(summaries[0].publishedVersions, (1...4).map { "tiny-a-v\($0)" })
        XCTAssertEqual(summaries[1].publishedVersions, (1...4).map { "tiny-b-v\($0)" })
        // Interleaved: each learner published a version before the other published its last.
        let published = events.published
        for (name, other) in [("tiny-a", "tiny-b"), ("tiny-b", "tiny-a")] {
            let first = try XCTUnwrap(published.firstIndex { $0 == name }), last = try XCTUnwrap(published.lastIndex { $0 == other })
            XCTAssertLessThan(first, last, "\(name) published nothing until \(other) was done: \(published)")
        }
        let client = try h.client(ep)
        for name in ["tiny-a", "tiny-b"] {
            let ids = Set(((try client.models(agent: name)["versions"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String })
            XCTAssertTrue(ids.isSuperset(of: (1...4).map { "\(name)-v\($0)" }), "\(name): \(ids)")
            let other = name == "tiny-a" ? "tiny-b" : "tiny-a"
            XCTAssertFalse(ids.contains { $0.hasPrefix(other) }, "\(name) holds \(other)'s versions: \(ids)")
            var served = ""
            XCTAssertTrue(eventually(timeout: 30) {
                served = (try? client.call(skill: name, input: "Hello", params: ["max_tokens": "1"]).modelVersion) ?? ""
                return served.hasPrefix("\(name)-v") && served != "\(name)-v0"
            }, "\(name)'s worker still serves '\(served)'")
        }
    }

    /// Log lines of concurrent learners, in the order they came.
    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [(agent: String, line: String)] = []
        func add(_ agent: String, _ line: String) {
            lock.lock()
            entries.append((agent, line))
            lock.unlock()
        }
        var lines: [String] { lock.lock(); defer { lock.unlock() }; return entries.map { "[\($0.agent)] \($0.line)" } }
        /// The agent of each "registered" line, in order.
        var published: [String] {
            lock.lock(); defer { lock.unlock() }
            return entries.filter { $0.line.contains("registered") }.map(\.agent)
        }
    }
}
