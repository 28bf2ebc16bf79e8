import Foundation
import ShoalEngine

/// `shoal bench model`: prompt (prefill) and decode throughput of the CPU engine on
/// random-weight Llama models of two sizes, next to PyTorch eager CPU running the
/// same shapes in the same run (when a Python with torch + transformers is found).
public enum ModelBench {
    public struct Size: Sendable {
        public let name: String
        public let config: DecoderConfig
    }

    /// The sizes of the design's baseline table: 8.5M and 124.7M parameters.
    public static let sizes: [Size] = [
        Size(name: "8.5M", config: DecoderConfig(architecture: .llama, vocabSize: 8192, hiddenSize: 256, intermediateSize: 688,
                                                 layerCount: 6, headCount: 8, kvHeadCount: 4)),
        Size(name: "124.7M", config: DecoderConfig(architecture: .llama, vocabSize: 32000, hiddenSize: 768, intermediateSize: 2048,
                                                   layerCount: 12, headCount: 12, kvHeadCount: 4)),
    ]

    public struct Options: Sendable {
        public var promptTokens = 128
        /// Prompt length before decoding starts.
        public var decodePromptTokens = 16
        public var decodeTokens = 32
        public var repeats = 3
        public var threads = 2
        /// Python to run the PyTorch baseline with; nil skips it.
        public var python: String?
        public var baselineScript = "scripts/engine/bench_torch.py"
        public var sizeNames: [String] = ModelBench.sizes.map(\.name)
        public init() {}
    }

    /// Tokens per second of one engine on one model size.
    public struct Throughput: Codable, Sendable, Equatable {
        public var prompt_tokens_per_s: Double
        public var decode_b1_tokens_per_s: Double
        public var decode_b8_tokens_per_s: Double
    }

    public struct Row: Codable, Sendable {
        public var model: String
        public var parameters: Int
        public var shoal: Throughput
        public var pytorch: Throughput?
        /// Why there is no PyTorch figure, when there is none.
        public var pytorch_note: String?
    }

    public struct Report: Codable, Sendable {
        public var prompt_tokens: Int
        public var decode_prompt_tokens: Int
        public var decode_tokens: Int
        public var threads: Int
        public var rows: [Row]
    }

    public struct InvalidOption: Error, CustomStringConvertible {
        public let description: String
    }

    public static func run(_ options: Options, progress: (String) -> Void = { _ in }) throws -> Report {
        for (name, value) in [("prompt tokens", options.promptTokens), ("decode tokens", options.decodeTokens),
                              ("repeats", options.repeats), ("threads", options.threads)] where value < 1 {
            throw InvalidOption(description: "bench model: \(name) must be ≥ 1, got \(value)")
        }
        let known = Set(sizes.map(\.name))
        if let unknown = options.sizeNames.first(where: { !known.contains($0) }) {
            throw InvalidOption(description: "bench model: unknown size \(unknown) (known: \(sizes.map(\.name).joined(separator: ", ")))")
        }
        setComputeThreads(options.threads)
        var rows: [Row] = []
        for size in sizes where options.sizeNames.contains(size.name) {
            progress("\(size.name): Shoal")
            let model = DecoderModel.randomlyInitialized(config: size.config, seed: 1)
            let shoal = measure(model, options)
            var row = Row(model: size.name, parameters: size.config.parameterCount, shoal: shoal)
            if let python = options.python {
                progress("\(size.name): PyTorch (\(python))")
                do {
                    row.pytorch = try TorchBaseline.run(python: python, script: options.baselineScript, config: size.config, options: options)
                } catch {
                    row.pytorch_note = "\(error)"
                }
            } else {
                row.pytorch_note = "no Python with torch and transformers found"
            }
            rows.append(row)
        }
        return Report(prompt_tokens: options.promptTokens, decode_prompt_tokens: options.decodePromptTokens,
                      decode_tokens: options.decodeTokens, threads: options.threads, rows: rows)
    }

    static func measure(_ model: DecoderModel, _ options: Options) -> Throughput {
        let vocab = model.config.vocabSize
        var rng = SplitMix64(seed: 42)
        return measure(model, promptTokens: options.promptTokens, decodePromptTokens: options.decodePromptTokens,
                       decodeTokens: options.decodeTokens, repeats: options.repeats) { n in
            (0..<n).map { _ in Int(rng.next() % UInt64(vocab)) }
        }
    }

    /// Prefill of `promptTokens` tokens, then greedy decoding of `decodeTokens` tokens at batch 1
    /// and 8 after `decodePromptTokens`-token prompts (end-of-sequence is no stop): tokens per
    /// second, the median of `repeats` runs after a warm-up. `tokens(n)` makes each prompt.
    static func measure(_ model: DecoderModel, promptTokens: Int, decodePromptTokens: Int, decodeTokens: Int, repeats: Int,
                        tokens: (Int) -> [Int]) -> Throughput {
        let vocab = model.config.vocabSize
        let prompt = tokens(promptTokens)
        func prefill() {
            let cache = KVCache(config: model.config, slots: 1, capacity: prompt.count)
            _ = model.forward(runs: [(slot: 0, tokens: prompt)], cache: cache, allPositions: false)
        }
        prefill()  // warm-up: page in weights, start the compute threads
        let promptSeconds = medianSeconds(repeats, prefill)

        func decodeRate(batch: Int) -> Double {
            let prompts = (0..<batch).map { _ in tokens(decodePromptTokens) }
            var seconds: [Double] = []
            for _ in 0..<repeats {
                let cache = KVCache(config: model.config, slots: batch, capacity: decodePromptTokens + decodeTokens + 1)
                var logits = model.forward(runs: prompts.enumerated().map { (slot: $0.offset, tokens: $0.element) }, cache: cache, allPositions: false)
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<decodeTokens {
                    let next = (0..<batch).map { b in
                        let row = logits[(b * vocab)..<((b + 1) * vocab)]
                        return row.indices.max { row[$0] < row[$1] }! - b * vocab
                    }
                    logits = model.forward(runs: next.enumerated().map { (slot: $0.offset, tokens: [$0.element]) }, cache: cache, allPositions: false)
                }
                seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            return Double(batch * decodeTokens) / median(seconds)
        }
        return Throughput(prompt_tokens_per_s: Double(prompt.count) / promptSeconds,
                          decode_b1_tokens_per_s: decodeRate(batch: 1), decode_b8_tokens_per_s: decodeRate(batch: 8))
    }

    static func medianSeconds(_ repeats: Int, _ body: () -> Void) -> Double {
        median((0..<max(1, repeats)).map { _ in
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        })
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    /// The first Python that imports torch and transformers: the one given, else the
    /// project's `.venv/bin/python`, else `python3`.
    public static func findPython(preferred: String?) -> String? {
        let candidates = preferred.map { [$0] } ?? [".venv/bin/python", "python3"]
        return candidates.first { TorchBaseline.canImportTorch(python: $0) }
    }

    /// A plain-text table with Shoal/PyTorch ratios.
    public static func format(_ report: Report) -> String {
        var lines = ["model     metric              Shoal tok/s   PyTorch tok/s   ratio"]
        for row in report.rows {
            let metrics: [(String, KeyPath<Throughput, Double>)] = [
                ("prompt (\(report.prompt_tokens) tok)", \.prompt_tokens_per_s), ("decode batch 1", \.decode_b1_tokens_per_s), ("decode batch 8", \.decode_b8_tokens_per_s),
            ]
            for (label, key) in metrics {
                let shoal = row.shoal[keyPath: key]
                let torch = row.pytorch?[keyPath: key]
                let torchText = torch.map { String(format: "%13.1f", $0) } ?? String(repeating: " ", count: 12) + "-"
                let ratio = torch.map { String(format: "%6.2fx", shoal / $0) } ?? "     -"
                lines.append(row.model.padding(toLength: 10, withPad: " ", startingAt: 0)
                             + label.padding(toLength: 18, withPad: " ", startingAt: 0)
                             + String(format: "%13.1f", shoal) + "   " + torchText + "   " + ratio)
            }
            if let note = row.pytorch_note { lines.append("          (PyTorch: \(note))") }
        }
        return lines.joined(separator: "\n")
    }
}
