import Foundation

/// Turns verdicts into the scalars RL trains on.
///
/// One verdict:  r(v) = correct · c(v) + format · f(v) + dense · d(v) + penalty(status)
///   c(v) is the `correctness` component (0 for a non-correct verdict when partial credit
///   is off), f(v) the `format` component, d(v) the `dense` partial-credit component (0
///   when the verifier reports none), penalty the weight named after the status
///   (format_error, timeout, crashed, resource_exceeded; 0 otherwise). An `invalid_task`
///   verdict earns 0: the task is broken, not the sample.
///
/// Steps of one multi-step task, with final outcome verdict V and T steps:
///   r_t = r(v_t) + outcome_share · r(V) · w_t,   w_t = γ^(T−1−t) / Σ_j γ^(T−1−j)
///   γ = step_discount. With γ = 1 every step gets an equal share, and the shares add up
///   to outcome_share · r(V).
public struct RewardModule: Sendable, Equatable {
    public var weights: RewardWeights

    public init(weights: RewardWeights = .standard) {
        self.weights = weights
    }

    public func reward(for verdict: Verdict) -> Double {
        reward(status: verdict.status, components: verdict.components)
    }

    public func reward(status: VerdictStatus, components: [String: Double]) -> Double {
        if status == .invalidTask { return 0 }
        var correctness = components[RewardComponent.correctness] ?? 0
        if status != .correct && !weights.partialCredit { correctness = 0 }
        let format = components[RewardComponent.format] ?? 0
        let dense = components[RewardComponent.dense] ?? 0
        return weights.correct * correctness + weights.format * format + weights.dense * dense + penalty(for: status)
    }

    /// A verdict with its `reward` filled in from its status and components.
    public func scored(_ verdict: Verdict) -> Verdict {
        var v = verdict
        v.reward = reward(for: verdict)
        return v
    }

    public func stepRewards(steps: [Verdict], outcome: Verdict) -> [Double] {
        guard !steps.isEmpty else { return [] }
        let T = steps.count
        let discount = weights.stepDiscount
        let raw = (0..<T).map { pow(discount, Double(T - 1 - $0)) }
        let total = raw.reduce(0, +)
        let outcomeReward = reward(for: outcome)
        return steps.enumerated().map { t, verdict in
            reward(for: verdict) + weights.outcomeShare * outcomeReward * raw[t] / total
        }
    }

    private func penalty(for status: VerdictStatus) -> Double {
        switch status {
        case .formatError: return weights.formatError
        case .timeout: return weights.timeout
        case .crashed: return weights.crashed
        case .resourceExceeded: return weights.resourceExceeded
        case .correct, .wrong, .partial, .invalidTask: return 0
        }
    }
}
