import ArgumentParser
import Foundation
import ShoalEngine

/// `shoal bench model`: CPU engine throughput vs PyTorch eager CPU, same run.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Prompt and decode tok/s of the CPU engine (8.5M and 124.7M random Llama models) vs PyTorch eager CPU.")

    @Option(name: .long, help: "Python with torch + transformers for the baseline (default: .venv/bin/python, then python3).")
    var python: String?

    @Option(name: .long, help: "Model sizes to run, comma-separated.")
    var sizes: String = ModelBench.sizes.map(\.name).joined(separator: ",")

    @Option(name: .long, help: "Prompt length for the prefill measurement.")
    var promptTokens: Int = 128

    @Option(name: .long, help: "Tokens decoded per measurement.")
    var decodeTokens: Int = 32

    @Option(name: .long, help: "Repetitions per measurement (median reported).")
    var repeats: Int = 3

    @Option(name: .long, help: "Compute threads for both engines.")
    var threads: Int = 2

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func run() throws {
        var options = ModelBench.Options()
        options.python = ModelBench.findPython(preferred: python)
        options.sizeNames = sizes.split(separator: ",").map(String.init)
        options.promptTokens = promptTokens
        options.decodeTokens = decodeTokens
        options.repeats = repeats
        options.threads = threads
        let report = try ModelBench.run(options) { message in
            if !json { FileHandle.standardError.write(Data("… \(message)\n".utf8)) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(ModelBench.format(report))
        }
    }
}
