import ShoalTraining
import ShoalVerifiers

/// An agent's checker and reward module together: math checks the `\boxed{}` answer against
/// the ground truth (correctness) and whether it was boxed (format); code runs the hidden
/// tests in the sandbox; tools match the call. The verdicts come from the same code as
/// `shoal eval` (`AgentEvaluation.check`), so training reward and held-out accuracy agree on
/// what "right" means. The reward module turns each verdict into the scalar GRPO trains on;
/// the weights are checked by `RewardBalance` so format alone cannot dominate.
public struct AgentVerifier: RolloutScorer, Sendable {
    public let family: TaskFamily
    public let module: RewardModule
    private let evaluation: AgentEvaluation

    public init(family: TaskFamily, weights: RewardWeights = .standard) throws(GRPOError) {
        try RewardBalance.validate(weights)
        self.family = family
        module = RewardModule(weights: weights)
        evaluation = AgentEvaluation(family: family)
    }

    /// For the agent named `agent` (math, code, tools) with the agent YAML's `reward:` weights
    /// (`AgentSpec.reward`; `partial_credit` as 0/1); missing keys keep their defaults.
    public init(agent: String, reward: [String: Double] = [:]) throws {
        guard let family = TaskFamily(rawValue: agent) else {
            throw RolloutError.invalidSetting(name: "agent", reason: "'\(agent)' has no verifier for GRPO; agents with one: \(TaskFamily.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try self.init(family: family, weights: Self.weights(reward))
    }

    static func weights(_ reward: [String: Double]) -> RewardWeights {
        var w = RewardWeights.standard
        if let v = reward["correct"] { w.correct = v }
        if let v = reward["format"] { w.format = v }
        if let v = reward["dense"] { w.dense = v }
        if let v = reward["partial_credit"] { w.partialCredit = v != 0 }
        if let v = reward["format_error"] { w.formatError = v }
        if let v = reward["timeout"] { w.timeout = v }
        if let v = reward["crashed"] { w.crashed = v }
        if let v = reward["resource_exceeded"] { w.resourceExceeded = v }
        if let v = reward["outcome_share"] { w.outcomeShare = v }
        if let v = reward["step_discount"] { w.stepDiscount = v }
        return w
    }

    public func score(_ items: [TaskItem], outputs: [String]) throws -> [ScoredOutput] {
        try evaluation.check(items, outputs: outputs).map {
            ScoredOutput(reward: RewardBreakdown(verdict: $0, module: module), solved: $0.status == .correct)
        }
    }
}
