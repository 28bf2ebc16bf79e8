import ArgumentParser
import Foundation
import ShoalEngine

/// `shoal quantize`: write a model as a GGUF file for llama.cpp, Ollama and Shoal.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write a model (a Shoal/Hugging Face directory such as agents/math or a GRPO output, or a .gguf file) as GGUF in F16, Q8_0 or Q4_0.",
        discussion: "Matrices are quantized; norms and biases stay F32; a matrix whose rows are not whole 32-value blocks stays F16. The tokenizer (byte-level BPE) and chat template go into the file, so llama.cpp and Ollama run it as they find it.")

    @OptionGroup var model: ModelSourceOption

    @Option(name: .long, help: "The GGUF file to write.")
    var out: String

    @Option(name: .long, help: "F16, Q8_0 or Q4_0.")
    var type: String = "Q8_0"

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        guard let format = GGUFExport.Format(rawValue: type.uppercased()) else {
            throw ValidationError("--type must be one of \(GGUFExport.Format.allCases.map(\.rawValue).joined(separator: ", ")), got \(type)")
        }
        let source = try model.path()
        let summary = try GGUFExport.convert(source: source, destination: out, format: format)
        if json {
            try printEncoded(summary)
        } else {
            print("wrote \(summary.path): \(summary.architecture), \(summary.format), \(summary.tensors) tensors, \(String(format: "%.1f", Double(summary.bytes) / 1_048_576)) MB")
            if !summary.kept_f16.isEmpty { print("kept F16 (rows not whole blocks): \(summary.kept_f16.joined(separator: ", "))") }
        }
    }
}
