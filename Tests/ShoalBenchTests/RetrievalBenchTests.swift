import XCTest
@testable import ShoalBench
import ShoalRetrieval
import ShoalVerifiers

final class RetrievalBenchTests: XCTestCase {
    func testBFCLCorpusHasEveryDistinctFunctionAndEveryQuestion() throws {
        let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        let locator: DatasetLocator
        do { locator = try DatasetLocator.find(from: here) } catch {
            if ProcessInfo.processInfo.environment["SHOAL_ALLOW_MISSING_DATA"] == "1" { throw XCTSkip("bfcl-eval data missing (SHOAL_ALLOW_MISSING_DATA=1): \(error)") }
            throw error
        }
        let (documents, queries) = try RetrievalBench.loadBFCL(locator)
        XCTAssertEqual(documents.count, 1552)
        XCTAssertEqual(queries.count, 1453)
        XCTAssertEqual(Set(documents.map(\.id)).count, documents.count, "ids are unique")
        let functions = Set(documents.compactMap { $0.metadata["function"]?.stringValue })
        XCTAssertEqual(functions.count, 1021)
        let ids = Set(documents.map(\.id))
        XCTAssertTrue(queries.allSatisfy { !$0.gold.isEmpty && $0.gold.isSubset(of: ids) }, "gold names the documents")
        XCTAssertEqual(queries.filter { $0.gold.count > 1 }.count, 191, "questions whose answer calls two or more functions")
        XCTAssertEqual(queries.first?.gold, ["triangle_properties.get"])
        XCTAssertTrue(queries.allSatisfy { !$0.text.isEmpty })
        let first = try XCTUnwrap(documents.first)
        XCTAssertTrue(first.text.hasPrefix((first.metadata["function"]?.stringValue ?? "?") + ": "))
    }

    func testMetricsCountEachFunctionAtItsFirstRank() {
        let queries = [RetrievalBench.Query(text: "q", gold: ["b", "c"])]
        let s = RetrievalBench.metrics([["a", "b", "b", "a", "x", "c"]], queries: queries)
        XCTAssertEqual(s.recallAt1, 0)
        XCTAssertEqual(s.recallAt5, 1)  // deduplicated: a, b, x, c
        XCTAssertEqual(s.ndcgAt10, (1 / log2(3.0) + 1 / log2(5.0)) / (1 + 1 / log2(3.0)), accuracy: 1e-12)
    }
}

extension RetrievalBenchTests {
    /// Issue 22: `bench retrieval --json` wrote `recallAt5` and `shoalDocumentsPerSecond`.
    func testScoresEncodeSnakeCaseWithTheCutOffAsAWord() throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(RetrievalBench.Scores(recallAt1: 0.5, recallAt5: 1, ndcgAt10: 0.75)), as: UTF8.self)
        XCTAssertEqual(text, #"{"ndcg_at_10":0.75,"recall_at_1":0.5,"recall_at_5":1}"#)
    }
}
