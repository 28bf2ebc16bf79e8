import Foundation
import ShoalJSON

/// How a checked output turned out. Raw values are the names the CLI and the reward
/// configuration use.
public enum VerdictStatus: String, Codable, Sendable, CaseIterable {
    case correct
    case wrong
    case partial
    case formatError = "format_error"
    case timeout
    case crashed
    case resourceExceeded = "resource_exceeded"
    case invalidTask = "invalid_task"
}

/// A verifier's judgement of one model output.
///
/// `components` are the raw, unweighted parts (each in 0...1 unless documented otherwise);
/// `reward` is what `RewardModule` made of them with the weights the verifier was given.
public struct Verdict: Sendable, Equatable {
    public var status: VerdictStatus
    public var reward: Double
    public var components: [String: Double]
    public var detail: String

    public init(status: VerdictStatus, reward: Double = 0, components: [String: Double] = [:], detail: String) {
        self.status = status
        self.reward = reward
        self.components = components
        self.detail = detail
    }

    /// The CLI's JSON line for this verdict.
    public func json(id: JSONValue) -> JSONValue {
        .object([
            "id": id,
            "status": .string(status.rawValue),
            "reward": .double(reward),
            "components": .object(components.mapValues { .double($0) }),
            "detail": .string(detail),
        ])
    }
}

/// Names of the components that `RewardWeights` weighs; verifiers may add others, which
/// are reported but carry no weight.
public enum RewardComponent {
    /// 1 when the answer is right; the pass fraction for code; nDCG@10 for retrieval.
    public static let correctness = "correctness"
    /// 1 when the output came in the expected format (boxed answer, parseable calls, ...).
    public static let format = "format"
    /// Dense partial credit in 0...1, the share of an answer's checkable parts that are
    /// right: tools, the function name and each argument (`BFCLMatcher.partialCredit`);
    /// math, the `a op b = c` lines whose arithmetic holds (`ArithmeticLines`). It is 1
    /// for a right answer whose parts are all right, so it never outweighs correctness.
    public static let dense = "dense"
}
