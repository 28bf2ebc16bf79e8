/// Stops training when the policy collapses: its sampled-token entropy or its completion
/// length stays near zero for `patience` consecutive steps. A collapsed policy emits the
/// same (or empty) output for every sample, so every group has zero variance, GRPO gets no
/// signal, and further steps only drift with the KL term; going on wastes the run.
///
/// Entropy here is the Monte-Carlo estimate mean(−log p_old) over sampled completion tokens
/// (`GRPOMetrics.entropy`): the engine-independent contract gives the log-prob of the sampled
/// token, not the whole distribution. At temperature 1 its expectation is the true entropy.
public struct CollapseDetector: Sendable, Equatable {
    /// Nats per token; below it a step counts as collapsed.
    public var entropyFloor: Double
    /// Mean completion tokens; below it a step counts as collapsed.
    public var lengthFloor: Double
    public var patience: Int
    /// With r set, the entropy floor is min(`entropyFloor`, r × the first step's entropy): a
    /// policy that starts nearly deterministic (the tools specialist samples its JSON at
    /// ~0.05 nats/token, most tokens forced) counts as collapsed only when its entropy falls
    /// well below where it started, not from its first step.
    public var relativeFloor: Double?
    public private(set) var consecutive = 0
    public private(set) var startingEntropy: Double?

    /// The floor in force: `entropyFloor`, or lower once a relative floor has a start to scale.
    public var effectiveEntropyFloor: Double {
        guard let r = relativeFloor, let start = startingEntropy else { return entropyFloor }
        return min(entropyFloor, r * start)
    }

    public init(entropyFloor: Double = 0.05, lengthFloor: Double = 1, patience: Int = 3, relativeFloor: Double? = nil) throws(GRPOError) {
        guard patience >= 1 else {
            throw .invalidSetting(name: "collapse_patience", value: Double(patience), reason: "must be ≥ 1 step")
        }
        guard entropyFloor >= 0, lengthFloor >= 0 else {
            throw .invalidSetting(name: entropyFloor < 0 ? "collapse_entropy_floor" : "collapse_length_floor",
                                  value: min(entropyFloor, lengthFloor), reason: "must be ≥ 0")
        }
        if let relativeFloor, !(relativeFloor > 0 && relativeFloor < 1) {
            throw .invalidSetting(name: "collapse_relative_floor", value: relativeFloor, reason: "must be in (0, 1)")
        }
        self.entropyFloor = entropyFloor
        self.lengthFloor = lengthFloor
        self.patience = patience
        self.relativeFloor = relativeFloor
    }

    /// Call once per learner step; throws `PolicyCollapse` on the `patience`-th consecutive
    /// collapsed step. A healthy step resets the count.
    public mutating func observe(step: Int, entropy: Double, meanCompletionLength: Double) throws(PolicyCollapse) {
        if startingEntropy == nil, entropy.isFinite { startingEntropy = entropy }
        let floor = effectiveEntropyFloor
        let lowEntropy = entropy < floor
        let short = meanCompletionLength < lengthFloor
        guard lowEntropy || short else { consecutive = 0; return }
        consecutive += 1
        if consecutive >= patience {
            throw PolicyCollapse(step: step, steps: consecutive, entropy: entropy, entropyFloor: floor,
                                 meanCompletionLength: meanCompletionLength, lengthFloor: lengthFloor)
        }
    }
}

/// Training stopped because the policy collapsed; the message says what was seen and what to do.
public struct PolicyCollapse: Error, CustomStringConvertible, Equatable {
    public var step: Int
    public var steps: Int
    public var entropy: Double
    public var entropyFloor: Double
    public var meanCompletionLength: Double
    public var lengthFloor: Double

    public var description: String {
        var seen: [String] = []
        if entropy < entropyFloor { seen.append("entropy \(rounded(entropy)) nats/token < \(rounded(entropyFloor))") }
        if meanCompletionLength < lengthFloor {
            seen.append("mean completion length \(rounded(meanCompletionLength)) tokens < \(lengthFloor)")
        }
        return "policy collapse at step \(step): \(seen.joined(separator: " and ")) for \(steps) consecutive steps. "
            + "Every sample is now (nearly) the same, so GRPO has no signal. Training stopped; resume from the "
            + "last accepted version with a lower learning rate or a larger KL coefficient."
    }

    private func rounded(_ x: Double) -> String {
        let scaled = (x * 10_000).rounded() / 10_000
        return "\(scaled)"
    }
}
