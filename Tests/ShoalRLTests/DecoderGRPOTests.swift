import Foundation
import ShoalEngine
import ShoalTraining
import XCTest
@testable import ShoalRL

/// GRPO on the real trainable decoder, reached only through `TrainableModel`.
final class DecoderGRPOTests: XCTestCase {
    private func config(layers: Int) -> DecoderConfig {
        DecoderConfig(architecture: .llama, vocabSize: 13, hiddenSize: 16, intermediateSize: 20, layerCount: layers,
                      headCount: 4, kvHeadCount: 2, rmsNormEps: 1e-6, rope: RopeConfig(theta: 10000), maxPositionEmbeddings: 16)
    }

    /// Weights well away from the init's near-uniform output, so the log-probs (and the
    /// clip decisions) vary across tokens.
    private func randomized(_ model: TrainableDecoder<Double>, seed: UInt64) -> TrainableDecoder<Double> {
        var rng = SplitMix64(seed: seed)
        for p in model.parameters {
            let isNorm = p.name.hasSuffix("norm.weight")
            for i in 0..<p.count {
                let u = rng.nextUnit() * 2 - 1
                p.value[i] = isNorm ? 1 + 0.3 * u : 0.5 * u
            }
        }
        return model
    }

    func testGRPOLossGradientOnADecoderMatchesFiniteDifferences() throws {
        let policy = randomized(try TrainableDecoder<Double>(config: config(layers: 2), seed: 1), seed: 11)
        let reference = randomized(try TrainableDecoder<Double>(config: config(layers: 2), seed: 2), seed: 12)
        let completions = [[3, 4, 5], [7, 1], [2, 2, 9, 12], [6], [0, 11]]
        let offsets = [0.5, -0.5, 0.05, -0.3, 0.4, -0.1, 0.7, -0.6, 0.2, -0.25, 0.45, 0.1]
        var k = 0
        let rollouts = try completions.enumerated().map { i, completion -> Rollout in
            let prompt = [1 + i, 8, (i * 5) % 13]
            let current = try policy.tokenLogProbabilities([prompt + completion])[0][prompt.count...]
            let sampling = current.map { lp -> Double in k += 1; return lp + offsets[k % offsets.count] }
            return rollout(group: i < 3 ? "g1" : "g2", version: 0, reward: [1, 0, 0.5, 0, 1][i], prompt: prompt,
                           completion: completion, logProbs: sampling)
        }
        let batch = try GRPOBatch(rollouts: rollouts, currentVersion: 0)
        let objective = GRPOObjective(klCoefficient: 0.1)

        policy.zeroGradients()
        let evaluation = try GRPOUpdate.accumulate(policy: policy, reference: reference, batch: batch, objective: objective)
        XCTAssertGreaterThan(evaluation.clipFraction, 0)
        XCTAssertLessThan(evaluation.clipFraction, 1)

        var rng = SplitMix64(seed: 99)
        var checked = 0, nonZero = 0
        let h = 1e-5
        for parameter in policy.parameters {
            for _ in 0..<3 {
                let i = Int(rng.next() % UInt64(parameter.count))
                let analytic = parameter.gradient[i]
                let saved = parameter.value[i]
                parameter.value[i] = saved + h
                let up = try GRPOUpdate.loss(policy: policy, reference: reference, batch: batch, objective: objective)
                parameter.value[i] = saved - h
                let down = try GRPOUpdate.loss(policy: policy, reference: reference, batch: batch, objective: objective)
                parameter.value[i] = saved
                let numeric = (up - down) / (2 * h)
                XCTAssertEqual(analytic, numeric, accuracy: 1e-6 * max(abs(numeric), abs(analytic)) + 1e-9, "\(parameter.name)[\(i)]")
                checked += 1
                if abs(analytic) > 1e-6 { nonZero += 1 }
            }
        }
        XCTAssertGreaterThan(checked, 20)
        XCTAssertGreaterThan(nonZero, checked / 2, "most sampled gradients must be non-zero or the check proves little")
    }

    func testGRPOLearnerRaisesRewardOfAOneLayerDecoderOnASeededTask() throws {
        // After prompt token a ∈ 0..<4, emit a + 5: about 1/13 of samples are right at the start.
        let policy = try TrainableDecoder<Double>(config: config(layers: 1), seed: 7)
        let reference = try TrainableDecoder<Double>(config: config(layers: 1), seed: 7)
        let task = TinyTask(vocabulary: 13, prompts: [0, 1, 2, 3], offset: 5)
        var settings = GRPOSettings()
        settings.learningRate = 0.03
        settings.steps = 12
        settings.klCoefficient = 0.02
        settings.iterationsPerBatch = 2
        settings.microBatch = 8
        let learner = try GRPOLearner(policy: policy, reference: reference, settings: settings)
        var rng = TestRandom(seed: 5)
        let before = try task.expectedReward(policy)
        var sampled: [Double] = []
        for _ in 0..<settings.steps {
            let result = try learner.step(task.rollouts(policy, version: learner.version, rng: &rng))
            sampled.append(result.metrics.rewardMean)
            XCTAssertEqual(result.metrics.droppedStale, 0)
        }
        let after = try task.expectedReward(policy)
        XCTAssertLessThan(before, 0.15)
        XCTAssertGreaterThan(after, before + 0.3, "expected reward went from \(before) to \(after); sampled: \(sampled)")
        XCTAssertEqual(learner.version, 12, "publish_every 1: one version per step")
    }
}
