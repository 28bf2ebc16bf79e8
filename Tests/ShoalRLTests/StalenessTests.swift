import XCTest
@testable import ShoalRL

final class StalenessTests: XCTestCase {
    private let mixed = [
        rollout(group: "a", version: 5, reward: 1), rollout(group: "a", version: 3, reward: 0),
        rollout(group: "a", version: 4, reward: 0), rollout(group: "b", version: 2, reward: 1),
        rollout(group: "b", version: 5, reward: 0),
    ]

    func testSamplesOlderThanMaxStalenessAreDroppedAndCounted() throws {
        let outcome = try StalenessPolicy(maxStaleness: 1, mode: .drop).apply(mixed, currentVersion: 5)
        XCTAssertEqual(outcome.kept.map(\.modelVersion), [5, 4, 5])
        XCTAssertEqual(outcome.dropped, 2)
        XCTAssertEqual(outcome.weightedStale, 0)
    }

    func testImportanceWeightModeKeepsStaleSamplesAndCountsThem() throws {
        let outcome = try StalenessPolicy(maxStaleness: 1, mode: .importanceWeight).apply(mixed, currentVersion: 5)
        XCTAssertEqual(outcome.kept.count, 5)
        XCTAssertEqual(outcome.dropped, 0)
        XCTAssertEqual(outcome.weightedStale, 2)
    }

    func testStaleSampleIsCorrectedByItsOwnSamplingLogProbs() throws {
        // A kept stale sample's ratio is taken against the log-probs it was sampled with: the
        // same current log-prob gives a different weight for a different sampling policy.
        let objective = GRPOObjective(klCoefficient: 0)
        let fresh = try objective.evaluate([.init(currentLogProbs: [-1], samplingLogProbs: [-1], referenceLogProbs: nil, advantage: 1)])
        let stale = try objective.evaluate([.init(currentLogProbs: [-1], samplingLogProbs: [-1.1], referenceLogProbs: nil, advantage: 1)])
        XCTAssertEqual(fresh.weights[0][0], 1, accuracy: 1e-12)
        XCTAssertEqual(stale.weights[0][0], exp(0.1), accuracy: 1e-12)
    }

    func testSampleFromAFutureVersionIsAnError() {
        XCTAssertThrowsError(try StalenessPolicy().apply([rollout(group: "a", version: 9, reward: 0)], currentVersion: 5)) {
            XCTAssertEqual($0 as? GRPOError, .sampleFromFutureVersion(sequence: 0, version: 9, current: 5))
        }
    }

    func testBatchComputesAdvantagesOverTheSamplesThatSurvive() throws {
        let batch = try GRPOBatch(rollouts: mixed, currentVersion: 5, staleness: StalenessPolicy(maxStaleness: 1, mode: .drop))
        XCTAssertEqual(batch.droppedStale, 2)
        XCTAssertEqual(batch.groups, 2)
        // Group a keeps rewards [1, 0]; group b keeps only [0]: a one-sample group has no spread.
        XCTAssertEqual(batch.rollouts.map(\.groupID), ["a", "a", "b"])
        XCTAssertGreaterThan(batch.advantages[0], 0)
        XCTAssertLessThan(batch.advantages[1], 0)
        XCTAssertEqual(batch.advantages[2], 0)
        XCTAssertEqual(batch.zeroVarianceGroups, 1)
    }

    func testBatchGroupsInterleavedSamplesByPrompt() throws {
        let interleaved = [rollout(group: "x", version: 1, reward: 1), rollout(group: "y", version: 1, reward: 2),
                           rollout(group: "x", version: 1, reward: 0), rollout(group: "y", version: 1, reward: 2)]
        let batch = try GRPOBatch(rollouts: interleaved, currentVersion: 1)
        XCTAssertEqual(batch.rollouts.map(\.groupID), ["x", "x", "y", "y"])
        XCTAssertEqual(batch.zeroVarianceGroups, 1)
        XCTAssertEqual(batch.advantages[2...], [0, 0])
    }
}
