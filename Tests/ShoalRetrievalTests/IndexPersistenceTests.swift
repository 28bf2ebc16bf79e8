import XCTest
import ShoalRetrieval
import ShoalVerifiers

final class IndexPersistenceTests: XCTestCase {
    func testSavedIndexLoadsWithSameDocumentsEmbeddingsAndResults() throws {
        let directory = try RetrievalFixture.temporaryDirectory(self)
        let index = try RetrievalFixture.index()
        try index.save(to: directory)
        let loaded = try RetrievalIndex.load(from: directory)
        XCTAssertEqual(loaded.documents, index.documents)
        XCTAssertEqual(loaded.embeddings, index.embeddings, "float32 round-trips bit for bit")
        XCTAssertEqual(loaded.embeddings.dimension, 384)
        let encoder = try RetrievalFixture.encoder()
        for mode in SearchMode.allCases {
            let query = SearchQuery("highest mountain", k: 4, mode: mode)
            XCTAssertEqual(try loaded.search(query, encoder: encoder), try index.search(query, encoder: encoder), "\(mode)")
        }
    }

    func testAddedDocumentsAreSearchableAndSurviveSaving() throws {
        let directory = try RetrievalFixture.temporaryDirectory(self)
        let encoder = try RetrievalFixture.encoder()
        var index = try RetrievalFixture.index()
        let summary = try index.add([RetrievalDocument(id: "astronomy/sun-distance", text: "The Earth is on average 149.6 million kilometres from the Sun.",
                                                       metadata: ["value": 149_600_000])], encoder: encoder, source: "added.jsonl")
        XCTAssertEqual([summary.added, summary.replaced], [1, 0])
        XCTAssertEqual(index.count, RetrievalFixture.documents.count + 1)
        try index.save(to: directory)
        let loaded = try RetrievalIndex.load(from: directory)
        for mode in SearchMode.allCases {
            XCTAssertEqual(try loaded.search(SearchQuery("how far away is the sun", k: 1, mode: mode), encoder: encoder).first?.id,
                           "astronomy/sun-distance", "\(mode)")
        }
    }

    func testAddingAKnownIdIsRefusedUnlessReplacing() throws {
        let encoder = try RetrievalFixture.encoder()
        var index = try RetrievalFixture.index()
        let changed = RetrievalDocument(id: "cooking/bread", text: "Sourdough starter is a culture of wild yeast and lactic acid bacteria.")
        XCTAssertThrowsError(try index.add([changed], encoder: encoder, source: "more.jsonl")) { error in
            XCTAssertEqual(error as? RetrievalError, .duplicateId(id: "cooking/bread", path: "more.jsonl", line: nil))
            XCTAssertTrue("\(error)".contains("already in the index"))
        }
        XCTAssertEqual(index.document(id: "cooking/bread")?.text, RetrievalFixture.documents[9].text, "a refused add changes nothing")
        let summary = try index.add([changed], encoder: encoder, source: "more.jsonl", replacing: true)
        XCTAssertEqual([summary.added, summary.replaced], [0, 1])
        XCTAssertEqual(index.count, RetrievalFixture.documents.count)
        XCTAssertEqual(try index.search(SearchQuery("sourdough", k: 1, mode: .bm25), encoder: nil).first?.id, "cooking/bread")
        XCTAssertEqual(try index.search(SearchQuery("carbon dioxide", k: 1, mode: .bm25), encoder: nil), [], "old text no longer indexed")
    }

    func testBuildingFromNoDocumentsIsAnEmptyCorpusError() throws {
        XCTAssertThrowsError(try RetrievalIndex.build([], encoder: RetrievalFixture.encoder(), source: "empty.jsonl")) { error in
            XCTAssertEqual(error as? RetrievalError, .emptyCorpus(path: "empty.jsonl"))
        }
    }
}
