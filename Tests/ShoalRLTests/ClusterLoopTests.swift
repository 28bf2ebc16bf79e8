import Foundation
import ShoalEngine
import ShoalTraining
import ShoalVerifiers
import XCTest
@testable import ShoalRL

/// The learner loop end to end in one process: the in-process rollout source samples from the
/// learner's own weights with the engine's generator (the same sampler a worker runs).
final class ClusterLoopTests: XCTestCase {
    private func items(_ prefix: String, _ count: Int) -> [TaskItem] {
        (0..<count).map { TaskItem(id: "\(prefix)-\($0)", family: .math, difficulty: 1, prompt: "Say a number \($0)", target: "\($0)") }
    }

    /// Solves every held-out task at the first evaluation and none after: a version that
    /// lost all its held-out accuracy, as the rollback guard must catch.
    final class HeldOutCollapses: RolloutScorer {
        var heldOutEvaluations = 0
        func score(_ items: [TaskItem], outputs: [String]) throws -> [ScoredOutput] {
            let scored = try DigitShareScorer().score(items, outputs: outputs)
            guard items.first?.id.hasPrefix("heldout") == true else { return scored }
            heldOutEvaluations += 1
            return scored.map { ScoredOutput(reward: $0.reward, solved: heldOutEvaluations == 1) }
        }
    }

    /// Keeps versions as directories and remembers which one "the workers" serve: what the
    /// coordinator does for a real cluster (publish → swap in, rollback → swap back).
    final class ServingPublisher: VersionPublisher {
        let directory = DirectoryVersionPublisher()
        var serving = ""
        /// Off: published versions are never swapped in.
        var swaps = true
        func serve(base: PublishedVersion) throws -> String { serving = base.name; return try directory.serve(base: base) }
        func publish(_ version: PublishedVersion) throws -> String {
            if swaps { serving = version.name }
            return try directory.publish(version)
        }
        func rollback(to version: PublishedVersion) throws -> String { serving = version.name; return try directory.rollback(to: version) }
    }

    /// With `serving`, rollouts are tagged with the version it serves (as worker replies are);
    /// otherwise with the learner's own version.
    private func loop(steps: Int, out: URL, scorer: any RolloutScorer = DigitShareScorer(), publishEvery: Int = 2, evalEvery: Int = 4,
                      rollbackMargin: Double? = nil, passAtKItems: Int = 2,
                      serving: ServingPublisher? = nil, train: [TaskItem]? = nil, lora: LoRAConfig? = nil) throws -> (LearnerLoop<Float>, DirectoryVersionPublisher) {
        let tokenizer = ByteTokenizer()
        let config = AgentRecipe.byteLevelConfig(context: 96, hidden: 32, layers: 1, heads: 2, kvHeads: 1, intermediate: 64)
        let policy = try TrainableDecoder<Float>(config: config, seed: 3)
        var grpo = GRPOSettings()
        grpo.groupSize = 8
        grpo.promptsPerStep = 4
        grpo.maxTokens = 4
        grpo.learningRate = 0.02
        grpo.klCoefficient = 0.01
        grpo.steps = steps
        grpo.publishEvery = publishEvery
        let reference = try policy.frozenCopy()
        if let lora { try policy.attachLoRA(lora, seed: 5) }
        let learner = try GRPOLearner(policy: policy, reference: reference, settings: grpo)
        let naming = VersionNaming(prefix: "test-v", baseName: "base")
        let stops = Set([tokenizer.eosTokenId].compactMap { $0 })
        let source = InProcessRolloutSource(tokenizer: tokenizer, stopTokenIds: stops) {
            (try learner.policy.servingModel(), serving?.serving ?? naming.name(of: learner.version))
        }
        let heldOut = HeldOutEvaluation(items: items("heldout", 4), passAtKItems: items("heldout", passAtKItems), samplesPerItem: 4, maxTokens: 4,
                                        tokenizer: tokenizer, stopTokenIds: stops, scorer: scorer)
        var settings = LearnerLoopSettings(agent: "digits", grpo: grpo, outDirectory: out.path)
        settings.evalEvery = evalEvery
        settings.rollbackMargin = rollbackMargin
        let publisher = serving?.directory ?? DirectoryVersionPublisher()
        let loop = try LearnerLoop(learner: learner, source: source, scorer: scorer, trainItems: train ?? items("train", 16),
                                   heldOut: heldOut, naming: naming, publisher: serving ?? publisher, settings: settings,
                                   tokenizer: tokenizer, tokenizerDirectory: nil, log: { _ in })
        return (loop, publisher)
    }

    func testGRPOStepsWithInProcessRolloutsRaiseRewardOnASeededTask() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-loop-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        let steps = 16
        let (loop, publisher) = try loop(steps: steps, out: out)
        let summary = try loop.run()

        let metrics = try GRPOMetricsLog.read(from: out.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(metrics.count, steps)
        XCTAssertNil(summary.stoppedEarly)
        let early = metrics.prefix(4).map(\.rewardMean).reduce(0, +) / 4
        let late = metrics.suffix(4).map(\.rewardMean).reduce(0, +) / 4
        XCTAssertGreaterThan(late, early + 0.2, "mean reward of the last 4 steps \(late) vs the first 4 \(early)")
        XCTAssertTrue(metrics.allSatisfy { $0.completionLengthMean > 0 && $0.groups == 4 })

        // A version every 2 steps, each a model directory a worker can load, named as replies will name it.
        XCTAssertEqual(publisher.published.map(\.name), (1...steps / 2).map { "test-v\($0)" })
        let last = try XCTUnwrap(publisher.published.last)
        XCTAssertEqual(try String(contentsOfFile: last.directory + "/VERSION", encoding: .utf8), "test-v\(steps / 2)\n")
        let reloaded = try Generator.load(path: last.directory)
        XCTAssertNotNil(reloaded.tokenizer)

        // Experience: every sample of every step, tagged with the version that sampled it.
        let experience = try ExperienceLog.read(from: out.appendingPathComponent("experience.jsonl"))
        XCTAssertEqual(experience.count, steps * 4 * 8)
        XCTAssertEqual(Set(experience.map(\.modelVersion)), Set(0..<(steps / 2)))
        XCTAssertTrue(experience.allSatisfy { $0.completionIDs.count == $0.completionLogprobs.count && !$0.completionIDs.isEmpty })

        XCTAssertEqual(summary.passAtKBefore.points.map(\.k), [1, 2, 4])
        XCTAssertEqual(summary.heldOut.map(\.step), [0, 4, 8, 12, 16])
        for file in ["reward.svg", "pass_at_k.svg", "summary.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        // summary.json's keys are snake_case, like every JSON Shoal writes.
        let written = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any])
        XCTAssertNotNil(written["pass_at_one_before"])
        XCTAssertNotNil(written["rollout_seconds"])
        XCTAssertTrue(written.keys.allSatisfy { $0 == $0.lowercased() }, "\(written.keys.sorted())")
    }

    /// Replaying a run's experience.jsonl into a fresh learner from the same start makes the
    /// same updates: the same weights come out, and the replay writes its own metrics.
    func testExperienceReplayReproducesTheRecordedUpdates() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-replay-\(UUID().uuidString.prefix(8))")
        let replayed = out.appendingPathComponent("replay")
        defer { try? FileManager.default.removeItem(at: out) }
        let (original, _) = try loop(steps: 3, out: out, publishEvery: 1, evalEvery: 0, passAtKItems: 0)
        _ = try original.run()
        let records = try ExperienceLog.read(from: out.appendingPathComponent("experience.jsonl"))
        let steps = ExperienceLog.replaySteps(records)
        XCTAssertEqual(steps.map(\.count), [32, 32, 32])

        let (replay, publisher) = try loop(steps: 3, out: replayed, publishEvery: 1, evalEvery: 0, passAtKItems: 0)
        let summary = try replay.replay(steps)
        XCTAssertEqual(summary.steps, 3)
        XCTAssertEqual(publisher.published.count, 3)
        let trained = original.learner.policy.namedTensors(), again = replay.learner.policy.namedTensors()
        var largest: Float = 0, moved: Float = 0
        let start = try TrainableDecoder<Float>(directory: replayed.appendingPathComponent("versions/base").path).namedTensors()
        for ((a, b), s) in zip(zip(trained, again), start) {
            XCTAssertEqual(a.name, b.name)
            for i in 0..<a.values.count {
                largest = max(largest, abs(a.values[i] - b.values[i]))
                moved = max(moved, abs(a.values[i] - s.values[i]))
            }
        }
        XCTAssertLessThan(largest, 1e-5, "the replay's weights differ from the recorded run's by \(largest)")
        XCTAssertGreaterThan(moved, 1e-4, "the updates must move the weights for this to prove anything")
        XCTAssertEqual(try GRPOMetricsLog.read(from: replayed.appendingPathComponent("metrics.jsonl")).count, 3)
        // A record with mismatched log-probs is refused by line.
        XCTAssertThrowsError(try ExperienceLog.records(jsonl: #"{"prompt":"p","completion":"c","prompt_ids":[1],"completion_ids":[2,3],"completion_logprobs":[-1],"reward":1,"rewards":{},"advantage":0,"model_version":0,"group_id":"g"}"#, source: "x.jsonl")) {
            XCTAssertTrue("\($0)".contains("x.jsonl") && "\($0)".contains("completion_logprobs"), "\($0)")
        }
    }

    func testRollbackGuardReturnsToTheLastAcceptedVersionWhenHeldOutAccuracyDrops() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-rollback-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        // Versions at steps 1, 2, 3; held-out checks at step 2 only (never on the last step).
        let (loop, publisher) = try loop(steps: 3, out: out, scorer: HeldOutCollapses(), publishEvery: 1, evalEvery: 2,
                                         rollbackMargin: 0.05, passAtKItems: 0)
        let baseWeights = loop.learner.policy.namedTensors()
        let summary = try loop.run()

        // The final weights are judged too: step 3's version also lost everything, so the run
        // ends on the starting version, in the policy and the workers.
        XCTAssertEqual(summary.rollbacks, 2)
        XCTAssertEqual(summary.heldOut.map(\.decision), ["baseline", "rollback", "rollback", "final"])
        XCTAssertEqual(summary.heldOut.map(\.passAtOne), [1, 0, 0, 0])
        XCTAssertEqual(summary.heldOut.last?.version, "base")
        // Back to the starting version (the only one the guard accepted), not to v1, which was
        // published but never checked.
        XCTAssertEqual(publisher.rollbacks.map(\.name), ["base", "base"])
        XCTAssertEqual(publisher.published.map(\.name), ["test-v1", "test-v2", "test-v3"])
        XCTAssertEqual(publisher.published.map(\.parent), ["base", "test-v1", "test-v2"])
        // Step 3 trained from the restored weights: v3 differs from the start by one step only,
        // so it is closer to the starting weights than v2 was.
        func distance(_ a: [SafetensorsWriter.Tensor], _ b: [SafetensorsWriter.Tensor]) -> Double {
            var sum = 0.0
            for (x, y) in zip(a, b) {
                for (u, v) in zip(x.values, y.values) { sum += Double(u - v) * Double(u - v) }
            }
            return sum
        }
        let v2 = try TrainableDecoder<Float>(directory: publisher.published[1].directory).namedTensors()
        let v3 = try TrainableDecoder<Float>(directory: publisher.published[2].directory).namedTensors()
        XCTAssertLessThan(distance(v3, baseWeights), distance(v2, baseWeights))
    }

    /// A LoRA run's rollback returns the adapters to the accepted version's (here the start:
    /// no adapter, B zero), and its versions after the start are adapters alone.
    func testALoRARunRollsBackItsAdaptersAndPublishesAdapterVersions() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-lora-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        let (loop, publisher) = try loop(steps: 3, out: out, scorer: HeldOutCollapses(), publishEvery: 1, evalEvery: 2,
                                         rollbackMargin: 0.05, passAtKItems: 0, lora: LoRAConfig(rank: 2, alpha: 4))
        let summary = try loop.run()
        XCTAssertEqual(summary.rollbacks, 2)
        XCTAssertEqual(publisher.rollbacks.map(\.name), ["base", "base"])
        XCTAssertFalse(LoRAConfig.isAdapter(directory: out.appendingPathComponent("versions/base").path), "the start is whole")
        for v in publisher.published {
            XCTAssertTrue(LoRAConfig.isAdapter(directory: v.directory), v.name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: v.directory + "/model.safetensors"), v.name)
            XCTAssertEqual(v.base?.name, "base")
        }
        // Ended on the start: every adapter's B is zero again, so the policy computes its base.
        let b = loop.learner.policy.loraParameters.filter { $0.name.hasSuffix("lora_B.weight") }
        XCTAssertFalse(b.isEmpty)
        XCTAssertTrue(b.allSatisfy { $0.values.allSatisfy { $0 == 0 } })
        // And step 2's adapter comes back exactly when assigned.
        try loop.learner.policy.assignLoRA(directory: publisher.published[1].directory)
        let saved = try SafetensorsFile(path: publisher.published[1].directory + "/adapter_model.safetensors")
        for p in loop.learner.policy.loraParameters { XCTAssertEqual(Array(p.values), try saved.floats(p.name), p.name) }
    }

    func testAfterARollbackTheWorkersRestoredVersionIsNotStale() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-restored-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        // Versions every step, held-out checks at steps 2 and 4 (both roll back to the start);
        // after each rollback "the workers" serve the starting version again, two versions
        // behind the learner's counter, but with exactly the weights the policy holds.
        let serving = ServingPublisher()
        let (loop, publisher) = try loop(steps: 6, out: out, scorer: HeldOutCollapses(), publishEvery: 1, evalEvery: 2,
                                         rollbackMargin: 0.05, passAtKItems: 0, serving: serving)
        let summary = try loop.run()

        XCTAssertNil(summary.stoppedEarly)
        XCTAssertEqual(summary.steps, 6)
        XCTAssertEqual(summary.rollbacks, 3, "steps 2 and 4, and the final weights")
        XCTAssertEqual(publisher.rollbacks.map(\.name), ["base", "base", "base"])
        let metrics = try GRPOMetricsLog.read(from: out.appendingPathComponent("metrics.jsonl"))
        XCTAssertEqual(metrics.map(\.step), Array(1...6))
        XCTAssertTrue(metrics.allSatisfy { $0.droppedStale == 0 }, "\(metrics.map(\.droppedStale))")
        XCTAssertEqual(serving.serving, "base", "the final weights lost too: the workers end on the start")
    }

    func testSamplesLongerThanTheContextAreLeftOutNotFatal() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-long-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        // Prompts two tokens short of the 96-token context, with 4-token completions: a sample
        // can end one token past the context, which the policy cannot score.
        let tokenizer = ByteTokenizer()
        var text = "Say"
        func length(_ t: String) -> Int {
            tokenizer.encode(SFTFormat.prompt(for: TaskItem(id: "x", family: .math, difficulty: 1, prompt: t, target: "")), addSpecialTokens: false).count
        }
        while length(text + "!") <= 94 { text += "!" }
        XCTAssertEqual(length(text), 94)
        // Each step: two long prompts (their 4-token samples run past the context) and two short ones.
        let mixed = (0..<4).map { TaskItem(id: "mixed-\($0)", family: .math, difficulty: 1, prompt: $0 % 2 == 0 ? text : "Say \($0)", target: "") }
        let (loop, _) = try loop(steps: 2, out: out, publishEvery: 1, evalEvery: 0, passAtKItems: 0, train: mixed)
        let rollouts = try loop.gatherRollouts(step: 0)
        XCTAssertTrue(rollouts.allSatisfy { $0.promptTokens.count + $0.completionTokens.count <= 96 })
        XCTAssertGreaterThanOrEqual(rollouts.count, 2 * 8, "every sample of the short prompts is kept")
        XCTAssertLessThan(rollouts.count, 4 * 8, "samples that ran past the context are left out")
        let summary = try loop.run()
        XCTAssertNil(summary.stoppedEarly)
        XCTAssertEqual(summary.steps, 2)
        XCTAssertEqual(try GRPOMetricsLog.read(from: out.appendingPathComponent("metrics.jsonl")).count, 2)
    }

    func testARunWhoseSamplesAreAllStaleStopsWithAReason() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("grpo-stale-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        // "The workers" never swap: they keep serving the base while the learner publishes a
        // version every step, so from step 3 every sample is two versions behind.
        let serving = ServingPublisher()
        serving.swaps = false
        let (loop, _) = try loop(steps: 8, out: out, publishEvery: 1, evalEvery: 0, serving: serving)
        let summary = try loop.run()
        XCTAssertEqual(summary.steps, 2)
        let reason = try XCTUnwrap(summary.stoppedEarly)
        XCTAssertTrue(reason.contains("3 steps in a row") && reason.contains("stale"), reason)
    }

    func testInProcessSamplesCarryTheModelsOwnLogProbsAndDistinctSeeds() throws {
        let tokenizer = ByteTokenizer()
        let config = AgentRecipe.byteLevelConfig(context: 64, hidden: 32, layers: 1, heads: 2, kvHeads: 1, intermediate: 64)
        let policy = try TrainableDecoder<Double>(config: config, seed: 5)
        let source = InProcessRolloutSource(tokenizer: tokenizer, stopTokenIds: []) { (try policy.servingModel(), "v-test") }
        let samples = try source.sample([RolloutPrompt(groupID: "g", text: "Hello")],
                                        sampling: RolloutSampling(groupSize: 4, maxTokens: 6, seed: 9))
        XCTAssertEqual(samples.count, 1)
        XCTAssertEqual(samples[0].count, 4)
        XCTAssertGreaterThan(Set(samples[0].map(\.completionTokens)).count, 1, "each sample has its own seed")
        for s in samples[0] {
            XCTAssertEqual(s.modelVersion, "v-test")
            let scored = try policy.tokenLogProbabilities([s.promptTokens + s.completionTokens])[0][s.promptTokens.count...]
            for (a, b) in zip(scored, s.logProbs) { XCTAssertEqual(a, b, accuracy: 1e-3) }
        }
    }

    func testVersionNamesMapToLearnerVersionsAndUnknownOnesAreRefused() throws {
        let naming = VersionNaming(prefix: "grpo-run1-v", baseName: "local")
        XCTAssertEqual(try naming.version(named: "local"), 0)
        XCTAssertEqual(try naming.version(named: "grpo-run1-v7"), 7)
        XCTAssertEqual(naming.name(of: 7), "grpo-run1-v7")
        XCTAssertEqual(naming.name(of: 0), "local")
        XCTAssertThrowsError(try naming.version(named: "grpo-run2-v3")) { error in
            XCTAssertTrue("\(error)".contains("grpo-run2-v3"), "\(error)")
        }
    }

    func testMathAgentVerifierRewardsBoxedRightAnswersAndRefusesFormatHeavyWeights() throws {
        let verifier = try AgentVerifier(agent: "math")
        let item = TaskItem(id: "m", family: .math, difficulty: 1, prompt: "2 + 3?", target: "2 + 3 = 5\nThe answer is \\boxed{5}.", answer: "5")
        let scored = try verifier.score([item, item, item], outputs: ["so \\boxed{5}", "\\boxed{6}", "the answer is 5"])
        XCTAssertEqual(scored.map(\.solved), [true, false, true])
        XCTAssertEqual(scored[0].reward.total, 1.1, accuracy: 1e-12)
        XCTAssertEqual(scored[1].reward.total, 0.1, accuracy: 1e-12)
        XCTAssertEqual(scored[2].reward.total, 1.0, accuracy: 1e-12)
        XCTAssertEqual(scored[0].reward.components["format"], 1)

        XCTAssertThrowsError(try AgentVerifier(agent: "math", reward: ["format": 0.5])) { error in
            XCTAssertTrue("\(error)".contains("format"), "\(error)")
        }
        XCTAssertThrowsError(try AgentVerifier(agent: "poetry")) { error in
            XCTAssertTrue("\(error)".contains("poetry"), "\(error)")
        }
    }
}
