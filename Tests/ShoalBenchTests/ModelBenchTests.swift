import XCTest
@testable import ShoalBench
import ShoalEngine

final class ModelBenchTests: XCTestCase {
    func testBenchModelSizesHaveTheDesignParameterCounts() {
        XCTAssertEqual(ModelBench.sizes.map(\.name), ["8.5M", "124.7M"])
        XCTAssertEqual(Double(ModelBench.sizes[0].config.parameterCount) / 1e6, 8.5, accuracy: 0.05)
        XCTAssertEqual(Double(ModelBench.sizes[1].config.parameterCount) / 1e6, 124.7, accuracy: 0.05)
    }
}
