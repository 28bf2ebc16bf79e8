import ShoalEngine

/// How a task becomes the text a specialist is trained on and later prompted with: one
/// ChatML user turn holding the task, the assistant turn opened, the reference completion,
/// then `<|eos|>`, which the generator stops at. Serving must render prompts the same way
/// (`prompt(for:)`), or the model sees text unlike anything it was trained on.
public enum SFTFormat {
    public static let endOfCompletion = "<|eos|>"

    /// The user turn's content: the task prompt, except that tools prompts show their
    /// schemas compactly (`CompactToolSchemas`) ahead of the request.
    public static func userText(for item: TaskItem) -> String {
        guard item.family == .tools, let functions = item.functions,
              let compact = CompactToolSchemas.render(functionsJSON: functions),
              let request = item.prompt.range(of: "\nRequest: ", options: .backwards)
        else { return item.prompt }
        return "Tools:\n" + compact + item.prompt[request.lowerBound...]
    }

    /// The prompt text the model continues: `<|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n`.
    public static func prompt(for item: TaskItem) -> String {
        ChatML.render([ChatMessage(role: "user", content: userText(for: item))], addGenerationPrompt: true)
    }

    /// The completion the model learns: the reference answer, then the end marker.
    public static func completion(for item: TaskItem) -> String { item.target + endOfCompletion }

    /// Prompt and completion as token ids.
    public static func tokens(for item: TaskItem, tokenizer: ByteTokenizer) -> (prompt: [Int], completion: [Int]) {
        (tokenizer.encode(prompt(for: item), addSpecialTokens: false), tokenizer.encode(completion(for: item), addSpecialTokens: false))
    }
}
