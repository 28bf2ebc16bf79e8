import Foundation
import ShoalConfig
import ShoalEngine
@testable import ShoalWorker
import XCTest

/// Shoal's built-in specialists are trained on one ChatML user turn; the `swift` backend must
/// prompt them the same way, and must leave other models' input alone.
final class ChatPromptTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testByteTokenizerSavesAChatMLTemplateThatTheWorkerRecognises() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("shoal-chat-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try ByteTokenizer().save(to: dir)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokenizer_config.json"))) as? [String: Any]
        XCTAssertEqual(config?["chat_template"] as? String, ChatML.jinjaTemplate)
        XCTAssertTrue(ChatML.isTemplate(ofModelDirectory: dir.path))
        XCTAssertFalse(ChatML.isTemplate(ofModelDirectory: root.appendingPathComponent("Tests/ShoalEngineTests/Fixtures/models/llama").path),
                       "a model without a chat template gets its input raw")
    }

    func testPlainInputIsPromptedExactlyLikeTheRenderedTrainingPrompt() async throws {
        let yaml = "name: math\nbackend: swift\nmodel: math\nsampling: {temperature: 0, max_tokens: 24}\n"
        let agent = try AgentSpec.parse(yaml: yaml, file: root.appendingPathComponent("agents/math.yaml").path)
        let specialist = try ModelSpecialist(agent: agent)
        let question = "Tom has 3 apples and buys 4 more. How many apples does he have?"
        let plain = try await specialist.handle(SpecialistRequest(skill: "math", input: question), partials: .discard)
        let rendered = ChatML.render([ChatMessage(role: "user", content: question)], addGenerationPrompt: true)
        let exact = try await specialist.handle(SpecialistRequest(skill: "math", input: rendered), partials: .discard)
        XCTAssertEqual(plain.metadata["token_ids"], exact.metadata["token_ids"])
        XCTAssertEqual(plain.metadata["logprobs"], exact.metadata["logprobs"])
        XCTAssertFalse(plain.output.isEmpty)
    }
}
