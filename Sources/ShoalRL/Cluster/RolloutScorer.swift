import ShoalTraining

/// One output judged: the reward GRPO trains on (with its components) and whether it counts
/// as solved for pass@k.
public struct ScoredOutput: Sendable, Equatable {
    public var reward: RewardBreakdown
    public var solved: Bool

    public init(reward: RewardBreakdown, solved: Bool) {
        self.reward = reward
        self.solved = solved
    }
}

/// Scores outputs for the tasks they answer. `AgentVerifier` is the real one (the agent's
/// verifier and reward module); a test can bring its own task.
public protocol RolloutScorer {
    func score(_ items: [TaskItem], outputs: [String]) throws -> [ScoredOutput]
}
