import XCTest

@testable import ShoalEngine

final class ChatMLTests: XCTestCase {
    func testRendersQwenLayoutWithGenerationPrompt() {
        let text = ChatML.render(
            [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "2+2?")],
            addGenerationPrompt: true)
        XCTAssertEqual(text, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n")
    }

    func testWithoutGenerationPromptEndsAfterLastMessage() {
        let text = ChatML.render([ChatMessage(role: "assistant", content: "4")], addGenerationPrompt: false)
        XCTAssertEqual(text, "<|im_start|>assistant\n4<|im_end|>\n")
    }

    func testMarkersEncodeAsSingleSpecialTokens() throws {
        let text = ChatML.render([ChatMessage(role: "user", content: "hi")], addGenerationPrompt: true)
        XCTAssertEqual(ByteTokenizer().encode(text).filter { $0 >= 256 }, [259, 260, 259])

        let qwen = try TokenizerLoader.load(directory: TokenizerFixture.directory("qwen2"))
        let start = try XCTUnwrap(qwen.tokenId(for: "<|im_start|>"))
        let end = try XCTUnwrap(qwen.tokenId(for: "<|im_end|>"))
        let ids = qwen.encode(text)
        XCTAssertEqual(ids.filter { $0 == start || $0 == end }, [start, end, start])
        XCTAssertEqual(qwen.decode(ids), text)
    }
}
