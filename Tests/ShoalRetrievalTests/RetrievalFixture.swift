import Foundation
import XCTest
import ShoalEngine
import ShoalRetrieval
import ShoalVerifiers

/// The real all-MiniLM-L6-v2 (from the venv package, as `make test` installs it) and a
/// small corpus whose right answers are known.
enum RetrievalFixture {
    /// Loaded once: the weights are 90 MB and every test only reads them.
    private static let loaded: Result<SentenceEncoder, Error> = Result {
        // Search from this file's real location too, so the project's .venv is found
        // whatever directory `swift test` runs in (SHOAL_VENV, when set, wins).
        let here = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().path
        return try SentenceEncoder.load(directory: try MiniLMLocator.modelDirectory(workingDirectory: here))
    }

    /// The encoder; with `SHOAL_ALLOW_MISSING_DATA=1` a missing package is a skip instead of a failure.
    static func encoder() throws -> SentenceEncoder {
        switch loaded {
        case .success(let encoder): return encoder
        case .failure(let error as EncoderError):
            if case .modelNotInstalled = error, ProcessInfo.processInfo.environment["SHOAL_ALLOW_MISSING_DATA"] == "1" {
                throw XCTSkip("all-MiniLM-L6-v2 missing (SHOAL_ALLOW_MISSING_DATA=1): \(error)")
            }
            throw error
        case .failure(let error): throw error
        }
    }

    static let documents: [RetrievalDocument] = [
        RetrievalDocument(id: "physics/speed-of-light", text: "The speed of light in vacuum is exactly 299,792,458 metres per second.",
                          metadata: ["topic": "physics", "value": 299_792_458]),
        RetrievalDocument(id: "physics/gravity", text: "Standard gravitational acceleration at the Earth's surface is 9.80665 metres per second squared.",
                          metadata: ["topic": "physics", "value": 9.80665]),
        RetrievalDocument(id: "chemistry/avogadro", text: "The Avogadro constant is 6.02214076e23 entities per mole.",
                          metadata: ["topic": "chemistry", "value": 6.02214076e23]),
        RetrievalDocument(id: "chemistry/water-boiling", text: "Pure water boils at 100 degrees Celsius at sea-level atmospheric pressure.",
                          metadata: ["topic": "chemistry", "value": 100]),
        RetrievalDocument(id: "geography/everest", text: "Mount Everest, the highest mountain above sea level, rises 8,849 metres.",
                          metadata: ["topic": "geography", "value": 8849]),
        RetrievalDocument(id: "geography/nile", text: "The Nile is about 6,650 kilometres long and flows north into the Mediterranean Sea.",
                          metadata: ["topic": "geography", "value": 6650]),
        RetrievalDocument(id: "history/moon-landing", text: "Apollo 11 landed the first humans on the Moon on 20 July 1969.",
                          metadata: ["topic": "history", "value": 1969]),
        RetrievalDocument(id: "biology/heart", text: "A resting adult human heart beats roughly 60 to 100 times a minute.",
                          metadata: ["topic": "biology"]),
        RetrievalDocument(id: "computing/python-sort", text: "Python's built-in sorted() returns a new list; list.sort() sorts in place.",
                          metadata: ["topic": "computing"]),
        RetrievalDocument(id: "cooking/bread", text: "Bread dough rises because yeast ferments sugars and releases carbon dioxide.",
                          metadata: ["topic": "cooking"]),
    ]

    /// Built once (embedding costs seconds in debug builds); each caller gets its own copy.
    private static let built: Result<RetrievalIndex, Error> = Result {
        try RetrievalIndex.build(documents, encoder: try encoder(), source: "fixture")
    }

    static func index() throws -> RetrievalIndex {
        _ = try encoder()  // a missing model is a skip or a failure naming the fix, as above
        return try built.get()
    }

    /// A fresh directory under the temporary directory, removed by the test case.
    static func temporaryDirectory(_ testCase: XCTestCase) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-retrieval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        testCase.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }
}
