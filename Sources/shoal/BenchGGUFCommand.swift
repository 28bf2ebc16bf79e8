import ArgumentParser
import Foundation
import ShoalBench
import ShoalEngine

/// `shoal bench gguf`: Shoal vs llama.cpp on the shipped GGUF models (or one given file).
struct BenchGGUFCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gguf",
        abstract: "Prompt and decode tok/s, peak RSS and the bandwidth floor of Shoal and llama.cpp on the same GGUF files, in one run.",
        discussion: "The llama.cpp side needs `make bench-venv` (llama-cpp-python built from source in .venv-bench, ~9 minutes once).")

    @Option(name: .long, help: "Shipped models to run, comma-separated (\(ShippedModel.allCases.map(\.rawValue).joined(separator: ", "))).")
    var models: String = ShippedModel.allCases.map(\.rawValue).joined(separator: ",")

    @Option(name: .long, help: "A GGUF file to run instead of the shipped models.")
    var model: String?

    @Option(name: .long, help: "Python with llama_cpp for the baseline (default: .venv-bench/bin/python).")
    var python: String?

    @Option(name: .long, help: "Compute threads for both engines.")
    var threads: Int = 2

    @Option(name: .long, help: "Prompt length for the prefill measurement.")
    var promptTokens: Int = 128

    @Option(name: .long, help: "Tokens decoded per measurement.")
    var decodeTokens: Int = 64

    @Option(name: .long, help: "Repetitions per measurement (median reported).")
    var repeats: Int = 3

    @Flag(name: .long, help: .hidden)
    var engineOnly = false

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    func validate() throws {
        for (name, value) in [("--threads", threads), ("--prompt-tokens", promptTokens), ("--decode-tokens", decodeTokens), ("--repeats", repeats)] where value < 1 {
            throw ValidationError("\(name) must be ≥ 1, got \(value)")
        }
    }

    func run() throws {
        var options = GGUFBench.Options()
        options.threads = threads
        options.promptTokens = promptTokens
        options.decodeTokens = decodeTokens
        options.repeats = repeats
        if engineOnly {
            guard let model else { throw ValidationError("--engine-only needs --model") }
            let run = try GGUFBench.measureShoal(path: model, options: options)
            try printReport(run)
            return
        }
        let chosen: [(name: String, path: String)]
        if let model {
            chosen = [(((model as NSString).lastPathComponent as NSString).deletingPathExtension, model)]
        } else {
            chosen = try models.split(separator: ",").map { name in
                guard let shipped = ShippedModel(rawValue: String(name)) else {
                    throw ValidationError("unknown model \(name) (shipped: \(ShippedModel.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return (shipped.rawValue, try shipped.path())
            }
        }
        let report = try GGUFBench.run(models: chosen, options: options, shoalExecutable: ProcessInfo.processInfo.arguments[0],
                                       python: GGUFBench.findPython(preferred: python), baselineScript: "scripts/gguf/llamacpp_baseline.py") { message in
            if !json { FileHandle.standardError.write(Data("… \(message)\n".utf8)) }
        }
        if json {
            try printReport(report)
        } else {
            print(GGUFBench.format(report))
        }
    }
}
