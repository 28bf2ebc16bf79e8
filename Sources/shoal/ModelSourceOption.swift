import ArgumentParser
import Foundation
import ShoalEngine

/// `--model` for the commands that load one model in this process (`generate`, `logits`,
/// `quantize`): a GGUF file, a shipped model, or a Hugging Face directory.
struct ModelSourceOption: ParsableArguments {
    @Option(name: .long, help: "A .gguf file, shipped:NAME (smollm2, gemma3), or a model directory laid out as on the Hugging Face hub (config.json, *.safetensors, tokenizer.json).")
    var model: String

    /// The path to load: `shipped:NAME` found in the virtual environment, anything else as given.
    func path() throws -> String { try ShippedModel.resolve(model, relativeTo: FileManager.default.currentDirectoryPath) }
}
