import Foundation
import XCTest
@testable import ShoalEngine

/// BERT-uncased tokenisation with the real all-MiniLM-L6-v2 vocabulary.
final class MiniLMTokenizationTests: XCTestCase {
    /// Loaded outside the assertions, so that a missing model is a skip where allowed
    /// (an error thrown inside `XCTAssertEqual` would be recorded as a failure).
    private var encoder: SentenceEncoder!

    override func setUpWithError() throws {
        encoder = try MiniLMFixture.encoder()
    }

    private func pieces(_ text: String) -> [String] {
        encoder.tokenIds(text).map { encoder.tokenizer.decode([$0], skipSpecialTokens: false) }
    }

    func testAccentsAreStrippedAndTextLowercased() throws {
        XCTAssertEqual(pieces("Crème Brûlée"), pieces("creme brulee"))
        XCTAssertEqual(pieces("Crème Brûlée").first, "[CLS]")
        XCTAssertEqual(pieces("Crème Brûlée").last, "[SEP]")
    }

    func testApostropheAndAbbreviationDotsAreSeparatePieces() throws {
        XCTAssertEqual(pieces("don't"), ["[CLS]", "don", "'", "t", "[SEP]"])
        XCTAssertEqual(pieces("U.S.A."), ["[CLS]", "u", ".", "s", ".", "a", ".", "[SEP]"])
    }

    func testEachCJKIdeographIsItsOwnWord() throws {
        XCTAssertEqual(pieces("中国人"), ["[CLS]", "中", "国", "人", "[SEP]"])
        // 爱 is not in the vocabulary: being its own word, only it becomes [UNK].
        XCTAssertEqual(pieces("我爱北京"), ["[CLS]", "我", "[UNK]", "北", "京", "[SEP]"])
    }

    func testExtraWhitespaceAndControlCharactersDoNotChangeTokens() throws {
        XCTAssertEqual(pieces("   hello \t\n  world  "), pieces("hello world"))
        XCTAssertEqual(pieces("hel\u{0}lo"), pieces("hello"))
    }

    func testEmptyStringIsOnlyClassAndSeparator() throws {
        XCTAssertEqual(encoder.tokenIds(""), [encoder.tokenizer.classTokenId, encoder.tokenizer.separatorTokenId])
        XCTAssertEqual(encoder.tokenIds(""), [101, 102])
    }

    func testLongTextIsTruncatedTo256TokensEndingWithSeparator() throws {
        let ids = encoder.tokenIds(String(repeating: "word ", count: 1000))
        XCTAssertEqual(ids.count, 256)
        XCTAssertEqual(ids.last, encoder.tokenizer.separatorTokenId)
    }

    func testVocabTxtAloneGivesTheSameIdsAsTokenizerJSON() throws {
        let modelDirectory = try MiniLMLocator.modelDirectory(
            workingDirectory: URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().path)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-vocab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: modelDirectory.appendingPathComponent("vocab.txt"),
                                         to: directory.appendingPathComponent("vocab.txt"))
        let fromVocab = try WordPieceTokenizer.load(directory: directory)
        for item in try MiniLMFixture.reference().cases {
            XCTAssertEqual(fromVocab.encode(item.text, addSpecialTokens: true, maxLength: 256), item.tokenIds, item.text.debugDescription)
        }
    }
}
