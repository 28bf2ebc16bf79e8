import XCTest
@testable import ShoalVerifiers

final class RetrievalVerifierTests: XCTestCase {
    func testMetricsMatchHandComputedValues() {
        let ranked = ["d3", "d1", "d9", "d2", "d1"]
        let gold: Set = ["d1", "d2"]
        XCTAssertEqual(RetrievalMetrics.recall(ranked, gold: gold, k: 1), 0)
        XCTAssertEqual(RetrievalMetrics.recall(ranked, gold: gold, k: 2), 0.5)
        XCTAssertEqual(RetrievalMetrics.recall(ranked, gold: gold, k: 10), 1)
        XCTAssertEqual(RetrievalMetrics.reciprocalRank(ranked, gold: gold), 0.5)
        // DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3)
        let expected = (1 / log2(3.0) + 1 / log2(5.0)) / (1 + 1 / log2(3.0))
        XCTAssertEqual(RetrievalMetrics.ndcg(ranked, gold: gold), expected, accuracy: 1e-12)
        XCTAssertEqual(RetrievalMetrics.ndcg(["d1", "d2"], gold: gold), 1, accuracy: 1e-12)
    }

    func testStatusAndRewardFollowTheRanking() {
        let verifier = RetrievalVerifier()
        let task = RetrievalTask(gold: ["a", "b"])
        XCTAssertEqual(verifier.verify(task, ranked: ["a", "b", "c"]).status, .correct)
        XCTAssertEqual(verifier.verify(task, ranked: ["a", "b", "c"]).reward, 1.1, accuracy: 1e-12)
        XCTAssertEqual(verifier.verify(task, ranked: ["c", "a"]).status, .partial)
        XCTAssertEqual(verifier.verify(task, ranked: ["c"]).status, .wrong)
        XCTAssertEqual(verifier.verify(task, output: "[\"b\", \"a\"]").components["recall@1"], 0.5)
        XCTAssertEqual(verifier.verify(task, output: "c\na\n").components["mrr"], 0.5)
        XCTAssertEqual(verifier.verify(task, output: "[\"b\", ").status, .formatError)
        XCTAssertEqual(verifier.verify(task, output: "").status, .formatError)
        XCTAssertEqual(verifier.verify(RetrievalTask(gold: []), output: "a").status, .invalidTask)
    }
}
