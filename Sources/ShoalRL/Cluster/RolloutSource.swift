/// One prompt to sample a group for. Its samples share `groupID` (advantages are relative
/// within the group).
public struct RolloutPrompt: Sendable, Equatable {
    public var groupID: String
    /// The text the model continues, rendered as the specialist was trained (`SFTFormat.prompt`).
    public var text: String

    public init(groupID: String, text: String) {
        self.groupID = groupID
        self.text = text
    }
}

/// How rollouts are sampled. Workers report log-probs under softmax(logits / T), and the
/// learner scores under the same T (`GRPOLearner` sets the policy's `logitTemperature`), so
/// any temperature is exact; top-k/top-p truncation is not corrected for (leave them off).
public struct RolloutSampling: Sendable, Equatable {
    /// G: samples per prompt.
    public var groupSize: Int
    public var temperature: Double
    public var topP: Double
    public var topK: Int
    public var maxTokens: Int
    /// Seed of this batch; sample j of prompt i gets its own seed derived from it.
    public var seed: UInt64

    public init(groupSize: Int, temperature: Double = 1.0, topP: Double = 1, topK: Int = 0, maxTokens: Int, seed: UInt64) {
        self.groupSize = groupSize
        self.temperature = temperature
        self.topP = topP
        self.topK = topK
        self.maxTokens = maxTokens
        self.seed = seed
    }

    /// A distinct, reproducible seed per sample: with one seed for a whole group, a worker
    /// would return G copies of the same completion and the group would carry no signal.
    public func seed(prompt: Int, sample: Int) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(prompt * groupSize + sample + 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One sampled completion before it is scored: what a worker (or the in-process generator)
/// returned for one sample of one prompt.
public struct SampledCompletion: Sendable, Equatable {
    public var promptTokens: [Int]
    /// Including the stop token when the sample ended on one (the policy must learn to stop).
    public var completionTokens: [Int]
    /// log p of each completion token under softmax(logits / T) of the model that sampled it.
    public var logProbs: [Double]
    /// The completion as text, stop token left out.
    public var text: String
    /// "stop" or "length".
    public var finishReason: String
    /// The model version that produced it, as the worker names it.
    public var modelVersion: String

    public init(promptTokens: [Int], completionTokens: [Int], logProbs: [Double], text: String, finishReason: String,
                modelVersion: String) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.logProbs = logProbs
        self.text = text
        self.finishReason = finishReason
        self.modelVersion = modelVersion
    }
}

/// Where the learner's samples come from: the agent's live workers through the coordinator
/// (`ClusterRolloutSource`), or the learner's own weights in this process
/// (`InProcessRolloutSource`, for tests and single-process runs).
public protocol RolloutSource: AnyObject {
    /// `sampling.groupSize` completions for every prompt; result `[i][j]` is sample j of prompt i.
    func sample(_ prompts: [RolloutPrompt], sampling: RolloutSampling) throws -> [[SampledCompletion]]
}
