import ShoalVerifiers

/// A sample's reward: the scalar GRPO trains on and the raw components it came from, kept
/// apart so each component (correctness, format, ...) is logged on its own.
public struct RewardBreakdown: Sendable, Equatable, Codable {
    public var total: Double
    /// Raw, unweighted components as the verifier reported them (see `RewardComponent`).
    public var components: [String: Double]

    public init(total: Double, components: [String: Double] = [:]) {
        self.total = total
        self.components = components
    }

    /// The verdict's components, with the total the reward module gives the verdict.
    public init(verdict: Verdict, module: RewardModule) {
        self.init(total: module.reward(for: verdict), components: verdict.components)
    }
}
