import ShoalTraining

/// One GRPO backward pass through the training contract: score the batch under the policy
/// (and the frozen reference), turn the objective's gradient into per-token loss weights,
/// and let the model accumulate the gradient. The optimiser step (AdamW, clipping) is the
/// caller's: this only adds to `Parameter.gradient`, so several calls accumulate.
public enum GRPOUpdate {
    /// Returns the objective's loss and metrics at the current parameters. The number
    /// `accumulateGradients` itself returns (Σ w·(−logp)) is not the GRPO loss and is ignored.
    ///
    /// `microBatch` bounds how many sequences go through the model at once (activation
    /// memory). The weights are computed for the whole batch first, so their normalisation
    /// spans the batch and the accumulated gradient is the same for any micro-batch size.
    @discardableResult
    public static func accumulate<Policy: TrainableModel>(
        policy: Policy, reference: (any TrainableModel)?, batch: GRPOBatch, objective: GRPOObjective,
        microBatch: Int? = nil
    ) throws(GRPOError) -> GRPOObjective.Evaluation {
        let chunk = microBatch ?? max(batch.rollouts.count, 1)
        guard chunk >= 1 else {
            throw .invalidSetting(name: "micro_batch", value: Double(chunk), reason: "must be ≥ 1 sequence")
        }
        let inputs = try scoredInputs(policy: policy, reference: reference, batch: batch, objective: objective, microBatch: chunk)
        let evaluation = try objective.evaluate(inputs)
        // Sequences whose weights are all zero (zero advantage, no KL) would cost a full
        // forward and backward for nothing.
        var sequences: [TrainingSequence] = []
        for (rollout, weights) in zip(batch.rollouts, evaluation.weights) where weights.contains(where: { $0 != 0 }) {
            sequences.append(TrainingSequence(
                tokens: rollout.promptTokens + rollout.completionTokens,
                weights: [Double](repeating: 0, count: rollout.promptTokens.count) + weights))
        }
        for start in stride(from: 0, to: sequences.count, by: chunk) {
            let end = min(start + chunk, sequences.count)
            do { _ = try policy.accumulateGradients(Array(sequences[start..<end])) } catch {
                throw .model(end - start < sequences.count ? "micro-batch of sequences \(start)..<\(end): \(error)" : "\(error)")
            }
        }
        return evaluation
    }

    /// The loss alone, at the current parameters (finite-difference checks, evaluation).
    public static func loss<Policy: TrainableModel>(
        policy: Policy, reference: (any TrainableModel)?, batch: GRPOBatch, objective: GRPOObjective,
        microBatch: Int? = nil
    ) throws(GRPOError) -> Double {
        let chunk = max(microBatch ?? batch.rollouts.count, 1)
        return try objective.evaluate(scoredInputs(policy: policy, reference: reference, batch: batch, objective: objective,
                                                   microBatch: chunk)).loss
    }

    /// Scores the batch under the frozen reference once, so repeated iterations on the same
    /// batch (`iterations_per_batch` > 1) do not run the reference again.
    public static func scoreReference(_ reference: any TrainableModel, batch: inout GRPOBatch,
                                      microBatch: Int? = nil) throws(GRPOError) {
        try checkShapes(batch)
        let sequences = batch.rollouts.map { $0.promptTokens + $0.completionTokens }
        batch.referenceLogProbs = try completionLogProbs(of: reference, sequences, batch: batch,
                                                         microBatch: max(microBatch ?? sequences.count, 1))
    }

    static func scoredInputs<Policy: TrainableModel>(
        policy: Policy, reference: (any TrainableModel)?, batch: GRPOBatch, objective: GRPOObjective,
        microBatch: Int
    ) throws(GRPOError) -> [GRPOObjective.SequenceInput] {
        try checkShapes(batch)
        let sequences = batch.rollouts.map { $0.promptTokens + $0.completionTokens }
        let current = try completionLogProbs(of: policy, sequences, batch: batch, microBatch: microBatch)
        var referenceLogProbs: [[Double]]? = nil
        if objective.klCoefficient > 0 {
            if let cached = batch.referenceLogProbs {
                referenceLogProbs = cached
            } else if let reference {
                referenceLogProbs = try completionLogProbs(of: reference, sequences, batch: batch, microBatch: microBatch)
            } else {
                throw .invalidSetting(name: "kl_coefficient", value: objective.klCoefficient,
                                      reason: "needs a reference model; pass one or set it to 0")
            }
        }
        return batch.rollouts.indices.map { i in
            GRPOObjective.SequenceInput(
                currentLogProbs: current[i], samplingLogProbs: batch.rollouts[i].samplingLogProbs,
                referenceLogProbs: referenceLogProbs?[i], advantage: batch.advantages[i])
        }
    }

    private static func checkShapes(_ batch: GRPOBatch) throws(GRPOError) {
        guard batch.advantages.count == batch.rollouts.count else {
            throw .lengthMismatch(sequence: 0, field: "advantages", expected: batch.rollouts.count, got: batch.advantages.count)
        }
        for (i, rollout) in batch.rollouts.enumerated() {
            guard !rollout.promptTokens.isEmpty else { throw .emptyPrompt(sequence: i) }
            guard rollout.samplingLogProbs.count == rollout.completionTokens.count else {
                throw .lengthMismatch(sequence: i, field: "sampling_logprobs", expected: rollout.completionTokens.count,
                                      got: rollout.samplingLogProbs.count)
            }
        }
        if let cached = batch.referenceLogProbs {
            guard cached.count == batch.rollouts.count else {
                throw .lengthMismatch(sequence: 0, field: "reference_logprobs (sequences)", expected: batch.rollouts.count, got: cached.count)
            }
            for (i, rollout) in batch.rollouts.enumerated() where cached[i].count != rollout.completionTokens.count {
                throw .lengthMismatch(sequence: i, field: "reference_logprobs", expected: rollout.completionTokens.count, got: cached[i].count)
            }
        }
    }

    /// The log-probs of each sequence's completion tokens (the model returns one per token,
    /// index 0 a placeholder; the completion starts after the prompt).
    private static func completionLogProbs(
        of model: any TrainableModel, _ sequences: [[Int]], batch: GRPOBatch, microBatch: Int
    ) throws(GRPOError) -> [[Double]] {
        var all: [[Double]] = []
        for start in stride(from: 0, to: sequences.count, by: microBatch) {
            let end = min(start + microBatch, sequences.count)
            do { all += try model.tokenLogProbabilities(Array(sequences[start..<end])) } catch {
                throw .model(end - start < sequences.count ? "micro-batch of sequences \(start)..<\(end): \(error)" : "\(error)")
            }
        }
        guard all.count == sequences.count else {
            throw .model("returned log-probs for \(all.count) sequences, expected \(sequences.count)")
        }
        return try sequences.indices.map { (i: Int) throws(GRPOError) -> [Double] in
            guard all[i].count == sequences[i].count else {
                throw .lengthMismatch(sequence: i, field: "model log-probs", expected: sequences[i].count, got: all[i].count)
            }
            return Array(all[i][batch.rollouts[i].promptTokens.count...])
        }
    }
}
