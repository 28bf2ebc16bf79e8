import Foundation

/// Group-relative advantages (GRPO, Shao et al. 2024): each sample's reward compared with
/// the other samples of the same prompt,
///
///     A_i = (r_i − mean(r)) / (std(r) + ε)
///
/// `std` is the sample standard deviation (Bessel-corrected, n − 1), and ε = 1e-4: this is
/// what TRL's `GRPOTrainer` computes (`rewards.view(-1, G).std(dim=1)`, torch's default
/// unbiased std, plus 1e-4), so advantages exported from Shoal match a TRL run's.
///
/// A group whose rewards are all equal says nothing about which sample was better: its
/// advantages are exactly 0 (not 0/ε noise), and it is counted, because many such groups
/// mean the tasks are too easy or too hard for the policy and the step learns nothing.
/// A group of one sample has no spread either and is treated the same way.
public struct GroupAdvantages: Sendable, Equatable {
    public enum Scale: String, Sendable, Codable {
        /// Divide by the group's std (GRPO, TRL's default `scale_rewards="group"`).
        case groupStd = "group"
        /// Only subtract the mean (Dr. GRPO): avoids up-weighting nearly-uniform groups.
        case none
    }

    public var scale: Scale
    public var epsilon: Double

    public init(scale: Scale = .groupStd, epsilon: Double = 1e-4) {
        self.scale = scale
        self.epsilon = epsilon
    }

    public struct Result: Sendable, Equatable {
        /// One advantage per reward, in the groups' order.
        public var advantages: [[Double]]
        public var zeroVarianceGroups: Int
    }

    public func advantages(groups: [[Double]]) throws(GRPOError) -> Result {
        guard epsilon > 0, epsilon.isFinite else {
            throw .invalidSetting(name: "advantage_epsilon", value: epsilon, reason: "must be a positive number")
        }
        var out: [[Double]] = []
        var zeroVariance = 0
        for (g, rewards) in groups.enumerated() {
            for (i, r) in rewards.enumerated() where !r.isFinite {
                throw .nonFinite(sequence: g, field: "rewards", index: i)
            }
            guard let low = rewards.min(), let high = rewards.max(), rewards.count > 1,
                  high - low > 1e-12 * max(1, abs(high)) else {
                zeroVariance += 1
                out.append([Double](repeating: 0, count: rewards.count))
                continue
            }
            let n = Double(rewards.count)
            let mean = rewards.reduce(0, +) / n
            let std = (rewards.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
            let divisor = scale == .groupStd ? std + epsilon : 1
            out.append(rewards.map { ($0 - mean) / divisor })
        }
        return Result(advantages: out, zeroVarianceGroups: zeroVariance)
    }
}
