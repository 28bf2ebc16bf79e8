import ShoalJSON
import ShoalRetrieval
import ShoalVerifiers
import XCTest
@testable import ShoalWorker

final class RetrievalSpecialistTests: XCTestCase {
    private func specialist() throws -> RetrievalSpecialist {
        try RetrievalSpecialist(encoder: RetrievalFixture.encoder(), index: RetrievalFixture.index())
    }

    private func reply(_ input: String) async throws -> [String: JSONValue] {
        let output = try await specialist().handle(SpecialistRequest(skill: "retrieval", input: input), partials: .discard).output
        return try XCTUnwrap(try JSONValue.parse(output).objectValue, output)
    }

    func testPlainTextQueryAnswersWithTopFactAndItsValue() async throws {
        let r = try await reply("speed of light in vacuum, in metres per second")
        XCTAssertEqual(r["id"], "physics/speed-of-light")
        XCTAssertEqual(r["value"], .int(299_792_458))
        XCTAssertEqual(r["mode"], "hybrid")
        XCTAssertEqual(r["results"]?.arrayValue?.count, 5)
        XCTAssertEqual(r["results"]?.arrayValue?.first?["text"], .string(RetrievalFixture.documents[0].text))
    }

    func testJSONQueryHonoursKModeAndFilter() async throws {
        let r = try await reply(#"{"query": "metres", "k": 2, "mode": "bm25", "filter": {"topic": "geography"}}"#)
        let ids = r["results"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        XCTAssertEqual(ids, ["geography/everest"])
        XCTAssertEqual(r["mode"], "bm25")
        let dense = try await reply(#"{"query": "a long river in Africa", "k": 1, "mode": "dense"}"#)
        XCTAssertEqual(dense["results"]?.arrayValue?.count, 1)
        XCTAssertEqual(dense["id"], "geography/nile")
    }

    func testBadInputIsAClearFailureNamingTheField() async throws {
        let s = try specialist()
        let cases = [
            ("", "empty query"),
            (#"{"query": "x", "k": 0}"#, "`k` must be an integer in 1...100, got 0"),
            (#"{"query": "x", "mode": "fuzzy"}"#, "`mode` must be one of dense, bm25, hybrid"),
            (#"{"query": "x", "top": 3}"#, "unknown field `top`"),
            (#"{"k": 3}"#, "`query` must be a non-empty string"),
            (#"{"query": "x", "filter": 3}"#, "`filter` must be a JSON object"),
            ("{not json", "is not a JSON object"),
        ]
        for (input, message) in cases {
            do {
                _ = try await s.handle(SpecialistRequest(skill: "retrieval", input: input), partials: .discard)
                XCTFail("accepted \(input)")
            } catch let failure as SpecialistFailure {
                XCTAssertTrue(failure.message.contains(message), "\(input): \(failure.message)")
            }
        }
    }

    func testAgentIndexIsBuiltOnFirstStartThenLoadedThenRebuiltWhenCorpusChanges() throws {
        let root = try RetrievalFixture.temporaryDirectory(self)
        let agentFile = root + "/facts.yaml"
        try "name: facts\n".write(toFile: agentFile, atomically: true, encoding: .utf8)
        let files = AgentIndexFiles(agentFile: agentFile)
        XCTAssertEqual(files.corpus, root + "/facts/corpus.jsonl")
        XCTAssertEqual(files.index, root + "/facts/index")
        try FileManager.default.createDirectory(atPath: root + "/facts", withIntermediateDirectories: true)
        try Corpus.jsonLines(Array(RetrievalFixture.documents.prefix(3))).write(toFile: files.corpus, atomically: true, encoding: .utf8)

        var log: [String] = []
        let encoder = try RetrievalFixture.encoder()
        XCTAssertEqual(try files.loadOrBuild(encoder: encoder) { log.append($0) }.count, 3)
        XCTAssertTrue(RetrievalIndex.exists(at: files.index))
        XCTAssertTrue(log.last?.hasPrefix("building") == true, "\(log)")
        XCTAssertEqual(try files.loadOrBuild(encoder: encoder) { log.append($0) }.count, 3)
        XCTAssertTrue(log.last?.hasPrefix("loaded 3 documents") == true, "\(log)")

        // An edit to the corpus, stamped later than the index, triggers a rebuild.
        try Corpus.jsonLines(RetrievalFixture.documents).write(toFile: files.corpus, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: files.corpus)
        XCTAssertEqual(try files.loadOrBuild(encoder: encoder) { log.append($0) }.count, RetrievalFixture.documents.count)
        XCTAssertTrue(log.last?.hasPrefix("building") == true, "\(log)")

        let specialist = try RetrievalSpecialist(agentFile: agentFile)
        XCTAssertEqual(specialist.modelVersion, "\(RetrievalFixture.documents.count)docs")
    }

    func testAgentWithoutCorpusFailsToStartWithThePath() throws {
        let root = try RetrievalFixture.temporaryDirectory(self)
        XCTAssertThrowsError(try RetrievalSpecialist(agentFile: root + "/nothing.yaml")) { error in
            XCTAssertEqual(error as? RetrievalError, .io(path: root + "/nothing/corpus.jsonl", reason: "file not found"))
        }
    }
}
