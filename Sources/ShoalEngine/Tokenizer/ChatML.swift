import Foundation

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// The ChatML layout Qwen models and Shoal's specialists are trained on:
/// `<|im_start|>role\ncontent<|im_end|>\n` per message. This is the fixed layout, not a Jinja
/// chat template: no default system prompt, no tool or reasoning sections.
public enum ChatML {
    public static let messageStart = "<|im_start|>"
    /// `render` as a Hugging Face `chat_template` (Jinja), for tokenizer_config.json.
    public static let jinjaTemplate = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    public static let messageEnd = "<|im_end|>"

    /// The conversation as text; `addGenerationPrompt` appends the opening of an assistant turn
    /// for the model to complete.
    public static func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var text = ""
        for message in messages {
            text += "\(messageStart)\(message.role)\n\(message.content)\(messageEnd)\n"
        }
        if addGenerationPrompt { text += "\(messageStart)assistant\n" }
        return text
    }

    /// Whether a model directory's `tokenizer_config.json` has a ChatML `chat_template`
    /// (Shoal's built-in specialists do). Workers serving such a model render plain input as
    /// one user turn (`servingPrompt`); other templates are not rendered, input goes in raw.
    public static func isTemplate(ofModelDirectory directory: String) -> Bool {
        let path = (directory as NSString).appendingPathComponent("tokenizer_config.json")
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let template = object["chat_template"] as? String else { return false }
        return template.contains(messageStart)
    }

    /// The text a worker feeds the model for `input`: with a ChatML model, plain input becomes
    /// one user turn with the assistant turn opened; text already in ChatML (a learner's exact
    /// training prompt) passes through unchanged, as does everything for other models.
    public static func servingPrompt(_ input: String, chatML: Bool) -> String {
        chatML && !input.hasPrefix(messageStart)
            ? render([ChatMessage(role: "user", content: input)], addGenerationPrompt: true) : input
    }
}
