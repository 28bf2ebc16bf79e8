import ShoalVerifiers
import XCTest
@testable import ShoalRL

final class RewardTests: XCTestCase {
    func testStandardWeightsPassTheBalanceRule() throws {
        try RewardBalance.validate(.standard)
    }

    func testFormatWeightAboveATenthOfCorrectnessIsRejected() {
        XCTAssertThrowsError(try RewardBalance.validate(RewardWeights(correct: 1, format: 0.5))) {
            XCTAssertTrue("\($0)".contains("`format` must be in 0...0.1"), "\($0)")
        }
        XCTAssertThrowsError(try RewardBalance.validate(RewardWeights(correct: 0, format: 0)))
        XCTAssertNoThrow(try RewardBalance.validate(RewardWeights(correct: 2, format: 0.2)))
    }

    func testPositivePenaltyIsRejected() {
        XCTAssertThrowsError(try RewardBalance.validate(RewardWeights(timeout: 0.5))) {
            XCTAssertTrue("\($0)".contains("`timeout` must be ≤ 0"), "\($0)")
        }
    }

    func testFormatAloneEarnsLessThanATenthOfASolvedAnswer() throws {
        let module = RewardModule()
        try RewardBalance.validate(module.weights)
        let formattedWrong = Verdict(status: .wrong, components: ["correctness": 0, "format": 1], detail: "")
        let solved = Verdict(status: .correct, components: ["correctness": 1, "format": 1], detail: "")
        XCTAssertLessThanOrEqual(module.reward(for: formattedWrong), 0.1 * module.reward(for: solved))
    }

    func testBreakdownKeepsComponentsAndTheModulesTotal() {
        let verdict = Verdict(status: .correct, components: ["correctness": 1, "format": 1], detail: "")
        let breakdown = RewardBreakdown(verdict: verdict, module: RewardModule())
        XCTAssertEqual(breakdown.total, 1.1, accuracy: 1e-12)
        XCTAssertEqual(breakdown.components, ["correctness": 1, "format": 1])
    }

    func testComponentSummaryPerComponentAndTotal() {
        let summary = ComponentSummary.summarise([
            RewardBreakdown(total: 1.1, components: ["correctness": 1, "format": 1]),
            RewardBreakdown(total: 0.1, components: ["format": 1]),
        ])
        XCTAssertEqual(summary["correctness"], ComponentSummary(mean: 0.5, std: 0.5))
        XCTAssertEqual(summary["format"], ComponentSummary(mean: 1, std: 0))
        XCTAssertEqual(summary["total"]!.mean, 0.6, accuracy: 1e-12)
        XCTAssertEqual(summary["total"]!.std, 0.5, accuracy: 1e-12)
    }
}
