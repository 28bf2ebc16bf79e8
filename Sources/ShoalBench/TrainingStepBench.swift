import Foundation
import ShoalTraining
import ShoalEngine

/// The training row of `shoal bench model`: the median time of one SFT step (forward +
/// backward over every token + AdamW) of a random-weight model, with PyTorch eager on CPU
/// doing the same step (`scripts/bench_torch_train.py`) in the same run when a Python with
/// torch and transformers is given.
public enum TrainingStepBench {
    public struct Row: Codable, Sendable {
        public var model: String
        public var parameters: Int
        public var batch: Int
        public var sequence: Int
        public var repeats: Int
        public var shoal_step_ms: Double
        public var shoal_tokens_per_s: Double
        public var pytorch_step_ms: Double?
        public var pytorch_tokens_per_s: Double?
        /// PyTorch step time over Shoal's: above 1 means Shoal is faster.
        public var speedup: Double?
        public var pytorch_note: String?
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(name: String, config: DecoderConfig, batch: Int = 8, sequence: Int = 128, repeats: Int = 5,
                           threads: Int = 2, python: String?, script: String = "scripts/bench_torch_train.py") throws -> Row {
        guard batch >= 1, sequence >= 2, repeats >= 1 else {
            throw Failure(description: "bench training: batch ≥ 1, sequence ≥ 2 and repeats ≥ 1 needed")
        }
        setComputeThreads(threads)
        var training = config
        training.maxPositionEmbeddings = max(config.maxPositionEmbeddings, sequence)
        let model = try TrainableDecoder<Float>(config: training, seed: 1)
        let optimizer = AdamW(parameters: model.parameters)
        var rng = SplitMix64(seed: 42)
        // Every token after the first is predicted and weighted, as in PyTorch's `labels=ids` loss.
        let weight = 1 / Double(batch * (sequence - 1))
        let sequences = (0..<batch).map { _ in
            TrainingSequence(tokens: (0..<sequence).map { _ in Int(rng.next() % UInt64(config.vocabSize)) },
                             weights: [0] + [Double](repeating: weight, count: sequence - 1))
        }
        func step() throws {
            _ = try GradientAccumulation.accumulate(model, microBatches: [sequences])
            optimizer.update(learningRate: 1e-4)
        }
        try step()  // warm-up
        var seconds: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try step()
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let median = seconds.sorted()[seconds.count / 2]
        var row = Row(model: name, parameters: model.parameters.map(\.count).reduce(0, +), batch: batch, sequence: sequence,
                      repeats: repeats, shoal_step_ms: median * 1000, shoal_tokens_per_s: Double(batch * sequence) / median)
        guard let python else {
            row.pytorch_note = "no Python with torch and transformers found"
            return row
        }
        do {
            let (ms, tokS) = try torchStep(python: python, script: script, config: config, batch: batch, sequence: sequence,
                                           repeats: repeats, threads: threads)
            row.pytorch_step_ms = ms
            row.pytorch_tokens_per_s = tokS
            row.speedup = ms / row.shoal_step_ms
        } catch {
            row.pytorch_note = "\(error)"
        }
        return row
    }

    public static func format(_ row: Row) -> String {
        var line = String(format: "training step %@ (%d×%d, fwd+bwd+AdamW): Shoal %.0f ms (%.0f tok/s)",
                          row.model, row.batch, row.sequence, row.shoal_step_ms, row.shoal_tokens_per_s)
        if let ms = row.pytorch_step_ms, let tokS = row.pytorch_tokens_per_s, let speedup = row.speedup {
            line += String(format: "   PyTorch %.0f ms (%.0f tok/s)   %.2fx", ms, tokS, speedup)
        } else if let note = row.pytorch_note {
            line += "   (PyTorch: \(note))"
        }
        return line
    }

    private static func torchStep(python: String, script: String, config c: DecoderConfig, batch: Int, sequence: Int,
                                  repeats: Int, threads: Int) throws -> (ms: Double, tokS: Double) {
        guard FileManager.default.fileExists(atPath: script) else {
            throw Failure(description: "baseline script \(script) not found (run from the repository root)")
        }
        let shape = """
        {"vocab_size":\(c.vocabSize),"hidden_size":\(c.hiddenSize),"intermediate_size":\(c.intermediateSize),\
        "num_hidden_layers":\(c.layerCount),"num_attention_heads":\(c.headCount),"num_key_value_heads":\(c.kvHeadCount)}
        """
        let result = try PythonProcess.run(python, [script, "--config", shape, "--batch", "\(batch)", "--sequence", "\(sequence)",
                                                    "--repeats", "\(repeats)", "--threads", "\(threads)"])
        guard result.status == 0, let line = result.stdout.split(separator: "\n").last,
              let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
              let ms = object["step_ms"] as? Double, let tokS = object["tokens_per_s"] as? Double else {
            throw Failure(description: "\(script) failed (exit \(result.status)): \(result.stderr.suffix(400))")
        }
        return (ms, tokS)
    }
}
