import Foundation

/// How a chat model wants a conversation laid out. Jinja `chat_template`s (from a GGUF file's
/// `tokenizer.chat_template` or a Hugging Face `tokenizer_config.json`) are recognised by
/// family rather than interpreted; a template of no known family is refused by name, and
/// `raw` (no template: the input is the prompt) is always a way out.
public enum ChatTemplate: Sendable, Equatable {
    /// `<|im_start|>role\ncontent<|im_end|>\n` per turn (Qwen, SmolLM2, Shoal's built-ins);
    /// `defaultSystemPrompt` is added when a conversation has no system turn (SmolLM2's template does).
    case chatML(defaultSystemPrompt: String?)
    /// Gemma's turn markers: `<start_of_turn>user\n…<end_of_turn>\n`, the assistant is `model`,
    /// a system turn is folded into the first user turn. BOS is the tokenizer's to add.
    case gemma

    /// The families `--chat-template` and an agent file's `chat_template:` accept.
    public static let familyNames = ["chatml", "gemma", "raw"]

    /// A family by name; `raw` is nil (no template).
    public static func named(_ name: String) throws -> ChatTemplate? {
        switch name.lowercased() {
        case "chatml": return .chatML(defaultSystemPrompt: nil)
        case "gemma": return .gemma
        case "raw": return nil
        default: throw ChatTemplateError.unknownFamily(name: name)
        }
    }

    /// The family of a Jinja chat template, or a named error quoting its start.
    public static func recognise(jinja: String, source: String) throws -> ChatTemplate {
        if jinja.contains(ChatML.messageStart) && jinja.contains(ChatML.messageEnd) {
            return .chatML(defaultSystemPrompt: defaultSystemPrompt(inChatML: jinja))
        }
        if jinja.contains("<start_of_turn>") && jinja.contains("<end_of_turn>") { return .gemma }
        throw ChatTemplateError.unrecognised(source: source, excerpt: String(jinja.prefix(80)))
    }

    /// A ChatML template that writes a fixed system turn when the conversation lacks one
    /// (`'<|im_start|>system\nYou are …<|im_end|>\n'` inside an `if`).
    static func defaultSystemPrompt(inChatML jinja: String) -> String? {
        // Converters store the template's newlines as real newlines or as `\n` escapes.
        guard jinja.contains("!= 'system'") || jinja.contains("!= \"system\""),
              let start = jinja.range(of: "\(ChatML.messageStart)system\n") ?? jinja.range(of: "\(ChatML.messageStart)system\\n"),
              let end = jinja.range(of: ChatML.messageEnd, range: start.upperBound..<jinja.endIndex) else { return nil }
        let text = String(jinja[start.upperBound..<end.lowerBound])
        // Only a literal; a template that builds its default from variables is not rendered here.
        guard !text.contains("{{"), !text.contains("'"), !text.contains("\"") else { return nil }
        return text.replacingOccurrences(of: "\\n", with: "\n")
    }

    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        switch self {
        case .chatML(let defaultSystem):
            var turns = messages
            if let defaultSystem, turns.first?.role != "system" {
                turns.insert(ChatMessage(role: "system", content: defaultSystem), at: 0)
            }
            return ChatML.render(turns, addGenerationPrompt: addGenerationPrompt)
        case .gemma:
            var text = ""
            var pendingSystem: String?
            for message in messages {
                if message.role == "system" {
                    pendingSystem = message.content
                    continue
                }
                let role = message.role == "assistant" ? "model" : message.role
                var content = message.content
                if let system = pendingSystem, role == "user" {
                    content = system + "\n\n" + content
                    pendingSystem = nil
                }
                text += "<start_of_turn>\(role)\n\(content)<end_of_turn>\n"
            }
            if addGenerationPrompt { text += "<start_of_turn>model\n" }
            return text
        }
    }

    /// What a worker feeds the model for a sub-task's `input`: one user turn with the
    /// assistant's turn opened. Input already in the template's layout (a learner's exact
    /// training prompt) passes through unchanged.
    public func servingPrompt(_ input: String) -> String {
        switch self {
        case .chatML:
            if input.hasPrefix(ChatML.messageStart) { return input }
        case .gemma:
            if input.hasPrefix("<start_of_turn>") { return input }
        }
        return render([ChatMessage(role: "user", content: input)], addGenerationPrompt: true)
    }
}

public enum ChatTemplateError: Error, CustomStringConvertible, Equatable {
    case unrecognised(source: String, excerpt: String)
    case unknownFamily(name: String)

    public var description: String {
        switch self {
        case .unrecognised(let source, let excerpt):
            return "\(source): chat template of an unknown family (starts \"\(excerpt)\"); name one with `chat_template:` in the agent file or `--chat-template` (\(ChatTemplate.familyNames.joined(separator: ", ")); raw feeds the input as the prompt)"
        case .unknownFamily(let name):
            return "unknown chat template family \"\(name)\" (known: \(ChatTemplate.familyNames.joined(separator: ", ")))"
        }
    }
}
