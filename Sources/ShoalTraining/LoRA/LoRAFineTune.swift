import Foundation
import ShoalEngine

/// Supervised fine-tuning of a LoRA adapter on a serving model (a GGUF file or a Hugging Face
/// directory): prompt/completion pairs are rendered with the model's chat template, the base is
/// frozen, only the adapters train (AdamW, cosine schedule with warm-up), and the adapter is
/// saved in PEFT's layout, ready for `shoal models import --adapter` or an agent file's `adapters:`.
public struct LoRAFineTune {
    public struct Pair: Sendable, Equatable, Codable {
        public var prompt: String
        public var completion: String
        public init(prompt: String, completion: String) {
            self.prompt = prompt
            self.completion = completion
        }
    }

    public var lora = LoRAConfig(rank: 8, alpha: 16)
    public var steps = 60
    public var batchSize = 8
    public var learningRate = 2e-3
    public var seed: UInt64 = 1
    /// Longest prompt + completion in tokens; longer pairs are left out (and counted).
    public var maxTokens = 256

    public init() {}

    public struct Summary: Sendable {
        public var steps: Int
        public var firstLoss: Double
        public var finalLoss: Double
        public var examples: Int
        public var skippedTooLong: Int
        public var seconds: Double
        public var trainableParameters: Int
    }

    /// The pairs as token sequences: the prompt as the model is served it (its chat template's
    /// user turn and the assistant's opening), the completion followed by the model's end of turn.
    public static func examples(_ pairs: [Pair], generator: Generator, maxTokens: Int) throws -> (kept: [SFTExamples.Example], skipped: Int) {
        guard let tokenizer = generator.tokenizer else { throw SFTError.invalidSetting("the model has no tokenizer") }
        guard let end = generator.tokenizer?.eosTokenId ?? generator.endOfSequenceTokenIds.min() else {
            throw SFTError.invalidSetting("the model names no end-of-sequence token to end completions with")
        }
        var kept: [SFTExamples.Example] = [], skipped = 0
        for pair in pairs {
            let prompt = tokenizer.encode(generator.chatTemplate?.servingPrompt(pair.prompt) ?? pair.prompt)
            let completion = tokenizer.encode(pair.completion, addSpecialTokens: false) + [end]
            if prompt.count + completion.count > min(maxTokens, generator.model.config.maxPositionEmbeddings) {
                skipped += 1
            } else {
                kept.append(.init(prompt: prompt, completion: completion))
            }
        }
        return (kept, skipped)
    }

    /// Trains on `pairs` and writes the adapter into `output`. `onStep` gets every step's record.
    public func run(generator: Generator, pairs: [Pair], output: String, onStep: (StepRecord) -> Void = { _ in }) throws -> Summary {
        let start = DispatchTime.now().uptimeNanoseconds
        let (kept, skipped) = try Self.examples(pairs, generator: generator, maxTokens: maxTokens)
        let model = try TrainableDecoder<Float>(servingModel: generator.model)
        try model.attachLoRA(lora, seed: seed)
        let optimizer = AdamW<Float>(parameters: model.loraParameters, settings: .init(weightDecay: 0))
        let schedule = LearningRateSchedule(peak: learningRate, floor: learningRate / 10, warmupSteps: max(1, steps / 10), totalSteps: steps)
        let state = TrainerState(step: 0, learningRate: 0, seed: seed, dataPosition: 0, schedule: schedule,
                                 batchSize: batchSize, microBatchSize: batchSize)
        let trainer = try SFTTrainer(model: model, optimizer: optimizer, data: SFTExamples(examples: kept, seed: seed, skippedTooLong: skipped), state: state)
        var first: Double?, last = Double.nan
        try trainer.train(until: steps) { record in
            first = first ?? record.loss
            last = record.loss
            onStep(record)
        }
        try model.saveLoRA(directory: output)
        return Summary(steps: steps, firstLoss: first ?? .nan, finalLoss: last, examples: kept.count, skippedTooLong: skipped,
                       seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9,
                       trainableParameters: model.loraParameters.reduce(0) { $0 + $1.count })
    }

    /// Exact-match accuracy of greedy answers on `pairs` (completions compared trimmed), through
    /// `adapter` or the bare base: what an adapter changed, on pairs it was not trained on.
    public static func exactMatch(_ pairs: [Pair], generator: Generator, adapter: LoRAWeights?, batch: Int = 8) throws -> Double {
        guard let tokenizer = generator.tokenizer, !pairs.isEmpty else { return 0 }
        var correct = 0
        for start in stride(from: 0, to: pairs.count, by: batch) {
            let slice = pairs[start..<min(start + batch, pairs.count)]
            let requests = slice.map { pair -> GenerationRequest in
                var params = SamplingParams(maxTokens: tokenizer.encode(pair.completion, addSpecialTokens: false).count + 4, temperature: 0)
                params.stopTokenIds = generator.endOfSequenceTokenIds
                return GenerationRequest(prompt: tokenizer.encode(generator.chatTemplate?.servingPrompt(pair.prompt) ?? pair.prompt), params: params, adapter: adapter)
            }
            for (pair, completion) in zip(slice, try generator.generate(requests: requests)) {
                let text = completion.text ?? ""
                if text.trimmingCharacters(in: .whitespacesAndNewlines) == pair.completion.trimmingCharacters(in: .whitespacesAndNewlines) { correct += 1 }
            }
        }
        return Double(correct) / Double(pairs.count)
    }
}
