import Foundation
import XCTest
@testable import ShoalEngine

/// WordPiece rules on a hand-made vocabulary (no weights needed).
final class WordPieceTokenizerTests: XCTestCase {
    private func tinyTokenizer() throws -> WordPieceTokenizer {
        let vocabulary = ["[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "un": 4, "##aff": 5, "##able": 6, "run": 7, "##ning": 8, ",": 9, "##a": 10]
        return try WordPieceTokenizer(vocabulary: vocabulary, normalizer: BertNormalizer(), source: "test vocabulary")
    }

    func testGreedyLongestMatchFirstSplitsWithContinuationPrefix() throws {
        let tokenizer = try tinyTokenizer()
        XCTAssertEqual(tokenizer.encode("unaffable, running", addSpecialTokens: true), [2, 4, 5, 6, 9, 7, 8, 3])
        XCTAssertEqual(tokenizer.decode([2, 4, 5, 6, 9, 7, 8, 3], skipSpecialTokens: true), "unaffable , running")
    }

    func testWordWithAnUnmatchedPartIsOneUnknownToken() throws {
        let tokenizer = try tinyTokenizer()
        XCTAssertEqual(tokenizer.encode("unaffablex run", addSpecialTokens: false), [1, 7])
    }

    func testWordOver100CharactersIsUnknownEvenIfItWouldSplit() throws {
        let tokenizer = try tinyTokenizer()
        XCTAssertEqual(tokenizer.encode("un" + String(repeating: "a", count: 98), addSpecialTokens: false), [4] + Array(repeating: 10, count: 98))
        XCTAssertEqual(tokenizer.encode("un" + String(repeating: "a", count: 99), addSpecialTokens: false), [1])
    }

    func testVocabularyWithoutUnknownTokenIsATypedError() {
        XCTAssertThrowsError(try WordPieceTokenizer(vocabulary: ["[CLS]": 0], normalizer: BertNormalizer(), source: "v.txt")) { error in
            XCTAssertTrue("\(error)".contains("v.txt"))
            XCTAssertTrue("\(error)".contains("[UNK]"))
        }
    }

    func testNormalizerLowercasesPerCharacterAfterStrippingAccents() {
        let normalizer = BertNormalizer()
        XCTAssertEqual(String(String.UnicodeScalarView(normalizer.normalize("ÀÉÎ õ Σ"))), "aei o σ")
        XCTAssertEqual(normalizer.words("a,b  c").map { String(String.UnicodeScalarView($0)) }, ["a", ",", "b", "c"])
    }
}
