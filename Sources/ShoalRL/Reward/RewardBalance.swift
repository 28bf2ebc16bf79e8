import ShoalVerifiers

/// The rule that keeps GRPO optimising answers rather than their wrapping: the format
/// weight is at most `maxFormatShare` (0.1) of the correctness weight, and failure statuses
/// may cost reward but never earn it.
///
/// Why 0.1: GRPO only sees differences within a group. With format ≤ 0.1 × correct, the
/// whole advantage a policy can gain from formatting is worth less than getting one more
/// answer in ten right, so "always format, never solve" cannot be the best policy, while a
/// small format signal still helps a policy that never closes its `\boxed{}` get started.
/// `RewardWeights.standard` (correct 1.0, format 0.1) sits exactly on the limit.
public enum RewardBalance {
    public static let maxFormatShare = 0.1

    public static func validate(_ weights: RewardWeights, maxFormatShare: Double = RewardBalance.maxFormatShare) throws(GRPOError) {
        guard weights.correct > 0, weights.correct.isFinite else {
            throw .unbalancedRewardWeights(reason: "`correct` must be > 0, got \(weights.correct); without it nothing rewards a right answer")
        }
        guard weights.format >= 0, weights.format <= maxFormatShare * weights.correct + 1e-12 else {
            throw .unbalancedRewardWeights(reason: "`format` must be in 0...\(maxFormatShare) × correct (= \(maxFormatShare * weights.correct)), got \(weights.format); a larger format weight lets well-formatted wrong answers dominate the advantage")
        }
        guard weights.dense >= 0, weights.dense <= weights.correct + 1e-12 else {
            throw .unbalancedRewardWeights(reason: "`dense` must be in 0...correct (= \(weights.correct)), got \(weights.dense); partial credit above a right answer's reward would teach half-right answers")
        }
        let penalties = [("format_error", weights.formatError), ("timeout", weights.timeout),
                         ("crashed", weights.crashed), ("resource_exceeded", weights.resourceExceeded)]
        for (name, value) in penalties where !(value <= 0) {
            throw .unbalancedRewardWeights(reason: "`\(name)` must be ≤ 0 (a penalty), got \(value); a positive value rewards failing")
        }
        guard (0...1).contains(weights.outcomeShare) else {
            throw .unbalancedRewardWeights(reason: "`outcome_share` must be in 0...1, got \(weights.outcomeShare)")
        }
    }
}
