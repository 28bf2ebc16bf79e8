import ArgumentParser
import Foundation
import ShoalEngine

/// `shoal generate`: run a model on one prompt.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate with a model: a GGUF file (llama, qwen2, qwen3, gemma3), shipped:smollm2|gemma3, or a Llama/Qwen2/Qwen3 directory (config.json, *.safetensors, tokenizer.json).",
        discussion: "A chat model's prompt is rendered as one user turn with its chat template (--chat-template raw sends it as is).")

    @OptionGroup var model: ModelSourceOption

    @Option(name: .long, help: "Prompt text.")
    var prompt: String

    @Option(name: .long, help: "Chat template: auto (the model's own), chatml, gemma, or raw (no template).")
    var chatTemplate: String = "auto"

    @Option(name: .long, help: "Maximum number of new tokens.")
    var maxTokens: Int = 64

    @Option(name: .long, help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(name: .long, help: "Keep only the K most likely tokens (0 = off).")
    var topK: Int = 0

    @Option(name: .long, help: "Nucleus sampling threshold in (0, 1].")
    var topP: Float = 1

    @Option(name: .long, help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Stop once the output contains this text (repeatable).")
    var stop: [String] = []

    @Flag(name: .long, help: "Print one JSON object: text, token_ids, logprobs, finish_reason.")
    var json = false

    func run() throws {
        let template: Generator.TemplateChoice = chatTemplate == "auto" ? .fromModel : .override(try ChatTemplate.named(chatTemplate))
        let generator = try Generator.load(path: try model.path(), template: template)
        let params = SamplingParams(maxTokens: maxTokens, temperature: temperature, topK: topK, topP: topP,
                                    seed: seed, stopStrings: stop)
        let text = generator.chatTemplate?.servingPrompt(prompt) ?? prompt
        guard let completion = try generator.generate(texts: [text], params: params).first else { return }
        if json {
            let output = GenerateOutput(text: completion.text ?? "", token_ids: completion.tokenIds,
                                        logprobs: completion.logprobs, finish_reason: completion.finishReason.rawValue)
            try printEncoded(output)
        } else {
            print(completion.text ?? "")
        }
    }
}

private struct GenerateOutput: Encodable {
    let text: String
    let token_ids: [Int]
    let logprobs: [Float]
    let finish_reason: String
}
