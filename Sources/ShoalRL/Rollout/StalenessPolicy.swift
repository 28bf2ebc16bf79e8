/// What to do with samples produced by a policy several versions behind the learner.
///
/// With a rolling swap, workers serve older versions for a while, so a batch mixes
/// versions. Staleness = learner version − sample version.
///
/// - `.drop`: samples staler than `maxStaleness` are removed (and counted).
/// - `.importanceWeight`: they are kept. No extra factor is needed: the objective's ratio
///   exp(logp_θ − logp_old) is taken against the log-probs of the policy that actually
///   sampled (recorded with the rollout), which is the importance weight from that policy to
///   the current one, whatever its age. The clip bounds it: tokens whose ratio has drifted
///   past 1 ± ε stop contributing, so very stale samples fade out on their own. They are
///   counted as `weightedStale`.
///
/// Advantages are computed after this filter, over the samples that remain in each group.
public struct StalenessPolicy: Sendable, Equatable {
    public enum Mode: String, Sendable, Codable {
        case drop
        case importanceWeight = "importance_weight"
    }

    public var maxStaleness: Int
    public var mode: Mode

    public init(maxStaleness: Int = 1, mode: Mode = .drop) {
        self.maxStaleness = maxStaleness
        self.mode = mode
    }

    public struct Outcome: Sendable, Equatable {
        public var kept: [Rollout]
        public var dropped: Int
        /// Samples older than `maxStaleness` that `.importanceWeight` kept.
        public var weightedStale: Int
    }

    public func apply(_ rollouts: [Rollout], currentVersion: Int) throws(GRPOError) -> Outcome {
        guard maxStaleness >= 0 else {
            throw .invalidSetting(name: "max_staleness", value: Double(maxStaleness), reason: "must be ≥ 0 versions")
        }
        var kept: [Rollout] = []
        var dropped = 0, weighted = 0
        for (i, rollout) in rollouts.enumerated() {
            let staleness = currentVersion - rollout.modelVersion
            guard staleness >= 0 else {
                throw .sampleFromFutureVersion(sequence: i, version: rollout.modelVersion, current: currentVersion)
            }
            if staleness <= maxStaleness {
                kept.append(rollout)
            } else if mode == .importanceWeight {
                kept.append(rollout)
                weighted += 1
            } else {
                dropped += 1
            }
        }
        return Outcome(kept: kept, dropped: dropped, weightedStale: weighted)
    }
}
