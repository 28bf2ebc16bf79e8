import XCTest
import ShoalRetrieval

/// Each way an index on disk can be damaged is refused with a message saying which.
final class CorruptIndexTests: XCTestCase {
    var directory = ""
    var embeddingsPath: String { directory + "/" + RetrievalIndex.embeddingsFile }
    var documentsPath: String { directory + "/" + RetrievalIndex.documentsFile }

    override func setUpWithError() throws {
        directory = try RetrievalFixture.temporaryDirectory(self)
        try RetrievalFixture.index().save(to: directory)
    }

    private func bytes() throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: embeddingsPath))) }
    private func write(_ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: embeddingsPath)) }

    private func assertCorrupt(_ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try RetrievalIndex.load(from: directory), file: file, line: line) { error in
            guard case .corruptIndex(_, let reason)? = error as? RetrievalError else {
                return XCTFail("want corruptIndex, got \(error)", file: file, line: line)
            }
            XCTAssertTrue(reason.contains(fragment), "\(reason)", file: file, line: line)
        }
    }

    func testIntactIndexLoads() throws {
        XCTAssertEqual(try RetrievalIndex.load(from: directory).count, RetrievalFixture.documents.count)
    }

    func testBadMagicIsRefused() throws {
        var b = try bytes()
        b[0] = UInt8(ascii: "X")
        try write(b)
        assertCorrupt("bad magic")
    }

    func testUnknownFormatVersionIsRefused() throws {
        var b = try bytes()
        b[8] = 9
        try write(b)
        assertCorrupt("format version 9")
    }

    func testTruncatedHeaderIsRefused() throws {
        try write(Array(try bytes().prefix(20)))
        assertCorrupt("truncated")
    }

    func testTruncatedPayloadIsRefused() throws {
        let b = try bytes()
        try write(Array(b.prefix(b.count - 100)))
        assertCorrupt("truncated")
    }

    func testTrailingBytesAreRefused() throws {
        try write(try bytes() + [0, 0, 0, 0])
        assertCorrupt("bytes after")
    }

    func testFlippedPayloadByteFailsTheChecksum() throws {
        var b = try bytes()
        b[b.count / 2] ^= 0x40
        try write(b)
        assertCorrupt("checksum mismatch")
    }

    func testDocumentCountDifferentFromEmbeddingRowsIsRefused() throws {
        let lines = try String(contentsOfFile: documentsPath, encoding: .utf8).split(separator: "\n")
        try (lines.dropLast().joined(separator: "\n") + "\n").write(toFile: documentsPath, atomically: true, encoding: .utf8)
        assertCorrupt("count mismatch: documents.jsonl has \(RetrievalFixture.documents.count - 1) documents, embeddings.bin has \(RetrievalFixture.documents.count) rows")
    }

    func testGarbledDocumentsFileIsRefused() throws {
        try "{\"id\": \"a\", \"text\": \n".write(toFile: documentsPath, atomically: true, encoding: .utf8)
        assertCorrupt("documents.jsonl:1")
    }

    func testMissingIndexNamesThePath() throws {
        try FileManager.default.removeItem(atPath: embeddingsPath)
        XCTAssertThrowsError(try RetrievalIndex.load(from: directory)) { error in
            XCTAssertEqual(error as? RetrievalError, .indexNotFound(path: embeddingsPath))
            XCTAssertTrue("\(error)".contains("shoal index build"))
        }
        XCTAssertThrowsError(try RetrievalIndex.load(from: directory + "/nowhere")) { error in
            XCTAssertEqual(error as? RetrievalError, .indexNotFound(path: directory + "/nowhere"))
        }
    }
}
