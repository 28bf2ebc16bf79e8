import Foundation
import XCTest
@testable import ShoalEngine

/// all-MiniLM-L6-v2 in Swift against sentence-transformers on the same weights.
final class SentenceEncoderParityTests: XCTestCase {
    func testTokenIdsMatchSentenceTransformersForEveryReferenceSentence() throws {
        let encoder = try MiniLMFixture.encoder()
        let reference = try MiniLMFixture.reference()
        XCTAssertEqual(encoder.maxSequenceLength, reference.maxSeqLength)
        XCTAssertGreaterThanOrEqual(reference.cases.count, 50)
        for item in reference.cases {
            XCTAssertEqual(encoder.tokenIds(item.text), item.tokenIds, "token ids differ for \(item.text.debugDescription)")
        }
    }

    func testEmbeddingsMatchSentenceTransformersToCosine0_9999() throws {
        let encoder = try MiniLMFixture.encoder()
        let reference = try MiniLMFixture.reference()
        let embeddings = try encoder.encode(reference.cases.map(\.text), batchSize: 16)
        XCTAssertEqual(embeddings.count, reference.cases.count)
        for (embedding, item) in zip(embeddings, reference.cases) {
            XCTAssertEqual(embedding.count, 384)
            let similarity = cosine(embedding, item.embedding)
            XCTAssertGreaterThanOrEqual(similarity, 0.9999, "cosine \(similarity) for \(item.text.debugDescription)")
        }
    }

    func testEmbeddingsAreUnitLengthAndDoNotDependOnBatching() throws {
        let encoder = try MiniLMFixture.encoder()
        // Over 16 tokens each, so every batch takes the sgemm path (the small-batch kernel
        // is the engine's, tested there, and slow in debug builds).
        let texts = try MiniLMFixture.reference().cases.filter { (17...80).contains($0.tokenIds.count) }.prefix(8).map(\.text)
        XCTAssertEqual(texts.count, 8)
        let single = try encoder.encode(texts, batchSize: 1)
        let batched = try encoder.encode(texts, batchSize: 4)
        for (a, b) in zip(single, batched) {
            XCTAssertEqual(norm(a), 1, accuracy: 1e-4)
            XCTAssertEqual(zip(a, b).map { abs($0 - $1) }.max() ?? 1, 0, accuracy: 1e-5)
        }
    }

    func testSimilarSentencesAreCloserThanUnrelatedOnes() throws {
        let encoder = try MiniLMFixture.encoder()
        let e = try encoder.encode(["A man is eating food.", "A man is eating a piece of bread.", "A monkey is playing drums."])
        XCTAssertGreaterThan(cosine(e[0], e[1]), cosine(e[0], e[2]) + 0.2)
    }

    func testZeroBatchSizeIsATypedError() throws {
        let encoder = try MiniLMFixture.encoder()
        XCTAssertThrowsError(try encoder.encode(["x"], batchSize: 0)) { error in
            XCTAssertEqual(error as? EncoderError, .invalidBatchSize(0))
        }
        XCTAssertEqual(try encoder.encode([]).count, 0)
    }

    private func cosine(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { $0 * $1 }.reduce(0, +) / (norm(a) * norm(b))
    }

    private func norm(_ a: [Float]) -> Float { a.map { $0 * $0 }.reduce(0, +).squareRoot() }
}
