import XCTest

@testable import ShoalEngine

final class DecodeStreamTests: XCTestCase {
    func testStreamedPiecesJoinToTheFullDecodeWithoutReplacementCharacters() throws {
        let tokenizer = try TokenizerLoader.load(directory: TokenizerFixture.directory("qwen2"))
        for text in ["Family 👨‍👩‍👧‍👦 flag 🇯🇵", "東京は日本の首都です。", "<|im_start|>user\nhé<|im_end|>"] {
            var stream = DecodeStream(tokenizer: tokenizer)
            var pieces: [String] = []
            for id in tokenizer.encode(text) { pieces.append(stream.append(id)) }
            pieces.append(stream.finish())
            XCTAssertEqual(pieces.joined(), text)
            XCTAssertFalse(pieces.joined().contains("\u{FFFD}"))
        }
    }

    func testIncompleteCharacterIsHeldBackUntilItCompletes() {
        let tokenizer = ByteTokenizer()
        var stream = DecodeStream(tokenizer: tokenizer)
        XCTAssertEqual(stream.append(104), "h")
        XCTAssertEqual(stream.append(0xF0), "")
        XCTAssertEqual(stream.append(0x9F), "")
        XCTAssertEqual(stream.append(0x98), "")
        XCTAssertEqual(stream.append(0x80), "😀")
        XCTAssertEqual(stream.append(0xE6), "")
        XCTAssertEqual(stream.finish(), "\u{FFFD}")
    }

    func testSkippedSpecialTokensAreNotEmitted() {
        var stream = DecodeStream(tokenizer: ByteTokenizer(), skipSpecialTokens: true)
        let pieces = ByteTokenizer().encode("ok<|im_end|>").map { stream.append($0) }
        XCTAssertEqual(pieces.joined() + stream.finish(), "ok")
    }
}
