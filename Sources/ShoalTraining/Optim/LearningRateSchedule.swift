import Foundation

/// Linear warm-up from `peak / warmupSteps` to `peak`, then a half cosine from `peak` down to
/// `floor` at `totalSteps`, flat after that. Warm-up keeps Adam's first, noisy second-moment
/// estimates from taking large steps; the cosine tail lets the weights settle.
public struct LearningRateSchedule: Sendable, Equatable, Codable {
    public var peak: Double
    public var floor: Double
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Double, floor: Double = 0, warmupSteps: Int, totalSteps: Int) {
        self.peak = peak
        self.floor = floor
        self.warmupSteps = max(0, warmupSteps)
        self.totalSteps = max(1, totalSteps)
    }

    enum CodingKeys: String, CodingKey {
        case peak, floor, warmupSteps = "warmup_steps", totalSteps = "total_steps"
    }

    /// The rate for update number `step` (0-based: the first update is step 0).
    public func rate(atStep step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let decaySteps = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(decaySteps))
        return floor + (peak - floor) * 0.5 * (1 + cos(Double.pi * progress))
    }
}
