/// Several micro-batches, one optimiser step: gradients are zeroed once, then every
/// micro-batch adds its gradient (`TrainableModel.accumulateGradients` adds, never
/// overwrites). Because SFT's weights already normalise over the whole batch, the summed
/// gradient equals the gradient of the batch taken in one pass, at a fraction of the memory.
public enum GradientAccumulation {
    /// Zeroes the gradients, accumulates every micro-batch, and returns the summed loss.
    /// An error from one micro-batch leaves the gradients partially accumulated: the caller
    /// must not step on them.
    public static func accumulate<Model: TrainableModel>(_ model: Model, microBatches: [[TrainingSequence]]) throws -> Double {
        model.zeroGradients()
        var loss = 0.0
        for batch in microBatches where !batch.isEmpty {
            loss += try model.accumulateGradients(batch)
        }
        return loss
    }
}
