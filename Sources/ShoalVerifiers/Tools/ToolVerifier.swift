import Foundation
import ShoalJSON

public struct ToolTask: Sendable, Equatable {
    /// Function schemas, BFCL's `function` field.
    public var functions: [JSONValue]
    /// BFCL's `ground_truth`: `[{name: {arg: [acceptable…]}}]`; nil checks the schemas only.
    public var expected: [JSONValue]?

    public init(functions: [JSONValue], expected: [JSONValue]?) {
        self.functions = functions
        self.expected = expected
    }
}

/// Scores tool calls: format when calls could be parsed, correctness when they match the
/// expected calls under BFCL's AST rules (or, without expected calls, fit the schemas).
/// Components also report `schema` (1 when every call fits its schema) for diagnosis, and,
/// against expected calls, `dense`: the share of the calls' parts (name, each argument)
/// that are right.
public struct ToolVerifier: Verifier {
    public var rewards: RewardModule

    public init(weights: RewardWeights = .standard) {
        self.rewards = RewardModule(weights: weights)
    }

    public func verify(_ task: ToolTask, output: String) -> Verdict {
        guard !task.functions.isEmpty else {
            return rewards.scored(Verdict(status: .invalidTask, detail: "task lists no functions"))
        }
        let calls: [ToolCall]
        do {
            calls = try ToolCallParser.parse(output)
        } catch {
            return rewards.scored(Verdict(
                status: .formatError, components: [RewardComponent.correctness: 0, RewardComponent.format: 0, RewardComponent.dense: 0],
                detail: "no calls parsed: \(error)"))
        }
        let problems = FunctionSchema.problems(in: calls, functions: task.functions)
        var components: [String: Double] = [RewardComponent.format: 1, "schema": problems.isEmpty ? 1 : 0]
        let names = calls.map(\.name).joined(separator: ", ")
        guard let expected = task.expected else {
            components[RewardComponent.correctness] = problems.isEmpty ? 1 : 0
            return rewards.scored(Verdict(
                status: problems.isEmpty ? .correct : .wrong, components: components,
                detail: problems.isEmpty ? "\(calls.count) call(s) fit the schemas: \(names)" : problems.joined(separator: "; ")))
        }
        let match = BFCLMatcher.match(calls: calls, expected: expected, functions: task.functions)
        if match.errorType == "invalid_expected" {
            return rewards.scored(Verdict(status: .invalidTask, components: components, detail: match.error))
        }
        components[RewardComponent.correctness] = match.valid ? 1 : 0
        components[RewardComponent.dense] = match.valid ? 1 : BFCLMatcher.partialCredit(calls: calls, expected: expected, functions: task.functions)
        return rewards.scored(Verdict(
            status: match.valid ? .correct : .wrong, components: components,
            detail: match.valid ? "\(calls.count) call(s) match: \(names)" : "\(match.errorType): \(match.error)"))
    }
}
