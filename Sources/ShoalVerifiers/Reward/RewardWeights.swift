import Foundation

/// Per-agent reward weights, as written under `reward:` in an agent's YAML. Every key is
/// optional; a missing one keeps its default, so `{}` means "1.0 for correct, 0.1 for format".
///
/// ```yaml
/// reward:
///   correct: 1.0            # weight on the correctness component
///   format: 0.1             # weight on the format component
///   dense: 0.0              # weight on the dense partial-credit component (tools: name and
///                           # each argument; math: checkable arithmetic lines); ≤ correct
///   partial_credit: true    # partial verdicts earn their fraction (code: tests passed)
///   format_error: 0.0       # added when the status is format_error (negative = penalty)
///   timeout: 0.0
///   crashed: 0.0
///   resource_exceeded: 0.0
///   outcome_share: 0.5      # multi-step tasks: weight of the final outcome shared by steps
///   step_discount: 1.0      # 1 = the outcome is shared equally; < 1 favours later steps
/// ```
public struct RewardWeights: Codable, Sendable, Equatable {
    public var correct: Double
    public var format: Double
    public var dense: Double
    public var partialCredit: Bool
    public var formatError: Double
    public var timeout: Double
    public var crashed: Double
    public var resourceExceeded: Double
    public var outcomeShare: Double
    public var stepDiscount: Double

    public init(
        correct: Double = 1.0, format: Double = 0.1, dense: Double = 0, partialCredit: Bool = true,
        formatError: Double = 0, timeout: Double = 0, crashed: Double = 0, resourceExceeded: Double = 0,
        outcomeShare: Double = 0.5, stepDiscount: Double = 1.0
    ) {
        self.correct = correct
        self.format = format
        self.dense = dense
        self.partialCredit = partialCredit
        self.formatError = formatError
        self.timeout = timeout
        self.crashed = crashed
        self.resourceExceeded = resourceExceeded
        self.outcomeShare = outcomeShare
        self.stepDiscount = stepDiscount
    }

    public static let standard = RewardWeights()

    enum CodingKeys: String, CodingKey {
        case correct, format, dense, timeout, crashed
        case partialCredit = "partial_credit"
        case formatError = "format_error"
        case resourceExceeded = "resource_exceeded"
        case outcomeShare = "outcome_share"
        case stepDiscount = "step_discount"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = RewardWeights.standard
        correct = try c.decodeIfPresent(Double.self, forKey: .correct) ?? d.correct
        format = try c.decodeIfPresent(Double.self, forKey: .format) ?? d.format
        dense = try c.decodeIfPresent(Double.self, forKey: .dense) ?? d.dense
        partialCredit = try c.decodeIfPresent(Bool.self, forKey: .partialCredit) ?? d.partialCredit
        formatError = try c.decodeIfPresent(Double.self, forKey: .formatError) ?? d.formatError
        timeout = try c.decodeIfPresent(Double.self, forKey: .timeout) ?? d.timeout
        crashed = try c.decodeIfPresent(Double.self, forKey: .crashed) ?? d.crashed
        resourceExceeded = try c.decodeIfPresent(Double.self, forKey: .resourceExceeded) ?? d.resourceExceeded
        outcomeShare = try c.decodeIfPresent(Double.self, forKey: .outcomeShare) ?? d.outcomeShare
        stepDiscount = try c.decodeIfPresent(Double.self, forKey: .stepDiscount) ?? d.stepDiscount
        if !(0...1).contains(stepDiscount) || stepDiscount == 0 {
            throw DecodingError.dataCorruptedError(
                forKey: .stepDiscount, in: c, debugDescription: "`step_discount` must be in (0, 1], got \(stepDiscount)")
        }
    }
}
