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

    /// The SFT batch at `position`: loss on completion tokens only, each weighted 1/N with N
    /// the completion tokens of the whole batch, so the loss is the batch's mean per
    /// completion token however the batch is split into micro-batches.
    public func batch(from position: Int, count: Int) -> [TrainingSequence] {
        SFTExamples.sequences(examples(from: position, count: count))
    }

    public static func sequences(_ batch: [Example]) -> [TrainingSequence] {
        let completionTokens = batch.map(\.completion.count).reduce(0, +)
        guard completionTokens > 0 else { return [] }
        let weight = 1 / Double(completionTokens)
        return batch.map { TrainingSequence(prompt: $0.prompt, completion: $0.completion, completionWeight: weight) }
    }
}
