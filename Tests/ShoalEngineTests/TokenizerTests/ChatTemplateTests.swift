import Foundation
import ShoalEngine
import XCTest

/// Chat templates recognised by family: SmolLM2's ChatML with its default system prompt, Gemma's
/// turns, and a named error for anything else.
final class ChatTemplateTests: XCTestCase {
    func testSmolLM2sTemplateAddsItsDefaultSystemPrompt() throws {
        let file = try GGUFFile(path: try GGUFFixtures.modelPath(.smolLM2))
        let template = try ChatTemplate.recognise(jinja: try file.string("tokenizer.chat_template"), source: file.path)
        XCTAssertEqual(template, .chatML(defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        XCTAssertEqual(template.servingPrompt("Hi"), "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        let own = template.render([ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: false)
        XCTAssertEqual(own, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n", "a conversation's own system turn wins")
    }

    func testEscapedNewlinesInATemplateAreReadToo() throws {
        let jinja = "{% if messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nBe kind.<|im_end|>\\n' }}{% endif %}{{ '<|im_start|>' }}"
        XCTAssertEqual(try ChatTemplate.recognise(jinja: jinja, source: "t"), .chatML(defaultSystemPrompt: "Be kind."))
    }

    func testGemmaTurnsFoldTheSystemTurnIntoTheFirstUserTurn() throws {
        let template = try XCTUnwrap(try ChatTemplate.named("gemma"))
        let text = template.render([ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi"),
                                    ChatMessage(role: "assistant", content: "Hello."), ChatMessage(role: "user", content: "Bye")],
                                   addGenerationPrompt: true)
        XCTAssertEqual(text, "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n")
        XCTAssertEqual(template.servingPrompt("<start_of_turn>user\nx<end_of_turn>\n"), "<start_of_turn>user\nx<end_of_turn>\n", "already rendered input passes through")
    }

    func testAnUnknownTemplateOrFamilyIsANamedError() {
        XCTAssertThrowsError(try ChatTemplate.recognise(jinja: "{{ bos_token }}[INST] {{ m }} [/INST]", source: "model.gguf")) {
            XCTAssertTrue("\($0)".contains("model.gguf: chat template of an unknown family"), "\($0)")
            XCTAssertTrue("\($0)".contains("--chat-template"), "\($0)")
        }
        XCTAssertThrowsError(try ChatTemplate.named("jinja")) { XCTAssertEqual($0 as? ChatTemplateError, .unknownFamily(name: "jinja")) }
        XCTAssertNil(try ChatTemplate.named("raw"))
    }

    func testGemmaBaseCarriesNoTemplateAndTakesRawPrompts() throws {
        let generator = try GGUFFixtures.generator(.gemma3)
        XCTAssertNil(generator.chatTemplate)
    }
}
