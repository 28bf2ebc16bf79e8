import ArgumentParser
import Foundation
import ShoalBench
import ShoalEngine
import ShoalTraining

/// `shoal bench model`: CPU engine throughput, and the training step time of the 8.5M
/// model at batch 8 × 128, each next to PyTorch eager CPU in the same run.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Prompt and decode tok/s of the CPU engine (8.5M and 124.7M random Llama models) and the 8.5M training step vs PyTorch eager CPU.")

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

    @Flag(name: .long, inversion: .prefixedNo, help: "Measure the training step (fwd+bwd+AdamW, 8.5M, batch 8×128).")
    var training = true

    @Option(name: .long, help: "Training steps timed (median reported).")
    var trainingRepeats: Int = 5

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
        var trainingRow: TrainingStepBench.Row?
        if training {
            if !json { FileHandle.standardError.write(Data("… 8.5M: training step, Shoal and PyTorch\n".utf8)) }
            let size = ModelBench.sizes[0]
            trainingRow = try TrainingStepBench.run(name: size.name, config: size.config, repeats: trainingRepeats,
                                                    threads: threads, python: options.python)
        }
        if json {
            try printReport(ModelBench.Output(report: report, training: trainingRow))
        } else {
            print(ModelBench.format(report))
            if let trainingRow { print(TrainingStepBench.format(trainingRow)) }
        }
    }
}
