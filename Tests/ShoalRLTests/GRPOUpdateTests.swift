import Foundation
import ShoalTraining
import XCTest
@testable import ShoalRL

final class GRPOUpdateTests: XCTestCase {
    /// Rollouts over a 5-token vocabulary whose sampling log-probs differ from the current
    /// policy's, so the batch holds clipped and unclipped tokens of both advantage signs.
    private func offPolicyBatch(policy: BigramPolicy) throws -> GRPOBatch {
        let completions = [[1, 2, 3], [4, 0], [2, 2, 1, 4], [3], [0, 1]]
        let rewards = [1.0, 0.0, 0.5, 0.0, 1.0]
        let offsets = [0.5, -0.5, 0.05, -0.3, 0.4, -0.1, 0.7, -0.6, 0.2, -0.25, 0.45, 0.1]
        var k = 0
        let rollouts = try completions.enumerated().map { i, completion -> Rollout in
            let prompt = [i % 5, (i + 2) % 5]
            let current = try policy.tokenLogProbabilities([prompt + completion])[0][prompt.count...]
            let sampling = current.map { lp -> Double in k += 1; return lp + offsets[k % offsets.count] }
            return rollout(group: i < 3 ? "g1" : "g2", version: 0, reward: rewards[i], prompt: prompt,
                           completion: completion, logProbs: sampling)
        }
        return try GRPOBatch(rollouts: rollouts, currentVersion: 0)
    }

    func testGRPOGradientThroughTheModelMatchesFiniteDifferencesOfTheObjective() throws {
        var rng = TestRandom(seed: 42)
        let policy = BigramPolicy(vocabulary: 5, values: (0..<25).map { _ in rng.uniform(-1...1) })
        let reference = BigramPolicy(vocabulary: 5, values: (0..<25).map { _ in rng.uniform(-1...1) })
        let batch = try offPolicyBatch(policy: policy)
        let objective = GRPOObjective(klCoefficient: 0.1)

        policy.zeroGradients()
        let evaluation = try GRPOUpdate.accumulate(policy: policy, reference: reference, batch: batch, objective: objective)
        XCTAssertGreaterThan(evaluation.clipFraction, 0)
        let analytic = Array(policy.table.gradients)
        XCTAssertGreaterThan(analytic.map(abs).max() ?? 0, 1e-3, "the gradient must not be trivially zero")

        let h = 1e-5
        for index in 0..<25 {
            let saved = policy.table.value[index]
            policy.table.value[index] = saved + h
            let up = try GRPOUpdate.loss(policy: policy, reference: reference, batch: batch, objective: objective)
            policy.table.value[index] = saved - h
            let down = try GRPOUpdate.loss(policy: policy, reference: reference, batch: batch, objective: objective)
            policy.table.value[index] = saved
            XCTAssertEqual(analytic[index], (up - down) / (2 * h), accuracy: 1e-8, "parameter \(index)")
        }
    }

    func testBetaWithoutReferenceModelIsAnError() throws {
        let policy = BigramPolicy(vocabulary: 5)
        let batch = try offPolicyBatch(policy: policy)
        XCTAssertThrowsError(try GRPOUpdate.accumulate(policy: policy, reference: nil, batch: batch, objective: GRPOObjective(klCoefficient: 0.04))) {
            XCTAssertTrue("\($0)".contains("needs a reference model"), "\($0)")
        }
    }

    func testModelErrorsComeBackTyped() throws {
        let policy = BigramPolicy(vocabulary: 5)
        let batch = try GRPOBatch(rollouts: [rollout(group: "a", version: 0, reward: 1, completion: [9]),
                                             rollout(group: "a", version: 0, reward: 0)], currentVersion: 0)
        XCTAssertThrowsError(try GRPOUpdate.accumulate(policy: policy, reference: nil, batch: batch, objective: GRPOObjective(klCoefficient: 0))) {
            XCTAssertEqual($0 as? GRPOError, .model("sequence 0: token out of range"))
        }
    }

    func testAFewGRPOStepsRaiseRewardOnASeededTask() throws {
        // Task: after prompt token a, emit a + 3. Uniform start: expected reward 1/6.
        let policy = BigramPolicy(vocabulary: 6)
        let task = TinyTask(vocabulary: 6, prompts: [0, 1, 2], offset: 3)
        let before = try task.expectedReward(policy)
        let metrics = try task.train(policy: policy, reference: BigramPolicy(vocabulary: 6), steps: 8, seed: 2024) {
            for i in 0..<policy.table.count { policy.table.value[i] -= 4 * policy.table.gradient[i] }
        }
        let after = try task.expectedReward(policy)
        XCTAssertEqual(before, 1.0 / 6, accuracy: 1e-12)
        XCTAssertGreaterThan(after, 0.6, "expected reward went from \(before) to \(after)")
        let early = metrics.prefix(2).map(\.rewardMean).reduce(0, +) / 2
        let late = metrics.suffix(2).map(\.rewardMean).reduce(0, +) / 2
        XCTAssertGreaterThan(late, early + 0.2, "sampled reward: \(metrics.map(\.rewardMean))")
        XCTAssertGreaterThan(metrics.last?.kl ?? 0, 0, "the policy moved away from the reference")
    }
}
