import ShoalEngine

/// The training stream of SFT: tokenized examples in a seeded order, reshuffled every epoch,
/// addressed by position. A run's state is then one integer (`TrainerState.dataPosition`),
/// and a resumed run reads exactly the batches the uninterrupted run would have read.
public struct SFTExamples: Sendable {
    public struct Example: Sendable, Equatable {
        public var prompt: [Int]
        public var completion: [Int]
        public var tokenCount: Int { prompt.count + completion.count }
    }

    public let examples: [Example]
    public let seed: UInt64
    /// Items left out because prompt + completion exceed the model's context.
    public let skippedTooLong: Int
    /// Weight of a prompt token's loss relative to a completion token's (0: completion only).
    /// Predicting the prompt's repeated names and numbers is what teaches a model trained
    /// from scratch to copy; serving only ever samples completions.
    public var promptWeight: Double = 0

    public init(items: [TaskItem], tokenizer: ByteTokenizer, maxTokens: Int, seed: UInt64) {
        var kept: [Example] = []
        var skipped = 0
        for item in items {
            let (prompt, completion) = SFTFormat.tokens(for: item, tokenizer: tokenizer)
            if prompt.count + completion.count > maxTokens {
                skipped += 1
            } else {
                kept.append(Example(prompt: prompt, completion: completion))
            }
        }
        self.init(examples: kept, seed: seed, skippedTooLong: skipped)
    }

    public init(examples: [Example], seed: UInt64, skippedTooLong: Int = 0) {
        self.examples = examples
        self.seed = seed
        self.skippedTooLong = skippedTooLong
    }

    /// The order of one epoch: a Fisher–Yates shuffle seeded by the run seed and the epoch.
    func order(epoch: Int) -> [Int] {
        var rng = SplitMix64(seed: seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
        return rng.shuffled(Array(examples.indices))
    }

    /// `count` examples from stream position `position` on, crossing epochs as needed.
    public func examples(from position: Int, count: Int) -> [Example] {
        guard !examples.isEmpty, count > 0 else { return [] }
        var out: [Example] = []
        var epoch = -1
        var currentOrder: [Int] = []
        for p in position..<(position + count) {
            let e = p / examples.count
            if e != epoch {
                epoch = e
                currentOrder = order(epoch: e)
            }
            out.append(examples[currentOrder[p % examples.count]])
        }
        return out
    }

    /// The SFT batch at `position`: each completion token weighted 1/N and each predicted
    /// prompt token `promptWeight`/N, with N = completion tokens + `promptWeight` × predicted
    /// prompt tokens of the whole batch. The loss is then the batch's weighted mean per token
    /// (with `promptWeight` 0: per completion token) however the batch is split into micro-batches.
    public func batch(from position: Int, count: Int) -> [TrainingSequence] {
        SFTExamples.sequences(examples(from: position, count: count), promptWeight: promptWeight)
    }

    public static func sequences(_ batch: [Example], promptWeight: Double = 0) -> [TrainingSequence] {
        let completionTokens = batch.map(\.completion.count).reduce(0, +)
        guard completionTokens > 0 else { return [] }
        // The first token of a sequence has no prediction, so it carries no weight.
        let predictedPromptTokens = batch.map { max(0, $0.prompt.count - 1) }.reduce(0, +)
        let weight = 1 / (Double(completionTokens) + promptWeight * Double(predictedPromptTokens))
        return batch.map {
            var sequence = TrainingSequence(prompt: $0.prompt, completion: $0.completion, completionWeight: weight)
            if promptWeight > 0 && $0.prompt.count > 1 {
                for t in 1..<min($0.prompt.count, sequence.weights.count) { sequence.weights[t] = promptWeight * weight }
            }
            return sequence
        }
    }
}
