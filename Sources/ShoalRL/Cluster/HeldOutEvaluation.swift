import ShoalEngine
import ShoalTraining
import ShoalVerifiers

/// Held-out accuracy of the policy on tasks never trained on (the generator's held-out split),
/// judged by the same scorer as the rewards:
///
/// - pass@1: greedy decoding (how the agent serves, temperature 0) on `items`; this is what
///   the rollback guard compares, since it has no sampling noise;
/// - pass@k, k = 1, 2, 4 … up to `samplesPerItem` (≤ 32): `samplesPerItem` samples at
///   temperature 1 on the smaller `passAtKItems`, with the unbiased estimator.
///
/// Runs on the learner's weights in this process, so it measures exactly the version about
/// to be (or just) published, whatever the workers are serving at that moment. A LoRA policy on
/// a GGUF is evaluated as its workers serve it: the quantized model with the adapter beside it.
public struct HeldOutEvaluation {
    public var items: [TaskItem]
    public var passAtKItems: [TaskItem]
    public var samplesPerItem: Int
    public var maxTokens: Int
    public var seed: UInt64
    /// Sequences decoded together (bounds the KV cache's memory).
    public var batchSize: Int
    public let tokenizer: any Tokenizer
    public let stopTokenIds: Set<Int>
    public let scorer: any RolloutScorer

    public init(items: [TaskItem], passAtKItems: [TaskItem], samplesPerItem: Int = 32, maxTokens: Int, seed: UInt64 = 7,
                batchSize: Int = 64, tokenizer: any Tokenizer, stopTokenIds: Set<Int>, scorer: any RolloutScorer) {
        self.items = items
        self.passAtKItems = passAtKItems
        self.samplesPerItem = samplesPerItem
        self.maxTokens = maxTokens
        self.seed = seed
        self.batchSize = batchSize
        self.tokenizer = tokenizer
        self.stopTokenIds = stopTokenIds
        self.scorer = scorer
    }

    /// Fraction of `items` the greedy answer solves; 0 for no items.
    public func passAtOne(_ model: DecoderModel, adapter: LoRAWeights? = nil) throws -> Double {
        guard !items.isEmpty else { return 0 }
        let outputs = try generate(model, adapter, items.map { ($0, 0) }, temperature: 0)
        let scored = try scorer.score(items, outputs: outputs)
        return Double(scored.filter(\.solved).count) / Double(items.count)
    }

    /// The pass@k curve from `samplesPerItem` samples of each of `passAtKItems`.
    public func passAtK(_ model: DecoderModel, adapter: LoRAWeights? = nil) throws -> PassAtKCurve {
        guard !passAtKItems.isEmpty, samplesPerItem > 0 else { return PassAtKCurve(counts: []) }
        let jobs = passAtKItems.flatMap { item in (0..<samplesPerItem).map { (item, $0) } }
        let outputs = try generate(model, adapter, jobs, temperature: 1)
        let scored = try scorer.score(jobs.map(\.0), outputs: outputs)
        let counts = passAtKItems.indices.map { i in
            (n: samplesPerItem, c: scored[(i * samplesPerItem)..<((i + 1) * samplesPerItem)].filter(\.solved).count)
        }
        let ks = [1, 2, 4, 8, 16, 32].filter { $0 <= samplesPerItem }
        return PassAtKCurve(counts: counts, ks: ks)
    }

    private func generate(_ model: DecoderModel, _ adapter: LoRAWeights?, _ jobs: [(TaskItem, Int)], temperature: Float) throws -> [String] {
        let generator = Generator(model: model, tokenizer: tokenizer)
        let stops = stopTokenIds.union(generator.endOfSequenceTokenIds)
        var outputs: [String] = []
        for start in stride(from: 0, to: jobs.count, by: max(1, batchSize)) {
            let requests = jobs[start..<min(start + max(1, batchSize), jobs.count)].enumerated().map { offset, job in
                var params = SamplingParams(maxTokens: maxTokens, temperature: temperature, seed: seed &+ UInt64(start + offset))
                params.stopTokenIds = stops
                return GenerationRequest(prompt: tokenizer.encode(SFTFormat.prompt(for: job.0)), params: params, adapter: adapter)
            }
            outputs += try generator.generate(requests: requests).map { $0.text ?? tokenizer.decode($0.tokenIds) }
        }
        return outputs
    }
}
