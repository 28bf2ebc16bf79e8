import XCTest
@testable import ShoalVerifiers

final class PassAtKTests: XCTestCase {
    func testEstimatorMatchesTheClosedForm() {
        // 1 - C(n-c, k) / C(n, k) with n = 10, c = 3, k = 2: 1 - 21/45
        XCTAssertEqual(PassAtK.estimate(n: 10, c: 3, k: 2)!, 1 - 21.0 / 45.0, accuracy: 1e-12)
        XCTAssertEqual(PassAtK.estimate(n: 10, c: 3, k: 1)!, 0.3, accuracy: 1e-12)
        XCTAssertEqual(PassAtK.estimate(n: 10, c: 0, k: 5), 0)
        XCTAssertEqual(PassAtK.estimate(n: 10, c: 8, k: 3), 1)
        XCTAssertNil(PassAtK.estimate(n: 3, c: 1, k: 10))
        XCTAssertEqual(PassAtK.estimate(n: 200, c: 1, k: 100)!, 0.5, accuracy: 1e-12)
    }

    func testMeanSkipsTasksWithTooFewSamples() {
        XCTAssertEqual(PassAtK.mean([(n: 2, c: 1), (n: 2, c: 0)], k: 1)!, 0.25, accuracy: 1e-12)
        XCTAssertNil(PassAtK.mean([(n: 2, c: 1)], k: 10))
    }
}
