/// The samples of one learner step, ready for the objective: stale samples handled,
/// grouped by prompt, each with its group-relative advantage.
public struct GRPOBatch: Sendable, Equatable {
    /// Kept samples, grouped (groups in order of first appearance).
    public var rollouts: [Rollout]
    /// One advantage per entry of `rollouts`.
    public var advantages: [Double]
    public var groups: Int
    public var zeroVarianceGroups: Int
    public var droppedStale: Int
    public var weightedStale: Int
    /// Completion-token log-probs under the frozen reference. The reference never changes,
    /// so `GRPOUpdate.scoreReference` fills this once and every optimiser iteration on the
    /// batch reuses it; nil means "score the reference when needed".
    public var referenceLogProbs: [[Double]]?

    public init(rollouts: [Rollout], currentVersion: Int, staleness: StalenessPolicy = StalenessPolicy(),
                advantages scheme: GroupAdvantages = GroupAdvantages()) throws(GRPOError) {
        let outcome = try staleness.apply(rollouts, currentVersion: currentVersion)
        var order: [String] = []
        var members: [String: [Rollout]] = [:]
        for rollout in outcome.kept {
            if members[rollout.groupID] == nil { order.append(rollout.groupID) }
            members[rollout.groupID, default: []].append(rollout)
        }
        let grouped = order.map { members[$0] ?? [] }
        let result = try scheme.advantages(groups: grouped.map { $0.map(\.reward.total) })
        self.rollouts = grouped.flatMap { $0 }
        self.advantages = result.advantages.flatMap { $0 }
        groups = grouped.count
        zeroVarianceGroups = result.zeroVarianceGroups
        droppedStale = outcome.dropped
        weightedStale = outcome.weightedStale
    }

    /// A batch whose advantages were computed elsewhere (step-wise credit, imported experience).
    public init(rollouts: [Rollout], advantages: [Double], groups: Int, zeroVarianceGroups: Int = 0,
                droppedStale: Int = 0, weightedStale: Int = 0) {
        self.rollouts = rollouts
        self.advantages = advantages
        self.groups = groups
        self.zeroVarianceGroups = zeroVarianceGroups
        self.droppedStale = droppedStale
        self.weightedStale = weightedStale
    }
}
