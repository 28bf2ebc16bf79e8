/// One sampled completion of one prompt, as the learner receives it: the tokens, the
/// log-probs of the policy that sampled them, the version of that policy, and its reward.
public struct Rollout: Sendable, Equatable {
    /// Samples of the same prompt share a group id; advantages are relative within a group.
    public var groupID: String
    public var prompt: String
    public var completion: String
    public var promptTokens: [Int]
    public var completionTokens: [Int]
    /// log p_old(completion[t] | prompt, completion[..<t]) under the sampling policy, one per
    /// completion token. The importance ratio of the objective is taken against these.
    /// They are the log-probs under softmax(logits / T) at the sampling temperature T (what
    /// the engine's sampler reports, and what `TrainableModel.tokenLogProbabilities` computes
    /// with `logitTemperature` T), so they are the distribution the token was drawn from;
    /// top-k/top-p truncation is not corrected for.
    public var samplingLogProbs: [Double]
    /// The model version that produced the sample (the worker tags every response with it).
    public var modelVersion: Int
    public var reward: RewardBreakdown

    public init(groupID: String, prompt: String, completion: String, promptTokens: [Int], completionTokens: [Int],
                samplingLogProbs: [Double], modelVersion: Int, reward: RewardBreakdown) {
        self.groupID = groupID
        self.prompt = prompt
        self.completion = completion
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.samplingLogProbs = samplingLogProbs
        self.modelVersion = modelVersion
        self.reward = reward
    }
}
