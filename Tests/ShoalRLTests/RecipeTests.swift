import Foundation
import ShoalEngine
import ShoalTraining
import XCTest
@testable import ShoalRL

/// The pieces of the GRPO recipe beyond the objective itself: asymmetric clipping on a
/// hand-computed batch, the overlong penalty, dynamic sampling in the learner loop, tempered
/// log-probs end to end, and the relative collapse floor.
final class RecipeTests: XCTestCase {
    /// ε_low 0.2, ε_high 0.28, token mean over 5 tokens, no KL. Per token (ρ, A):
    ///   (0.70, −1): ρ < 0.8 and A < 0 → clipped low: loss −0.8·(−1) = 0.8, weight 0
    ///   (0.85, −1): inside → loss 0.85, ∂ℓ/∂logp = −ρA = 0.85, weight −0.85
    ///   (1.25, +1): inside 1.28 (a symmetric 0.2 clip would cut it) → loss −1.25, weight 1.25
    ///   (1.30, +1): ρ > 1.28 and A > 0 → clipped high: loss −1.28, weight 0
    ///   (0.50, +1): below 1 − ε_low but A > 0, so the min keeps ρA → loss −0.5, weight 0.5
    /// L = (0.8 + 0.85 − 1.25 − 1.28 − 0.5) / 5 = −0.276; weights are the above ÷ 5.
    func testAsymmetricClipOnAHandComputedBatch() throws {
        let ratios = [0.70, 0.85, 1.25, 1.30, 0.50], advantages = [-1.0, -1, 1, 1, 1]
        let inputs = zip(ratios, advantages).map { r, a in
            GRPOObjective.SequenceInput(currentLogProbs: [log(r) - 2], samplingLogProbs: [-2], referenceLogProbs: nil, advantage: a)
        }
        let evaluation = try GRPOObjective(clip: 0.2, clipHigh: 0.28, klCoefficient: 0).evaluate(inputs)
        XCTAssertEqual(evaluation.loss, -0.276, accuracy: 1e-12)
        for (got, want) in zip(evaluation.weights.map { $0[0] }, [0, -0.85, 1.25, 0, 0.5].map { $0 / 5 }) {
            XCTAssertEqual(got, want, accuracy: 1e-12)
        }
        XCTAssertEqual(evaluation.lowClipFraction, 0.2, accuracy: 1e-12)
        XCTAssertEqual(evaluation.highClipFraction, 0.2, accuracy: 1e-12)
        // The symmetric clip cuts the 1.25 token too.
        let symmetric = try GRPOObjective(clip: 0.2, klCoefficient: 0).evaluate(inputs)
        XCTAssertEqual(symmetric.weights[2][0], 0)
        XCTAssertEqual(symmetric.highClipFraction, 0.4, accuracy: 1e-12)
        // The command line's defaults are DAPO's pair.
        XCTAssertEqual(GRPOObjective(clip: 0.2, clipHigh: 0.28).clipHigh, 0.28)
    }

    func testOverlongPenaltyTable() throws {
        var s = GRPOSettings()
        s.maxTokens = 192
        XCTAssertEqual(s.overlongReward(completionTokens: 192), 0, "off by default")
        s.overlongBuffer = 32
        s.overlongPenalty = 0.5
        let table: [(Int, Double)] = [(10, 0), (160, 0), (161, -0.5 / 32), (176, -0.25), (192, -0.5), (193, -0.5)]
        for (length, penalty) in table {
            XCTAssertEqual(s.overlongReward(completionTokens: length), penalty, accuracy: 1e-12, "\(length) tokens")
        }
        XCTAssertNoThrow(try s.validate())
        s.overlongBuffer = 192
        XCTAssertThrowsError(try s.validate()) { XCTAssertTrue("\($0)".contains("overlong_buffer"), "\($0)") }
        s.overlongBuffer = 8
        s.overlongPenalty = -1
        XCTAssertThrowsError(try s.validate()) { XCTAssertTrue("\($0)".contains("overlong_penalty"), "\($0)") }
    }

    /// Rewards by sample position ([0, 1, 0, 1, …]) except for the items listed as flat,
    /// whose samples all score the same.
    final class FlatFor: RolloutScorer {
        let flat: Set<String>
        var scoredItems: [String] = []
        init(_ flat: Set<String>) { self.flat = flat }
        func score(_ items: [TaskItem], outputs: [String]) throws -> [ScoredOutput] {
            scoredItems.append(items[0].id)
            return items.indices.map { j in
                let r = flat.contains(items[j].id) ? 0.5 : Double(j % 2)
                return ScoredOutput(reward: RewardBreakdown(total: r, components: ["correctness": r]), solved: r == 1)
            }
        }
    }

    private func loop(scorer: any RolloutScorer, dynamic: Bool, rounds: Int = 3, overlongBuffer: Int = 0,
                      out: URL) throws -> LearnerLoop<Float> {
        let tokenizer = ByteTokenizer()
        let config = AgentRecipe.byteLevelConfig(context: 96, hidden: 32, layers: 1, heads: 2, kvHeads: 1, intermediate: 64)
        let policy = try TrainableDecoder<Float>(config: config, seed: 3)
        var grpo = GRPOSettings()
        grpo.groupSize = 4
        grpo.promptsPerStep = 3
        grpo.maxTokens = 4
        grpo.klCoefficient = 0
        grpo.dynamicSampling = dynamic
        grpo.samplingRounds = rounds
        grpo.overlongBuffer = overlongBuffer
        let learner = try GRPOLearner(policy: policy, reference: nil, settings: grpo)
        let naming = VersionNaming(prefix: "test-v", baseName: "base")
        let source = InProcessRolloutSource(tokenizer: tokenizer, stopTokenIds: []) {
            (try learner.policy.servingModel(), naming.name(of: learner.version))
        }
        let items = (0..<12).map { TaskItem(id: "train-\($0)", family: .math, difficulty: 1, prompt: "Say \($0)", target: "\($0)") }
        let heldOut = HeldOutEvaluation(items: Array(items.prefix(2)), passAtKItems: [], samplesPerItem: 2, maxTokens: 4,
                                        tokenizer: tokenizer, stopTokenIds: [], scorer: scorer)
        return try LearnerLoop(learner: learner, source: source, scorer: scorer, trainItems: items, heldOut: heldOut,
                               naming: naming, publisher: DirectoryVersionPublisher(),
                               settings: LearnerLoopSettings(agent: "t", grpo: grpo, outDirectory: out.path),
                               tokenizer: tokenizer, tokenizerDirectory: nil, log: { _ in })
    }

    func testDynamicSamplingReplacesZeroVarianceGroups() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("dyn-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        // Items 0 and 2 are flat: the first draw keeps item 1, the second draws items 3 and 4.
        let scorer = FlatFor(["train-0", "train-2", "train-5"])
        let dynamic = try loop(scorer: scorer, dynamic: true, out: out)
        let rollouts = try dynamic.gatherRollouts(step: 0)
        XCTAssertEqual(Set(rollouts.map { $0.groupID.components(separatedBy: "-").suffix(2).joined(separator: "-") }),
                       ["train-1", "train-3", "train-4"])
        XCTAssertEqual(rollouts.count, 12)
        XCTAssertEqual(dynamic.lastDraw.flatGroupsDropped, 2)
        XCTAssertEqual(dynamic.lastDraw.rounds, 2)
        XCTAssertEqual(scorer.scoredItems, ["train-0", "train-1", "train-2", "train-3", "train-4"])
        // The next step goes on from the next unused prompt; item 5 is flat, and 6 and 7 fill in.
        let next = try dynamic.gatherRollouts(step: 1)
        XCTAssertEqual(Set(next.map { $0.groupID.components(separatedBy: "-").suffix(2).joined(separator: "-") }),
                       ["train-6", "train-7", "train-8"])
        XCTAssertEqual(dynamic.lastDraw.flatGroupsDropped, 1)

        // Without it, the flat groups stay (and carry no advantage).
        let plain = try loop(scorer: FlatFor(["train-0", "train-2"]), dynamic: false, out: out)
        let kept = try plain.gatherRollouts(step: 0)
        XCTAssertEqual(Set(kept.map { $0.groupID.components(separatedBy: "-").suffix(2).joined(separator: "-") }),
                       ["train-0", "train-1", "train-2"])
        XCTAssertEqual(plain.lastDraw.rounds, 1)

        // When every draw is flat, the step gets the flat groups rather than nothing; the
        // draws stop at `sampling_rounds`.
        let allFlat = try loop(scorer: FlatFor(Set((0..<12).map { "train-\($0)" })), dynamic: true, rounds: 2, out: out)
        XCTAssertEqual(try allFlat.gatherRollouts(step: 0).count, 4 * 6)
        XCTAssertEqual(allFlat.lastDraw.rounds, 2)
    }

    func testOverlongPenaltyIsAddedToTheRewardAsAComponent() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("overlong-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: out) }
        let loop = try loop(scorer: FlatFor([]), dynamic: false, overlongBuffer: 2, out: out)
        let rollouts = try loop.gatherRollouts(step: 0)
        XCTAssertEqual(rollouts.count, 12)
        for (j, r) in rollouts.enumerated() {
            // max_tokens 4, buffer 2: 3 tokens cost half the penalty, 4 (cut off) all of it.
            let penalty = loop.learner.settings.overlongReward(completionTokens: r.completionTokens.count)
            XCTAssertEqual(r.reward.components["overlong"], penalty)
            XCTAssertEqual(r.reward.total, Double(j % 2) + penalty, accuracy: 1e-12)
        }
        XCTAssertTrue(rollouts.contains { $0.reward.components["overlong"] == -1 }, "a random model rarely stops within 4 tokens")
    }

    /// Tokens sampled at T ≠ 1 carry the sampler's tempered log-probs, and the learner's
    /// policy at the same T gives exactly those: the importance ratio is 1 at the sampling
    /// weights. At T = 1 (the old contract) it would not be.
    func testTemperedLogProbsMatchBetweenSamplerAndLearner() throws {
        let config = AgentRecipe.byteLevelConfig(context: 64, hidden: 32, layers: 2, heads: 2, kvHeads: 1, intermediate: 48)
        let policy = try TrainableDecoder<Float>(config: config, seed: 5)
        // Sharpen the random init's near-uniform head so the temperature matters.
        for p in policy.parameters where p.name == "lm_head.weight" || p.name == "model.embed_tokens.weight" {
            for i in 0..<p.count { p.value[i] *= 40 }
        }
        let tokenizer = ByteTokenizer()
        var settings = GRPOSettings()
        settings.temperature = 0.6
        settings.klCoefficient = 0.04
        let learner = try GRPOLearner(policy: policy, reference: try policy.frozenCopy(), settings: settings)
        XCTAssertEqual(learner.policy.logitTemperature, 0.6)
        XCTAssertEqual(learner.reference?.logitTemperature, 0.6)

        let source = InProcessRolloutSource(tokenizer: tokenizer, stopTokenIds: []) { (try policy.servingModel(), "v0") }
        let sampled = try source.sample([RolloutPrompt(groupID: "g", text: "Hello")],
                                        sampling: RolloutSampling(groupSize: 3, temperature: 0.6, maxTokens: 6, seed: 9))[0]
        var largestGapAtOne = 0.0
        for s in sampled {
            let tokens = s.promptTokens + s.completionTokens
            let tempered = Array(try policy.tokenLogProbabilities([tokens])[0][s.promptTokens.count...])
            for (a, b) in zip(tempered, s.logProbs) { XCTAssertEqual(a, b, accuracy: 2e-3) }
            policy.logitTemperature = 1
            let untempered = Array(try policy.tokenLogProbabilities([tokens])[0][s.promptTokens.count...])
            policy.logitTemperature = 0.6
            largestGapAtOne = max(largestGapAtOne, zip(untempered, s.logProbs).map { abs($0 - $1) }.max() ?? 0)
        }
        XCTAssertGreaterThan(largestGapAtOne, 0.05, "at T = 1 the learner would score a different distribution")

        // The gradient at T is that of the tempered loss (finite differences, double precision).
        let small = try TrainableDecoder<Double>(config: AgentRecipe.byteLevelConfig(context: 16, hidden: 8, layers: 1, heads: 2,
                                                                                      kvHeads: 1, intermediate: 12), seed: 2)
        small.logitTemperature = 0.7
        let sequence = TrainingSequence(tokens: [72, 105, 33, 10], weights: [0, 1, 0.5, -0.25])
        small.zeroGradients()
        _ = try small.accumulateGradients([sequence])
        let parameter = small.parameters.first { $0.name == "model.norm.weight" }!
        let h = 1e-6
        for i in 0..<4 {
            let saved = parameter.value[i]
            func loss() throws -> Double {
                let lp = try small.tokenLogProbabilities([sequence.tokens])[0]
                return zip(lp, sequence.weights).reduce(0) { $0 - $1.0 * $1.1 }
            }
            parameter.value[i] = saved + h
            let up = try loss()
            parameter.value[i] = saved - h
            let down = try loss()
            parameter.value[i] = saved
            XCTAssertEqual(parameter.gradient[i], (up - down) / (2 * h), accuracy: 1e-7)
        }
    }

    func testRelativeCollapseFloorFollowsTheStartingEntropy() throws {
        // The tools specialist starts near 0.05 nats/token: an absolute 0.05 floor stops it at once.
        var absolute = try CollapseDetector(patience: 2)
        try absolute.observe(step: 1, entropy: 0.045, meanCompletionLength: 90)
        XCTAssertThrowsError(try absolute.observe(step: 2, entropy: 0.04, meanCompletionLength: 90))
        var relative = try CollapseDetector(patience: 2, relativeFloor: 0.2)
        for step in 1...10 { try relative.observe(step: step, entropy: 0.04, meanCompletionLength: 90) }
        XCTAssertEqual(relative.effectiveEntropyFloor, min(0.05, 0.2 * 0.04), accuracy: 1e-12)
        try relative.observe(step: 11, entropy: 0.001, meanCompletionLength: 90)
        XCTAssertThrowsError(try relative.observe(step: 12, entropy: 0.001, meanCompletionLength: 90)) {
            XCTAssertTrue("\($0)".contains("< 0.008"), "\($0)")
        }
        // A policy that starts with plenty of entropy keeps the absolute floor.
        var lively = try CollapseDetector(relativeFloor: 0.2)
        try lively.observe(step: 1, entropy: 1.5, meanCompletionLength: 20)
        XCTAssertEqual(lively.effectiveEntropyFloor, 0.05)
        XCTAssertThrowsError(try CollapseDetector(relativeFloor: 1.5))
    }
}
