import Foundation
import XCTest
@testable import ShoalRL

final class GRPOMetricsTests: XCTestCase {
    func testStepRecordSummarisesTheBatchAsOneJSONLine() throws {
        let batch = try GRPOBatch(rollouts: [
            rollout(group: "a", version: 4, reward: 1.1, components: ["correctness": 1, "format": 1],
                    prompt: [1, 2], completion: [3, 4], logProbs: [-0.5, -1.5]),
            rollout(group: "a", version: 4, reward: 0.1, components: ["correctness": 0, "format": 1],
                    prompt: [1, 2], completion: [5, 6, 7, 8], logProbs: [-1, -1, -1, -1]),
            rollout(group: "b", version: 2, reward: 0),
            rollout(group: "c", version: 4, reward: 0), rollout(group: "c", version: 4, reward: 0),
        ], currentVersion: 4, staleness: StalenessPolicy(maxStaleness: 1))
        let evaluation = try GRPOObjective(klCoefficient: 0).evaluate(batch.rollouts.map {
            .init(currentLogProbs: $0.samplingLogProbs, samplingLogProbs: $0.samplingLogProbs, referenceLogProbs: nil, advantage: 0)
        })
        let metrics = GRPOMetrics(step: 7, modelVersion: 4, batch: batch, evaluation: evaluation, learningRate: 1e-5, seconds: 2)
        XCTAssertEqual(metrics.completionLengthMean, 8.0 / 4)
        // −log p over the 8 sampled tokens: 0.5 + 1.5 + 4 × 1 + 2 × 0.5 = 7.
        XCTAssertEqual(metrics.entropy, 7.0 / 8, accuracy: 1e-12)
        // 6 prompt + 8 completion tokens in 2 s.
        XCTAssertEqual(metrics.tokensPerSecond, 14.0 / 2)
        XCTAssertEqual(metrics.droppedStale, 1)
        XCTAssertEqual(metrics.zeroVarianceGroups, 1)
        XCTAssertEqual(metrics.rewards["correctness"]?.mean, 0.25)
        XCTAssertNil(metrics.kl)

        let line = metrics.jsonLine()
        XCTAssertFalse(line.contains("\n"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        for key in ["step", "model_version", "rewards", "completion_length_mean", "loss", "clip_fraction", "entropy",
                    "learning_rate", "tokens_per_s", "zero_variance_groups", "dropped_stale"] {
            XCTAssertNotNil(object[key], "missing \(key) in \(line)")
        }
        XCTAssertEqual(try JSONDecoder().decode(GRPOMetrics.self, from: Data(line.utf8)), metrics)
        // A log written before the key was tokens_per_s still reads back.
        let old = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: old) }
        try (line.replacingOccurrences(of: "\"tokens_per_s\":", with: "\"tokens_per_second\":") + "\n").write(to: old, atomically: true, encoding: .utf8)
        XCTAssertEqual(try GRPOMetricsLog.read(from: old), [metrics])
    }

    func testDivergedStepIsStillLogged() throws {
        let batch = try GRPOBatch(rollouts: [rollout(group: "a", version: 0, reward: 1)], currentVersion: 0)
        var evaluation = try GRPOObjective(klCoefficient: 0).evaluate([])
        evaluation.loss = .nan
        let line = GRPOMetrics(step: 1, modelVersion: 0, batch: batch, evaluation: evaluation, learningRate: 1, seconds: 1).jsonLine()
        XCTAssertTrue(line.contains("\"loss\":\"nan\""), line)
    }
}
