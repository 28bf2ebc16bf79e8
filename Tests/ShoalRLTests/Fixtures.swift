@testable import ShoalRL

/// A rollout with `reward`, one completion token per entry of `logProbs`.
func rollout(group: String, version: Int, reward: Double, components: [String: Double] = [:],
             prompt: [Int] = [1], completion: [Int] = [2], logProbs: [Double]? = nil) -> Rollout {
    Rollout(groupID: group, prompt: "p:\(group)", completion: "c\(completion)", promptTokens: prompt,
            completionTokens: completion, samplingLogProbs: logProbs ?? completion.map { _ in -0.5 },
            modelVersion: version, reward: RewardBreakdown(total: reward, components: components))
}
