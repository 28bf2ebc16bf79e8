import ShoalVerifiers

/// Step-wise credit for multi-step tasks: G rollouts of the same task, each a chain of
/// steps with its own verdict, and the task's final outcome verdict.
///
/// The reward of step t of rollout i is its own reward plus a share λ of the outcome,
/// exactly `RewardModule.stepRewards` (one formula, used by the coordinator's reward
/// logging too):
///
///     ρ_{i,t} = r(v_{i,t}) + λ · r(V_i) · s_t,    λ = `outcome_share` (default 0.5),
///     s_t = γ^(T−1−t) / Σ_j γ^(T−1−j)             (γ = `step_discount`; γ = 1: equal shares)
///
/// and its advantage compares it with the same step of the other rollouts:
/// A_{i,t} = GroupAdvantages over {ρ_{1,t} … ρ_{G,t}}. So a step that did its own job earns
/// credit even when a later step failed the task, and every step shares in a success.
/// λ = 0.5 makes a task's outcome worth half of one step's own correctness per rollout,
/// spread over its steps: own behaviour dominates, but the outcome breaks ties.
public struct StepCredit: Sendable, Equatable {
    public var rewardModule: RewardModule
    public var groupAdvantages: GroupAdvantages

    public init(rewardModule: RewardModule = RewardModule(), groupAdvantages: GroupAdvantages = GroupAdvantages()) {
        self.rewardModule = rewardModule
        self.groupAdvantages = groupAdvantages
    }

    /// One run of a multi-step task: its steps' verdicts in order, and the task's outcome.
    public struct TaskRollout: Sendable, Equatable {
        public var steps: [Verdict]
        public var outcome: Verdict

        public init(steps: [Verdict], outcome: Verdict) {
            self.steps = steps
            self.outcome = outcome
        }
    }

    public struct Result: Sendable, Equatable {
        /// ρ_{i,t}, indexed [rollout][step].
        public var stepRewards: [[Double]]
        /// A_{i,t}, indexed [rollout][step].
        public var advantages: [[Double]]
        /// Step positions at which every rollout earned the same reward.
        public var zeroVarianceSteps: Int
    }

    public func credit(_ group: [TaskRollout]) throws(GRPOError) -> Result {
        guard let steps = group.first?.steps.count else {
            return Result(stepRewards: [], advantages: [], zeroVarianceSteps: 0)
        }
        for (i, rollout) in group.enumerated() where rollout.steps.count != steps {
            throw .stepCountMismatch(rollout: i, expected: steps, got: rollout.steps.count)
        }
        let rewards = group.map { rewardModule.stepRewards(steps: $0.steps, outcome: $0.outcome) }
        // Columns: step t across the rollouts of the group.
        let columns = (0..<steps).map { t in rewards.map { $0[t] } }
        let result = try groupAdvantages.advantages(groups: columns)
        let advantages = group.indices.map { i in (0..<steps).map { t in result.advantages[t][i] } }
        return Result(stepRewards: rewards, advantages: advantages, zeroVarianceSteps: result.zeroVarianceGroups)
    }
}
