import ShoalTraining

/// A toy reward a random byte-level model can start on: the share of the completion's
/// characters that are ASCII digits (1/26 of bytes at random), solved when all of them are.
/// The demo's GRPO section and the learner-loop tests use it to show reward rising in a few steps.
public struct DigitShareScorer: RolloutScorer {
    public init() {}

    public func score(_ items: [TaskItem], outputs: [String]) throws -> [ScoredOutput] {
        outputs.map { output in
            let digits = output.filter { $0.isASCII && $0.isNumber }.count
            let share = output.isEmpty ? 0 : Double(digits) / Double(output.count)
            return ScoredOutput(reward: RewardBreakdown(total: share, components: ["correctness": share]),
                                solved: !output.isEmpty && digits == output.count)
        }
    }
}
