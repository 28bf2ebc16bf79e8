/// One training sequence for the token-level weighted loss
/// `L = Σ_t weights[t] · (−log p(tokens[t] | tokens[..<t]))`.
///
/// `weights[t]` belongs to the prediction of `tokens[t]`; `weights[0]` must be 0 (nothing
/// predicts the first token). SFT puts 1/N on the N completion tokens of a batch and 0 on
/// the prompt; GRPO puts its per-token surrogate coefficients there. The loss is exactly
/// the weighted sum: normalisation is the caller's choice, expressed in the weights.
public struct TrainingSequence: Sendable, Equatable {
    public var tokens: [Int]
    public var weights: [Double]

    public init(tokens: [Int], weights: [Double]) {
        self.tokens = tokens
        self.weights = weights
    }

    /// Prompt tokens get weight 0, completion tokens `completionWeight` each.
    public init(prompt: [Int], completion: [Int], completionWeight: Double = 1) {
        tokens = prompt + completion
        weights = [Double](repeating: 0, count: prompt.count) + [Double](repeating: completionWeight, count: completion.count)
        if !weights.isEmpty { weights[0] = 0 }
    }
}
