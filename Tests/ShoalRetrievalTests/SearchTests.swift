import ShoalJSON
import ShoalRetrieval
import ShoalVerifiers
import XCTest

final class SearchTests: XCTestCase {
    func testDenseSearchFindsFactFromParaphrase() throws {
        let index = try RetrievalFixture.index()
        let hits = try index.search(SearchQuery("how fast does light travel", k: 3, mode: .dense), encoder: RetrievalFixture.encoder())
        XCTAssertEqual(hits.first?.id, "physics/speed-of-light")
        XCTAssertEqual(hits.count, 3)
        XCTAssertEqual(hits.first?.text, RetrievalFixture.documents[0].text)
        XCTAssertEqual(hits.first?.metadata["value"], .int(299_792_458))
        XCTAssertGreaterThan(hits[0].score, hits[1].score)
        XCTAssertLessThanOrEqual(hits[0].score, 1.0001, "dense scores are cosines of unit vectors")
    }

    func testDenseSearchAnswersEachTopicQuestion() throws {
        let index = try RetrievalFixture.index()
        let encoder = try RetrievalFixture.encoder()
        let expected = [
            "tallest peak on earth": "geography/everest",
            "when did astronauts first walk on the moon": "history/moon-landing",
            "temperature at which water turns to steam": "chemistry/water-boiling",
            "how does yeast make dough rise": "cooking/bread",
        ]
        for (question, id) in expected {
            XCTAssertEqual(try index.search(SearchQuery(question, k: 1, mode: .dense), encoder: encoder).first?.id, id, question)
        }
    }

    func testBM25RanksDocumentWithTheQueryWordsFirstAndSkipsDocumentsWithoutThem() throws {
        let index = try RetrievalFixture.index()
        let hits = try index.search(SearchQuery("Avogadro constant", k: 5, mode: .bm25), encoder: nil)
        XCTAssertEqual(hits.map(\.id), ["chemistry/avogadro"], "no other document contains either word")
    }

    func testBM25ScoreMatchesTheOkapiFormula() throws {
        var bm25 = BM25Index()
        bm25.append("red apple red")        // 3 tokens
        bm25.append("green apple")          // 2 tokens
        bm25.append("blue sky")             // 2 tokens
        let scores = bm25.scores("Red!")
        let n = 3.0, df = 1.0, k1 = 1.5, b = 0.75, avgdl = 7.0 / 3
        let idf = log(1 + (n - df + 0.5) / (df + 0.5))
        let expected = idf * 2 * (k1 + 1) / (2 + k1 * (1 - b + b * 3 / avgdl))
        XCTAssertEqual(Double(scores[0]), expected, accuracy: 1e-5)
        XCTAssertEqual(scores[1], 0)
        XCTAssertEqual(scores[2], 0)
        XCTAssertGreaterThan(bm25.scores("apple")[1], bm25.scores("apple")[0], "the shorter document with the term scores higher")
    }

    func testLexicalTokenizerLowercasesAndSplitsOnNonAlphanumerics() {
        XCTAssertEqual(LexicalTokenizer.tokens("Calculate_Area(radius=5) — Café 2nd!"), ["calculate", "area", "radius", "5", "café", "2nd"])
        XCTAssertEqual(LexicalTokenizer.tokens("  ...  "), [])
    }

    func testHybridSearchReturnsKnownAnswerWithFusedScore() throws {
        let index = try RetrievalFixture.index()
        let hits = try index.search(SearchQuery("speed of light in vacuum", k: 2, mode: .hybrid), encoder: RetrievalFixture.encoder())
        XCTAssertEqual(hits.first?.id, "physics/speed-of-light")
        // First in both rankings: 1/61 + 1/61.
        XCTAssertEqual(hits.first?.score ?? 0, 2.0 / 61, accuracy: 1e-12)
    }

    func testReciprocalRankFusionPrefersAgreement() {
        let fused = RankFusion.reciprocal([[1, 2, 3], [3, 2, 4]])
        XCTAssertEqual(fused[2] ?? 0, 2.0 / 62, accuracy: 1e-12)
        XCTAssertEqual(fused[1] ?? 0, 1.0 / 61, accuracy: 1e-12)
        XCTAssertEqual(fused[4] ?? 0, 1.0 / 63, accuracy: 1e-12)
        XCTAssertGreaterThan(fused[2]!, fused[1]!, "second in both beats first in one")
        XCTAssertNil(fused[5])
    }

    func testFilterByIdPrefixAndMetadataField() throws {
        let index = try RetrievalFixture.index()
        let encoder = try RetrievalFixture.encoder()
        let physicsOnly = try index.search(SearchQuery("boiling water", k: 10, mode: .dense, filter: SearchFilter(idPrefix: "physics/")), encoder: encoder)
        XCTAssertEqual(Set(physicsOnly.map(\.id)), ["physics/speed-of-light", "physics/gravity"])
        let chemistry = try index.search(SearchQuery("boiling water", k: 10, mode: .hybrid, filter: SearchFilter(fields: ["topic": "chemistry"])), encoder: encoder)
        XCTAssertEqual(chemistry.map(\.id), ["chemistry/water-boiling", "chemistry/avogadro"])
        // Numbers compare by value: 1969 matches 1969.0.
        let year = try index.search(SearchQuery("anything", k: 5, mode: .dense, filter: SearchFilter(fields: ["value": .double(1969)])), encoder: encoder)
        XCTAssertEqual(year.map(\.id), ["history/moon-landing"])
        let none = try index.search(SearchQuery("light", k: 5, mode: .bm25, filter: SearchFilter(fields: ["topic": "music"])), encoder: nil)
        XCTAssertEqual(none, [])
    }

    func testFilterFromJSONRejectsNestedValues() throws {
        let filter = try SearchFilter(json: try JSONValue.parse(#"{"id_prefix": "geo", "topic": "geography"}"#))
        XCTAssertEqual(filter, SearchFilter(idPrefix: "geo", fields: ["topic": "geography"]))
        XCTAssertThrowsError(try SearchFilter(json: try JSONValue.parse(#"{"topic": ["a"]}"#))) { error in
            XCTAssertTrue("\(error)".contains("filter.topic"), "\(error)")
        }
        XCTAssertThrowsError(try SearchFilter(json: .string("physics")))
    }

    func testInvalidQueriesGetClearErrors() throws {
        let index = try RetrievalFixture.index()
        XCTAssertThrowsError(try index.search(SearchQuery("light", k: 0, mode: .bm25), encoder: nil)) { error in
            XCTAssertEqual(error as? RetrievalError, .invalidQuery("k must be ≥ 1, got 0"))
        }
        XCTAssertThrowsError(try index.search(SearchQuery("   ", mode: .bm25), encoder: nil))
        XCTAssertThrowsError(try index.search(SearchQuery("light", mode: .dense), encoder: nil)) { error in
            XCTAssertEqual(error as? RetrievalError, .encoderRequired(mode: "dense"))
        }
    }
}
