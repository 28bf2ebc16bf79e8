import ShoalVerifiers
import XCTest
@testable import ShoalRL

final class StepCreditTests: XCTestCase {
    private func verdict(_ correct: Bool) -> Verdict {
        Verdict(status: correct ? .correct : .wrong, components: ["correctness": correct ? 1 : 0], detail: "")
    }

    func testStepAdvantageCombinesOwnRewardAndOutcomeShare() throws {
        // Two steps, λ = 0.5, equal shares (γ = 1): ρ_t = own + 0.5 · outcome · 1/2.
        let credit = StepCredit(rewardModule: RewardModule(weights: RewardWeights(format: 0, outcomeShare: 0.5)))
        let group = [
            StepCredit.TaskRollout(steps: [verdict(true), verdict(true)], outcome: verdict(true)),
            StepCredit.TaskRollout(steps: [verdict(true), verdict(false)], outcome: verdict(false)),
            StepCredit.TaskRollout(steps: [verdict(false), verdict(false)], outcome: verdict(false)),
        ]
        let result = try credit.credit(group)
        XCTAssertEqual(result.stepRewards[0], [1.25, 1.25])
        XCTAssertEqual(result.stepRewards[1], [1, 0])
        XCTAssertEqual(result.stepRewards[2], [0, 0])
        // Step 0 across rollouts: [1.25, 1, 0]; the first rollout's step earns the most,
        // the second's is still above average although its task failed.
        let step0 = try GroupAdvantages().advantages(groups: [[1.25, 1, 0]]).advantages[0]
        XCTAssertEqual(result.advantages.map { $0[0] }, step0)
        XCTAssertGreaterThan(result.advantages[1][0], 0)
        XCTAssertLessThan(result.advantages[1][1], 0)
        XCTAssertEqual(result.zeroVarianceSteps, 0)
    }

    func testWithoutOutcomeShareOnlyOwnRewardCounts() throws {
        let credit = StepCredit(rewardModule: RewardModule(weights: RewardWeights(format: 0, outcomeShare: 0)))
        let result = try credit.credit([
            StepCredit.TaskRollout(steps: [verdict(true)], outcome: verdict(true)),
            StepCredit.TaskRollout(steps: [verdict(true)], outcome: verdict(false)),
        ])
        XCTAssertEqual(result.advantages, [[0], [0]])
        XCTAssertEqual(result.zeroVarianceSteps, 1)
    }

    func testRolloutsWithDifferentStepCountsAreRejected() {
        let group = [StepCredit.TaskRollout(steps: [verdict(true), verdict(true)], outcome: verdict(true)),
                     StepCredit.TaskRollout(steps: [verdict(true)], outcome: verdict(true))]
        XCTAssertThrowsError(try StepCredit().credit(group)) {
            XCTAssertEqual($0 as? GRPOError, .stepCountMismatch(rollout: 1, expected: 2, got: 1))
        }
    }
}
