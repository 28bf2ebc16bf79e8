import Foundation

public struct MathTask: Sendable, Equatable {
    /// The reference answer ("42", "\\frac{3}{4}", "1,250", "12%").
    public var answer: String

    public init(answer: String) { self.answer = answer }
}

/// Scores a math output: correctness from the extracted answer's equivalence with the
/// reference, format from whether the answer was `\boxed{}`, and `dense` (a process
/// reward) from the worked lines whose arithmetic holds (`ArithmeticLines`).
public struct MathVerifier: Verifier {
    static let longestAnswer = 4096
    public var percent: PercentRule
    public var rewards: RewardModule

    public init(percent: PercentRule = .either, weights: RewardWeights = .standard) {
        self.percent = percent
        self.rewards = RewardModule(weights: weights)
    }

    public func verify(_ task: MathTask, output: String) -> Verdict {
        let reference = task.answer.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reference.isEmpty else {
            return rewards.scored(Verdict(status: .invalidTask, detail: "task has an empty reference answer"))
        }
        let lines = ArithmeticLines.tally(output)
        guard let extracted = AnswerExtraction.extract(output) else {
            return rewards.scored(Verdict(
                status: .formatError,
                components: [RewardComponent.correctness: 0, RewardComponent.format: 0, RewardComponent.dense: lines.credit],
                detail: "no answer found: no \\boxed{}, '####', 'the answer is' or number in \(output.utf8.count) bytes"))
        }
        let format: Double = extracted.source == .boxed ? 1 : 0
        // No final answer is this long; comparing one would only cost time.
        let right = extracted.text.utf8.count <= MathVerifier.longestAnswer
            && MathAnswer(extracted.text).isEquivalent(to: MathAnswer(reference), percent: percent)
        let shown = extracted.text.count > 80 ? String(extracted.text.prefix(80)) + "…" : extracted.text
        return rewards.scored(Verdict(
            status: right ? .correct : .wrong,
            components: [RewardComponent.correctness: right ? 1 : 0, RewardComponent.format: format, RewardComponent.dense: lines.credit],
            detail: "answer '\(shown)' (from \(extracted.source.rawValue)) \(right ? "equals" : "differs from") reference '\(reference)'"))
    }
}
