import ShoalEngine

/// The loss API: the weighted loss with its gradient (`TrainableModel`), the GRPO variant
/// whose weights depend on the current log-probabilities, and per-token statistics.
extension TrainableDecoder {
    public func accumulateGradients(_ batch: [TrainingSequence]) throws -> Double {
        for (s, sequence) in batch.enumerated() {
            try validate(sequence.tokens, sequence: s)
            try validate(weights: sequence.weights, tokenCount: sequence.tokens.count, sequence: s)
        }
        guard !batch.isEmpty else { return 0 }
        let layout = BatchLayout(batch.map(\.tokens), weights: batch.map(\.weights))
        let a = forward(layout)
        let loss = crossEntropyForward(a.logits.pointer, rows: layout.headRows.count, vocab: config.vocabSize, targets: layout.headTargets,
                                       weights: layout.headWeights, logProbabilities: nil, entropies: nil, gradient: true)
        backward(layout, a)
        return loss
    }

    /// `accumulateGradients` for an objective whose token weights depend on the current
    /// log-probabilities (GRPO's clipped importance ratio), in ONE forward pass: computes
    /// `log p(tokens[t] | tokens[..<t])` (index 0 holds 0), asks `weights` for one weight per
    /// token (layout of `TrainingSequence.weights`), then adds the gradient of
    /// `Σ w_t · (−log p_t)`. Returns that loss and the log-probabilities the weights saw.
    public func accumulateGradients(_ sequences: [[Int]], weights: ([[Double]]) throws -> [[Double]]) throws
        -> (loss: Double, logProbabilities: [[Double]]) {
        for (s, tokens) in sequences.enumerated() { try validate(tokens, sequence: s) }
        guard !sequences.isEmpty else { return (0, []) }
        var layout = BatchLayout(sequences, weights: nil)
        let a = forward(layout)
        let logProbabilities = layout.perToken(headStatistics(layout, a).logProbabilities)
        let chosen = try weights(logProbabilities)
        guard chosen.count == sequences.count else {
            throw TrainingInputError.sequenceCountMismatch(sequences: sequences.count, weightSequences: chosen.count)
        }
        for (s, w) in chosen.enumerated() { try validate(weights: w, tokenCount: sequences[s].count, sequence: s) }
        layout.headWeights = layout.headRows.map { r in
            let s = layout.sequenceOfRow(r)
            return chosen[s][r - layout.starts[s] + 1]
        }
        let loss = crossEntropyForward(a.logits.pointer, rows: layout.headRows.count, vocab: config.vocabSize, targets: layout.headTargets,
                                       weights: layout.headWeights, logProbabilities: nil, entropies: nil, gradient: true)
        backward(layout, a)
        return (loss, logProbabilities)
    }

    public func tokenLogProbabilities(_ sequences: [[Int]]) throws -> [[Double]] {
        try tokenStatistics(sequences).logProbabilities
    }

    /// Per-token `log p(tokens[t] | tokens[..<t])` and the entropy of the distribution that
    /// predicted `tokens[t]` (nats), for t ≥ 1; index 0 of each holds 0. No gradients.
    public func tokenStatistics(_ sequences: [[Int]]) throws -> (logProbabilities: [[Double]], entropies: [[Double]]) {
        for (s, tokens) in sequences.enumerated() { try validate(tokens, sequence: s) }
        guard !sequences.isEmpty else { return ([], []) }
        let layout = BatchLayout(sequences, weights: nil)
        let head = headStatistics(layout, forward(layout))
        return (layout.perToken(head.logProbabilities), layout.perToken(head.entropies))
    }

    /// `log p(target)` and entropy of every head row, leaving the logits as they are.
    fileprivate func headStatistics(_ layout: BatchLayout, _ a: DecoderActivations<Scalar>) -> (logProbabilities: [Double], entropies: [Double]) {
        let m = layout.headRows.count
        var logProbabilities = [Double](repeating: 0, count: m), entropies = [Double](repeating: 0, count: m)
        logProbabilities.withUnsafeMutableBufferPointer { logP in
            entropies.withUnsafeMutableBufferPointer { entropy in
                _ = crossEntropyForward(a.logits.pointer, rows: m, vocab: config.vocabSize, targets: layout.headTargets,
                                        weights: layout.headWeights, logProbabilities: logP.baseAddress,
                                        entropies: entropy.baseAddress, gradient: false)
            }
        }
        return (logProbabilities, entropies)
    }

    func validate(weights: [Double], tokenCount: Int, sequence s: Int) throws {
        guard weights.count == tokenCount else {
            throw TrainingInputError.weightCountMismatch(sequence: s, tokens: tokenCount, weights: weights.count)
        }
        if let t = weights.firstIndex(where: { !$0.isFinite }) {
            throw TrainingInputError.weightNotFinite(sequence: s, position: t)
        }
        guard weights[0] == 0 else {
            throw TrainingInputError.firstWeightNotZero(sequence: s, weight: weights[0])
        }
    }

    func validate(_ tokens: [Int], sequence s: Int) throws {
        guard !tokens.isEmpty else { throw TrainingInputError.emptySequence(sequence: s) }
        guard tokens.count <= config.maxPositionEmbeddings else {
            throw TrainingInputError.sequenceTooLong(sequence: s, length: tokens.count, limit: config.maxPositionEmbeddings)
        }
        if let t = tokens.firstIndex(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw TrainingInputError.tokenOutOfRange(sequence: s, position: t, token: tokens[t], vocabSize: config.vocabSize)
        }
    }
}
