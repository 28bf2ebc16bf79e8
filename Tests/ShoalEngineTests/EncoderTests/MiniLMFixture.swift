import Foundation
import XCTest
@testable import ShoalEngine

/// The installed all-MiniLM-L6-v2 and the sentence-transformers reference
/// (Fixtures/minilm/reference.json, written by scripts/encoder/make_fixtures.py).
enum MiniLMFixture {
    struct Case: Decodable {
        let text: String
        let tokenIds: [Int]
        let embedding: [Float]
    }
    struct Reference: Decodable {
        let maxSeqLength: Int
        let cases: [Case]
    }

    /// Loaded once: the weights are 90 MB and every test reads them only.
    private static let loaded: Result<SentenceEncoder, Error> = Result {
        // Search from this source file's real location too, so the project's .venv is
        // found whatever directory `swift test` runs in.
        let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().path
        let directory = try MiniLMLocator.modelDirectory(workingDirectory: here)
        return try SentenceEncoder.load(directory: directory)
    }

    /// The encoder, or a failure naming the set-up command; with
    /// `SHOAL_ALLOW_MISSING_DATA=1` a missing package is a skip instead.
    static func encoder() throws -> SentenceEncoder {
        switch loaded {
        case .success(let encoder):
            return encoder
        case .failure(let error as EncoderError):
            if case .modelNotInstalled = error, ProcessInfo.processInfo.environment["SHOAL_ALLOW_MISSING_DATA"] == "1" {
                throw XCTSkip("all-MiniLM-L6-v2 missing (SHOAL_ALLOW_MISSING_DATA=1): \(error)")
            }
            throw error
        case .failure(let error):
            throw error
        }
    }

    static func reference() throws -> Reference {
        let root = try XCTUnwrap(Bundle.module.resourceURL, "test bundle has no resources")
        let data = try Data(contentsOf: root.appendingPathComponent("Fixtures/minilm/reference.json"))
        return try JSONDecoder().decode(Reference.self, from: data)
    }
}
