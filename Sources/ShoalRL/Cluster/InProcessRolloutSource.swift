import ShoalEngine

/// Samples with the engine in this process, on whatever weights `current` hands over (the
/// learner's policy as a serving model): the same generator, sampler and prompt encoding as
/// a `swift`-backend worker, without processes. For tests and single-process runs.
public final class InProcessRolloutSource: RolloutSource {
    private let tokenizer: any Tokenizer
    private let stopTokenIds: Set<Int>
    private let current: () throws -> (model: DecoderModel, version: String)

    /// `stopTokenIds`: the end-of-sequence ids a worker would stop at (`Generator.endOfSequenceTokenIds`).
    public init(tokenizer: any Tokenizer, stopTokenIds: Set<Int>,
                current: @escaping () throws -> (model: DecoderModel, version: String)) {
        self.tokenizer = tokenizer
        self.stopTokenIds = stopTokenIds
        self.current = current
    }

    public func sample(_ prompts: [RolloutPrompt], sampling: RolloutSampling) throws -> [[SampledCompletion]] {
        let (model, version) = try current()
        let generator = Generator(model: model, tokenizer: tokenizer)
        var requests: [GenerationRequest] = []
        var encoded: [[Int]] = []
        for (i, prompt) in prompts.enumerated() {
            let tokens = tokenizer.encode(prompt.text)
            encoded.append(tokens)
            for j in 0..<sampling.groupSize {
                // One seed per sample and stream 0, exactly as a worker receives it.
                var params = SamplingParams(maxTokens: sampling.maxTokens, temperature: Float(sampling.temperature),
                                            topK: sampling.topK, topP: Float(sampling.topP), seed: sampling.seed(prompt: i, sample: j))
                params.stopTokenIds = stopTokenIds.union(generator.endOfSequenceTokenIds)
                requests.append(GenerationRequest(prompt: tokens, params: params))
            }
        }
        let completions = try generator.generate(requests: requests)
        return prompts.indices.map { i in
            (0..<sampling.groupSize).map { j in
                let c = completions[i * sampling.groupSize + j]
                return SampledCompletion(promptTokens: encoded[i], completionTokens: c.tokenIds, logProbs: c.logprobs.map(Double.init),
                                         text: c.text ?? tokenizer.decode(c.tokenIds), finishReason: c.finishReason.rawValue,
                                         modelVersion: version)
            }
        }
    }
}
