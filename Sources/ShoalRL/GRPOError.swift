/// Bad input or settings for the GRPO core. Every message names the field and what to fix.
public enum GRPOError: Error, CustomStringConvertible, Equatable {
    /// A setting outside its range, e.g. `clip_low` = 1.5.
    case invalidSetting(name: String, value: Double, reason: String)
    /// Two per-token arrays of one sequence disagree in length.
    case lengthMismatch(sequence: Int, field: String, expected: Int, got: Int)
    /// NaN or ±∞ where a number is needed (a reward, a log-probability).
    case nonFinite(sequence: Int, field: String, index: Int)
    /// Nothing predicts token 0 of a sequence, so a rollout needs at least one prompt token.
    case emptyPrompt(sequence: Int)
    /// A sample tagged with a version the learner has not produced yet.
    case sampleFromFutureVersion(sequence: Int, version: Int, current: Int)
    /// The rollouts of one multi-step task group do not have the same number of steps.
    case stepCountMismatch(rollout: Int, expected: Int, got: Int)
    /// Reward weights that would let a side component (format) outweigh correctness.
    case unbalancedRewardWeights(reason: String)
    /// The model refused the batch (token out of range, sequence too long, ...).
    case model(String)

    public var description: String {
        switch self {
        case .invalidSetting(let name, let value, let reason):
            return "GRPO setting `\(name)` \(reason), got \(value)"
        case .lengthMismatch(let sequence, let field, let expected, let got):
            return "sequence \(sequence): `\(field)` has \(got) entries, expected \(expected)"
        case .nonFinite(let sequence, let field, let index):
            return "sequence \(sequence): `\(field)`[\(index)] is not a finite number"
        case .emptyPrompt(let sequence):
            return "sequence \(sequence): the prompt has no tokens; at least one is needed to predict the first completion token"
        case .sampleFromFutureVersion(let sequence, let version, let current):
            return "sample \(sequence) claims model version \(version), but the learner is at version \(current)"
        case .stepCountMismatch(let rollout, let expected, let got):
            return "rollout \(rollout) of a multi-step task has \(got) steps, the others have \(expected); step-wise credit needs the same steps in every rollout of a group"
        case .unbalancedRewardWeights(let reason):
            return "reward weights: \(reason)"
        case .model(let message):
            return "the policy model rejected the batch: \(message)"
        }
    }
}
