import Foundation
import ShoalEngine

/// Runs scripts/engine/bench_torch.py (PyTorch eager CPU, HF generate) for one model
/// size and reads back its JSON line.
enum TorchBaseline {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func canImportTorch(python: String) -> Bool {
        (try? PythonProcess.run(python, ["-c", "import torch, transformers"]))?.status == 0
    }

    static func run(python: String, script: String, config c: DecoderConfig, options: ModelBench.Options) throws -> ModelBench.Throughput {
        guard FileManager.default.fileExists(atPath: script) else {
            throw Failure(description: "baseline script \(script) not found (run from the repository root)")
        }
        let shape = """
        {"vocab_size":\(c.vocabSize),"hidden_size":\(c.hiddenSize),"intermediate_size":\(c.intermediateSize),\
        "num_hidden_layers":\(c.layerCount),"num_attention_heads":\(c.headCount),"num_key_value_heads":\(c.kvHeadCount)}
        """
        let result = try PythonProcess.run(python, [script, "--config", shape, "--prompt-tokens", "\(options.promptTokens)",
                                             "--decode-prompt-tokens", "\(options.decodePromptTokens)",
                                             "--decode-tokens", "\(options.decodeTokens)", "--repeats", "\(options.repeats)",
                                             "--threads", "\(options.threads)"])
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last,
              let throughput = try? JSONDecoder().decode(ModelBench.Throughput.self, from: Data(line.utf8)) else {
            throw Failure(description: "\(script) failed (exit \(result.status)): \(result.stderr.suffix(400))")
        }
        return throughput
    }
}
