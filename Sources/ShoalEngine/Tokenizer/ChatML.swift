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
}
