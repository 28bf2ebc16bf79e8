import XCTest
@testable import ShoalRL

final class GroupAdvantagesTests: XCTestCase {
    func testAdvantagesMatchHandComputedGroupsWithSampleStd() throws {
        let result = try GroupAdvantages().advantages(groups: [[1, 0, 0, 1], [2, 4, 9]])
        // [1,0,0,1]: mean 0.5, sample std sqrt(1/3).
        let a = 0.5 / (1 / 3.0.squareRoot() + 1e-4)
        XCTAssertEqual(result.advantages[0].count, 4)
        for (got, want) in zip(result.advantages[0], [a, -a, -a, a]) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        // [2,4,9]: mean 5, squared deviations 9+1+16 = 26, sample variance 13.
        let s = 13.0.squareRoot() + 1e-4
        for (got, want) in zip(result.advantages[1], [-3 / s, -1 / s, 4 / s]) { XCTAssertEqual(got, want, accuracy: 1e-12) }
        XCTAssertEqual(result.zeroVarianceGroups, 0)
    }

    func testTwoSampleGroupUsesBesselCorrectedStdLikeTRL() throws {
        // Population std of [1, 0] is 0.5 (advantages ±1); torch's default unbiased std is sqrt(0.5).
        let result = try GroupAdvantages().advantages(groups: [[1, 0]])
        XCTAssertEqual(result.advantages[0][0], 0.5 / (0.5.squareRoot() + 1e-4), accuracy: 1e-12)
    }

    func testZeroVarianceGroupsGiveExactlyZeroAndAreCounted() throws {
        let result = try GroupAdvantages().advantages(groups: [[0.5, 0.5, 0.5], [1, 0], [1], [0.1 + 0.2, 0.3]])
        XCTAssertEqual(result.advantages[0], [0, 0, 0])
        XCTAssertEqual(result.advantages[2], [0])
        XCTAssertEqual(result.advantages[3], [0, 0], "round-off differences are not variance")
        XCTAssertNotEqual(result.advantages[1][0], 0)
        XCTAssertEqual(result.zeroVarianceGroups, 3)
    }

    func testMeanOnlyScaleSubtractsTheMeanWithoutDividing() throws {
        let result = try GroupAdvantages(scale: .none).advantages(groups: [[3, 1]])
        XCTAssertEqual(result.advantages[0], [1, -1])
    }

    func testNonFiniteRewardIsRejectedWithItsPosition() {
        XCTAssertThrowsError(try GroupAdvantages().advantages(groups: [[1, 0], [0, .nan]])) { error in
            XCTAssertEqual(error as? GRPOError, .nonFinite(sequence: 1, field: "rewards", index: 1))
        }
    }
}
