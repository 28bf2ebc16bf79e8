import Foundation

/// Supervised fine-tuning of any `TrainableModel`: per step, the next batch of the seeded
/// stream is split into micro-batches whose gradients accumulate, the global norm is
/// clipped, and AdamW updates at the schedule's rate. The state (`TrainerState`) is all a
/// resumed run needs besides the weights and moments.
public final class SFTTrainer<Model: TrainableModel> {
    public let model: Model
    public let optimizer: AdamW<Model.Scalar>
    public let data: SFTExamples
    public private(set) var state: TrainerState
    public var clipNorm: Double

    /// `state` is a fresh run's (step 0) or one read from a checkpoint, whose moments must
    /// then already be loaded into `optimizer`.
    public init(model: Model, optimizer: AdamW<Model.Scalar>, data: SFTExamples, state: TrainerState, clipNorm: Double = 1) throws(SFTError) {
        guard !data.examples.isEmpty else { throw .noExamples(skippedTooLong: data.skippedTooLong) }
        guard state.batchSize >= 1, state.microBatchSize >= 1 else {
            throw .invalidSetting("batch size (\(state.batchSize)) and micro-batch size (\(state.microBatchSize)) must be ≥ 1")
        }
        self.model = model
        self.optimizer = optimizer
        self.data = data
        self.state = state
        self.clipNorm = clipNorm
    }

    public struct StepResult: Sendable, Equatable {
        /// Mean loss per completion token of the batch.
        public var loss: Double
        public var gradientNorm: Double
        public var learningRate: Double
        /// Tokens run forward and backward.
        public var tokens: Int
    }

    /// One optimiser step on the next batch.
    public func step() throws -> StepResult {
        let batch = data.batch(from: state.dataPosition, count: state.batchSize)
        let microBatches = stride(from: 0, to: batch.count, by: state.microBatchSize).map {
            Array(batch[$0..<min($0 + state.microBatchSize, batch.count)])
        }
        let loss = try GradientAccumulation.accumulate(model, microBatches: microBatches)
        guard loss.isFinite else { throw SFTError.nonFiniteLoss(step: state.step + 1) }
        let norm = GradientClipping.clip(model.parameters, maxNorm: clipNorm)
        let rate = state.schedule.rate(atStep: state.step)
        optimizer.update(learningRate: rate)
        state.step += 1
        state.dataPosition += state.batchSize
        state.learningRate = rate
        return StepResult(loss: loss, gradientNorm: norm, learningRate: rate, tokens: batch.map(\.tokens.count).reduce(0, +))
    }

    /// Mean loss per completion token over `examples`, without gradients (the eval hook).
    public func meanLoss(on examples: [SFTExamples.Example], batchSize: Int = 8) throws -> Double {
        var total = 0.0, count = 0
        for start in stride(from: 0, to: examples.count, by: max(1, batchSize)) {
            let slice = Array(examples[start..<min(start + max(1, batchSize), examples.count)])
            let logProbabilities = try model.tokenLogProbabilities(slice.map { $0.prompt + $0.completion })
            for (example, row) in zip(slice, logProbabilities) {
                for t in example.prompt.count..<row.count { total -= row[t] }
                count += example.completion.count
            }
        }
        return count > 0 ? total / Double(count) : .nan
    }

    /// Steps until `state.step == steps`. Every `evalEvery` steps (and at the last) the
    /// held-out loss on `evalExamples` goes into that step's record; `onStep` gets every record.
    public func train(until steps: Int, evalEvery: Int = 0, evalExamples: [SFTExamples.Example] = [],
                      onStep: (StepRecord) throws -> Void = { _ in }) throws {
        var meter = ProgressMeter(totalSteps: steps)
        while state.step < steps {
            let result = try step()
            var record = meter.record(step: state.step, loss: result.loss, learningRate: result.learningRate,
                                      gradientNorm: result.gradientNorm, tokens: result.tokens)
            if !evalExamples.isEmpty, evalEvery > 0, state.step % evalEvery == 0 || state.step == steps {
                record.evalLoss = try meanLoss(on: evalExamples)
            }
            try onStep(record)
            meter.resumeTiming()
        }
    }
}
