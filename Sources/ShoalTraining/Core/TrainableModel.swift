/// What optimisers, the SFT loop and GRPO need from a model, and nothing more: its
/// parameters, the weighted loss with its gradient, and per-token log-probabilities.
public protocol TrainableModel: AnyObject {
    associatedtype Scalar: TrainingScalar

    /// Every parameter, in a fixed order, under its Hugging Face name.
    var parameters: [Parameter<Scalar>] { get }

    /// Forward and backward over `batch`: returns `Σ_seq Σ_t w_t · (−log p(token_t))` and
    /// ADDS its gradient to every trainable parameter's `gradient` (so calling it several
    /// times before an optimiser step is gradient accumulation). Throws on bad input
    /// (token out of range, weights/tokens length mismatch, sequence longer than the
    /// model's context) without touching any gradient.
    func accumulateGradients(_ batch: [TrainingSequence]) throws -> Double

    /// `log p(tokens[t] | tokens[..<t])` for t ≥ 1 of each sequence (index 0 holds 0),
    /// computed without gradients. GRPO calls this on the policy and on a frozen reference.
    func tokenLogProbabilities(_ sequences: [[Int]]) throws -> [[Double]]

    /// T of softmax(logits / T) in both of the above (1: the model's own distribution).
    var logitTemperature: Double { get set }
}

extension TrainableModel {
    public func zeroGradients() {
        for parameter in parameters where parameter.trainable { parameter.zeroGradient() }
    }
}
