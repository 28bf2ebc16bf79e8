import Foundation
import ShoalTraining

/// The learner's side of GRPO, independent of where rollouts come from: give it the
/// rollouts gathered for one step and it drops stale ones, computes group advantages, runs
/// `iterations_per_batch` AdamW updates (gradient clipped to `max_grad_norm`, learning rate
/// from a warm-up + cosine schedule), watches for collapse, and says when a new version is
/// due. The cluster loop (`shoal learner`) only gathers rollouts, calls `step`, and
/// publishes the weights when `StepResult.publishedVersion` is set.
///
/// Versions: `version` is the last version published (the one workers may be serving); the
/// weights move ahead of it between publications. Staleness is measured against it.
/// Not thread-safe: one learner owns its model and optimiser.
public final class GRPOLearner<Policy: TrainableModel> {
    public let policy: Policy
    /// Frozen reference for the KL term; nil when `kl_coefficient` is 0.
    public let reference: (any TrainableModel)?
    public let settings: GRPOSettings
    public let optimizer: AdamW<Policy.Scalar>
    public let schedule: LearningRateSchedule
    public private(set) var steps = 0
    public private(set) var version: Int
    private var collapse: CollapseDetector

    public init(policy: Policy, reference: (any TrainableModel)?, settings: GRPOSettings, version: Int = 0,
                collapse: CollapseDetector? = nil) throws(GRPOError) {
        try settings.validate()
        if settings.klCoefficient > 0 && reference == nil {
            throw .invalidSetting(name: "kl_coefficient", value: settings.klCoefficient,
                                  reason: "needs a frozen reference model; pass one or set it to 0")
        }
        self.policy = policy
        self.reference = reference
        // Tokens sampled at T are scored under softmax(logits / T): the ratio against the
        // workers' (tempered) sampling log-probs is then 1 at the sampling weights.
        policy.logitTemperature = settings.temperature
        reference?.logitTemperature = settings.temperature
        self.settings = settings
        self.version = version
        // Only what trains gets moments (a LoRA policy's frozen base would double the memory for nothing).
        optimizer = AdamW(parameters: policy.parameters.filter(\.trainable), settings: .init(weightDecay: settings.weightDecay))
        schedule = LearningRateSchedule(peak: settings.learningRate, floor: 0.1 * settings.learningRate,
                                        warmupSteps: settings.warmupSteps, totalSteps: settings.steps)
        if let collapse { self.collapse = collapse } else { self.collapse = try CollapseDetector(patience: 5, relativeFloor: 0.05) }
    }

    public struct StepResult {
        public var metrics: GRPOMetrics
        /// The batch as trained on (kept samples with their advantages): export it with
        /// `ExperienceRecord.records(of:)`.
        public var batch: GRPOBatch
        /// Set when this step completed `publish_every` steps: register the current weights
        /// under this version and swap them in.
        public var publishedVersion: Int?
    }

    /// One learner step. Throws `GRPOError` on bad rollouts (caught before any update) or a
    /// model error, `PolicyCollapse` when the collapse detector stops the run (after the
    /// update). When staleness leaves nothing to learn from, nothing is updated, the step is
    /// not counted and no version is published; the metrics still report the drops.
    public func step(_ rollouts: [Rollout]) throws -> StepResult {
        let started = ContinuousClock.now
        var batch = try GRPOBatch(rollouts: rollouts, currentVersion: version, staleness: settings.staleness,
                                  advantages: settings.advantages)
        guard !batch.rollouts.isEmpty else {
            // AdamW would still move the weights on its momentum: skip the update entirely.
            let metrics = GRPOMetrics(step: steps, modelVersion: version, batch: batch,
                                      evaluation: try settings.objective.evaluate([]),
                                      learningRate: schedule.rate(atStep: steps), seconds: 0)
            return StepResult(metrics: metrics, batch: batch, publishedVersion: nil)
        }
        if let reference, settings.klCoefficient > 0 {
            try GRPOUpdate.scoreReference(reference, batch: &batch, microBatch: settings.microBatch)
        }
        let learningRate = schedule.rate(atStep: steps)
        var evaluation: GRPOObjective.Evaluation?
        var gradNorm: Double?
        for _ in 0..<settings.iterationsPerBatch {
            policy.zeroGradients()
            evaluation = try GRPOUpdate.accumulate(policy: policy, reference: reference, batch: batch,
                                                   objective: settings.objective, microBatch: settings.microBatch)
            gradNorm = GradientClipping.clip(policy.parameters, maxNorm: settings.maxGradNorm)
            optimizer.update(learningRate: learningRate)
        }
        steps += 1
        var published: Int?
        if steps % settings.publishEvery == 0 {
            version += 1
            published = version
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let metrics = GRPOMetrics(step: steps, modelVersion: version, batch: batch,
                                  evaluation: try evaluation ?? settings.objective.evaluate([]),
                                  learningRate: learningRate, seconds: seconds, gradNorm: gradNorm)
        try collapse.observe(step: steps, entropy: metrics.entropy, meanCompletionLength: metrics.completionLengthMean)
        return StepResult(metrics: metrics, batch: batch, publishedVersion: published)
    }
}
