import Foundation
import ShoalTraining
@testable import ShoalRL

/// A seeded one-token task for GRPO smoke tests: after prompt token a, emit a + offset.
/// The policy samples from its own distribution, read through the training contract (the
/// log-prob of every candidate continuation), so any `TrainableModel` can take it.
struct TinyTask {
    var vocabulary: Int
    var prompts: [Int]
    var offset: Int
    var samplesPerPrompt = 8
    var objective = GRPOObjective(klCoefficient: 0.02)

    func target(_ a: Int) -> Int { a + offset }

    /// Log-probs of every next token after `prompt`.
    func nextTokenLogProbs<Model: TrainableModel>(_ model: Model, after prompt: [Int]) throws -> [Double] {
        try model.tokenLogProbabilities((0..<vocabulary).map { prompt + [$0] }).map { $0[prompt.count] }
    }

    /// Probability the policy puts on the right answer, averaged over prompts (exact, no sampling noise).
    func expectedReward<Model: TrainableModel>(_ model: Model) throws -> Double {
        try prompts.map { exp(try nextTokenLogProbs(model, after: [$0])[target($0)]) }.reduce(0, +) / Double(prompts.count)
    }

    /// `samplesPerPrompt` samples per prompt from the policy's own distribution, scored.
    func rollouts<Model: TrainableModel>(_ policy: Model, version: Int, rng: inout TestRandom) throws -> [Rollout] {
        var rollouts: [Rollout] = []
        for a in prompts {
            let logProbs = try nextTokenLogProbs(policy, after: [a])
            for _ in 0..<samplesPerPrompt {
                var u = rng.unit(), token = vocabulary - 1
                for (t, lp) in logProbs.enumerated() {
                    u -= exp(lp)
                    if u <= 0 { token = t; break }
                }
                let correct: Double = token == target(a) ? 1 : 0
                rollouts.append(Rollout(
                    groupID: "prompt-\(a)", prompt: "\(a)", completion: "\(token)", promptTokens: [a],
                    completionTokens: [token], samplingLogProbs: [logProbs[token]], modelVersion: version,
                    reward: RewardBreakdown(total: correct, components: ["correctness": correct])))
            }
        }
        return rollouts
    }

    /// `steps` GRPO steps, two optimiser iterations per batch (the second off-policy);
    /// `update` applies the accumulated gradient. Returns each step's metrics.
    func train<Model: TrainableModel>(policy: Model, reference: any TrainableModel, steps: Int, seed: UInt64,
                                      update: () -> Void) throws -> [GRPOMetrics] {
        var rng = TestRandom(seed: seed)
        var detector = try CollapseDetector(entropyFloor: 0.01, patience: 3)
        var metrics: [GRPOMetrics] = []
        for step in 1...steps {
            let batch = try GRPOBatch(rollouts: rollouts(policy, version: step - 1, rng: &rng), currentVersion: step - 1)
            var evaluation: GRPOObjective.Evaluation?
            for _ in 0..<2 {
                policy.zeroGradients()
                evaluation = try GRPOUpdate.accumulate(policy: policy, reference: reference, batch: batch, objective: objective)
                update()
            }
            guard let evaluation else { break }
            let record = GRPOMetrics(step: step, modelVersion: step, batch: batch, evaluation: evaluation, learningRate: 0, seconds: 0)
            metrics.append(record)
            try detector.observe(step: step, entropy: record.entropy, meanCompletionLength: record.completionLengthMean)
        }
        return metrics
    }
}
