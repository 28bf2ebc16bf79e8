/// Everything a GRPO run is configured by, as written under `grpo:` in an agent's YAML.
/// Every key is optional; a missing one keeps its default.
///
/// ```yaml
/// grpo:
///   group_size: 8             # G samples per prompt; 16–32 lowers the advantage variance
///   prompts_per_step: 4
///   temperature: 1.0          # sampling temperature the workers use
///   max_tokens: 64            # completion budget per sample
///   clip: 0.2                 # ε (ε_low); clip_high: 0.28 for DAPO's clip-higher
///   kl_coefficient: 0.04      # β of the k3 KL to the frozen reference; 0 = no reference
///   normalization: token_mean # or sequence_mean (see GRPOObjective)
///   advantage_scale: group    # or none (Dr. GRPO: mean-centred only)
///   max_staleness: 1          # versions
///   staleness_mode: drop      # or importance_weight
///   learning_rate: 1.0e-5
///   warmup_steps: 0
///   steps: 50
///   max_grad_norm: 1.0
///   weight_decay: 0.0
///   iterations_per_batch: 1   # μ: optimiser steps per batch (> 1 goes off-policy; the clip matters then)
///   micro_batch: 8            # sequences per forward/backward (the learner's memory; the gradient is the same)
///   publish_every: 1          # K: register a new version every K steps
///   dynamic_sampling: false   # DAPO: drop groups whose samples all pass or all fail, draw replacements
///   sampling_rounds: 3        # at most this many draws per step to fill the step's prompts
///   overlong_buffer: 0        # tokens before max_tokens where the soft overlong penalty starts (0: off)
///   overlong_penalty: 1.0     # the penalty at max_tokens (it grows linearly over the buffer)
/// ```
public struct GRPOSettings: Sendable, Equatable, Codable {
    public var groupSize = 8
    public var promptsPerStep = 4
    public var temperature = 1.0
    public var maxTokens = 64
    public var clip = 0.2
    public var clipHigh: Double?
    public var klCoefficient = 0.04
    public var normalization = GRPOObjective.Normalization.tokenMean
    public var advantageScale = GroupAdvantages.Scale.groupStd
    public var maxStaleness = 1
    public var stalenessMode = StalenessPolicy.Mode.drop
    public var learningRate = 1e-5
    public var warmupSteps = 0
    public var steps = 50
    public var maxGradNorm = 1.0
    public var weightDecay = 0.0
    public var iterationsPerBatch = 1
    /// Sequences per forward/backward pass; nil: the whole batch at once. Attention scores
    /// grow with the square of the length, so a whole batch of tools prompts (32 sequences of
    /// ~700 bytes) took a learner of a 0.8M-parameter model to 4–10 GB; 8 keeps it under 2 GB,
    /// as fast. The accumulated gradient does not depend on it.
    public var microBatch: Int? = GRPOSettings.defaultMicroBatch
    public static let defaultMicroBatch = 8
    public var publishEvery = 1
    public var dynamicSampling = false
    public var samplingRounds = 3
    public var overlongBuffer = 0
    public var overlongPenalty = 1.0

    public init() {}

    /// DAPO's soft overlong punishment: 0 up to `max_tokens − overlong_buffer` completion
    /// tokens, then falling linearly to −`overlong_penalty` at `max_tokens` (a completion cut
    /// off by the budget gets the whole penalty). 0 when the buffer is 0.
    public func overlongReward(completionTokens length: Int) -> Double {
        guard overlongBuffer > 0 else { return 0 }
        let start = maxTokens - overlongBuffer
        guard length > start else { return 0 }
        return -overlongPenalty * min(1, Double(length - start) / Double(overlongBuffer))
    }

    public var objective: GRPOObjective {
        GRPOObjective(clip: clip, clipHigh: clipHigh, klCoefficient: klCoefficient, normalization: normalization)
    }

    public var staleness: StalenessPolicy { StalenessPolicy(maxStaleness: maxStaleness, mode: stalenessMode) }

    public var advantages: GroupAdvantages { GroupAdvantages(scale: advantageScale) }

    public func validate() throws(GRPOError) {
        try objective.validate()
        let counts: [(String, Int, Int)] = [
            ("group_size", groupSize, 2), ("prompts_per_step", promptsPerStep, 1), ("max_tokens", maxTokens, 1),
            ("max_staleness", maxStaleness, 0), ("warmup_steps", warmupSteps, 0), ("steps", steps, 1),
            ("iterations_per_batch", iterationsPerBatch, 1), ("micro_batch", microBatch ?? 1, 1), ("publish_every", publishEvery, 1),
            ("sampling_rounds", samplingRounds, 1), ("overlong_buffer", overlongBuffer, 0),
        ]
        for (name, value, least) in counts where value < least {
            throw .invalidSetting(name: name, value: Double(value),
                                  reason: least == 2 ? "must be ≥ 2 (a group of one has no relative advantage)" : "must be ≥ \(least)")
        }
        let positives = [("temperature", temperature), ("learning_rate", learningRate), ("max_grad_norm", maxGradNorm)]
        for (name, value) in positives where !(value > 0 && value.isFinite) {
            throw .invalidSetting(name: name, value: value, reason: "must be a positive number")
        }
        guard overlongBuffer < maxTokens else {
            throw .invalidSetting(name: "overlong_buffer", value: Double(overlongBuffer), reason: "must be below max_tokens (\(maxTokens))")
        }
        guard overlongPenalty >= 0, overlongPenalty.isFinite else {
            throw .invalidSetting(name: "overlong_penalty", value: overlongPenalty, reason: "must be ≥ 0 (it is subtracted)")
        }
        guard weightDecay >= 0, weightDecay.isFinite else {
            throw .invalidSetting(name: "weight_decay", value: weightDecay, reason: "must be ≥ 0")
        }
    }

    enum CodingKeys: String, CodingKey {
        case temperature, clip, normalization, steps
        case groupSize = "group_size"
        case promptsPerStep = "prompts_per_step"
        case maxTokens = "max_tokens"
        case clipHigh = "clip_high"
        case klCoefficient = "kl_coefficient"
        case advantageScale = "advantage_scale"
        case maxStaleness = "max_staleness"
        case stalenessMode = "staleness_mode"
        case learningRate = "learning_rate"
        case warmupSteps = "warmup_steps"
        case maxGradNorm = "max_grad_norm"
        case weightDecay = "weight_decay"
        case iterationsPerBatch = "iterations_per_batch"
        case microBatch = "micro_batch"
        case publishEvery = "publish_every"
        case dynamicSampling = "dynamic_sampling"
        case samplingRounds = "sampling_rounds"
        case overlongBuffer = "overlong_buffer"
        case overlongPenalty = "overlong_penalty"
    }

    /// Keys that are absent keep their defaults; unknown keys are ignored (the YAML layer
    /// reports them).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let decoded = try c.decodeIfPresent(T.self, forKey: key) { value = decoded }
        }
        try read(.groupSize, &groupSize)
        try read(.promptsPerStep, &promptsPerStep)
        try read(.temperature, &temperature)
        try read(.maxTokens, &maxTokens)
        try read(.clip, &clip)
        clipHigh = try c.decodeIfPresent(Double.self, forKey: .clipHigh)
        try read(.klCoefficient, &klCoefficient)
        try read(.normalization, &normalization)
        try read(.advantageScale, &advantageScale)
        try read(.maxStaleness, &maxStaleness)
        try read(.stalenessMode, &stalenessMode)
        try read(.learningRate, &learningRate)
        try read(.warmupSteps, &warmupSteps)
        try read(.steps, &steps)
        try read(.maxGradNorm, &maxGradNorm)
        try read(.weightDecay, &weightDecay)
        try read(.iterationsPerBatch, &iterationsPerBatch)
        if let decoded = try c.decodeIfPresent(Int.self, forKey: .microBatch) { microBatch = decoded }
        try read(.publishEvery, &publishEvery)
        try read(.dynamicSampling, &dynamicSampling)
        try read(.samplingRounds, &samplingRounds)
        try read(.overlongBuffer, &overlongBuffer)
        try read(.overlongPenalty, &overlongPenalty)
    }
}
