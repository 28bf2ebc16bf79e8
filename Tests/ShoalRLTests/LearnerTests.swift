import Foundation
import XCTest
@testable import ShoalRL

final class LearnerTests: XCTestCase {
    func testLearnerPublishesEveryKStepsAndDropsSamplesOfOldVersions() throws {
        let policy = BigramPolicy(vocabulary: 6)
        var settings = GRPOSettings()
        settings.klCoefficient = 0
        settings.publishEvery = 2
        settings.maxStaleness = 0
        settings.learningRate = 0.05
        let learner = try GRPOLearner(policy: policy, reference: nil, settings: settings)
        let task = TinyTask(vocabulary: 6, prompts: [0, 1], offset: 3)
        var rng = TestRandom(seed: 9)
        let old = try task.rollouts(policy, version: 0, rng: &rng)

        XCTAssertNil(try learner.step(old).publishedVersion)
        let second = try learner.step(task.rollouts(policy, version: 0, rng: &rng))
        XCTAssertEqual(second.publishedVersion, 1)
        XCTAssertEqual(learner.version, 1)
        // Version-0 samples are now one version stale: with max_staleness 0 all are dropped,
        // and with nothing to learn from the weights must not move (not even on momentum).
        let weights = Array(policy.table.values)
        let third = try learner.step(old)
        XCTAssertEqual(third.metrics.droppedStale, old.count)
        XCTAssertTrue(third.batch.rollouts.isEmpty)
        XCTAssertEqual(third.metrics.modelVersion, 1)
        XCTAssertNil(third.publishedVersion)
        XCTAssertEqual(learner.steps, 2)
        XCTAssertEqual(Array(policy.table.values), weights)
    }

    func testLearnerWithKLNeedsAReference() {
        XCTAssertThrowsError(try GRPOLearner(policy: BigramPolicy(vocabulary: 3), reference: nil, settings: GRPOSettings())) {
            XCTAssertTrue("\($0)".contains("kl_coefficient"), "\($0)")
        }
    }

    func testMicroBatchesAccumulateTheSameGradient() throws {
        var rng = TestRandom(seed: 4)
        let values = (0..<36).map { _ in rng.uniform(-1...1) }
        let task = TinyTask(vocabulary: 6, prompts: [0, 1, 2], offset: 3)
        let whole = BigramPolicy(vocabulary: 6, values: values), split = BigramPolicy(vocabulary: 6, values: values)
        let batch = try GRPOBatch(rollouts: task.rollouts(whole, version: 0, rng: &rng), currentVersion: 0)
        let objective = GRPOObjective(klCoefficient: 0)
        try GRPOUpdate.accumulate(policy: whole, reference: nil, batch: batch, objective: objective)
        try GRPOUpdate.accumulate(policy: split, reference: nil, batch: batch, objective: objective, microBatch: 5)
        XCTAssertGreaterThan(whole.table.gradients.map(abs).max() ?? 0, 1e-4)
        for i in 0..<36 { XCTAssertEqual(whole.table.gradient[i], split.table.gradient[i], accuracy: 1e-12) }
    }

    func testReferenceScoredOnceGivesTheSameUpdate() throws {
        var rng = TestRandom(seed: 8)
        let values = (0..<36).map { _ in rng.uniform(-1...1) }
        let reference = BigramPolicy(vocabulary: 6, values: (0..<36).map { _ in rng.uniform(-1...1) })
        let task = TinyTask(vocabulary: 6, prompts: [0, 1, 2], offset: 3)
        let fresh = BigramPolicy(vocabulary: 6, values: values), cached = BigramPolicy(vocabulary: 6, values: values)
        let batch = try GRPOBatch(rollouts: task.rollouts(fresh, version: 0, rng: &rng), currentVersion: 0)
        var scored = batch
        try GRPOUpdate.scoreReference(reference, batch: &scored)
        let objective = GRPOObjective(klCoefficient: 0.5)
        let a = try GRPOUpdate.accumulate(policy: fresh, reference: reference, batch: batch, objective: objective)
        let b = try GRPOUpdate.accumulate(policy: cached, reference: nil, batch: scored, objective: objective)
        XCTAssertEqual(a, b)
        XCTAssertGreaterThan(a.klMean ?? 0, 0)
        for i in 0..<36 { XCTAssertEqual(fresh.table.gradient[i], cached.table.gradient[i]) }
    }

    func testSettingsDecodeWithDefaultsAndRejectBadValues() throws {
        let json = #"{"group_size": 16, "clip_high": 0.28, "normalization": "sequence_mean", "staleness_mode": "importance_weight"}"#
        let settings = try JSONDecoder().decode(GRPOSettings.self, from: Data(json.utf8))
        XCTAssertEqual(settings.groupSize, 16)
        XCTAssertEqual(settings.objective, GRPOObjective(clip: 0.2, clipHigh: 0.28, klCoefficient: 0.04, normalization: .sequenceMean))
        XCTAssertEqual(settings.staleness, StalenessPolicy(maxStaleness: 1, mode: .importanceWeight))
        XCTAssertEqual(settings.temperature, 1)
        XCTAssertEqual(settings.microBatch, 8, "the learner's memory is bounded unless a file says otherwise")
        XCTAssertEqual(try JSONDecoder().decode(GRPOSettings.self, from: Data(#"{"micro_batch": 3}"#.utf8)).microBatch, 3)
        try settings.validate()

        var bad = GRPOSettings()
        bad.groupSize = 1
        XCTAssertThrowsError(try bad.validate()) {
            XCTAssertEqual("\($0)", "GRPO setting `group_size` must be ≥ 2 (a group of one has no relative advantage), got 1.0")
        }
    }
}
