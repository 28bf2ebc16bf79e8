import Foundation

/// Runs scripts/engine/bench_torch.py (PyTorch eager CPU, HF generate) for one model
/// size and reads back its JSON line.
enum TorchBaseline {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func canImportTorch(python: String) -> Bool {
        (try? runProcess(python, ["-c", "import torch, transformers"]))?.status == 0
    }

    static func run(python: String, script: String, config c: DecoderConfig, options: ModelBench.Options) throws -> ModelBench.Throughput {
        guard FileManager.default.fileExists(atPath: script) else {
            throw Failure(description: "baseline script \(script) not found (run from the repository root)")
        }
        let shape = """
        {"vocab_size":\(c.vocabSize),"hidden_size":\(c.hiddenSize),"intermediate_size":\(c.intermediateSize),\
        "num_hidden_layers":\(c.layerCount),"num_attention_heads":\(c.headCount),"num_key_value_heads":\(c.kvHeadCount)}
        """
        let result = try runProcess(python, [script, "--config", shape, "--prompt-tokens", "\(options.promptTokens)",
                                             "--decode-prompt-tokens", "\(options.decodePromptTokens)",
                                             "--decode-tokens", "\(options.decodeTokens)", "--repeats", "\(options.repeats)",
                                             "--threads", "\(options.threads)"])
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last,
              let throughput = try? JSONDecoder().decode(ModelBench.Throughput.self, from: Data(line.utf8)) else {
            throw Failure(description: "\(script) failed (exit \(result.status)): \(result.stderr.suffix(400))")
        }
        return throughput
    }

    private static func runProcess(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a chatty child cannot fill the pipe and block.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
