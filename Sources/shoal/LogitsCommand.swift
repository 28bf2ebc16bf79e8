import ArgumentParser
import Foundation
import ShoalEngine

/// `shoal logits`: the model's next-token logits after a prompt.
struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print the next-token logits of a model (a .gguf file, shipped:NAME or a model directory) after a raw prompt.")

    @OptionGroup var model: ModelSourceOption

    @Option(name: .long, help: "Prompt text, encoded as is (no chat template).")
    var prompt: String

    @Flag(name: .long, help: "GGUF: multiply on weights dequantized exactly with fp32 activations (the reference path) instead of 8-bit activations.")
    var exact = false

    @Option(name: .long, help: "Without --json: how many of the most likely tokens to list.")
    var top: Int = 10

    @Flag(name: .long, help: "Print one JSON object: token_ids, last_logits.")
    var json = false

    func run() throws {
        let generator = try Generator.load(path: try model.path(),
                                           template: .override(nil), exact: exact)
        guard let tokenizer = generator.tokenizer else { throw GenerationError.noTokenizer }
        let tokenIds = tokenizer.encode(prompt)
        let last = try generator.model.lastLogits(tokenIds: tokenIds)
        if json {
            try printEncoded(LogitsOutput(token_ids: tokenIds, last_logits: last))
        } else {
            print("token ids: \(tokenIds)")
            for (id, logit) in last.enumerated().sorted(by: { $0.element > $1.element }).prefix(top) {
                print(String(format: "%8d  %10.4f  ", id, logit) + tokenizer.decode([id]).debugDescription)
            }
        }
    }
}

private struct LogitsOutput: Encodable {
    let token_ids: [Int]
    let last_logits: [Float]
}
