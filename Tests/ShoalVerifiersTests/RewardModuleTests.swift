import XCTest
@testable import ShoalVerifiers

final class RewardModuleTests: XCTestCase {
    func verdict(_ status: VerdictStatus, correctness: Double, format: Double = 0) -> Verdict {
        Verdict(status: status, components: [RewardComponent.correctness: correctness, RewardComponent.format: format], detail: "")
    }

    func testPenaltiesAndPartialCreditFollowTheWeights() {
        let weights = RewardWeights(partialCredit: false, timeout: -0.5, resourceExceeded: -1)
        let module = RewardModule(weights: weights)
        XCTAssertEqual(module.reward(for: verdict(.partial, correctness: 0.6, format: 1)), 0.1, accuracy: 1e-12)
        XCTAssertEqual(module.reward(for: verdict(.timeout, correctness: 0.5)), -0.5, accuracy: 1e-12)
        XCTAssertEqual(module.reward(for: verdict(.resourceExceeded, correctness: 0)), -1, accuracy: 1e-12)
        XCTAssertEqual(module.reward(for: verdict(.invalidTask, correctness: 1, format: 1)), 0)
        XCTAssertEqual(RewardModule().reward(for: verdict(.partial, correctness: 0.6, format: 1)), 0.7, accuracy: 1e-12)
    }

    func testStepsShareTheOutcomeEquallyByDefault() {
        let module = RewardModule(weights: RewardWeights(outcomeShare: 0.6))
        let steps = [verdict(.correct, correctness: 1), verdict(.wrong, correctness: 0), verdict(.correct, correctness: 1)]
        let rewards = module.stepRewards(steps: steps, outcome: verdict(.correct, correctness: 1, format: 1))
        // outcome reward 1.1, share 0.6 -> 0.66 split three ways
        XCTAssertEqual(rewards[0], 1.22, accuracy: 1e-12)
        XCTAssertEqual(rewards[1], 0.22, accuracy: 1e-12)
        XCTAssertEqual(rewards[2], 1.22, accuracy: 1e-12)
        XCTAssertEqual(module.stepRewards(steps: [], outcome: verdict(.correct, correctness: 1)), [])
    }

    func testDiscountGivesLaterStepsMoreOfTheOutcome() {
        let module = RewardModule(weights: RewardWeights(format: 0, outcomeShare: 1, stepDiscount: 0.5))
        let steps = [verdict(.wrong, correctness: 0), verdict(.wrong, correctness: 0)]
        let rewards = module.stepRewards(steps: steps, outcome: verdict(.correct, correctness: 1))
        XCTAssertEqual(rewards[0], 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(rewards[1], 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(rewards.reduce(0, +), 1, accuracy: 1e-12)
    }

    func testWeightsDecodeWithDefaultsForMissingKeysAndRejectBadDiscount() throws {
        let decoded = try JSONDecoder().decode(RewardWeights.self, from: Data(#"{"format": 0.2, "timeout": -0.3, "partial_credit": false}"#.utf8))
        XCTAssertEqual(decoded, RewardWeights(format: 0.2, partialCredit: false, timeout: -0.3))
        XCTAssertEqual(try JSONDecoder().decode(RewardWeights.self, from: Data("{}".utf8)), .standard)
        XCTAssertThrowsError(try JSONDecoder().decode(RewardWeights.self, from: Data(#"{"step_discount": 0}"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("step_discount"), "\(error)")
        }
    }
}
