import Foundation
import ShoalJSON

/// What people running GRPO watch, one record per learner step, written as one JSONL line
/// (keys sorted, snake_case, names close to TRL's logs).
public struct GRPOMetrics: Sendable, Equatable, Codable {
    public var step: Int
    public var modelVersion: Int
    /// Over the batch's kept samples: "total" and each raw component (correctness, format, ...).
    public var rewards: [String: ComponentSummary]
    public var completionLengthMean: Double
    public var loss: Double
    /// Token mean of the k3 KL estimate to the reference; nil when β = 0.
    public var kl: Double?
    public var clipFraction: Double
    public var ratioMean: Double
    public var ratioMin: Double
    public var ratioMax: Double
    /// Monte-Carlo entropy estimate, mean(−log p_old) over sampled completion tokens (unbiased
    /// when the tokens were drawn from p_old itself: temperature 1, no top-k/top-p).
    public var entropy: Double
    public var learningRate: Double
    /// Global gradient norm before clipping (of the step's last optimiser iteration); nil
    /// when no optimiser ran.
    public var gradNorm: Double?
    /// Prompt + completion tokens through the update, per second of the step's wall time.
    public var tokensPerSecond: Double
    public var groups: Int
    public var zeroVarianceGroups: Int
    public var droppedStale: Int
    public var weightedStale: Int
    /// Dynamic sampling: groups drawn this step but dropped as all-pass or all-fail (replaced by
    /// new prompts), and how many draws the step took; nil where the loop did not sample
    /// (a learner fed from elsewhere, step-wise task runs).
    public var flatGroupsDropped: Int?
    public var samplingRounds: Int?

    enum CodingKeys: String, CodingKey {
        case step, rewards, loss, kl, entropy, groups
        case modelVersion = "model_version"
        case completionLengthMean = "completion_length_mean"
        case clipFraction = "clip_fraction"
        case ratioMean = "ratio_mean"
        case ratioMin = "ratio_min"
        case ratioMax = "ratio_max"
        case learningRate = "learning_rate"
        case gradNorm = "grad_norm"
        case tokensPerSecond = "tokens_per_s"
        case zeroVarianceGroups = "zero_variance_groups"
        case droppedStale = "dropped_stale"
        case weightedStale = "weighted_stale"
        case flatGroupsDropped = "flat_groups_dropped"
        case samplingRounds = "sampling_rounds"
    }

    public init(step: Int, modelVersion: Int, batch: GRPOBatch, evaluation: GRPOObjective.Evaluation,
                learningRate: Double, seconds: Double, gradNorm: Double? = nil) {
        self.step = step
        self.modelVersion = modelVersion
        rewards = ComponentSummary.summarise(batch.rollouts.map(\.reward))
        let completionTokens = batch.rollouts.reduce(0) { $0 + $1.completionTokens.count }
        let allTokens = batch.rollouts.reduce(completionTokens) { $0 + $1.promptTokens.count }
        completionLengthMean = batch.rollouts.isEmpty ? 0 : Double(completionTokens) / Double(batch.rollouts.count)
        let nll = batch.rollouts.reduce(0.0) { $0 - $1.samplingLogProbs.reduce(0, +) }
        entropy = completionTokens > 0 ? nll / Double(completionTokens) : 0
        loss = evaluation.loss
        kl = evaluation.klMean
        clipFraction = evaluation.clipFraction
        ratioMean = evaluation.ratioMean
        ratioMin = evaluation.ratioMin
        ratioMax = evaluation.ratioMax
        self.learningRate = learningRate
        self.gradNorm = gradNorm
        tokensPerSecond = seconds > 0 ? Double(allTokens) / seconds : 0
        groups = batch.groups
        zeroVarianceGroups = batch.zeroVarianceGroups
        droppedStale = batch.droppedStale
        weightedStale = batch.weightedStale
    }

    /// Mean total reward of the step (the curve a reward plot shows).
    public var rewardMean: Double { rewards["total"]?.mean ?? 0 }

    /// A diverged step (NaN loss) must still be logged: non-finite numbers are written as the
    /// strings "nan", "inf", "-inf" (what Python's `float()` reads back) instead of failing.
    public func jsonLine() -> String {
        let encoder = JSONEncoder.shoal()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        // With that strategy, encoding plain numbers, strings and dictionaries cannot fail.
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
