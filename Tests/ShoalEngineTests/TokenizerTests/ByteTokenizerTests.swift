import Foundation
import XCTest

@testable import ShoalEngine

final class ByteTokenizerTests: XCTestCase {
    func testByteTokenizerMatchesHuggingFaceOnItsOwnLayout() throws {
        try TokenizerFixture.load("bytes").assertMatches(ByteTokenizer())
    }

    func testExportedTokenizerJSONLoadsToTheSameTokenizer() throws {
        let exported = try BPETokenizer(tokenizerJSON: ByteTokenizer().tokenizerJSON())
        try TokenizerFixture.load("bytes").assertMatches(exported)
        XCTAssertEqual(exported.vocabularySize, 261)
    }

    func testSavedDirectoryLoadsWithTheSameSpecialTokens() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-bytes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = ByteTokenizer()
        try original.save(to: directory)
        let loaded = try TokenizerLoader.load(directory: directory)
        XCTAssertEqual(loaded.bosTokenId, original.bosTokenId)
        XCTAssertEqual(loaded.eosTokenId, original.eosTokenId)
        XCTAssertEqual(loaded.vocabularySize, original.vocabularySize)
        let text = ChatML.render([ChatMessage(role: "user", content: "héllo 😀")], addGenerationPrompt: true)
        XCTAssertEqual(loaded.encode(text), original.encode(text))
    }

    func testIdsAreUTF8BytesThenSpecialTokens() {
        let tokenizer = ByteTokenizer()
        XCTAssertEqual(tokenizer.encode("hé"), [104, 0xC3, 0xA9])
        XCTAssertEqual(tokenizer.encode("<|bos|>a<|im_end|>"), [256, 97, 260])
        XCTAssertEqual(tokenizer.vocabularySize, 261)
        XCTAssertEqual(tokenizer.bosTokenId, 256)
        XCTAssertEqual(tokenizer.eosTokenId, 257)
        XCTAssertEqual(tokenizer.padTokenId, 258)
        XCTAssertEqual(tokenizer.tokenId(for: "<|im_start|>"), 259)
        XCTAssertEqual(tokenizer.tokenId(for: "a"), 97)
        XCTAssertNil(tokenizer.tokenId(for: "ab"))
    }

    func testPartialSpecialTokenIsPlainText() {
        XCTAssertEqual(ByteTokenizer().encode("<|im_end"), Array("<|im_end".utf8).map(Int.init))
    }

    func testInvalidUTF8DecodesToReplacementCharacter() {
        let tokenizer = ByteTokenizer()
        // The first two bytes of "😀" (F0 9F 98 80), then "a".
        XCTAssertEqual(tokenizer.decode([0xF0, 0x9F, 97]), "\u{FFFD}a")
        XCTAssertEqual(tokenizer.decode([0xFF, 0xFE]), "\u{FFFD}\u{FFFD}")
    }

    func testSkippingSpecialTokensDropsOnlyThem() {
        let tokenizer = ByteTokenizer()
        let ids = tokenizer.encode("<|im_start|>user\nhi<|im_end|>")
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "user\nhi")
        XCTAssertEqual(tokenizer.decode(ids), "<|im_start|>user\nhi<|im_end|>")
    }

    func testOutOfRangeIdsAreSkipped() {
        XCTAssertEqual(ByteTokenizer().decode([-1, 104, 9999, 105]), "hi")
    }
}
